"""The shared object layer: ground-truth tracks, objects found in a clip with a probe, and segmentation tracks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simworld.analyzers.failures import NUISANCES
from simworld.analyzers.measure.tracking import (TrackSet, compare_tracks, find_objects, ground_truth_tracks, measure,
                                                 reference_index, track_objects)
from simworld.clip import Clip
from tests.conftest import rendered

FAMILIES = [("occlusion", 0), ("occlusion", 1), ("permanence", 0), ("multishot", 0), ("physics", 0)]


def test_measure_on_a_known_mask():
    masks = np.zeros((2, 10, 20), bool)
    masks[0, 2:5, 4:8] = True  # 3 x 4 pixels
    lab = np.zeros((2, 10, 20, 3), np.float32)
    lab[..., 0] = 50.0
    stats = measure(masks, lab)
    assert stats["area"].tolist() == [12.0, 0.0]
    assert np.allclose(stats["centroid"][0], [5.5, 3.0]) and np.isnan(stats["centroid"][1]).all()
    assert stats["bbox"][0].tolist() == [4, 2, 8, 5] and np.isnan(stats["bbox"][1]).all()
    assert np.allclose(stats["color_lab"][0], [50, 0, 0])


def test_reference_index_maps_the_ends_together():
    assert reference_index(16, 16).tolist() == list(range(16))
    assert reference_index(8, 16).tolist() == [0, 2, 4, 6, 9, 11, 13, 15]
    assert reference_index(3, 1).tolist() == [0, 0, 0]


@pytest.mark.parametrize("family, seed", FAMILIES)
def test_oracle_clip_gives_back_the_ground_truth_masks(family, seed):
    clip = rendered(family, seed)
    truth, found = ground_truth_tracks(clip), find_objects(clip.frames, clip)
    assert found.source == "search" and len(found.tracks) == len(truth.tracks) == len(clip.gt.track_ids)
    for f, g in zip(found.tracks, truth.tracks):
        assert f.object_id == g.object_id
        assert np.array_equal(g.masks, clip.gt.masks == g.object_id)
        comparison = compare_tracks(f, g)
        assert comparison.found[comparison.expected].all()
        assert comparison.iou[comparison.expected].min() == 1.0
        assert f.confidence[comparison.expected].min() >= 0.99


@pytest.mark.parametrize("nuisance", list(NUISANCES))
def test_objects_are_found_under_nuisances(nuisance):
    for family, seed in FAMILIES:
        clip = rendered(family, seed)
        frames = NUISANCES[nuisance](clip.frames, np.random.default_rng(seed))
        for f, g in zip(find_objects(frames, clip).tracks, ground_truth_tracks(clip).tracks):
            c = compare_tracks(f, g)
            well = c.expected & (g.area >= 0.5 * np.median(g.area[g.area > 0]))  # not a sliver at an edge
            assert c.found[well].mean() >= 0.9, (family, seed, g.name)
            assert c.iou[well].mean() >= 0.75, (family, seed, g.name)


def _erase(clip: Clip, object_id: int, start: int) -> np.ndarray:
    frames = clip.frames.copy()
    for t in range(start, clip.num_frames):
        mask = cv2.dilate((clip.gt.masks[t] == object_id).astype(np.uint8), np.ones((5, 5), np.uint8))
        frames[t] = cv2.inpaint(frames[t], mask, 3, cv2.INPAINT_TELEA)
    return frames


def test_an_erased_object_is_not_found_and_a_moved_one_is_found_where_it_went():
    clip = rendered("physics", 0)
    target = int(clip.gt.track_ids[1])
    found = find_objects(_erase(clip, target, 8), clip).by_object(target)
    assert found.present[:8].all() and not found.present[8:].any()
    assert found.confidence[8:].max() == 0.0 and np.isnan(found.centroid[8:]).all()
    shifted = np.roll(clip.frames, (3, -4), axis=(1, 2))  # everything 3 px down and 4 px left
    moved = find_objects(shifted, clip).by_object(target)
    truth = ground_truth_tracks(clip).by_object(target)
    assert np.allclose(moved.centroid - truth.centroid, [-4, 3], atol=0.5)


def test_a_recoloured_object_is_not_taken_for_itself():
    clip = rendered("occlusion", 0)
    target = int(clip.gt.track_ids[0])
    frames = clip.frames.copy()
    mask = clip.gt.masks == target
    frames[mask] = frames[mask][:, [2, 0, 1]]  # green ball -> a blue-ish one
    found = find_objects(frames, clip).by_object(target)
    truth = ground_truth_tracks(clip).by_object(target)
    assert truth.present.sum() >= 10 and found.present.sum() <= 2


@pytest.mark.parametrize("width, height, frames", [(160, 96, 16), (96, 160, 12), (64, 64, 8), (256, 144, 24)])
def test_other_sizes_aspects_and_lengths(width, height, frames):
    clip = rendered("occlusion", 0, width, height, frames)
    truth, found = ground_truth_tracks(clip), find_objects(clip.frames, clip)
    for f, g in zip(found.tracks, truth.tracks):
        assert f.masks.shape == (frames, height, width)
        c = compare_tracks(f, g)
        assert c.iou[c.expected].min() == 1.0
    tracks = track_objects(clip.frames)
    assert isinstance(tracks, TrackSet) and tracks.size == (width, height) and tracks.num_frames == frames


def test_a_clip_of_another_size_and_length_than_its_ground_truth():
    clip = rendered("occlusion", 0)
    index = reference_index(12, clip.num_frames)
    small = np.stack([cv2.resize(clip.frames[i], (96, 64), interpolation=cv2.INTER_AREA) for i in index])
    truth = ground_truth_tracks(clip, 12, (96, 64))
    assert truth.tracks[0].masks.shape == (12, 64, 96)
    ball = truth.by_object(int(clip.gt.track_ids[0]))
    full = ground_truth_tracks(clip).by_object(ball.object_id)
    # areas and projected centres scale with the frame
    scale = 96 * 64 / (128 * 128)
    assert np.allclose(ball.amodal_area, full.amodal_area[index] * scale)
    seen = ball.area >= 0.95 * ball.amodal_area  # fully in view: its visible centre is its projected centre
    assert np.nanmax(np.linalg.norm(ball.amodal_center[seen] - ball.centroid[seen], axis=1)) < 3.0
    found = find_objects(small, clip).by_object(ball.object_id)
    c = compare_tracks(found, ball)
    well = ball.area >= 0.5 * np.median(ball.area[ball.area > 0])
    assert c.found[well].all() and c.iou[well].mean() > 0.7


def test_segmentation_tracks_follow_the_objects_and_reidentify_after_occlusion():
    clip = rendered("physics", 0)
    tracks = track_objects(clip.frames)
    for g in ground_truth_tracks(clip).tracks:  # every object has one track covering it most of the clip
        best = max(tracks.tracks, key=lambda t: (t.masks & g.masks).sum())
        iou = (best.masks & g.masks).sum(axis=(1, 2)) / np.maximum((best.masks | g.masks).sum(axis=(1, 2)), 1)
        assert np.mean(iou > 0.3) >= 0.8, g.name
    clip = rendered("occlusion", 0)
    ball = ground_truth_tracks(clip).by_object(int(clip.gt.track_ids[0]))
    tracks = track_objects(clip.frames)
    clear = np.flatnonzero(ball.area >= 0.9 * ball.area.max() * 0.7)
    before, after = clear[clear < 6], clear[clear > 10]
    owners = {t.track_id for t in tracks.tracks for f in (before[0], after[-1])
              if (t.masks[f] & ball.masks[f]).sum() > 0.5 * ball.area[f]}
    assert len(owners) == 1  # the same track before and after the wall


def test_deterministic():
    clip = rendered("permanence", 0)
    a, b = find_objects(clip.frames, clip), find_objects(clip.frames, clip)
    for x, y in zip(a.tracks, b.tracks):
        assert np.array_equal(x.masks, y.masks) and np.array_equal(x.confidence, y.confidence)
    a, b = track_objects(clip.frames), track_objects(clip.frames)
    assert len(a.tracks) == len(b.tracks)
    for x, y in zip(a.tracks, b.tracks):
        assert np.array_equal(x.masks, y.masks)


def test_without_anything_to_find():
    constant = np.full((8, 64, 64, 3), 128, np.uint8)
    assert track_objects(constant).tracks == []
    clip = rendered("occlusion", 0)
    noise = np.random.default_rng(0).integers(0, 256, clip.frames.shape, dtype=np.uint8)
    found = find_objects(noise, clip)
    assert all(t.present.sum() <= 1 for t in found.tracks)
    with pytest.raises(ValueError):
        ground_truth_tracks(Clip(clip.frames))
