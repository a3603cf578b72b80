"""multishot: cut events sit exactly on the abrupt frame changes; one character, one id, seen in every shot."""

import numpy as np
import pytest

from simworld.world import SceneSpec, SpecError, render_scene


def _render(seed, frames=12, width=64, height=64, **params):
    return render_scene(SceneSpec("multishot", seed=seed, width=width, height=height, frames=frames, params=params))


CASES = [(0, 2, "walk", True), (1, 3, "turn", False), (2, 4, "walk", False), (3, 3, "turn", True)]


@pytest.fixture(scope="module", params=CASES, ids=[f"shots{n}-{m}-{s}" for s, n, m, _ in CASES])
def clip(request):
    seed, shots, motion, distractor = request.param
    return shots, distractor, _render(seed, shots=shots, motion=motion, distractor=distractor)


def _main(gt):
    return next(o for o in gt.objects if o.role == "character")


def _shot_starts(gt):
    return [0] + [e.frame for e in gt.events_of("cut")]


def test_cuts_sit_exactly_on_abrupt_changes(clip):
    shots, _, c = clip
    frames = c.frames.astype(np.float32)
    diff = np.abs(frames[1:] - frames[:-1]).mean(axis=(1, 2, 3))  # diff[i]: frame i+1 vs frame i
    cuts = [e.frame for e in c.gt.events_of("cut")]
    assert len(cuts) == shots - 1
    assert cuts == sorted(set(cuts)) and all(0 < f < len(frames) for f in cuts)
    at_cut = diff[np.array(cuts) - 1]
    elsewhere = np.delete(diff, np.array(cuts) - 1)
    assert at_cut.min() > 3 * elsewhere.max(), (at_cut, elsewhere)
    # the cuts are the only camera changes: one static camera per shot
    ext = c.gt.extrinsics
    moved = [f for f in range(1, len(ext)) if not np.allclose(ext[f], ext[f - 1])]
    assert moved == cuts


def test_cut_details_number_the_shots(clip):
    shots, _, c = clip
    events = c.gt.events_of("cut")
    assert [e.detail["shot"] for e in events] == list(range(1, shots))
    assert all(e.detail["framing"] in ("wide", "medium", "close") for e in events)
    assert all(e.objects == [_main(c.gt).id] for e in events)


def test_character_is_visible_in_every_shot_under_one_id(clip):
    shots, distractor, c = clip
    gt = c.gt
    main = _main(gt)
    characters = [o for o in gt.objects if o.role == "character"]
    assert len(characters) == (2 if distractor else 1)
    assert len({o.id for o in characters}) == len(characters)
    i = gt.track_index(main.id)
    pixels = gt.masks.shape[1] * gt.masks.shape[2]
    assert np.all(gt.visible_pixels[i] > 0.01 * pixels), "the character must be seen in every frame"
    assert np.all(gt.visible_fraction[i] > 0.6), "nothing may hide the character"
    starts = _shot_starts(gt) + [len(gt.masks)]
    for a, b in zip(starts[:-1], starts[1:]):
        assert (gt.masks[a:b] == main.id).any(axis=(1, 2)).all()
    # the same id keeps the same look: the character's median colour is close across shots
    colours = [np.median(c.frames[a][gt.masks[a] == main.id], axis=0) for a in starts[:-1]]
    spread = np.abs(np.array(colours) - colours[0]).max()
    assert spread < 90
    # a multi-body character: its world position stays within a metre over the whole clip
    track = gt.positions[i]
    assert np.isfinite(track).all() and np.linalg.norm(track - track[0], axis=1).max() < 1.0


def test_framings_differ_between_shots():
    c = _render(5, frames=16, shots=4)
    gt = c.gt
    starts = _shot_starts(gt)
    eyes = [-(gt.extrinsics[f][:3, :3].T @ gt.extrinsics[f][:3, 3]) for f in starts]
    main = gt.track_index(_main(gt).id)
    centre = gt.positions[main, 0]
    angles = [np.arctan2(e[1] - centre[1], e[0] - centre[0]) for e in eyes]
    for a, b in zip(angles[:-1], angles[1:]):
        gap = abs((a - b + np.pi) % (2 * np.pi) - np.pi)
        assert gap > np.radians(50), "consecutive shots must look from clearly different angles"


def test_short_clip_fits_four_shots():
    c = _render(7, frames=8, width=96, height=56, shots=4)
    starts = _shot_starts(c.gt) + [8]
    assert len(starts) == 5
    assert min(b - a for a, b in zip(starts[:-1], starts[1:])) >= 2


def test_shots_drawn_from_seed_vary():
    counts = {len(render_scene(SceneSpec("multishot", seed=s, width=32, height=32, frames=8)).gt.events_of("cut")) + 1
              for s in range(8)}
    assert len(counts) >= 2 and counts <= {2, 3, 4}


@pytest.mark.parametrize("field,value", [("shots", 1), ("shots", 5), ("shots", 2.5), ("motion", "dance"),
                                         ("distractor", "yes"), ("shots", "three")])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(SpecError) as err:
        SceneSpec("multishot", params={field: value})
    assert err.value.field == f"multishot.{field}"
