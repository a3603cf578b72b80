"""The track types of the object layer (see tracking.py, which re-exports them): per-frame records of objects,
the ground truth's own objects as tracks in a clip's geometry, and per-frame agreement of two tracks."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers.measure.segmentation import min_object_area, to_lab
from simworld.clip import Clip


@dataclass
class Track:
    """One object over a clip (arrays over the clip's T frames; fields described in tracking.py)."""

    track_id: int
    present: np.ndarray
    masks: np.ndarray
    area: np.ndarray
    centroid: np.ndarray
    bbox: np.ndarray
    color_lab: np.ndarray
    confidence: np.ndarray
    object_id: int | None = None
    name: str = ""
    amodal_area: np.ndarray | None = None
    amodal_center: np.ndarray | None = None

    @property
    def frames_present(self) -> np.ndarray:
        return np.flatnonzero(self.present)

    def crop(self, t: int, frames: np.ndarray, pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(image crop, mask crop) of frame t around the object's box, `pad` pixels wider; empty if absent."""
        if not self.present[t]:
            return np.zeros((0, 0, 3), frames.dtype), np.zeros((0, 0), bool)
        H, W = self.masks.shape[1:]
        x0, y0, x1, y1 = self.bbox[t].astype(int)
        x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(W, x1 + pad), min(H, y1 + pad)
        return frames[t, y0:y1, x0:x1], self.masks[t, y0:y1, x0:x1]


@dataclass
class TrackSet:
    """The tracks of one clip and where they come from."""

    tracks: list[Track]
    num_frames: int
    size: tuple[int, int]  # (width, height)
    source: str  # "segmentation", "search" or "ground_truth"

    def by_object(self, object_id: int) -> Track | None:
        return next((t for t in self.tracks if t.object_id == object_id), None)


def measure(masks: np.ndarray, lab: np.ndarray) -> dict[str, np.ndarray]:
    """Area, centroid, bbox and mean Lab colour of (T,H,W) masks over (T,H,W,3) Lab frames, vectorized."""
    T, H, W = masks.shape
    m = masks.astype(np.float32)
    area = m.sum(axis=(1, 2))
    safe = np.where(area > 0, area, np.nan)
    cx = (m.sum(axis=1) * np.arange(W)).sum(axis=1) / safe
    cy = (m.sum(axis=2) * np.arange(H)).sum(axis=1) / safe
    cols, rows = masks.any(axis=1), masks.any(axis=2)
    bbox = np.stack([cols.argmax(1), rows.argmax(1), W - cols[:, ::-1].argmax(1), H - rows[:, ::-1].argmax(1)], 1)
    bbox = np.where(area[:, None] > 0, bbox.astype(np.float64), np.nan)
    color = np.einsum("thw,thwc->tc", m, lab) / safe[:, None]
    return {"area": area.astype(np.float64), "centroid": np.stack([cx, cy], 1), "bbox": bbox, "color_lab": color}


def reference_index(num_frames: int, reference_frames: int) -> np.ndarray:
    """The reference frame shown at each clip frame when their lengths differ (same start, same end)."""
    if num_frames <= 1 or reference_frames <= 1:
        return np.zeros(num_frames, int)
    return np.round(np.arange(num_frames) * (reference_frames - 1) / (num_frames - 1)).astype(int)


def _resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if masks.shape[2] == size[0] and masks.shape[1] == size[1]:
        return masks
    return np.stack([cv2.resize(m, size, interpolation=cv2.INTER_NEAREST) for m in masks])


def reference_frames(reference: Clip, num_frames: int, size: tuple[int, int]) -> np.ndarray:
    """The reference's frames at the clip's frame times and size."""
    frames = reference.frames[reference_index(num_frames, reference.num_frames)]
    if reference.size == size:
        return frames
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def tracked_object_ids(reference: Clip) -> list[int]:
    return [int(i) for i in reference.gt.track_ids]


def ground_truth_tracks(reference: Clip, num_frames: int | None = None, size: tuple[int, int] | None = None,
                        object_ids: list[int] | None = None) -> TrackSet:
    """The ground truth's own objects as tracks, resampled to a clip of `num_frames` frames of `size` (W,H)."""
    gt = reference.gt
    if gt is None:
        raise ValueError("reference clip has no ground truth")
    T = reference.num_frames if num_frames is None else num_frames
    size = reference.size if size is None else size
    index = reference_index(T, reference.num_frames)
    labels = _resize_masks(gt.masks[index], size)
    lab = to_lab(reference_frames(reference, T, size))
    sx, sy = size[0] / reference.size[0], size[1] / reference.size[1]
    K, E = gt.intrinsics[index], gt.extrinsics[index]
    tracks = []
    for k, object_id in enumerate(tracked_object_ids(reference) if object_ids is None else object_ids):
        masks = labels == object_id
        stats = measure(masks, lab)
        n = gt.track_index(object_id) if object_id in gt.track_ids else None
        amodal_area = amodal_center = None
        if n is not None:
            amodal_area = gt.amodal_pixels[n, index].astype(np.float64) * sx * sy
            points = gt.positions[n, index].astype(np.float64)  # (T,3) world
            cam = np.einsum("tij,tj->ti", E[:, :3, :3], points) + E[:, :3, 3]
            z = np.where(cam[:, 2] > 1e-6, cam[:, 2], np.nan)
            amodal_center = np.stack([(K[:, 0, 0] * cam[:, 0] / z + K[:, 0, 2]) * sx,
                                      (K[:, 1, 1] * cam[:, 1] / z + K[:, 1, 2]) * sy], 1)
        present = stats["area"] > 0
        tracks.append(Track(k, present, masks, confidence=present.astype(np.float64), object_id=int(object_id),
                            name=gt.object(object_id).name, amodal_area=amodal_area, amodal_center=amodal_center,
                            **stats))
    return TrackSet(tracks, T, size, "ground_truth")


@dataclass
class TrackComparison:
    """Per-frame agreement of a found track with the ground truth's (arrays over the clip's frames)."""

    expected: np.ndarray  # (T,) bool: the ground truth shows the object (at least the minimum area)
    found: np.ndarray  # (T,) bool
    iou: np.ndarray  # (T,) mask IoU (0 when either is empty)
    area_ratio: np.ndarray  # (T,) found / expected area (NaN where not expected)
    offset: np.ndarray  # (T,) centroid distance / sqrt(expected area) (NaN where either is absent)

    @property
    def located(self) -> np.ndarray:
        """(T,) bool: found where expected, about as large (within 0.75 object sizes, area x0.4 to x2.5)."""
        with np.errstate(invalid="ignore"):
            return self.found & (self.offset < 0.75) & (self.area_ratio >= 0.4) & (self.area_ratio <= 2.5)


def compare_tracks(found: Track, truth: Track) -> TrackComparison:
    T, H, W = truth.masks.shape
    expected = truth.area >= max(4, min_object_area(H, W) // 3)
    inter = (found.masks & truth.masks).sum(axis=(1, 2))
    union = (found.masks | truth.masks).sum(axis=(1, 2))
    iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    scale = np.sqrt(np.where(truth.area > 0, truth.area, np.nan))
    area_ratio = np.where(expected, found.area / np.where(expected, truth.area, 1.0), np.nan)
    offset = np.linalg.norm(found.centroid - truth.centroid, axis=1) / scale
    return TrackComparison(expected, found.present, iou, area_ratio, offset)
