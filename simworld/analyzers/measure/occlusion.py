"""Occlusions read from the tracks alone (no probe): which object went behind which, and what came out.

A track that ends beside a larger track that was there in its last frame (within its own size of its last or next
place: the object slid behind it, merged into its silhouette, or behind a part of it segmentation did not find; a
segment that begins as the object goes is the object re-segmented) is hidden by that track, the occluder
(with the still tracks it is made of: a striped wall segmented in bars is one occluder). Tracks of one object (an
object and its shadow or highlight segmented apart) that end at the same occluder within a frame are one entry. From
the object's speed before it was hidden and the occluder's extent along that motion comes the frame by which it
should show again on the far side (`due`): its speed and the distance still to go are read on its trailing edge,
which shows until it is gone (the centroid of what still shows lags as the front goes behind). What comes out: the
hidden track itself seen again, or tracks that begin after the entry beside the occluder (under a still camera also
what comes out still joined to the occluder's silhouette and never stands apart from it: emerging.py); those
beginning within a few frames of each other in one place are one return.
permanence asks that something comes back by `due` and that it comes back once (a copy counts whatever its size:
farther away it looks smaller); identity that what comes back looks like what went in. Passages the clip ends too
soon to judge, or whose object hardly moved, have no `due`; one the clip ends after the object, at its own speed,
would be out (`expected`) but before `due` is judged in part (`OccluderTally.overdue`: how far into that slack it
ends, 0 to 1), for it may have slowed down. When the camera moves, speeds and the crossing are
measured against the background (the camera's estimated motion taken out): a ball the camera follows moves and the
wall it passes behind stands, while texture on a wall the camera sweeps past passes behind nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from simworld.analyzers.measure.camera import CameraMotion
from simworld.analyzers.measure.emerging import EMERGING, emerging_tracks
from simworld.analyzers.measure.segmentation import (color_histogram, dilated, histogram_similarity, lab_bin_index,
                                                     min_object_area)
from simworld.analyzers.measure.tracks import Track, TrackSet

SLACK = 1.25  # the object must be back within this many times the crossing time (it may slow down) ...
GRACE = 2  # ... plus this many frames
MIN_SPEED = 1.0  # pixels per frame (and 0.05 of its size) below which an object is not passing behind anything
STILL_OCCLUDER = 0.5  # an occluder moves at most this fraction of the object's speed (else: it slid over a still
# object, revealed where it stood; no passage to judge)
NEAREST = 3  # frames whose colour stands for an object's look before and after
ALIKE, UNLIKE = 0.6, 0.5  # colour similarity from which what came back looks like what went in / below: unlike it
CHROMA = 20.0  # distance of mean (a, b) beyond which it is unlike what went in
HUE, GREY = 45.0, 12.0  # ... or its hue turned by more than HUE degrees, both having GREY of chroma or more (a pale
# colour moves little in (a, b) when its hue turns; light that brightens or dims keeps the hue)
SIZE = 2.0  # ... or its largest area more than this many times larger or smaller (a copy may come out nearer or
# farther: size does not tell a duplicate from the object, only a swap; nor when the tracker itself re-identified the
# object, by colour and within 3x its size: then segmentation joined it to its shadow or a neighbour, or lost part)


@dataclass
class Passage:
    """One object (one or more tracks) hidden behind an occluder, and what came out."""

    tracks: list[int]  # indices into TrackSet.tracks of the object that went in
    occluder: int  # index of the occluding track
    hidden: int  # first frame the object is no longer seen
    speed: float  # pixels per frame before it was hidden
    due: int | None  # the frame by which it should be seen again (None: cannot tell; beyond the clip: not judged)
    expected: int | None = None  # the frame by which it is out at its own speed (`due` allows it to slow down)
    returns: list[list[int]] = field(default_factory=list)  # groups of tracks that came out (first frames in order)
    similarity: list[float] = field(default_factory=list)  # per return: colour similarity to what went in
    chroma_shift: list[float] = field(default_factory=list)  # per return: distance of its mean (a, b) from what went in
    size_ratio: list[float] = field(default_factory=list)  # per return: its largest area / the largest that went in
    # (NaN for what still emerges, partly hidden to the last: not judged by size)
    hue_turn: list[float] = field(default_factory=list)  # per return: degrees its hue turned from what went in (0
    # where either is too grey to have one)
    came_out: list[int] = field(default_factory=list)  # per return: the first frame it is seen after the entry


def _size(track: Track) -> float:
    areas = track.area[track.present]
    return float(np.sqrt(np.median(areas))) if len(areas) else 0.0


def _to_scene(points: np.ndarray, t: int, scene: np.ndarray | None) -> np.ndarray:
    """(N,2) pixel positions of frame t on frame 0 (the camera's motion taken out); as they are without `scene`."""
    if scene is None or not len(points):
        return points
    return cv2.perspectiveTransform(points[None].astype(np.float64), scene[t])[0]


def _velocity(track: Track, last: int, to_reference: np.ndarray | None = None) -> np.ndarray:
    """Pixels per frame: the slope of its centroid over its last 8 frames up to `last` where most of it shows (an
    object sliding behind something shows less of itself, and its centroid lags). With `to_reference` ((T,3,3): the
    camera's motion, frame t to frame 0) the centroids are taken onto frame 0 first: motion against the background."""
    typical = np.median(track.area[track.present])
    seen = [t for t in track.frames_present if t <= last and track.area[t] >= 0.8 * typical][-8:]
    if len(seen) < 2:
        return np.zeros(2)
    times = np.array(seen, float)
    centroids = np.stack([_to_scene(track.centroid[t][None], t, to_reference)[0] for t in seen])
    return np.array([np.polyfit(times, centroids[:, i], 1)[0] for i in range(2)])


def _trailing_edge(track: Track, t: int, direction: np.ndarray, scene: np.ndarray | None) -> float:
    """How far along `direction` the back of the object is in frame t (its 1st percentile: a stray pixel is no
    edge), on the background's pixels with `scene`."""
    ys, xs = np.nonzero(track.masks[t])
    return float(np.percentile(_to_scene(np.stack([xs, ys], 1).astype(np.float64), t, scene) @ direction, 1))


def _trailing_speed(track: Track, last: int, direction: np.ndarray, scene: np.ndarray | None,
                    centroid_speed: float) -> float:
    """Pixels per frame along `direction` of the object's back over its last 8 frames up to `last`, partly hidden
    ones included (its back shows until it is gone), or the centroid's speed (over frames it shows whole) where that
    is faster (segmentation that misses part of the object moves its back more than its centroid) or the back's is
    2x it or more (an object hidden from behind, or segmented with something else)."""
    seen = [t for t in track.frames_present if t <= last][-8:]
    if len(seen) < 3:
        return centroid_speed
    edges = [_trailing_edge(track, t, direction, scene) for t in seen]
    speed = float(np.polyfit(np.array(seen, float), edges, 1)[0])
    return speed if centroid_speed < speed < 2.0 * centroid_speed else centroid_speed


def find_passages(tracks: TrackSet, lab: np.ndarray, breaks: set[int] | frozenset[int] = frozenset(),
                  camera: CameraMotion | None = None) -> list[Passage]:
    """Every object hidden by another track mid-clip, with what came back (see the module docstring). `breaks`:
    steps t (frame t to t+1) the frames cannot be followed across (shot cuts, camera steps too fast): an object
    gone at one is no passage, and what follows one is no longer the passage's (not judged). `camera`: its motion,
    so that what passes behind moves against the background and what hides it does not (with the camera's motion
    taken out, texture on a wall the camera sweeps past is still: none of it passes behind the rest)."""
    T = tracks.num_frames
    scene = None if camera is None or camera.still() else camera.to_reference
    if not tracks.tracks:
        return []
    # what comes out still joined to the occluder's silhouette (a copy that never stands apart) may come back too
    items = tracks.tracks + (emerging_tracks(tracks, lab) if scene is None else [])
    bins = lab_bin_index(lab)
    occupied = np.stack([t.masks for t in tracks.tracks])  # (N,T,H,W)
    entries: dict[tuple[int, int], list[int]] = {}
    # specks are segmentation noise; under a moving camera textured surfaces also break into fragments that come
    # and go with the view, so there an object is at least twice the smallest (as for a vanish in the open)
    min_area = min_object_area(*lab.shape[1:3]) * (1 if scene is None else 2)
    for k, track in enumerate(tracks.tracks):  # (what emerges never stands apart: it neither hides nor is hidden)
        present = track.frames_present
        if len(present) < 2 or np.median(track.area[present]) < min_area:
            continue
        for i, last in enumerate(present):
            resumes = present[i + 1] if i + 1 < len(present) else T
            if resumes == last + 1 or last >= T - 1:
                continue  # seen in the next frame, or the clip ends
            reach = max(2, int(round(_size(track))))  # an occluder found in part (a striped pillar) may stand off
            shift = np.round(_velocity(track, last)).astype(int)
            moved = np.roll(track.masks[last], (shift[1], shift[0]), axis=(0, 1))
            near = dilated(track.masks[last] | moved, reach)
            # an occluder is larger than what it hides (not a piece of the same object), and was there before it hid
            # it (a segment that begins as the object goes is the object re-segmented: a cut, a jolt, a fast step)
            cover = [(int((near & occupied[j, last + 1]).sum()), j) for j in range(len(occupied))
                     if j != k and items[j].present[last]
                     and np.median(items[j].area[items[j].present]) >= np.median(track.area[present])]
            best, j = max(cover, default=(0, -1))
            if best < 0.2 * track.area[last]:
                continue
            speed, size = float(np.linalg.norm(_velocity(track, last, scene))), _size(track)
            occluder_speed = float(np.linalg.norm(_velocity(items[j], last, scene)))
            if speed >= max(MIN_SPEED, 0.05 * size) and occluder_speed <= STILL_OCCLUDER * speed:
                entries.setdefault((j, int(last) + 1), []).append(k)
    passages = []
    for (occluder, hidden), group in sorted(entries.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if passages and passages[-1].occluder == occluder and hidden - passages[-1].hidden <= 1 and \
                not set(group) & set(passages[-1].tracks):
            passages[-1].tracks += group  # one object segmented in pieces, hidden a frame apart
            continue
        passages.append(Passage(list(group), occluder, hidden, 0.0, None))
    kept = []
    for passage in passages:
        _judge(passage, items, lab, bins, T, scene)
        after = [b for b in sorted(breaks) if b >= passage.hidden - 1]
        if after and after[0] == passage.hidden - 1:
            continue  # gone at a cut or a whip of the camera: nothing to judge
        if after:
            until = after[0]  # the last frame of the passage's shot
            keep = [i for i, group in enumerate(passage.returns) if min(items[k].frames_present[
                items[k].frames_present >= passage.hidden][0] for k in group) <= until]
            passage.returns = [passage.returns[i] for i in keep]
            passage.similarity = [passage.similarity[i] for i in keep]
            passage.chroma_shift = [passage.chroma_shift[i] for i in keep]
            passage.size_ratio = [passage.size_ratio[i] for i in keep]
            passage.hue_turn = [passage.hue_turn[i] for i in keep]
            passage.came_out = [passage.came_out[i] for i in keep]
            if passage.due is not None and passage.due > until:
                passage.due = passage.expected = None
        kept.append(passage)
    return kept


def _judge(passage: Passage, items: list[Track], lab: np.ndarray, bins: np.ndarray, T: int,
           scene: np.ndarray | None = None) -> None:
    """Fill in the passage's speed, due frame and returns; with `scene` (the camera's motion, frame t to frame 0) the
    crossing is measured on the background, where the occluder stands still."""
    main = max(passage.tracks, key=lambda k: items[k].area[passage.hidden - 1])
    track, occluder = items[main], items[passage.occluder]
    last = passage.hidden - 1
    velocity = _velocity(track, last, scene)
    passage.speed = float(np.linalg.norm(velocity))
    size = _size(track)
    # the occluder's own silhouette: its typical frame, not one where the object has merged into it
    occluder_frames = occluder.frames_present
    typical = occluder_frames[np.argmin(np.abs(occluder.area[occluder_frames] - np.median(occluder.area[occluder_frames])))]
    parts = _occluder_parts(items, passage.occluder, typical, float(np.median(track.area[track.present])),
                            passage.speed)
    silhouette = np.any([items[j].masks[typical] for j in parts], axis=0)
    ys, xs = np.nonzero(silhouette)
    if len(xs) and passage.speed > 0:
        direction = velocity / passage.speed
        passage.speed = _trailing_speed(track, last, direction, scene, passage.speed)
        # from its back to the occluder's far side: then all of it is out
        far = float(np.max(_to_scene(np.stack([xs, ys], 1), typical, scene) @ direction)
                    - _trailing_edge(track, last, direction, scene))
        crossing = max(far, 0.0) / passage.speed
        passage.due = int(np.ceil(passage.hidden + SLACK * crossing + GRACE))
        passage.expected = int(np.ceil(passage.hidden + crossing + GRACE))
    went_in = _pixels_look(items, passage.tracks, bins, before=passage.hidden)
    went_chroma = _chroma(items, passage.tracks, lab, before=passage.hidden)
    went_area = max(float(items[k].area[:passage.hidden].max()) for k in passage.tracks)
    # what came out: the object's own tracks seen again, tracks that begin beside the occluder after it went in
    beside = dilated(silhouette, int(round(1.5 * max(size, 2.0))))
    starts = []
    for k, other in enumerate(items):
        # (what emerges is still coming out: it is judged by its largest piece, when it made emerging_tracks)
        if k in parts or (other.name != EMERGING and np.median(other.area[other.present]) < min_object_area(
                *lab.shape[1:3])):
            continue
        later = [t for t in other.frames_present if t >= passage.hidden]
        if not later:
            continue
        first = int(later[0])
        if k not in passage.tracks:
            if first != other.frames_present[0]:
                continue
            there = beside if scene is None else _moved(beside, np.linalg.inv(scene[first]) @ scene[typical])
            if not (other.masks[first] & there).any():
                continue
        starts.append((first, k))
    # pieces of one object (the object and its shadow segmented apart) begin together and touch
    groups: list[list[tuple[int, int]]] = []
    for first, k in sorted(starts):
        for g in groups:
            f0, k0 = g[0]
            both = max(first, f0)
            if first - f0 <= 2 and items[k].present[both] and items[k0].present[both] and \
                    (dilated(items[k].masks[both], 2) & items[k0].masks[both]).any():
                g.append((first, k))
                break
        else:
            groups.append([(first, k)])
    for g in groups:
        passage.returns.append([k for _, k in g])
        look = _pixels_look(items, [k for _, k in g], bins, after=g[0][0])
        passage.similarity.append(histogram_similarity(went_in, look))
        came_chroma = _chroma(items, [k for _, k in g], lab, after=g[0][0])
        passage.chroma_shift.append(float(np.linalg.norm(came_chroma - went_chroma)))
        passage.hue_turn.append(_hue_turn(went_chroma, came_chroma))
        passage.came_out.append(g[0][0])
        # (what still emerges is partly hidden by the occluder to the last: its size says nothing, NaN)
        passage.size_ratio.append(np.nan if any(items[k].name == EMERGING for _, k in g) else
                                  max(float(items[k].area[g[0][0]:].max()) for _, k in g) / max(went_area, 1.0))


def _hue_turn(went: np.ndarray, came: np.ndarray) -> float:
    """Degrees between two mean (a, b) colours, 0 where either has under GREY of chroma (no hue to speak of)."""
    a, b = float(np.linalg.norm(went)), float(np.linalg.norm(came))
    if min(a, b) < GREY:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(went @ came / (a * b), -1.0, 1.0))))


def _moved(mask: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """A mask of one frame where it lies in another (`homography`: the first frame's pixels to the other's)."""
    h, w = mask.shape
    return cv2.warpPerspective(mask.astype(np.uint8), homography, (w, h), flags=cv2.INTER_NEAREST) > 0


def _occluder_parts(items: list[Track], occluder: int, frame: int, object_area: float, speed: float) -> list[int]:
    """The occluder and the tracks it is made of (a striped or patterned wall segmented in pieces): tracks seen in
    `frame` within half the object's size of it, chained, each at least the object's size and about as still as
    the occluder."""
    parts, grown = [occluder], True
    reach = max(2, int(round(0.5 * np.sqrt(object_area))))
    while grown:
        grown = False
        near = dilated(np.any([items[j].masks[frame] for j in parts], axis=0), reach)
        for j, other in enumerate(items):
            if j in parts or other.name == EMERGING or not other.present[frame] or \
                    np.median(other.area[other.present]) < object_area:
                continue
            if (near & other.masks[frame]).any() and \
                    float(np.linalg.norm(_velocity(other, frame))) <= STILL_OCCLUDER * max(speed, MIN_SPEED):
                parts.append(j)
                grown = True
    return parts


def _nearest_frames(items: list[Track], group: list[int], before: int | None, after: int | None) -> list[int]:
    """The NEAREST frames a group of tracks is seen in before `before` (or from `after` on)."""
    frames = sorted({int(t) for k in group for t in items[k].frames_present
                     if (before is None or t < before) and (after is None or t >= after)})
    return frames[-NEAREST:] if before is not None else frames[:NEAREST]


def _chroma(items: list[Track], group: list[int], lab: np.ndarray, before: int | None = None,
            after: int | None = None) -> np.ndarray:
    """Mean (a, b) of a group of tracks over its NEAREST frames before `before` (or from `after` on): colour
    without lightness, which a change of light moves."""
    frames = _nearest_frames(items, group, before, after)
    pixels = [lab[t][items[k].masks[t]][:, 1:] for k in group for t in frames]
    return np.concatenate(pixels).mean(axis=0) if pixels else np.zeros(2)


def _pixels_look(items: list[Track], group: list[int], bins: np.ndarray, before: int | None = None,
                 after: int | None = None) -> np.ndarray:
    """Colour histogram of a group of tracks over its NEAREST frames before `before` (or from `after` on)."""
    frames = _nearest_frames(items, group, before, after)
    pixels = [bins[t][items[k].masks[t]] for k in group for t in frames]
    return color_histogram(np.concatenate(pixels) if pixels else np.zeros(0, bins.dtype))


@dataclass
class OccluderTally:
    """Per occluder: objects that went in, came back like one of them, came back unlike any, and failed to
    come back by their due frame."""

    occluder: int
    went_in: int
    due: int  # of those, how many should be back before the clip ends
    back_alike: int
    back_unlike: int
    first_due: int | None  # the earliest due frame of a passage nothing came back for
    back_in_colour: int  # returns in the colour of what went in, whatever their size (back_alike among them)
    overdue: float = 0.0  # passages not back, the clip ending after `expected` but before `due`: how far into that
    # slack it ends (0 at `expected`, up to 1 at `due`), summed
    first_overdue: int | None = None  # the earliest `expected` frame among those
    unlike_share: float = 0.0  # returns counted by how unlike what went in they are: 1 under UNLIKE, 0 from ALIKE,
    # in between in proportion (a return neither alike nor unlike is some evidence of a swap, not none)
    first_twice: int | None = None  # the frame the first look-alike beyond what went in comes out (a copy shows)

    @property
    def lost(self) -> int:
        return max(0, self.due - self.back_alike - self.back_unlike)

    @property
    def duplicates(self) -> int:
        """More came back looking like what went in than went in (once everything that went in is back: a copy
        farther away looks smaller)."""
        return max(0, self.back_in_colour - self.went_in) if self.back_alike >= self.went_in else 0

    @property
    def swap_share(self) -> float:
        """Objects that went in and came back as something else: returns counted by how unlike they are
        (`unlike_share`), at most the objects not back alike."""
        return min(self.unlike_share, float(max(0, self.went_in - self.back_alike)))


def _latest_per_object(passages: list[Passage]) -> list[Passage]:
    """Of passages behind one occluder, each object's last (passages sharing a track are one object going behind
    again: what counts is what came back after it last went in)."""
    objects: list[list[Passage]] = []
    for p in sorted(passages, key=lambda p: p.hidden):
        same = next((o for o in objects if any(set(p.tracks) & set(q.tracks) for q in o)), None)
        if same is None:
            objects.append([p])
        else:
            same.append(p)
    return [o[-1] for o in objects]


def tally(passages: list[Passage], num_frames: int) -> list[OccluderTally]:
    """Passages summed per occluder (two objects behind one wall, each return counted once; one object that goes
    behind it twice, once, by its last passage)."""
    out = []
    for occluder in sorted({p.occluder for p in passages}):
        every = [p for p in passages if p.occluder == occluder]
        mine = _latest_per_object(every)
        best: dict[tuple[int, ...], float] = {}  # per return: how much it looks like what went in (its best match)
        colour: dict[tuple[int, ...], float] = {}  # the same by colour alone
        came: dict[tuple[int, ...], int] = {}  # per return: the frame it came out
        for p in mine:
            for group, similarity, chroma, hue, ratio, frame in zip(p.returns, p.similarity, p.chroma_shift,
                                                                    p.hue_turn, p.size_ratio, p.came_out, strict=True):
                key = tuple(sorted(group))
                came[key] = frame
                if chroma > CHROMA or hue > HUE:
                    similarity = min(similarity, 0.0)
                colour[key] = max(colour.get(key, 0.0), similarity)
                if np.isfinite(ratio) and not 1 / SIZE <= ratio <= SIZE and not set(group) & set(p.tracks):
                    similarity = min(similarity, 0.0)  # (the object's own track, re-identified, keeps its size)
                best[key] = max(best.get(key, 0.0), similarity)
        due = [p for p in mine if p.due is not None and p.due <= num_frames - 1]
        alike = sum(s >= ALIKE for s in best.values())
        unlike = sum(s < UNLIKE for s in best.values())
        missing = [p.due for p in due if not p.returns]
        last = num_frames - 1
        overdue = [p for p in mine if not p.returns and p.due is not None and p.expected is not None and
                   p.expected <= last < p.due]
        overdue_share = sum((last - p.expected) / (p.due - p.expected) for p in overdue)
        unlike_share = sum(np.clip((ALIKE - s) / (ALIKE - UNLIKE), 0.0, 1.0) for s in best.values())
        # a copy shows from when one more look-alike is out than went in
        in_colour = sorted(came[key] for key, s in colour.items() if s >= ALIKE)
        first_twice = in_colour[len(mine)] if len(in_colour) > len(mine) else None
        out.append(OccluderTally(occluder, len(mine), len(due), alike, unlike,
                                 min(missing, default=None), sum(s >= ALIKE for s in colour.values()),
                                 float(overdue_share), min((p.expected for p in overdue), default=None),
                                 float(unlike_share), first_twice))
    return out
