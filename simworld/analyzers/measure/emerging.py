"""Objects still touching a still track as they come out from behind it: segmentation joins them to its silhouette.

An object coming out from behind a wall is one component with the wall until a gap opens between them; one that
stays close to it (a copy coming out farther back, the clip ending) never gets a track of its own. Here each still
track's usual silhouette is the pixels it covers in at least half the frames it is seen in (a moving track has
none); what it covers beyond
that, frame after frame, is chained by overlap into an `emerging` track. A chain that a track ends into (an object
going behind) or that a track begins or resumes out of (an object that then stood apart) is that track, and is
dropped: only what never stands apart is left. Needs a still camera (the silhouette must stay in place).
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.measure.segmentation import dilated, min_object_area
from simworld.analyzers.measure.tracks import Track, TrackSet, measure

EMERGING = "emerging"  # Track.name of a chain found here
USUAL = 0.5  # share of its frames a pixel must be covered in to belong to a still track's usual silhouette
TOUCH = 3  # pixels within which a chain and a track's mask touch


def _usual(track: Track) -> np.ndarray | None:
    """The pixels a track covers in at least USUAL of the frames it is seen in; None where that is under half its
    typical area (it moves: it has no usual silhouette)."""
    usual = track.masks[track.frames_present].mean(axis=0) >= USUAL
    return usual if usual.sum() >= 0.5 * np.median(track.area[track.present]) else None


def _excess(track: Track, usual: np.ndarray, min_area: int) -> list[list[np.ndarray]]:
    """Per frame, the pieces of the track beyond its `usual` silhouette (grown by a pixel, and opened: a fringe is
    no piece), each of at least half `min_area` (it may still be coming out)."""
    usual = dilated(usual, 1)
    kernel = np.ones((3, 3), np.uint8)
    pieces = []
    for mask in track.masks:
        beyond = cv2.morphologyEx((mask & ~usual).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(beyond, connectivity=8)
        pieces.append([labels == c for c in range(1, count) if stats[c, cv2.CC_STAT_AREA] >= 0.5 * min_area])
    return pieces


def _chains(pieces: list[list[np.ndarray]]) -> list[list[tuple[int, np.ndarray]]]:
    """Pieces of consecutive frames joined where they overlap (within 2 pixels): one chain per thing coming out."""
    live: list[list[tuple[int, np.ndarray]]] = []
    done: list[list[tuple[int, np.ndarray]]] = []
    for t, frame in enumerate(pieces):
        carried = []
        for piece in frame:
            near = dilated(piece, 2)
            at = next((i for i, c in enumerate(live) if (c[-1][1] & near).any()), None)
            # (a chain goes on in one piece: a second piece touching it starts a chain of its own)
            carried.append([(t, piece)] if at is None else live.pop(at) + [(t, piece)])
        done += live
        live = carried
    return done + live


def _joins_a_track(chain: list[tuple[int, np.ndarray]], tracks: list[Track], source: int) -> bool:
    """A track ends into the chain (seen in the frame before a piece, gone in its frame) or begins or resumes out
    of it (gone in a piece's frame, seen in the next), touching that piece."""
    T = len(tracks[source].present)
    for t, piece in chain:
        near = dilated(piece, TOUCH)
        for k, other in enumerate(tracks):
            if k == source:
                continue
            if t > 0 and other.present[t - 1] and not other.present[t] and (other.masks[t - 1] & near).any():
                return True
            if t < T - 1 and other.present[t + 1] and not other.present[t] and (other.masks[t + 1] & near).any():
                return True
    return False


def emerging_tracks(tracks: TrackSet, lab: np.ndarray) -> list[Track]:
    """Tracks of what comes out of (or stays joined to) a still track without ever standing apart from it: chains
    seen in 2 frames or more, at least once of an object's size (segmentation.min_object_area). `tracks` must come
    from a still camera; `lab`: the clip's (T,H,W,3) CIELAB frames."""
    T, (W, H) = tracks.num_frames, tracks.size
    min_area = min_object_area(H, W)
    out = []
    for j, track in enumerate(tracks.tracks):
        usual = _usual(track) if track.present.sum() >= 0.5 * T else None
        if usual is None:
            continue  # seen in under half the clip, or moving: not a standing thing
        for chain in _chains(_excess(track, usual, min_area)):
            if len(chain) < 2 or max(int(piece.sum()) for _, piece in chain) < min_area:
                continue
            if _joins_a_track(chain, tracks.tracks, j):
                continue
            masks = np.zeros((T, H, W), bool)
            for t, piece in chain:
                masks[t] = piece
            present = masks.any(axis=(1, 2))
            out.append(Track(len(tracks.tracks) + len(out), present, masks, confidence=present.astype(np.float64),
                             name=EMERGING, **measure(masks, lab)))
    return out
