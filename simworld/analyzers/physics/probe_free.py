"""What the physics analyzer sees without a probe: the clip's objects, with the camera's own motion taken out.

    scene = probe_free_scene(frames)    # a FreeScene, or a str: why the clip cannot be judged

1. Objects: segmentation tracks (measure/tracking.track_objects) of objects at least MIN_AREA large; where colour
   segmentation finds none (an object coloured like its floor), the tracks of what moves against the scene joined
   to it (measure/moving.seen_objects, as permanence and identity read a clip), only where the camera stands still:
   under a moving camera the backgrounds that what moves is read against are registered by homographies, and the
   parallax and shake they leave show as ghosts and as objects lost while slow. Where
   segmentation loses a moving object (against a surface of its own colour, near the border), its look in the last
   frame it was segmented in (masked template, CIELAB) is searched for near where its motion takes it, for up to
   EXTEND frames; a track that begins where an extended one is then is the same object and is merged into it
   (following.py, which also finds the jumps of steps 6 and 7).
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
   and then stays in mid-air for two steps (a fall played backwards ends so; at a real apex it falls back), and
   one that rises faster and faster (`rises`): whatever flies up slows down, and only a push from below (which
   touches it) speeds it up.
6. Track breaks: a track that ends in the open and a track of the same look (mean CIELAB within BREAK_COLOR) that
   begins within 2 frames far from where the first was heading (beyond twice its size and three times its speed)
   is an object that jumped: a teleport the segmentation could not follow.
7. Flashes: an object gone from its place for one frame and back the next (its pixels change at once and change
   back, nothing passing in front): a jump out and back, whether or not its look shows up elsewhere.
8. Kicks and leaps (teleports): between two frames an object's velocity changes by gravity's pull (estimated from the clip's
   flights) and, at a contact, by a push off what is under it or beside it. What is left of the change (in object
   sizes) is a kick from nowhere; a jump from one place to another gives two, each about the jump's length. A leap:
   one step far longer than any other step of the object (where too few frames surround it to read a kick). Where
   the object's look changes between the frames (it spins, or segmentation moved to another piece of it), a kick
   counts only beyond UNKEPT sizes (a centroid moving from one piece of an object to another moves less), and only
   where nothing else is segmented about then (else the track may have moved on to another object).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simworld.analyzers.measure.camera import CameraMotion, estimate_camera_motion, stabilize_points, too_fast
from simworld.analyzers.measure.moving import STILL, seen_objects
from simworld.analyzers.measure.tracking import TrackSet, track_objects
from simworld.analyzers.physics.following import BLINK, MIN_AREA, SEARCH_SIZE, extended, flashes, track_breaks
from simworld.analyzers.physics.trajectories import Path, fit_parabola

PARALLAX = 1.0  # an object moves on its own when its registered path strays farther than the camera moved it
LAUNCH = 1.3  # a start from rest whose second step is at most this times its first is a push
KICK_SIZE = 9.0  # pixels across: smaller objects' centroids jump with a few pixels of segmentation
CAMERA_SLACK = 2.0  # a kick within this many times the camera's own change of motion at the object is the camera's
UNKEPT = 1.0  # object sizes: of a kick where the object's look changes, the part a piece-to-piece centroid could be
RISE_FRAMES = 6  # frames of steady rise a rising object's acceleration is read over (rises)
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


def _objects(frames: np.ndarray, tracks: TrackSet) -> tuple[TrackSet, CameraMotion, list, list] | str:
    """The tracks, the camera's motion with their pixels left out, and the objects large enough to judge (followed
    where segmentation loses them, with the jumps found so), or why the clip cannot be judged."""
    T, H, W, _ = frames.shape
    union = np.zeros((T, H, W), bool)
    for track in tracks.tracks:
        union |= track.masks
    motion = estimate_camera_motion(frames, union)
    if too_fast(motion, (W, H)):
        return TOO_FAST
    raw, jumps = extended(frames, tracks)
    raw = [r for r in raw if r[0].any() and np.median(r[2][r[0]]) >= MIN_AREA]
    return (tracks, motion, raw, jumps) if raw else NO_OBJECT


def probe_free_scene(frames: np.ndarray) -> FreeScene | str:
    """The clip's objects and camera (see the module docstring), or why it cannot be judged."""
    H, W = frames.shape[1:3]
    found = _objects(frames, track_objects(frames))
    if found == NO_OBJECT:  # nothing stands out in colour: what moves against the scene (an object like its floor)
        what_moves = seen_objects(frames)
        if what_moves.camera.still(STILL):
            found = _objects(frames, what_moves.tracks)
    if isinstance(found, str):
        return found
    tracks, motion, raw, jumps = found
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
            # still for two steps, or from the clip's start (a body released from rest cannot: see LAUNCH)
            still_before = k == 1 or (np.isfinite(length[k - 2]) and length[k - 2] <= rest)
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


def rises(paths: list[Path], carried: list[np.ndarray], gravity: np.ndarray, size: tuple[int, int]) -> list[int]:
    """Frames at which an object starts RISE_FRAMES or more steps up (against gravity), well inside the frame
    (`size`: (W, H); `carried`: per path, where the camera's motion put it in the image), over which it speeds up
    (module docstring, step 5): the parabola fit to its height has an upward acceleration beyond 3 standard
    errors, which bends the path by half its size (at least 2 px), and it rises its size (at least 5 px) with
    nothing touching it. A fall played backwards rises so; a thrown body or one bouncing off the floor slows down
    as it rises."""
    out = []
    for path, offset in zip(paths, carried):
        c, size_px = path.center, max(path.size, 1.0)
        inside = path.present & _well_inside(c + offset, size_px, size)  # in the image, where part may be out of view
        height = -(c @ gravity)  # (T,) up against gravity
        up = inside[:-1] & inside[1:] & (np.nan_to_num(np.diff(height)) > 0)  # (T-1,) the step t -> t+1 rises
        for first, stop in _runs(up):
            frames = np.arange(first, stop + 1)  # the frames of `stop - first` rising steps
            if len(frames) < RISE_FRAMES or height[frames[-1]] - height[first] < max(size_px, 5.0):
                continue
            t = (frames - first).astype(float)
            acceleration, _, rms = fit_parabola(t, height[frames][:, None])
            pull = float(acceleration[0])  # px / frame^2, upward
            design = np.stack([np.ones_like(t), t, 0.5 * t**2], axis=1)
            error = rms * np.sqrt(np.linalg.inv(design.T @ design)[2, 2])  # the acceleration's standard error
            if pull > 3.0 * error and 0.5 * pull * t[-1] ** 2 >= max(0.5 * size_px, 2.0) and not any(
                    _touching(path, other, u) for other in paths if other is not path for u in frames):
                out.append(int(first) + 1)
    return sorted(out)


def _well_inside(points: np.ndarray, size_px: float, size: tuple[int, int]) -> np.ndarray:
    """(T,) bool: each point (T,2) lies 6% of the frame's shorter side (at least 2 px) and 0.3 of the object's size
    inside the frame (`size`: (W, H)), where no part of it may be out of view and pull its centroid in; NaN: False."""
    W, H = size
    margin = max(2.0, 0.06 * min(W, H)) + 0.3 * size_px
    x, y = points.T
    return (x >= margin) & (x <= W - margin) & (y >= margin) & (y <= H - margin)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, stop) of each run of True in `flags`."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


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
        if not (path.present[t - 1:t + 2].all() and _steady(path, t - 1, t + 2, 1.67)):
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
        if not (kept[t] and kept[t + 1]):  # its look changed: a centroid may move from one piece to another
            out[t] = 0.0 if _others_about(scene, index, t, here) else max(0.0, out[t] - UNKEPT)
    return out


def _others_about(scene: FreeScene, index: int, t: int, size: float) -> bool:
    """Something else is segmented at frames t-1..t+1: a track whose centroid there is over half path `index`'s
    size from it (in the image). A track can hop from one object to another only where there is another."""
    c, carried = scene.paths[index].center, scene.carried[index]
    for u in (t - 1, t, t + 1):
        here = c[u] + carried[u]
        for track in scene.tracks.tracks:
            if track.present[u] and np.linalg.norm(track.centroid[u] - here) > 0.5 * size:
                return True
    return False


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
    inside = _well_inside(c + carried, path.size, size)  # where it is in the image
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
