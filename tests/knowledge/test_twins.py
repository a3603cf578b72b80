"""Matched sets are balanced: each continuation is scored once on each side, and the twins change what they say."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simworld.knowledge.twins import TWINS, actor, matched_sets, object_mask, shifted, teleport_shift

CONTEXT = 8


def physics_pair(tmp_path, late: str, early: str):
    """Two 64x64x16 physics probes (params as YAML flow mappings: one whose event comes after the context, one
    within it) and a ground-truth store in `tmp_path`."""
    from simworld.probes import load_suite
    from simworld.runner import GroundTruthStore

    size = "width: 64, height: 64, frames: 16, analyzers: [temporal]"
    (tmp_path / "pair.yaml").write_text(f"description: pair\nprobes:\n  - {{id: late, family: physics, params: {late}, "
                                        f"{size}}}\n  - {{id: early, family: physics, params: {early}, {size}}}\n")
    late_probe, early_probe = load_suite("pair", tmp_path).probes
    return late_probe, early_probe, GroundTruthStore(tmp_path / "cache")


def test_crossed_sets_hold_the_same_content_on_both_sides(clips):
    built = 0
    for _, _, clip in clips:
        for matched in matched_sets(clip, CONTEXT, ["vanish", "swap", "teleport", "jump", "hover"]):
            built += 1
            possible, impossible = matched.clips[matched.possible], matched.clips[~matched.possible]
            key = lambda part: sorted(p.tobytes() for p in part)  # noqa: E731
            assert key(possible[:, CONTEXT:]) == key(impossible[:, CONTEXT:]), matched.kind  # the continuations
            assert key(possible[:, :CONTEXT]) == key(impossible[:, :CONTEXT]), matched.kind  # and the contexts
            assert not any(np.array_equal(a, b) for a in possible for b in impossible)  # yet no clip is on both
    assert built >= 4 * len(clips) - 3  # a clip may lack an object seen before and after the context


def test_reverse_plays_the_same_frames_backwards(clips):
    found = [m for _, _, clip in clips for m in matched_sets(clip, CONTEXT, ["reverse"])]
    assert found
    real, backwards = found[0].clips
    assert np.array_equal(real[:CONTEXT], backwards[:CONTEXT])
    assert np.array_equal(real[CONTEXT:], backwards[CONTEXT:][::-1])
    assert not np.array_equal(real, backwards)


def test_vanish_erases_the_object_and_swap_recolours_it(clips):
    _, _, clip = next(c for c in clips if c[0].family == "physics")
    object_id = actor(clip.gt, CONTEXT)
    assert object_id is not None and clip.gt.object(object_id).role == "object"
    mask = object_mask(clip.gt, object_id, grow=0)
    vanish, swap = (matched_sets(clip, CONTEXT, [k])[0] for k in ("vanish", "swap"))
    erased, recoloured = vanish.clips[1].astype(int), swap.clips[1].astype(int)
    frames = clip.frames.astype(int)
    assert np.abs(erased - frames)[mask].mean() > 20  # the object's pixels now show the background
    assert np.abs(erased - frames)[~object_mask(clip.gt, object_id)].max() == 0  # nothing else changed
    assert np.abs(recoloured - frames)[mask].mean() > 20
    assert np.abs(recoloured - frames)[~mask].max() == 0


def test_teleport_draws_the_same_object_elsewhere(clips):
    _, _, clip = next(c for c in clips if c[0].family == "physics")
    object_id = actor(clip.gt, CONTEXT)
    mask = object_mask(clip.gt, object_id, grow=0)
    [teleport] = matched_sets(clip, CONTEXT, ["teleport"])
    frames, elsewhere = clip.frames.astype(int), teleport.clips[1].astype(int)
    dx = teleport_shift(mask, CONTEXT)
    assert dx is not None and abs(dx) >= 4
    there = shifted(mask, dx) & ~object_mask(clip.gt, object_id)
    assert np.abs(elsewhere - shifted(frames, dx))[there].max() == 0  # the object, moved
    assert np.abs(elsewhere - frames)[mask & ~shifted(mask, dx)].mean() > 20  # gone from its place
    assert np.abs(teleport.clips[2, CONTEXT:].astype(int) - elsewhere[CONTEXT:]).max() == 0  # jumps at the context
    wide = np.zeros((2, 8, 20), bool)
    wide[:, 2:5, 3:14] = True  # 11 of 20 columns: no room beside it
    assert teleport_shift(wide, 1) is None
    narrow = np.zeros((2, 8, 20), bool)
    narrow[:, 2:5, 14:17] = True
    assert teleport_shift(narrow, 1) == -6  # two widths, towards the middle


def test_every_kind_is_registered_and_needs_ground_truth(clips):
    from simworld.clip import Clip

    assert set(TWINS) == {"vanish", "swap", "teleport", "jump", "reverse", "stood_still", "glass", "hover"}
    with pytest.raises(ValueError, match="ground truth"):
        matched_sets(Clip(clips[0][2].frames), CONTEXT, ["jump"])


@pytest.mark.parametrize("mode, subject", [("roll_on", "the ball"), ("burn_down", "the candle")])
def test_stood_still_films_the_scene_again_with_the_ball_waiting_while_unseen(tmp_path, mode, subject):
    """Made in the world: the same frames while the ball (the candle) is in view before the camera turns away (the
    context), the ball found nearer where it was left (the candle taller) after the look back; only for permanence
    roll_on and burn_down clips."""
    from simworld.knowledge.command import rerender_of
    from simworld.probes import load_suite
    from simworld.runner import GroundTruthStore, Job
    from simworld.world.render import render_scene

    (tmp_path / "roll.yaml").write_text("description: roll\nprobes:\n  - {id: roll, family: permanence, params: {mode: "
                                        f"{mode}}}, width: 64, height: 64, frames: 16, analyzers: [temporal]}}\n")
    probe = load_suite("roll", tmp_path).probes[0]
    clip = render_scene(probe.scene(0))
    job = Job(probe, 0)
    store = GroundTruthStore(tmp_path / "cache")
    [matched] = matched_sets(clip, CONTEXT, ["stood_still"], rerender_of(job, store))
    assert len(list(store.folder.glob("*.mp4"))) == 1  # the twin is kept like a probe's clip: a rerun reads it
    real, frozen = matched.clips.astype(int)
    assert list(matched.possible) == [True, False] and np.array_equal(real, clip.frames) and matched.subject == subject
    assert np.abs(real[:CONTEXT] - frozen[:CONTEXT]).max() == 0  # the ball is out of view when they part
    assert np.abs(real[-1] - frozen[-1]).mean() > 0.5  # back in view: elsewhere
    moving = lambda c: np.abs(np.diff(c[CONTEXT:], axis=0)).mean()  # noqa: E731
    assert abs(moving(real) - moving(frozen)) < 0.05 * moving(real)  # it moves alike whenever it is seen
    assert matched_sets(clip, CONTEXT, ["stood_still"]) == []  # no way to film it again: no set


def test_glass_films_the_fall_again_breaking_in_mid_air_and_landing_intact(tmp_path):
    """Made in the world: the three share the context frame for frame; the real glass shatters on the floor, one
    twin shatters earlier in the air, the other never; a glass that breaks within the context gives no set."""
    from simworld.knowledge.command import rerender_of
    from simworld.runner import Job

    late, early, store = physics_pair(tmp_path, "{scenario: shatter, impact_at: 0.75, height: 1.2}",
                                      "{scenario: shatter, impact_at: 0.4}")
    clip = store.get(Job(late, 0))
    [matched] = matched_sets(clip, CONTEXT, ["glass"], rerender_of(Job(late, 0), store))
    assert list(matched.possible) == [True, False, False] and matched.subject == "glass vase"
    real, mid_air, intact = matched.clips.astype(int)
    assert all(np.array_equal(real[:CONTEXT], twin[:CONTEXT]) for twin in (mid_air, intact))
    shatters = lambda job: [e.frame for e in store.get(job).gt.events if e.kind == "shatter"]  # noqa: E731
    broken = Job(replace(late, params={**late.params, "breaks": "mid_air"}), 0)
    whole = Job(replace(late, params={**late.params, "breaks": "never"}), 0)
    assert CONTEXT < shatters(broken)[0] < shatters(Job(late, 0))[0] and shatters(whole) == []
    assert np.abs(real[-1] - intact[-1]).mean() > 0.5 and np.abs(real[-1] - mid_air[-1]).mean() > 0.5
    inside = store.get(Job(early, 0))  # shatters within the context: the twins would differ there
    assert matched_sets(inside, CONTEXT, ["glass"], rerender_of(Job(early, 0), store)) == []
    assert matched_sets(clip, CONTEXT, ["glass"]) == []  # no way to film it again: no set


def test_hover_stops_the_falling_object_dead_where_the_context_leaves_it(tmp_path):
    """Crossed like vanish: the fall and the object hanging still throughout where the context leaves it are
    possible; the fall that stops dead in mid-air (and the still object that sets off at speed) are not. An object
    at rest after the context gives no set."""
    from simworld.runner import Job

    late, early, store = physics_pair(tmp_path, "{scenario: fall, objects: 1, impact_at: 0.75, height: 2.0}",
                                      "{scenario: fall, objects: 1, impact_at: 0.3}")
    clip = store.get(Job(late, 0))
    [matched] = matched_sets(clip, CONTEXT, ["hover"])
    falling = actor(clip.gt, CONTEXT)
    assert list(matched.possible) == [True, True, False, False] and matched.subject == clip.gt.object(falling).name
    real, still, hovering, setting_off = matched.clips.astype(int)
    mask = object_mask(clip.gt, falling, grow=0)
    assert np.array_equal(hovering[:CONTEXT], real[:CONTEXT]) and np.array_equal(setting_off[CONTEXT:], real[CONTEXT:])
    left = mask[CONTEXT - 1]
    assert all(np.array_equal(frame[left], real[CONTEXT - 1][left]) for frame in hovering[CONTEXT:])  # hangs there
    assert np.abs(hovering[-1] - real[-1]).mean() > 0.2  # while the real one has landed
    rested = store.get(Job(early, 0))  # landed within the context: standing still is what it does anyway
    assert matched_sets(rested, CONTEXT, ["hover"]) == []
