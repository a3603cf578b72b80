"""What comes out of a still track's silhouette without standing apart from it, on the drawn wall clips of
test_occlusion: a ball that goes behind the wall and comes out leaves nothing; a copy that creeps out and stays
joined to the wall is one emerging track."""

from __future__ import annotations

import pytest

from simworld.analyzers.measure.emerging import EMERGING, emerging_tracks
from simworld.analyzers.measure.moving import seen_objects
from tests.analyzers.measure.test_occlusion import WALL, drawn


@pytest.mark.parametrize("story", ["physical", "duplicate", "vanish", "swap"])
def test_what_goes_behind_and_comes_out_apart_leaves_no_emerging_track(story):
    """The ball joins the wall's silhouette going in and coming out: each time a track ends into it or begins out
    of it, so it is that track, not something that emerged."""
    seen = seen_objects(drawn(story))
    assert emerging_tracks(seen.tracks, seen.lab) == []


@pytest.mark.parametrize("stripes", [False, True])
def test_a_copy_joined_to_the_wall_is_one_emerging_track(stripes):
    seen = seen_objects(drawn("duplicate_joined", stripes=stripes))
    [copy] = emerging_tracks(seen.tracks, seen.lab)
    assert copy.name == EMERGING
    frames = copy.frames_present
    assert frames[0] in range(22, 25) and frames[-1] == len(copy.present) - 1
    x0, _, _, _ = copy.bbox[frames[-1]]
    assert WALL[1] - 2 <= x0 <= WALL[1] + 2  # still at the wall's edge
    assert abs(copy.centroid[frames[-1]][1] - 40) < 4  # at the copy's height, not the ball's (60)


def test_pieces_are_chained_by_overlap_however_many_at_once():
    """Two things coming out at once are two chains, each followed by overlap (the second one's pieces find it
    among several live chains), and one that leaves a gap of a frame starts anew."""
    import numpy as np

    from simworld.analyzers.measure.emerging import _chains

    def piece(x):
        mask = np.zeros((20, 40), bool)
        mask[5:10, x:x + 4] = True
        return mask

    frames = [[piece(2), piece(30)], [piece(3), piece(29)], [piece(28), piece(4)], [], [piece(5)]]
    chains = sorted(_chains(frames), key=lambda c: (c[0][0], int(np.argwhere(c[0][1])[0, 1])))
    assert [[t for t, _ in c] for c in chains] == [[0, 1, 2], [0, 1, 2], [4]]
    assert [int(np.argwhere(c[-1][1])[0, 1]) for c in chains] == [4, 28, 5]
