"""What the physics analyzer sees without a probe: the clip's objects, with the camera's own motion taken out.

    scene = probe_free_scene(frames)    # a FreeScene, or a str: why the clip cannot be judged

1. Objects: segmentation tracks (measure/tracking.track_objects) of objects at least MIN_AREA large. Where
   segmentation loses a moving object (against a surface of its own colour, near the border), its look in the last
   frame it was segmented in (masked template, CIELAB) is searched for near where its motion takes it, for up to
   EXTEND frames; a track that begins where an extended one is then is the same object and is merged into it.
2. The camera: measure/camera.estimate_camera_motion with the objects' pixels left out. Every centre is mapped into
   the first frame's coordinates (stabilize_points), so shake, pans and zooms are not object motion. A camera too
   fast (or too erratic) to register, or a clip with no object, cannot be judged: the reason is returned instead.
3. Which objects move on their own: an orbiting camera moves objects standing on the ground against the ground's
   plane too (parallax: the registration is a homography). An object counts as moving when its registered path
   strays farther from its start than half its size and than PARALLAX times the farthest the camera's motion
   moved it in the image, and is at least KICK_SIZE pixels across (smaller ones' centroids wander with a few pixels
   of segmentation); only those are judged for flights (everything is judged for teleports and launches).
4. Gravity's direction in the image: down in the first frame (the camera's roll is taken out by the registration),
   turned toward the mean direction of the clip's falls where at least two flights agree within 45 degrees of
   down. It is never turned further: a clip in which things fall up must not teach that up is down.
5. Launches: an object at rest that sets off upward (a first step of a fifth of its size, or a rise of 40% of it
   in two steps), or downward at
   full speed (after two still steps, its second step no longer than LAUNCH times its first), with nothing
   touching it: a body released from rest falls accelerating (its second step three times its first); only a push
   starts it upward or at speed, and a push from nothing is a failure (a fall played backwards starts so; pushes
   sideways, which set balls rolling, are not judged). So is an object that rises (40% of its size in two steps)
   and then stays in mid-air for two steps (a fall played backwards ends so; at a real apex it falls back).
6. Track breaks: a track that ends in the open and a track of the same look (mean CIELAB within BREAK_COLOR) that
   begins within 2 frames far from where the first was heading (beyond twice its size and three times its speed)
   is an object that jumped: a teleport the segmentation could not follow.
7. Flashes: an object gone from its place for one frame and back the next (its pixels change at once and change
   back, nothing passing in front): a jump out and back, whether or not its look shows up elsewhere.
8. Kicks and leaps (teleports): between two frames an object's velocity changes by gravity's pull (estimated from the clip's
   flights) and, at a contact, by a push off what is under it or beside it. What is left of the change (in object
   sizes) is a kick from nowhere; a jump from one place to another gives two, each about the jump's length. A leap:
   one step far longer than any other step of the object (where too few frames surround it to read a kick).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from simworld.analyzers.measure.camera import CameraMotion, estimate_camera_motion, stabilize_points, too_fast
from simworld.analyzers.measure.segmentation import to_lab
from simworld.analyzers.measure.tracking import TEMPLATE_TOLERANCE, Track, TrackSet, track_objects
from simworld.analyzers.physics.trajectories import Path

MIN_AREA = 50  # pixels: as objects.MIN_AREA
EXTEND = 4  # frames a lost moving object is searched for by its look
PARALLAX = 1.0  # an object moves on its own when its registered path strays farther than the camera moved it
LAUNCH = 1.3  # a start from rest whose second step is at most this times its first is a push
KICK_SIZE = 9.0  # pixels across: smaller objects' centroids jump with a few pixels of segmentation
CAMERA_SLACK = 2.0  # a kick within this many times the camera's own change of motion at the object is the camera's
SEARCH_SIZE = 12.0  # pixels across: smaller objects are not looked for all over the frame (too many look-alikes)
BREAK_COLOR = 12.0
BLINK = 1.5  # a moving object gone for a moment in the open counts as a jump this many allowances long  # CIELAB distance within which two tracks look alike
TOO_FAST = "the camera moves too fast (or too erratically) to tell the objects' motion from its own"
NO_OBJECT = "no object large enough to judge"


@dataclass
class FreeScene:
    """The objects of a clip without a probe, in the first frame's coordinates (see the module docstring)."""

    paths: list[Path]  # centres registered to the first frame
    moving: list[bool]  # the object moves on its own (not only with the camera)
    tracks: TrackSet
    motion: CameraMotion
    gravity: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))  # (2,) unit vector, image x, y
    breaks: list[tuple[int, float]] = field(default_factory=list)  # (frame, distance / allowance) of track breaks
    pull: float = 0.0  # gravity's pull, pixels / frame^2 along `gravity` (0 until flights show it)
    carried: list[np.ndarray] = field(default_factory=list)  # (T,2) per path: image centre - registered centre
    kept: list[np.ndarray] = field(default_factory=list)  # (T,) bool per path: it looks at t as at t-1

    @property
    def judged(self) -> list[Path]:
        return [p for p, m in zip(self.paths, self.moving) if m]


def probe_free_scene(frames: np.ndarray) -> FreeScene | str:
    """The clip's objects and camera (see the module docstring), or why it cannot be judged."""
    T, H, W, _ = frames.shape
    tracks = track_objects(frames)
    union = np.zeros((T, H, W), bool)
    for track in tracks.tracks:
        union |= track.masks
    motion = estimate_camera_motion(frames, union)
    if too_fast(motion, (W, H)):
        return TOO_FAST
    raw, jumps = _extended(frames, tracks)
    raw = [r for r in raw if r[0].any() and np.median(r[2][r[0]]) >= MIN_AREA]
    if not raw:
        return NO_OBJECT
    scene = FreeScene([], [], tracks, motion)
    for present, center, area, _, kept in raw:
        registered = stabilize_points(center, motion)
        scene.paths.append(Path(present, registered, area))
        scene.carried.append(center - registered)  # where the camera's motion alone took the object in the image
        scene.kept.append(kept)
        seen = np.flatnonzero(present)
        stray = np.linalg.norm(registered[seen] - registered[seen[0]], axis=1)
        carried = np.linalg.norm(scene.carried[-1][seen] - scene.carried[-1][seen[0]], axis=1)
        allowance = max(0.5 * scene.paths[-1].size, PARALLAX * float(carried.max()), 3.0)
        scene.moving.append(scene.paths[-1].size >= KICK_SIZE and bool(stray.max() > allowance))
    paths = scene.paths
    scene.breaks = track_breaks(paths, [r[3] for r in raw], scene.carried, (W, H)) + jumps + \
        [(t, BLINK) for t in flashes(frames, tracks, motion)]
    return scene


# ------------------------------------------------------------------ objects segmentation loses
def _extended(frames: np.ndarray, tracks: TrackSet) -> tuple[list[tuple], list[tuple[int, float]]]:
    """(present, centre (image pixels), area, mean CIELAB colour) per track, its gaps filled and its end extended by
    its look (step 1), and the jumps found on the way: (frame, distance from where it should be / allowance) where
    the look is not near where the object should be but far off, where no other object is (step 6)."""
    T, H, W, _ = frames.shape
    lab = np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in to_lab(frames)])
    others = np.zeros((T, H, W), np.int32)  # track index + 1 per pixel
    for k, track in enumerate(tracks.tracks):
        others[track.masks] = k + 1
    out = [[t.present.copy(), t.centroid.copy(), t.area.copy(), np.nanmedian(t.color_lab[t.present], axis=0),
            _look_kept(lab, t)] for t in tracks.tracks]
    extended_from: list[int | None] = [None] * len(out)  # the first frame each track was extended into
    jumps = []
    margin = max(2.0, 0.06 * min(W, H))
    for k, track in enumerate(tracks.tracks):
        seen = track.frames_present
        present, center, area, _, kept = out[k]
        gaps = [t for t in range(seen[0], seen[-1]) if not track.present[t]]
        tail = list(range(seen[-1] + 1, min(T, seen[-1] + 1 + EXTEND)))
        for t in gaps + tail:
            before = np.flatnonzero(present[:t])
            if not len(before):
                continue
            e = int(before[-1])
            anchor = int(seen[seen <= e][-1])  # the last frame segmentation saw it: its look
            x0, y0, x1, y1 = track.bbox[anchor].astype(int)
            template, weight = lab[anchor, y0:y1, x0:x1], track.masks[anchor, y0:y1, x0:x1]
            if weight.sum() < MIN_AREA or min(template.shape[:2]) < 3:
                break
            offset = track.centroid[anchor] - np.array([x0, y0])
            size = float(np.sqrt(track.area[anchor]))
            after = seen[seen > t]
            if t < seen[-1] and len(after):  # a gap: between where it was and where it is next
                n = int(after[0])
                expected = center[e] + (center[n] - center[e]) * (t - e) / (n - e)
                speed = float(np.linalg.norm(center[n] - center[e])) / (n - e)
            else:  # the tail: where its motion takes it
                prior = before[before < e]
                velocity = (center[e] - center[prior[-1]]) / (e - prior[-1]) if len(prior) else np.zeros(2)
                expected, speed = center[e] + velocity * (t - e), float(np.linalg.norm(velocity))
            radius = max(size, 1.5 * speed) + 3
            found = _search(lab[t], template, weight, expected - offset, radius)
            if found is not None:
                present[t], center[t], area[t], kept[t] = True, found[0] + offset, track.area[anchor], True
                if t > seen[-1] and extended_from[k] is None:
                    extended_from[k] = t
                continue
            # not where it should be: far off, where no other object is?
            cx, cy = center[e]
            open_field = margin + 0.5 * size <= cx <= W - margin - 0.5 * size and \
                margin + 0.5 * size <= cy <= H - margin - 0.5 * size
            if open_field and size >= SEARCH_SIZE and not _near_others(others[e], k + 1, track.masks[anchor], size) \
                    and not _lookalike_about(tracks, k, e, t):
                far = _search(lab[t], template, weight, np.array([W / 2, H / 2]), max(W, H), others[t], k + 1)
                allowance = max(2.0 * size, 3.0 * speed)
                distance = float(np.linalg.norm(far[0] + offset - expected)) if far is not None else 0.0
                if distance > allowance:
                    jumps.append((t, distance / allowance))
                elif far is None and _blink(track, t, expected, size, margin):
                    jumps.append((t, BLINK))  # gone for a moment in the open, nowhere to be seen: out of view
            if t > seen[-1]:
                break
    # a track that begins where an extended one is: the same object
    dropped = set()
    for k, (present, center, area, _, kept) in enumerate(out):
        if extended_from[k] is None:
            continue
        for j, (p2, c2, a2, _, k2) in enumerate(out):
            if j == k or j in dropped or not p2.any():
                continue
            b = int(np.flatnonzero(p2)[0])
            if b < extended_from[k] or not present[b]:
                continue
            if np.linalg.norm(c2[b] - center[b]) < 0.5 * np.sqrt(max(area[b], 1.0)):
                later = np.arange(T) >= b
                present[later], center[later], area[later], kept[later] = p2[later], c2[later], a2[later], k2[later]
                kept[b] = True  # found there by its look
                dropped.add(j)
                break
    return [tuple(o) for j, o in enumerate(out) if j not in dropped], jumps


def _look_kept(lab: np.ndarray, track: Track) -> np.ndarray:
    """(T,) bool: at frame t the object looks as at frame t-1 (its masked look there, moved with its centroid, is
    within TEMPLATE_TOLERANCE): one object followed, not segmentation jumping from one piece of something to
    another. False where it is not seen in both frames or the look would leave the frame."""
    T, H, W = track.masks.shape
    out = np.zeros(T, bool)
    for t in np.flatnonzero(track.present[1:] & track.present[:-1]) + 1:
        x0, y0, x1, y1 = track.bbox[t - 1].astype(int)
        dx, dy = np.round(track.centroid[t] - track.centroid[t - 1]).astype(int)
        if x0 + dx < 0 or y0 + dy < 0 or x1 + dx > W or y1 + dy > H:
            continue
        weight = track.masks[t - 1, y0:y1, x0:x1]
        error = lab[t, y0 + dy:y1 + dy, x0 + dx:x1 + dx][weight] - lab[t - 1, y0:y1, x0:x1][weight]
        out[t] = bool(np.sqrt(np.mean(np.sum(error**2, axis=1))) < TEMPLATE_TOLERANCE) if weight.any() else False
    return out


def flashes(frames: np.ndarray, tracks: TrackSet, motion: CameraMotion) -> list[int]:
    """Frames t at which an object is gone from its place for one frame and back at t+1 (step 7): where a track
    (at least SEARCH_SIZE pixels across) covers a region at t-1 and at t+1, with its area at t under 60% of t-1's (or
    absent), the region (frames t and t+1 registered onto t-1 by the camera's motion) is back as it was at t+1
    (under a quarter of its pixels changed by over 25/255) after most of it changed at t (over 40%, and 2.5 times as
    many), with no other track covering it at t (something passing in front)."""
    T, H, W, _ = frames.shape
    out = []
    for k, track in enumerate(tracks.tracks):
        for t in range(1, T - 1):
            if not (track.present[t - 1] and track.present[t + 1]) or track.area[t] >= 0.6 * track.area[t - 1]:
                continue
            region = track.masks[t - 1]
            if region.sum() < SEARCH_SIZE**2 or not 0.6 <= track.area[t + 1] / track.area[t - 1] <= 1.67:
                continue
            if any(j != k and (other.masks[t] & region).sum() > 0.3 * region.sum()
                   for j, other in enumerate(tracks.tracks)):
                continue
            base = frames[t - 1].astype(np.int16)
            changed = [float((np.abs(_onto(frames[u], motion, u, t - 1).astype(np.int16) - base).max(axis=2)
                              > 25)[region].mean()) for u in (t, t + 1)]
            if changed[1] < 0.25 and changed[0] > 0.4 and changed[0] > 2.5 * changed[1]:
                out.append(t)
    return sorted(set(out))


def _onto(frame: np.ndarray, motion: CameraMotion, source: int, target: int) -> np.ndarray:
    """Frame `source` warped into frame `target`'s pixel coordinates by the camera's motion."""
    h = np.linalg.inv(motion.to_reference[target]) @ motion.to_reference[source]
    if np.allclose(h, np.eye(3), atol=1e-3):
        return frame
    H, W = frame.shape[:2]
    return cv2.warpPerspective(frame, h, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _lookalike_about(tracks: TrackSet, k: int, first: int, last: int) -> bool:
    """Another track that looks like track k (mean CIELAB within BREAK_COLOR, area within 3x) is seen in frames
    first..last: where k's look shows up far off may be that one."""
    track = tracks.tracks[k]
    color = np.nanmedian(track.color_lab[track.present], axis=0)
    area = np.median(track.area[track.present])
    for j, other in enumerate(tracks.tracks):
        if j == k or not other.present[first:last + 1].any():
            continue
        ratio = np.median(other.area[other.present]) / max(area, 1.0)
        if np.linalg.norm(np.nanmedian(other.color_lab[other.present], axis=0) - color) <= BREAK_COLOR and \
                1 / 3 <= ratio <= 3.0:
            return True
    return False


def _blink(track: Track, t: int, expected: np.ndarray, size: float, margin: float) -> bool:
    """Frame t is in a gap of at most 2 frames of the track, in which it would be well inside the frame, and the
    object shows whole (at least 80% of its usual area) on both sides of the gap: not going behind something."""
    T, H, W = track.masks.shape
    seen = track.frames_present
    before, after = seen[seen < t], seen[seen > t]
    if not len(before) or not len(after) or after[0] - before[-1] > 3:
        return False
    usual = np.median(track.area[seen])
    inside = margin + 0.5 * size <= expected[0] <= W - margin - 0.5 * size and \
        margin + 0.5 * size <= expected[1] <= H - margin - 0.5 * size
    return bool(inside and track.area[before[-1]] >= 0.8 * usual and track.area[after[0]] >= 0.8 * usual)


def _near_others(owner: np.ndarray, own: int, mask: np.ndarray, size: float) -> bool:
    """Another object is within half this one's size (it may hide this one)."""
    grow = max(1, int(0.5 * size))
    around = cv2.dilate(mask.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    return bool(np.any((owner[around] > 0) & (owner[around] != own)))


def _search(lab: np.ndarray, template: np.ndarray, weight: np.ndarray, corner: np.ndarray, radius: float,
            owner: np.ndarray | None = None, own: int = 0) -> tuple[np.ndarray, float] | None:
    """(top-left corner, RMS error) of the best masked match of `template` within `radius` of `corner`, or None when
    none is within TEMPLATE_TOLERANCE or the template would leave the frame. With `owner` (H,W track index + 1 per
    pixel): places mostly covered by another track do not count (that is another object)."""
    H, W = lab.shape[:2]
    h, w = weight.shape
    r = int(np.ceil(radius))
    x0, y0 = int(round(corner[0])) - r, int(round(corner[1])) - r
    x1, y1 = int(round(corner[0])) + r + w, int(round(corner[1])) + r + h
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 - x0 < w or y1 - y0 < h:
        return None
    mask = np.repeat(weight[..., None], 3, axis=2).astype(np.float32)
    cost = cv2.matchTemplate(np.ascontiguousarray(lab[y0:y1, x0:x1]), np.ascontiguousarray(template),
                             cv2.TM_SQDIFF, mask=mask)
    rms = np.sqrt(np.maximum(cost, 0.0) / mask.sum())
    if owner is not None:
        taken = ((owner[y0:y1, x0:x1] > 0) & (owner[y0:y1, x0:x1] != own)).astype(np.float32)
        covered = cv2.matchTemplate(taken, weight.astype(np.float32), cv2.TM_CCORR) / max(weight.sum(), 1)
        rms[covered > 0.3] = np.inf
    by, bx = np.unravel_index(np.argmin(rms), rms.shape)
    if not rms[by, bx] < TEMPLATE_TOLERANCE:
        return None
    return np.array([x0 + bx, y0 + by], np.float64), float(rms[by, bx])


# ------------------------------------------------------------------ teleports segmentation could not follow
def track_breaks(paths: list[Path], colors: list[np.ndarray], carried: list[np.ndarray],
                 size: tuple[int, int]) -> list[tuple[int, float]]:
    """(frame the second track begins, distance from where the first was heading / allowance) of each track break
    (module docstring, step 6) whose ratio is above 1. `colors`: each path's mean CIELAB colour; `carried`: each
    path's image centre minus its registered one; `size` (W, H). Only objects with no look-alike about (fragments of
    a shattered glass, a row of equal balls: which one went where cannot be told)."""
    W, H = size
    out = []
    for a, path in enumerate(paths):
        seen = np.flatnonzero(path.present)
        e = int(seen[-1])
        if e >= len(path.present) - 1:
            continue
        margin = max(2.0, 0.06 * min(W, H)) + 0.5 * path.size
        x, y = path.center[e] + carried[a][e]  # where it was last seen in the image
        if not (margin <= x <= W - margin and margin <= y <= H - margin):
            continue  # it may have left the frame
        heading = path.center[e] + (path.center[e] - path.center[seen[-2]]) / (e - seen[-2]) if len(seen) > 1 \
            else path.center[e]
        speed = float(np.linalg.norm(heading - path.center[e]))
        for b, other in enumerate(paths):
            start = int(np.flatnonzero(other.present)[0])
            if b == a or not e < start <= e + 2 or not _alike(paths, colors, a, b):
                continue
            if any(_alike(paths, colors, a, c) and paths[c].present[e:start + 1].any()
                   for c in range(len(paths)) if c not in (a, b)):
                continue  # a look-alike about
            allowance = max(2.0 * path.size, 3.0 * speed * (start - e))
            distance = float(np.linalg.norm(other.center[start] - (path.center[e] + (heading - path.center[e]) *
                                                                   (start - e))))
            if distance > allowance:
                out.append((start, distance / allowance))
    return out


def _alike(paths: list[Path], colors: list[np.ndarray], a: int, b: int) -> bool:
    """Two objects look alike: mean CIELAB colour within BREAK_COLOR, area within 2x."""
    ratio = paths[b].size**2 / max(paths[a].size**2, 1.0)
    return bool(np.linalg.norm(colors[a] - colors[b]) <= BREAK_COLOR and 0.5 <= ratio <= 2.0)


# ------------------------------------------------------------------ gravity and launches
def gravity_direction(accelerations: list[np.ndarray]) -> np.ndarray:
    """Gravity's direction in the image (module docstring, step 4) from the accelerations of the clip's flights."""
    down = np.array([0.0, 1.0])
    units = [a / np.linalg.norm(a) for a in accelerations if np.linalg.norm(a) > 1e-6]
    if len(units) < 2 or min(u @ down for u in units) < np.cos(np.radians(45)):
        return down
    mean = np.mean(units, axis=0)
    return mean / np.linalg.norm(mean)


def launches(judged: list[Path], everything: list[Path], gravity: np.ndarray) -> list[int]:
    """Frames at which an object at rest sets off with nothing touching it (module docstring, step 5), or stops in
    mid-air right after rising: the first frame it has moved (or stands still)."""
    out = []
    for path in judged:
        c, size = path.center, max(path.size, 1.0)
        step = np.diff(c, axis=0)  # (T-1,2) NaN across gaps
        length = np.linalg.norm(step, axis=1)
        up = -(step @ gravity)  # (T-1,) how far each step rises
        rest, start = max(0.75, 0.06 * size), max(2.0, 0.2 * size)
        T = len(c)
        for k in range(1, T - 1):  # k: the last frame at rest
            s = length[k - 1:k + 2]  # the step into k, out of k, and the one after (if any)
            if not np.all(np.isfinite(s[:2])) or s[0] > rest:
                continue
            # rising: straight up by a fifth of its size at once, or by 40% of it in two steps both mostly upward
            two = up[k:k + 2] if k + 1 < len(up) and np.isfinite(up[k + 1]) else up[k:k + 1]
            rising = up[k] > 0.7 * s[1] and (s[1] >= start or (len(two) == 2 and np.all(two > 0.7 * length[k:k + 2])
                                                              and two.sum() >= max(3.0, 0.4 * size)))
            if not rising and s[1] < start:
                continue
            still_before = k >= 2 and np.isfinite(length[k - 2]) and length[k - 2] <= rest
            dropping = -up[k] > 0.7 * s[1]  # (a push sideways is what sets a ball rolling: not judged)
            at_speed = dropping and still_before and len(s) == 3 and np.isfinite(s[2]) and s[2] <= LAUNCH * s[1]
            if not (rising or at_speed) or not _steady(path, k - 1, k + 2, 1.2):
                continue
            if any(_touching(path, other, t) for other in everything if other is not path for t in (k, k + 1)):
                continue  # something may have pushed it
            out.append(k + 1)
        for k in range(2, T - 2):  # k: the frame it stops in, after rising
            s = length[k - 2:k + 2]  # two steps into k, two out of it
            rise = up[k - 2:k]
            if (np.all(np.isfinite(s)) and np.all(rise > 0.7 * s[:2]) and rise.sum() >= max(3.0, 0.4 * size)
                    and s[2] <= rest and s[3] <= rest and _steady(path, k - 2, k + 2, 1.2)
                    and not any(_touching(path, other, k) for other in everything if other is not path)):
                out.append(k + 1)  # stays in mid-air after rising, nothing under it
    return sorted(out)


def kicks(scene: FreeScene, index: int) -> np.ndarray:
    """(T,) per frame t (0 elsewhere), the change of path `index`'s velocity at t that neither gravity, a contact nor
    the camera explains, in object sizes (module docstring, step 8): of dv = c(t+1) - 2 c(t) + c(t-1), the part along
    gravity beyond its pull (where no flight shows the pull, up to the object's size a frame^2) and, unless another
    object touches it, the part across gravity beyond half its speed
    (a push against gravity is a bounce off what is under it), each less CAMERA_SLACK times the change of the
    camera's own motion at the object (parallax, and registration errors, follow the camera). Judged where the object keeps its look over t-1..t+1 and its area
    within 1.67x (segmentation merging, splitting or jumping between pieces moves centroids too), for objects of at
    least KICK_SIZE pixels across (usually and at t) seen in 4 frames or more; in sizes at t."""
    path, gravity = scene.paths[index], scene.gravity
    T = len(path.present)
    out = np.zeros(T)
    c, size = path.center, max(path.size, 1.0)
    if size < KICK_SIZE or path.present.sum() < 4:
        return out
    across = np.array([-gravity[1], gravity[0]])
    kept, carried = scene.kept[index], scene.carried[index]
    for t in range(1, T - 1):
        if not (path.present[t - 1:t + 2].all() and kept[t] and kept[t + 1] and _steady(path, t - 1, t + 2, 1.67)):
            continue
        here = float(np.sqrt(np.median(path.area[t - 1:t + 2])))  # its size now (a glass breaking shrinks)
        if here < KICK_SIZE:
            continue
        dv = c[t + 1] - 2 * c[t] + c[t - 1]
        camera = CAMERA_SLACK * float(np.linalg.norm(carried[t + 1] - 2 * carried[t] + carried[t - 1]))
        speed = min(np.linalg.norm(c[t] - c[t - 1]), np.linalg.norm(c[t + 1] - c[t]))
        pull = scene.pull if scene.pull > 0 else here  # unknown (no flight seen): up to a size a frame^2
        down = max(0.0, float(dv @ gravity) - pull - camera)
        side = abs(float(dv @ across))
        touched = any(_touching(path, other, u) for other in scene.paths if other is not path for u in (t - 1, t, t + 1))
        side = 0.0 if touched else max(0.0, side - 0.5 * speed - camera)
        out[t] = np.hypot(down, side) / here
    return out


def leaps(scene: FreeScene, index: int, size: tuple[int, int]) -> np.ndarray:
    """(T,) per frame t, how far path `index` leaps from t-1 to t against what it could: its registered step (less
    half the camera's own step at the object) over max(3 times its largest step elsewhere (away from t-1..t+1),
    1.5 sizes, a fifth of the frame's shorter side); above 1, a jump no motion of the object explains (module
    docstring, step 8). Judged where it keeps its look and its area within 1.67x, well inside the frame (6% of the
    shorter side and 0.3 of its size from the border, where part of it may be out of view), for objects of at least
    SEARCH_SIZE pixels across with 2 steps elsewhere to compare with (`size`: (W, H))."""
    path = scene.paths[index]
    T = len(path.present)
    out = np.zeros(T)
    if path.size < SEARCH_SIZE:
        return out
    c, carried, kept = path.center, scene.carried[index], scene.kept[index]
    W, H = size
    margin = max(2.0, 0.06 * min(W, H)) + 0.3 * path.size
    x, y = (c + carried).T  # where it is in the image
    inside = (x >= margin) & (x <= W - margin) & (y >= margin) & (y <= H - margin)  # NaN: False
    step = np.full(T, np.nan)  # step[t]: from t-1 to t
    for t in range(1, T):
        if (path.present[t - 1] and path.present[t] and kept[t] and inside[t - 1] and inside[t]
                and _steady(path, t - 1, t + 1, 1.67)):
            own = 0.5 * float(np.linalg.norm(carried[t] - carried[t - 1]))
            step[t] = max(0.0, float(np.linalg.norm(c[t] - c[t - 1])) - own)
    valid = np.flatnonzero(np.isfinite(step))
    for t in valid:
        others = step[[u for u in valid if abs(u - t) > 1]]
        if len(others) >= 2:
            out[t] = step[t] / max(3.0 * float(others.max()), 1.5 * path.size, 0.2 * min(size))
    return out


def _steady(path: Path, first: int, stop: int, factor: float = 1.5) -> bool:
    """The object's area stays within `factor` of frame `first`'s over frames first..stop-1 (seen in all)."""
    area = path.area[first:stop]
    if not path.present[first:stop].all():
        return False
    ratio = area / max(area[0], 1.0)
    return bool(np.all(ratio >= 1 / factor) and np.all(ratio <= factor))


def _touching(path: Path, other: Path, t: int) -> bool:
    """The two objects are within a third of their mean size of touching at frame t (centres and sizes)."""
    if not (path.present[t] and other.present[t]):
        return False
    gap = np.linalg.norm(path.center[t] - other.center[t]) - 0.5 * (path.size + other.size)
    return bool(gap < 0.33 * 0.5 * (path.size + other.size))
