"""Matched sets of possible and impossible clips made from one ground-truth clip.

Each set holds two possible clips and two impossible ones that share a context (the first `context` frames) and,
across the pair, the same content: the possible clips are X and Y (X the ground truth, Y a world that differs in
one thing throughout), the impossible ones are X's context followed by Y's continuation and Y's context followed by
X's (IntPhys's 2 x 2 design). Every continuation is scored once on each side, so a model that merely prefers
simple, static or familiar frames ties; only one that knows what follows what wins. `reverse` is the exception
in form, not in balance: its impossible clip plays the ground truth's continuation backwards (a fall that goes
up, a stroke or a bite that undoes itself), the same frames in another order. Kinds: `vanish` (the object there
then gone), `swap` (its colour changes), `teleport` (it jumps one or two widths aside), `jump` (the whole view
jumps to its mirror image: a camera path that is not rigid), `reverse`, `stood_still` (a ball that rolled on
while unseen against the same scene filmed again with it standing still meanwhile: a twin made in the world, one
possible clip and one impossible as in `reverse`), and `glass` (a glass that shatters on the floor against the same
glass breaking in mid-air and landing intact: made in the world, one possible clip and two impossible), and `hover`
(the object stands still throughout where the context leaves it, crossed with its path: it stops dead in mid-air).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import cv2
import numpy as np

from simworld.clip import Clip

if TYPE_CHECKING:
    from simworld.groundtruth import GroundTruth

ACTOR_ROLES = ("object", "food", "brush", "character")  # what a twin may erase or swap; not ground, walls, HUD


@dataclass
class MatchedSet:
    """Clips (N, T, H, W, 3) uint8 sharing their first `context` frames' layout; `possible` says which are."""

    kind: str
    clips: np.ndarray
    possible: np.ndarray  # (N,) bool
    context: int
    subject: str  # what the twin changes, for the results ("the red cube", "the view")


@dataclass
class Rerender:
    """The clip's scene spec and a way to film it again with some parameters changed (a twin made in the world,
    not on the pixels: the same scene, seed and camera, one thing otherwise)."""

    spec: Any  # simworld.world.spec.SceneSpec
    render: Callable[[dict], Clip]  # parameter overrides -> the clip


TWINS: dict[str, Callable[[Clip, int, "Rerender | None"], "MatchedSet | None"]] = {}


def twin(kind: str):
    def register(function):
        TWINS[kind] = function
        return function
    return register


def crossed(kind: str, x: np.ndarray, y: np.ndarray, context: int, subject: str) -> MatchedSet:
    """X, Y possible; X's context with Y's continuation and Y's with X's impossible."""
    xy = np.concatenate([x[:context], y[context:]])
    yx = np.concatenate([y[:context], x[context:]])
    return MatchedSet(kind, np.stack([x, y, xy, yx]), np.array([True, True, False, False]), context, subject)


def actor(gt: GroundTruth, context: int, min_pixels: int = 12) -> int | None:
    """The tracked object that a twin changes: the one seen most in both the context and the continuation."""
    best, best_seen = None, 0
    for index, object_id in enumerate(gt.track_ids):
        if gt.object(int(object_id)).role not in ACTOR_ROLES:
            continue
        seen = gt.visible_pixels[index]
        before, after = seen[:context].max(initial=0), seen[context:].max(initial=0)
        if before >= min_pixels and after >= min_pixels and min(before, after) > best_seen:
            best, best_seen = int(object_id), int(min(before, after))
    return best


def object_mask(gt: GroundTruth, object_id: int, grow: int = 2) -> np.ndarray:
    """(T, H, W) bool: the object's pixels, grown by `grow` px so no fringe of it is left."""
    masks = (gt.masks == object_id).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return np.stack([cv2.dilate(m, kernel) for m in masks]).astype(bool)


def erased(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Frames with the masked pixels filled from their surroundings (OpenCV's Telea inpainting)."""
    return np.stack([cv2.inpaint(f, m.astype(np.uint8), 3, cv2.INPAINT_TELEA) if m.any() else f
                     for f, m in zip(frames, mask)])


def recoloured(frames: np.ndarray, mask: np.ndarray, hue_turn: int = 90) -> np.ndarray:
    """Frames with the masked pixels' hue turned by `hue_turn` degrees (another object, same shape and motion)."""
    out = frames.copy()
    for f, m in zip(out, mask):
        if m.any():
            hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0].astype(int) + hue_turn // 2) % 180  # (OpenCV's hue is in 2-degree steps)
            hsv[..., 1] = np.maximum(hsv[..., 1], 96)  # a grey object gets a colour
            f[m] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[m]  # only the object: HSV's round trip is not exact
    return out


@twin("vanish")
def vanish(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """The object is there throughout / never there (possible) against there then gone / absent then there."""
    object_id = actor(clip.gt, context)
    if object_id is None:
        return None
    y = erased(clip.frames, object_mask(clip.gt, object_id))
    return crossed("vanish", clip.frames, y, context, clip.gt.object(object_id).name)


@twin("swap")
def swap(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """The object keeps its colour throughout (either colour) against changing it at the context's end."""
    object_id = actor(clip.gt, context)
    if object_id is None:
        return None
    y = recoloured(clip.frames, object_mask(clip.gt, object_id, grow=0))
    return crossed("swap", clip.frames, y, context, clip.gt.object(object_id).name)


def shifted(array: np.ndarray, dx: int) -> np.ndarray:
    """`array` (T, H, W, ...) moved `dx` pixels along x; what comes in from the edge is zero (nothing wraps round)."""
    out = np.zeros_like(array)
    if dx >= 0:
        out[:, :, dx:] = array[:, :, :array.shape[2] - dx]
    else:
        out[:, :, :dx] = array[:, :, -dx:]
    return out


def moved(frames: np.ndarray, around: np.ndarray, mask: np.ndarray, dx: int) -> np.ndarray:
    """Frames with the object erased where it is (`around`: its mask grown) and its pixels (`mask`) drawn `dx`
    pixels aside: the same object on the same path, elsewhere."""
    out = erased(frames, around)
    there = shifted(mask, dx)
    out[there] = shifted(frames, dx)[there]
    return out


def teleport_shift(mask: np.ndarray, context: int) -> int | None:
    """Two object widths (or one, where two leave the view) along x towards the middle of the frame, from where the
    object is at the context's end (the jump must be seen; later, the moved object may leave the view early, as it
    would further along its path); None where even one width would carry it out of view there."""
    seen = mask.any(axis=1)  # (T, W): the columns it covers in each frame
    frames = np.flatnonzero(seen.any(axis=1))
    if not len(frames):
        return None
    columns = np.flatnonzero(seen[frames[np.argmin(np.abs(frames - context))]])
    W = mask.shape[2]
    width = int(np.ptp(columns)) + 1
    direction = 1 if columns.mean() < W / 2 else -1
    for widths in (2, 1):
        dx = direction * widths * width
        if 0 <= columns[0] + dx and columns[-1] + dx < W:
            return dx
    return None


@twin("teleport")
def teleport(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """The object on its path and the same object one or two widths to the side throughout (both possible) against
    one that jumps there, or back, at the context's end while everything else goes on."""
    object_id = actor(clip.gt, context)
    if object_id is None:
        return None
    mask = object_mask(clip.gt, object_id, grow=0)
    dx = teleport_shift(mask, context)
    if dx is None:
        return None
    y = moved(clip.frames, object_mask(clip.gt, object_id), mask, dx)
    return crossed("teleport", clip.frames, y, context, clip.gt.object(object_id).name)


@twin("jump")
def jump(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """The world as filmed and its mirror image (both possible) against a view that jumps to the mirror world at
    the context's end: a camera path that is not rigid, everything teleporting at once."""
    return crossed("jump", clip.frames, clip.frames[:, :, ::-1].copy(), context, "the view")


@twin("reverse")
def reverse(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """The continuation as it happened against the same frames played backwards after the context (falls that go
    up, strokes and bites that undo themselves). Continuations that look the same backwards are left out."""
    frames = clip.frames
    after = frames[context:].astype(np.int16)
    if np.abs(after - after[::-1]).mean() < 0.1:  # backwards looks as forwards: nothing to tell apart
        return None
    backwards = np.concatenate([frames[:context], frames[context:][::-1]])
    return MatchedSet("reverse", np.stack([frames, backwards]), np.array([True, False]), context, "time")


@twin("stood_still")
def stood_still(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """A ball that rolls on (permanence `roll_on`), or a candle that burns down (`burn_down`), while the camera looks
    away against the same scene filmed again with it standing still while unseen, found nearer where it was left, or
    taller, when the camera is back (WRBench's world that stood still). Both clips move alike in view: the ball
    rolls at one speed and the candle burns at one rate whenever it is seen."""
    mode = getattr(rerender.spec.params, "mode", None) if rerender is not None else None
    if rerender is None or rerender.spec.family != "permanence" or mode not in ("roll_on", "burn_down"):
        return None
    frozen = rerender.render({"unseen_pace": 0.0}).frames
    if np.array_equal(frozen, clip.frames):
        return None
    return MatchedSet("stood_still", np.stack([clip.frames, frozen]), np.array([True, False]), context,
                      "the ball" if mode == "roll_on" else "the candle")


@twin("glass")
def glass(clip: Clip, context: int, rerender: Rerender | None = None) -> MatchedSet | None:
    """A glass that falls and shatters on the floor (physics `shatter`) against the same glass filmed again
    shattering halfway through its fall, touching nothing, and landing intact (`breaks` mid_air and never): twins
    made in the world, one possible clip and two impossible. One breaks earlier and one not at all, so a model that
    prefers more or less motion after the context gains on one and loses on the other. Only where the glass breaks
    after the context (a probe with a late `impact_at`), so the three share it frame for frame."""
    if rerender is None or rerender.spec.family != "physics" or clip.gt is None:
        return None
    shatter = next((e for e in clip.gt.events if e.kind == "shatter"), None)
    if shatter is None or shatter.frame <= context:
        return None
    twins = [rerender.render({"breaks": breaks}).frames for breaks in ("mid_air", "never")]
    if any(not np.array_equal(t[:context], clip.frames[:context]) for t in twins):
        return None  # the glass already falls within the context: the twins would differ there
    return MatchedSet("glass", np.stack([clip.frames, *twins]), np.array([True, False, False]), context,
                      clip.gt.object(shatter.objects[0]).name)


@twin("hover")
def hover(clip: Clip, context: int, rerender: Rerender | None = None, min_shift: float = 2.0) -> MatchedSet | None:
    """The object on its path and the same object standing still throughout where the context leaves it (both
    possible: in the world things hang where they are held) against one that stops dead there in mid-motion (a fall
    that hovers) and one that stands still, then moves off at full speed. Only for an object that moves on after the
    context by at least `min_shift` px."""
    object_id = actor(clip.gt, context)
    if object_id is None:
        return None
    mask = object_mask(clip.gt, object_id, grow=0)
    left = mask[context - 1]  # where the context leaves it
    if not left.any():
        return None
    where = np.array(np.nonzero(left)).mean(axis=1)
    later = [np.array(np.nonzero(m)).mean(axis=1) for m in mask[context:] if m.any()]
    if not later or max(np.hypot(*(c - where)) for c in later) < min_shift:
        return None  # it does not move on: standing still is what it does anyway
    y = erased(clip.frames, object_mask(clip.gt, object_id))
    y[:, left] = clip.frames[context - 1][left]
    return crossed("hover", clip.frames, y, context, clip.gt.object(object_id).name)


def matched_sets(clip: Clip, context: int, kinds: list[str], rerender: Rerender | None = None) -> list[MatchedSet]:
    """The sets of `kinds` this clip allows (a clip without an object to erase has no vanish set; twins made in
    the world need `rerender`)."""
    if clip.gt is None:
        raise ValueError("the knowledge test builds its twins from the ground truth; this clip has none")
    sets = [TWINS[kind](clip, context, rerender) for kind in kinds]
    return [s for s in sets if s is not None]
