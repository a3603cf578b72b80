"""interaction without a probe: the world read from the frames alone - what moves, what it leaves, what un-happens.

A still camera is assumed (paint on a canvas, bites out of a food); a camera that drifts (a slow pan, a zoom) is
steadied first: each frame brought onto the first by a similarity fitted to tracked corners (`steadied`). Per
pixel, three change maps (simworld.analyzers.measure.change: blurred, exposure-matched, shake taken out): against
the first frame, against the last frame, and against the frame before. From them:
- the view moves (a pan too far to steady, an orbit, a cut) when over 35% of a frame differs from the first, or
  change ever reaches over 45% of the frame's 8x8 cells, or steadying leaves under half the frame (nothing, where a
  frame that cannot be brought back was fitted far off: the camera looked away and back), or under half the points
  tracked from frame to frame move as one similarity (a camera turning about the scene): not judged;
- lasting change: differs from the first frame (> 0.16) in two consecutive frames; final change: lasting change
  that stays to the end, its onset its first frame over the bar in the run off the start's look (> 0.07) that
  ends the clip (hysteresis: a dip under the bar does not begin it again);
- what moves: the actor (a brush, a hand, a ball), pixels whose look holds for one frame only (differs by > 0.08
  from the frame before and after, and from the first and the last frame), and arrivals, pixels that looked as at
  the start in the frame before and differ now and from the last frame (> 0.16: the leading edge of an object
  sliding on, which uncovers old ground as it covers new); single-pixel specks dropped; "near" is within 8% of
  the frame's smaller side.
Judged, each in the clip's own worth of change (its largest lasting change, at least 0.2% of the frame):
- undone: lasting change that looks as at the start again (< 0.07, in two consecutive frames) after holding still
  (< 0.07 from the frame before), counted in the frame it does so, where nothing moving is near in that frame or
  its neighbours (slivers under 2x2 px dropped), nor where the picture stirred the frame before without lasting
  change (a faint thing, too like the ground to be seen moving, sliding on behind something), and only a region
  with change still over the bar the frame before (what hovered about the bar and dipped under it first fades, as
  the rim of a faint thing's trail or a shadow under a changing light do): paint erased, a bite filled back in,
  with nothing there to do it;
- stray: final change whose connected region (at its onset) nothing moving comes near, around its onset (two frames
  before to one after) or later: paint from nothing;
- early: final change whose region something moving reaches only later (from two frames after its onset).
stray and early are judged only when an actor moves (in at least 2 frames, 3 pixels or more): where change happens
with no actor in view (bites in the `eat` family) only undone is. Not evidence either way (score None): a clip
whose view moves, and one with no lasting change (a still scene).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Metric
from simworld.analyzers.interaction.explain import explain_without_probe, failure_frame
from simworld.analyzers.measure.change import ChangeScale, blurred, change_against, dilate
from simworld.analyzers.measure.tolerance import tolerant

HIGH, LOW = 0.16, 0.07  # as the probe-aware path: changed / unchanged
MOVES = 0.08  # a thin brush blurred is faint: the actor's looks differ by this much
RIGID = 0.5  # under this median share of tracked points moving as one similarity the view moves (as steadied's
# own bar for a frame it can bring back)
VIEW_MOVES = 0.35  # share of the frame changed against the first frame beyond which the view itself moves
SPREAD = 0.45  # share of the frame's 8x8 cells that ever change beyond which the view itself moves
MIN_CHANGE = 0.002  # lasting change (share of the frame) below which nothing happens
SLIDE_COVER, SLIDE_GAIN = 0.5, 0.5  # a region moved when the last frame's change shifted covers this share of it,
# leaving at most this share of what the unshifted one leaves uncovered
LOOKED_AWAY = 0.05  # a frame no similarity brings back (under RIGID of the corners either way) whose best fits still
# move the view by more than this share of the frame's smaller side: the camera looked away (a still camera whose
# corners lie on what moves fits about the identity: 0.0 on the families' physics clips, 0.12-0.73 looking away)
HOLD = 0.125  # share of the clip a revert must last to count as undone (else something passed back over it)
NEAR = 0.08  # what moves is near a change within this share of the frame's smaller side


@dataclass
class Reading:
    """What the frames alone say: per-frame maps and the measures the score is made of."""

    view_moves: float  # largest share of the frame changed against the first frame
    spread: float  # share of the frame's 8x8 cells where at least 10% of the pixels ever change
    actor: np.ndarray  # (T,H,W) bool
    lasting: np.ndarray  # (T,) share of the frame changed in this frame and the next (the last: and the one before)
    undone: np.ndarray  # (T,) pixels undone per frame, in the clip's worth of change
    stray: np.ndarray  # (T,) final change that nothing moving comes near, by its onset frame
    early: np.ndarray  # (T,) final change that something moving reaches only later, by its onset frame
    rigid: float = 1.0  # median share, over consecutive frames, of tracked points that move as one similarity

    @property
    def lasting_change(self) -> float:
        return float(self.lasting.max())

    @property
    def view_moved(self) -> bool:
        return self.view_moves > VIEW_MOVES or self.spread > SPREAD

    @property
    def has_actor(self) -> bool:
        return bool((self.actor.sum(axis=(1, 2)) >= 3).sum() >= 2)


def step_change(images: np.ndarray, shift: int) -> np.ndarray:
    """(T,H,W) change of each blurred frame against the one before (frame 0: none)."""
    out = np.zeros(images.shape[:3], np.float32)
    for t in range(1, len(images)):
        out[t] = change_against(images[t:t + 1], images[t - 1], shift)[0]
    return out


def _near(masks: np.ndarray, radius: int) -> np.ndarray:
    return dilate(masks, radius) if masks.any() else np.zeros_like(masks, bool)


def _without_specks(masks: np.ndarray, pixels: int = 2) -> np.ndarray:
    """(T,H,W) masks without connected specks under `pixels` (noise, resampling of a steadied frame)."""
    out = np.zeros_like(masks)
    for t in np.flatnonzero(masks.any(axis=(1, 2))):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(masks[t].astype(np.uint8), connectivity=8)
        keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= pixels)
        out[t] = np.isin(labels, keep[keep > 0])
    return out


def _translated(before: np.ndarray, now: np.ndarray, reach: int) -> bool:
    """Whether `now` (H,W bool, one region) is last frame's change (`before`) moved: the share of it that `before`
    shifted by 1 to `reach` pixels covers is at least SLIDE_COVER at best and leaves at most SLIDE_GAIN of what the
    unshifted `before` leaves uncovered (a region that did not change at all is not moved). Every shift at once, as
    a correlation (cv2.matchTemplate)."""
    ys, xs = np.nonzero(now)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    region = now[y0:y1, x0:x1].astype(np.float32)
    around = np.pad(before, reach)[y0:y1 + 2 * reach, x0:x1 + 2 * reach].astype(np.float32)
    covered = cv2.matchTemplate(around, region, cv2.TM_CCORR) / float(region.sum())  # (2 reach + 1) squared
    still = float(covered[reach, reach])
    if still > 0.98:
        return False
    covered[reach, reach] = 0.0
    best = float(covered.max())
    return best >= SLIDE_COVER and 1.0 - best <= SLIDE_GAIN * (1.0 - still)


def _sliding(changed: np.ndarray, reach: int) -> np.ndarray:
    """(T,H,W) bool: changed regions that move - each frame's region is the last frame's moved by a few pixels (a
    ball, a sliding box: a uniform inside looks still from frame to frame, so the actor test misses it) - and what
    is left of one while it shrinks (it slides on behind something). Paint laid or erased, a bite taken or filled
    back, change where it was: their best overlap is the unshifted one."""
    T = len(changed)
    out = np.zeros_like(changed)
    for t in range(1, T):
        if not changed[t].any():
            continue
        count, labels = cv2.connectedComponents(changed[t].astype(np.uint8), connectivity=8)
        for k in range(1, count):
            region = labels == k
            if region.sum() < 4:
                continue
            was = out[t - 1] & _near(region, reach)
            shrinking = (region & out[t - 1]).any() and region.sum() <= was.sum()
            if shrinking or _translated(changed[t - 1], region, reach):
                out[t] |= region
    return out


def _regions_touching(masks: np.ndarray, near: np.ndarray) -> np.ndarray:
    """(T,H,W) bool: the connected regions of `masks` that reach into `near`, whole (a thing sliding back over
    where it stood reverts a whole patch at once, its middle farther from the change beside it than its rim)."""
    out = np.zeros_like(masks)
    for t in np.flatnonzero((masks & near).any(axis=(1, 2))):
        count, labels = cv2.connectedComponents(masks[t].astype(np.uint8), connectivity=8)
        hit = np.unique(labels[masks[t] & near[t]])
        out[t] = np.isin(labels, hit[hit > 0])
    return out


def _corners(gray: np.ndarray) -> np.ndarray | None:
    """Up to 300 corners of a grey frame to track (None where fewer than 12 are found: too little to fit a view)."""
    H, W = gray.shape
    corners = cv2.goodFeaturesToTrack(gray, maxCorners=300, qualityLevel=0.01, minDistance=max(3, min(H, W) // 40))
    return corners if corners is not None and len(corners) >= 12 else None


def _similarity(source: np.ndarray, target: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, float] | None:
    """`corners` of grey frame `source` tracked into `target` (pyramidal Lucas-Kanade) and the similarity that brings
    them back, fitted with RANSAC (1 px), with the share of tracked corners it fits; None where too few are tracked."""
    moved, status, _ = cv2.calcOpticalFlowPyrLK(source, target, corners, None, winSize=(15, 15), maxLevel=3)
    good = status.ravel() == 1
    if good.sum() < 12:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(moved[good], corners[good], method=cv2.RANSAC,
                                                  ransacReprojThreshold=1.0)
    return None if matrix is None else (matrix, float(inliers.sum()) / good.sum())


def steadied(frames: np.ndarray, gray: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Frames (T,H,W,3) uint8 brought onto the first frame's view where the camera drifts (a slow pan, a zoom, a
    tilt): per frame, corners of the first frame tracked into it (pyramidal Lucas-Kanade), a similarity fitted with
    RANSAC (what moves in the scene is outvoted by what stands still), the frame warped back. Where that fit holds
    too few of the first frame's corners (far into a long pan they leave the view or are covered), the frame before's
    similarity is chained with the step from it (corners of the frame before tracked into this one). A frame neither
    way brings back is left as it is where its fits say the view stood still (what moves holds the corners), and
    leaves nothing to judge where they say it moved by LOOKED_AWAY or more (the camera looked away). Also (H,W)
    bool, where every warped frame has pixels of its own (the rest is not judged). Frames within half a pixel are
    left as they are; a view that moves more than a similarity explains (an orbit's parallax) is left to the spread
    test. `gray`: the frames in grey."""
    T, H, W, _ = frames.shape
    corners = _corners(gray[0])
    out, valid = frames.copy(), np.ones((H, W), bool)
    if corners is None:
        return out, valid
    before = np.eye(3)  # the frame before's similarity onto the first frame (None where it had none)
    corners_xy = np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]], np.float32)

    def drift(matrix: np.ndarray) -> float:  # how far a similarity moves the frame's corners, px
        return float(np.abs(corners_xy @ matrix[:, :2].T + matrix[:, 2] - corners_xy).max())

    for t in range(1, T):
        fit = _similarity(gray[0], gray[t], corners)
        if fit is None or fit[1] < RIGID:
            step_corners = _corners(gray[t - 1]) if before is not None else None
            step = None if step_corners is None else _similarity(gray[t - 1], gray[t], step_corners)
            if step is None or step[1] < RIGID:
                before = None
                if max((drift(f[0]) for f in (fit, step) if f is not None), default=0.0) > LOOKED_AWAY * min(H, W):
                    valid[:] = False  # the camera looked away: nothing of this frame is the first frame's view
                continue
            fit = ((before @ np.vstack([step[0], [0.0, 0.0, 1.0]]))[:2], step[1])
        matrix = fit[0]
        before = np.vstack([matrix, [0.0, 0.0, 1.0]])
        if drift(matrix) < 0.5:
            continue
        out[t] = cv2.warpAffine(frames[t], matrix, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        valid &= cv2.warpAffine(np.ones((H, W), np.uint8), matrix, (W, H), flags=cv2.INTER_NEAREST) > 0
    return out, valid


def rigid_share(gray: list[np.ndarray]) -> float:
    """Median over consecutive frames of the share of tracked corners (pyramidal Lucas-Kanade) that one similarity
    moves (RANSAC, 1 px): about 1 for a still, panning, zooming or shaken camera, low where a camera that turns about
    the scene shows parallax no steadying takes out. 1.0 where too few corners are found to tell. `gray`: the frames
    in grey."""
    shares = []
    for t in range(1, len(gray)):
        corners = _corners(gray[t - 1])
        fit = None if corners is None else _similarity(gray[t - 1], gray[t], corners)
        if fit is not None:
            shares.append(fit[1])
    return float(np.median(shares)) if shares else 1.0


def read(frames: np.ndarray, scale: ChangeScale) -> Reading:
    T, H, W, _ = frames.shape
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    rigid = rigid_share(gray)
    if rigid < RIGID:  # the camera turns about the scene: not a still view, the other maps are not worth making
        nothing = np.zeros(T)
        return Reading(0.0, 0.0, np.zeros((T, H, W), bool), nothing, nothing, nothing, nothing, rigid)
    frames, valid = steadied(frames, gray)
    images = blurred(frames, scale.sigma)
    border = ~cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # pixels of no frame's own
    # shifted references replicate edges: the rim is not judged
    b = 2 * scale.shift + 1
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    if border.mean() > 0.5:  # the view drifts too far to be brought back
        nothing = np.zeros(T)
        return Reading(1.0, 1.0, np.zeros((T, H, W), bool), nothing, nothing, nothing, nothing)
    start = change_against(images, images[0], scale.shift)
    changed = (start > HIGH) & ~border
    blank = (start < LOW) | border
    view_moves = float(changed.mean(axis=(1, 2)).max())
    cells = cv2.resize(changed.any(axis=0).astype(np.float32), (8, 8), interpolation=cv2.INTER_AREA)
    spread = float((cells > 0.1).mean())
    if view_moves > VIEW_MOVES or spread > SPREAD:  # the view moves, not judged: the other maps are not worth making
        nothing = np.zeros(T)
        return Reading(view_moves, spread, np.zeros_like(changed), changed.mean(axis=(1, 2)), nothing, nothing, nothing)
    end = change_against(images, images[-1], scale.shift)
    step = step_change(images, scale.shift)
    after = np.concatenate([step[1:], np.zeros_like(step[:1])])
    actor = (start > MOVES) & (end > MOVES) & (step > MOVES) & (after > MOVES) & ~border  # a look held one frame
    lasting = changed.copy()
    lasting[:-1] &= changed[1:]
    lasting[-1] &= changed[-2]
    unit = max(float(lasting.sum(axis=(1, 2)).max()), MIN_CHANGE * H * W)
    radius = max(2, int(round(NEAR * min(H, W))))
    # what moves: the actor, and whatever arrives where the view was as at the start and is gone by the end (the
    # leading edge of an object sliding on, which uncovers old ground as it covers new)
    arrived = np.zeros_like(changed)
    arrived[1:] = (start[1:] > MOVES) & blank[:-1] & (step[1:] > MOVES) & (end[1:] > HIGH) & ~border
    sliding = _sliding(changed, radius)
    moving = _near(_without_specks(actor | arrived | sliding), radius)

    # undone: lasting before, still the frame before, blank from this frame on for two frames, nothing moving nearby
    # when it reverts (this frame or its neighbours); counted in the frame it reverts, not again in every frame after
    before = np.zeros_like(lasting)
    before[1:] = np.logical_or.accumulate(lasting, axis=0)[:-1]
    # blank for HOLD of the clip from this frame (two frames at least; the clip's end cuts it short): what passes
    # back over where it stood (a tossed ball falling through its start) reverts for a moment, erased paint for good
    hold = max(2, int(round(HOLD * T)))
    run = np.zeros(blank.shape, np.int32)  # blank frames in a row from t on
    run[-1] = blank[-1]
    for t in range(T - 2, -1, -1):
        run[t] = np.where(blank[t], run[t + 1] + 1, 0)
    still_blank = run >= np.minimum(hold, T - np.arange(T))[:, None, None]
    reverted = before & still_blank
    reverted[1:] &= ~reverted[:-1]
    reverted[1:] &= step[:-1] < LOW  # what un-happens held still the frame before (a moving object does not)
    touched = moving.copy()
    touched[1:] |= moving[:-1]
    touched[:-1] |= moving[1:]
    untouched = reverted & ~touched  # slivers (an edge, a shadow's rim) are no undone paint or bite
    # nor what reverts where the picture was stirring the frame before: a faint thing sliding on behind something,
    # too like the ground to be seen moving, changes there without lasting; erased paint reverts out of stillness
    stirring = np.zeros_like(reverted)
    stirring[1:] = ((step > MOVES) & ~lasting & ~border)[:-1]
    untouched &= ~_near(_without_specks(stirring, 4), radius)
    untouched = np.stack([cv2.morphologyEx(u.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
                          for u in untouched])
    untouched &= ~_regions_touching(untouched, _near(sliding, 2 * scale.shift + 1))
    # and only where the change was clearly there the frame before (a region that has a pixel over the bar then,
    # kept whole with its rim): pixels that hover about the bar and dipped under it first (the edge of a faint
    # thing's trail, a shadow under a changing light) fade, they are not erased
    there = np.zeros_like(changed)
    there[1:] = changed[:-1]
    untouched = _regions_touching(untouched, there)
    undone = untouched.sum(axis=(1, 2)) / unit

    # final change by onset; each connected region at its onset is laid by what moves when that is near it in the
    # frames around its onset, early when something moving comes only later, stray when nothing ever comes
    final = lasting[-1]
    # its onset with hysteresis: the first frame over the bar in the run off the start's look (not blank) that ends
    # the clip, so change that dips under the bar long after it was laid does not begin again then, and a faint
    # drift off the start's look before it was laid (a brightness ramp) does not begin it early
    run = np.cumprod(~blank[::-1], axis=0)[::-1].astype(bool) & changed  # over the bar, off the start's look to the end
    onset = np.where(final, np.argmax(run, axis=0), -1)
    stray, early = np.zeros(T), np.zeros(T)
    ever_near = np.logical_or.accumulate(moving[::-1], axis=0)[::-1]  # something moving comes near at t or later
    for t in range(1, T):
        new = (onset == t).astype(np.uint8)
        if new.sum() == 0:
            continue
        around = moving[max(0, t - 2):min(T, t + 2)].any(axis=0)
        later = ever_near[t + 2] if t + 2 < T else np.zeros((H, W), bool)
        count, labels = cv2.connectedComponents(new, connectivity=8)
        for k in range(1, count):
            region = labels == k
            if (region & around).any():
                continue
            if (region & later).any():
                early[t] += region.sum() / unit
            else:
                stray[t] += region.sum() / unit
    return Reading(view_moves, spread, actor, lasting.mean(axis=(1, 2)), undone, stray, early)


def metrics_without_probe(frames: np.ndarray, tolerances: dict[str, tuple[float, float]],
                          context: AnalysisContext) -> list[Metric]:
    """The probe-free metrics of a clip (module docstring); `tolerances`: component -> (tolerance, scale)."""
    T, H, W, _ = frames.shape
    if T < 3:
        return [Metric("score", None, error="interaction needs at least 3 frames")]
    reading = read(frames, ChangeScale.for_size(H, W))
    if reading.rigid < RIGID:  # the change maps were not made
        why = (f"the view moves (only {reading.rigid:.0%} of tracked points move as one picture: the camera turns "
               "about the scene): interaction is judged on a still view")
        return [Metric("rigid_share", reading.rigid), Metric("score", None, error=why)]
    view = [Metric("view_change", reading.view_moves, higher_is_better=False),
            Metric("change_spread", reading.spread, higher_is_better=False), Metric("rigid_share", reading.rigid)]
    if reading.view_moved:
        return view + [Metric("score", None, error=f"the view moves ({reading.view_moves:.0%} of the frame changes, "
                                                   f"over {reading.spread:.0%} of it): interaction is judged on a "
                                                   "still view")]
    if reading.lasting_change < MIN_CHANGE:
        return view + [Metric("lasting_change", reading.lasting_change),
                       Metric("score", None, error="nothing changes for good: no interaction to judge")]
    acting = reading.has_actor
    no_actor = None if acting else "no actor moves in the clip: where change comes from is not judged"
    measures = {"undone": float(reading.undone.max()), "stray": float(reading.stray.max()),
                "early": float(reading.early.max())}
    metrics = view + [Metric("lasting_change", reading.lasting_change),
                      Metric("actor_frames", float((reading.actor.sum(axis=(1, 2)) >= 3).sum())),
                      Metric("undone_fraction", measures["undone"], higher_is_better=False),
                      Metric("stray_fraction", measures["stray"] if acting else None, higher_is_better=False,
                             error=no_actor),
                      Metric("early_fraction", measures["early"] if acting else None, higher_is_better=False,
                             error=no_actor)]
    judged = ("undone", "stray", "early") if acting else ("undone",)
    components = {k: tolerant(measures[k], *tolerances[k]) for k in judged}
    metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
    per_frame = {"undone": reading.undone, "stray": reading.stray, "early": reading.early}
    frame = failure_frame(components, per_frame)
    metrics.append(Metric("failure_frame", None if frame is None else float(frame),
                          error=None if frame is not None else "no failure localised"))
    metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
    if context.explaining:
        explain_without_probe(context, reading.lasting, {k: per_frame[k] for k in judged}, frame)
    return metrics
