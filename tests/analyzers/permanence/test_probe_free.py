"""permanence and identity without a probe, on drawn clips whose story is known (a ball coloured like its floor
rolls behind a wall and comes out, or does not, or comes out twice, or comes out as another object) and on family
clips of a walking figure whose pieces segmentation loses."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.analyzers.analyze import analyze_clip
from simworld.clip import Clip
from tests.analyzers.measure.test_occlusion import T, drawn


def score(frames: np.ndarray, analyzer: str) -> dict[str, float | None]:
    return {m.name: m.value for m in analyze_clip(Clip(frames, 12.0), analyzer).metrics}


def test_a_ball_that_passes_behind_a_wall_and_comes_out_keeps_both_scores():
    for analyzer in ("permanence", "identity"):
        metrics = score(drawn(), analyzer)
        assert metrics["passages"] == 1 and metrics["score"] == 1.0, (analyzer, metrics)


def test_a_brightness_ramp_is_no_failure():
    for analyzer in ("permanence", "identity"):
        assert score(drawn(ramp=0.3), analyzer)["score"] == 1.0


@pytest.mark.parametrize("story, analyzer, metric", [("vanish", "permanence", "not_back"),
                                                     ("duplicate", "permanence", "back_twice"),
                                                     ("duplicate_joined", "permanence", "back_twice"),
                                                     ("swap", "identity", "swapped_behind"),
                                                     ("pale_swap", "identity", "swapped_behind")])
def test_what_goes_wrong_behind_the_wall_is_caught_by_its_analyzer(story, analyzer, metric):
    metrics = score(drawn(story), analyzer)
    assert metrics[metric] == 1 and metrics["score"] < 0.5, metrics
    if analyzer == "permanence":
        assert metrics["failure_frame"] is not None and 0 < metrics["failure_frame"] < T
    if story == "duplicate":  # the picture of the failure shows the copy: the frame it comes out, not the entry's
        assert metrics["failure_frame"] == 23, metrics


def test_a_ball_that_vanishes_in_plain_view_fails():
    metrics = score(drawn("vanish_in_the_open"), "permanence")
    assert metrics["vanished"] >= 1 and metrics["score"] < 0.5, metrics


def test_a_clip_that_ends_in_the_slack_scores_a_ball_that_never_came_out_in_part():
    """Cut where the ball would be out at its own speed but might only have slowed down behind the wall: less than 1,
    more than a sure vanish, and the failure frame is where it should have been out; a ball that came out keeps 1."""
    cut = score(drawn("vanish")[:29], "permanence")
    assert cut["not_back"] == 0 and 0.0 < cut["overdue"] < 1.0, cut
    assert np.exp(-1.0) < cut["score"] < 1.0 and 20 <= cut["failure_frame"] < 29, cut
    assert score(drawn()[:29], "permanence")["score"] == 1.0


def test_no_object_gives_no_score_with_a_reason():
    flat = np.full((8, 64, 64, 3), 120, np.uint8)
    for analyzer in ("permanence", "identity"):
        result = analyze_clip(Clip(flat, 12.0), analyzer)
        assert result.score is None and "no object" in next(m.error for m in result.metrics if m.name == "score")


def test_a_walking_figure_whose_leg_edge_is_lost_vanishes_nothing():
    """A figure walks in the last shot of `three_shots` (seed 2); the piece of its trousers' edge that what moves
    found is lost at frame 14 while the trousers are right beside it, one step on: the track was lost, not the
    thing (a vanish before; the calibration then had to put the threshold at 0.18)."""
    from simworld.world import SceneSpec, render_scene

    clip = render_scene(SceneSpec("multishot", seed=2, frames=16, params={"shots": 3}))
    metrics = {m.name: m.value for m in analyze_clip(Clip(clip.frames, clip.fps), "permanence").metrics}
    assert metrics["vanished"] == 0 and metrics["score"] == 1.0, metrics


@pytest.mark.parametrize("nuisance, index", [("brightness_ramp", 1), ("shake", 3)])
def test_three_shots_under_a_nuisance_keep_identity_without_a_probe(nuisance, index):
    """`three_shots` seed 1 under a brightness ramp and under shake (seeded as `simworld validate` seeds them): a
    piece of the walking figure lost as a segment begins over it is no passage behind an occluder (what had been
    'hidden' there came out 'unlike': a swap, 0.37), and a track the tracker joined across the shot cut is no
    colour change (0.35 across the cut; the score read 0.04)."""
    from simworld.analyzers.failures import CLIP_NUISANCES
    from simworld.world import SceneSpec, render_scene

    clip = render_scene(SceneSpec("multishot", seed=1, frames=16, params={"shots": 3}))
    frames = CLIP_NUISANCES[nuisance](clip, np.random.default_rng([1, index, 1234]))
    metrics = score(frames, "identity")
    assert metrics["swaps"] == 0 and metrics["colour_change"] < 0.25 and metrics["score"] == 1.0, metrics


def _over_a_checkerboard(appear: int = 0) -> np.ndarray:
    """A teal ball falling from rest in front of a pink and green checkerboard (10 px squares), filmed by a still
    camera, drawn from frame `appear` on (0: throughout; later: it appears from nothing in mid-air). The place it
    appears in differs from its ring of board by more than a plain backdrop's would."""
    import cv2

    H, W, frames = 120, 160, []
    yy, xx = np.mgrid[:H, :W]
    board = np.where(((yy // 10 + xx // 10) % 2 == 0)[..., None], (150, 95, 130), (45, 85, 70)).astype(np.uint8)
    for t in range(20):
        f = board.copy()
        if t >= appear:
            cv2.circle(f, (83, int(round(30 + 0.35 * t * t))), 7, (40, 120, 140), -1)
        frames.append(f)
    return np.stack(frames)


def test_an_object_appearing_from_nothing_before_a_textured_backdrop_is_a_spawn():
    assert score(_over_a_checkerboard(), "permanence")["score"] == 1.0
    metrics = score(_over_a_checkerboard(appear=6), "permanence")
    assert metrics["spawned"] >= 1 and metrics["score"] < 0.5, metrics
