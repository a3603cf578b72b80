"""game: does a first-person game clip behave like a game world driven by its actions?

Three checks (full definitions in simworld/analyzers/game/metrics.yaml), all against the probe's action log (the
`action` events of the ground truth: per frame the action name, yaw, pitch and eye position after it):
- HUD stability: the HUD (the pixels of the ground truth's object with role "hud", resized to the clip) must stay
  identical from frame to frame. Each frame's HUD is compared with the clip's most typical HUD frame, after
  allowing a gain (exposure) and a shift of up to 2 pixels (shake): mean abs change and fraction of changed pixels.
- Camera motion follows the actions: per frame pair, the yaw and pitch of the pure camera rotation whose
  homography best aligns the frames outside the HUD (the yaw axis is the world vertical, tilted by the commanded
  pitch), then DIS optical flow (simworld.analyzers.measure.flow) between the first frame and the rotation-compensated
  second one, whose expansion about the image centre (divergence) measures forward / backward motion. Each pair
  is classed by its commanded pose change (turn, look, walk forward/back, strafe, still; mixed pairs are not
  checked) and agrees when the measured motion has the commanded sign and, for turns and looks, roughly the
  commanded rate. Agreement fractions (moving pairs, still pairs) and the yaw-rate correlation.
- The world persists: pairs of frames with the same commanded pose, the camera having looked or walked away in
  between, must show the same world outside the HUD, except where the ground truth itself differs (a placed or
  broken block): the largest block-sized patch of change.
score = product of the components of the checks that apply (each in [0, 1]); a dead, shuffled or noise clip fails
the motion check. failure_frame: where the weakest component fails (the HUD's worst frame, the first pair whose
motion disagrees with its action, the worst same-pose pair's later frame). Pictures for the report: commanded
against measured yaw per frame pair, and the HUD's changed pixels per frame. Needs the probe's ground truth (the action log): without it there is nothing to compare the
motion with, and a HUD estimated from the frames (the pixels that stay constant) is stable by construction.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.game.actions import action_log, pair_classes
from simworld.analyzers.game.camera_motion import PairMotion, camera_motion
from simworld.analyzers.game.explain import explain
from simworld.analyzers.game.failures import FAILURES
from simworld.analyzers.game.hud import hud_mask, hud_stability
from simworld.analyzers.game.world import changed_region, same_pose_pairs, world_changes
from simworld.analyzers.measure.tolerance import tolerant
from simworld.clip import Clip


def _agrees(kind: str, m: PairMotion, p: int, dyaw: float, dpitch: float, still_deg: float) -> bool:
    """Does pair p's measured motion show what its class commands?"""
    yaw, pitch, div = m.yaw[p], m.pitch[p], m.divergence[p]
    if kind.startswith("turn"):
        ratio = yaw / dyaw
        return 0.5 <= ratio <= 1.6 and abs(pitch) <= max(still_deg, 0.3 * abs(dyaw))
    if kind.startswith("look"):
        ratio = pitch / dpitch
        return 0.5 <= ratio <= 1.6 and abs(yaw) <= max(still_deg, 0.3 * abs(dpitch))
    if kind in ("forward", "back"):
        return div * (1 if kind == "forward" else -1) >= WALK_DIVERGENCE
    if kind.startswith("strafe"):
        return yaw * (1 if kind == "strafe_left" else -1) >= 0.5 * still_deg
    if kind == "still":
        return (abs(yaw) <= still_deg and abs(pitch) <= still_deg and abs(m.compensated_divergence[p]) < DIVERGENCE
                and m.residual_motion[p] <= STILL_PIXELS)
    return True


WALK_DIVERGENCE = 0.006  # expansion per frame that counts as walking forward (contraction: backward)
DIVERGENCE = 0.012  # expansion per frame (once the rotation is taken out) that a still camera may not show
STILL_PIXELS = 1.5  # median residual flow (pixels) a still camera may show


@register_analyzer
class Game(Analyzer):
    name = "game"
    version = "2"
    needs_probe = True
    uses_ground_truth = True
    needs_ground_truth = True
    threshold = 0.25  # calm clips (ground truth, nuisances) score >= 0.33, injected failures <= 0.09: see report
    failures = FAILURES

    # (tolerance, scale) of the score components: no penalty up to the tolerance, then exp(-(x - tol) / scale)
    HUD = (0.04, 0.04)  # worst frame's fraction of changed HUD pixels
    MOTION = (0.2, 0.12)  # fraction of moving pairs that disagree with their action
    STILL = (0.2, 0.12)  # fraction of still pairs that move
    WORLD = (0.06, 0.03)  # largest block-sized patch of change between same-pose frames

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        truth = context.ground_truth
        if truth is None or truth.gt is None:
            return [Metric("score", None, error="game needs the probe's ground truth (its action log)")]
        log = action_log(truth.gt, clip.num_frames)
        if log is None:
            return [Metric("score", None, error="the ground truth has no action log: not a game scene")]
        T = log.frames  # frames past the action log are not judged
        if T < 2:
            return [Metric("score", None, error="game needs at least 2 frames")]
        frames = clip.frames[:T]
        W, H = clip.size
        Wg, Hg = truth.size
        K = np.diag([W / Wg, H / Hg, 1.0]) @ truth.gt.intrinsics[0]
        hud = hud_mask(truth.gt, W, H)
        metrics: list[Metric] = []
        components: dict[str, float] = {}
        where: dict[str, int] = {}  # component -> the frame where it fails most visibly
        # HUD stability
        changed = None
        if hud is not None and hud.sum() >= 10:
            change, changed = hud_stability(frames, hud)
            where["hud"] = int(np.argmax(changed))
            metrics += [Metric("hud_change", float(change.mean()), higher_is_better=False),
                        Metric("hud_changed_fraction", float(changed.mean()), higher_is_better=False),
                        Metric("hud_worst_changed_fraction", float(changed.max()), higher_is_better=False)]
            components["hud"] = tolerant(float(changed.max()), *self.HUD)
        else:
            metrics += [Metric(n, None, higher_is_better=False, error="the scene has no HUD")
                        for n in ("hud_change", "hud_changed_fraction", "hud_worst_changed_fraction")]
        # camera motion against the actions
        classes = pair_classes(log)
        reference = truth.frames[:T]
        if reference.shape[1:3] != (H, W):
            reference = np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA) for f in reference])
        # still pairs where a block is placed or broken: the block's pixels change, the camera must not move
        edited = {f for f, _ in log.edits}
        ignore = {p: changed_region(reference[p], reference[p + 1], max(3, round(min(H, W) / 16)))
                  for p, c in enumerate(classes) if c == "still" and p + 1 in edited}
        motion = camera_motion(frames, K, log.pitch, hud, ignore)
        still_deg = max(1.0, math.degrees(2.5 / K[0, 0]))
        dyaw, dpitch = np.diff(log.yaw), np.diff(log.pitch)
        agree = {p: _agrees(c, motion, p, dyaw[p], dpitch[p], still_deg) for p, c in enumerate(classes) if c != "mixed"}
        moving = [a for p, a in agree.items() if classes[p] != "still"]
        still = [a for p, a in agree.items() if classes[p] == "still"]
        none_moving = "the actions never move the camera" if not moving else None
        metrics.append(Metric("motion_agreement", float(np.mean(moving)) if moving else None, error=none_moving))
        metrics.append(Metric("still_agreement", float(np.mean(still)) if still else None,
                              error=None if still else "the camera never stands still"))
        metrics.append(Metric("agreement_fraction", float(np.mean(list(agree.values()))) if agree else None,
                              error=None if agree else "no pair has a checkable action"))
        if moving:
            components["motion"] = tolerant(1.0 - float(np.mean(moving)), *self.MOTION)
        if still:
            components["still"] = tolerant(1.0 - float(np.mean(still)), *self.STILL)
        disagree = [p for p, a in agree.items() if not a]
        for key, is_still in (("motion", False), ("still", True)):
            wrong = [p for p in disagree if (classes[p] == "still") == is_still]
            if wrong:
                where[key] = wrong[0] + 1
        use = [p for p, c in enumerate(classes) if c not in ("mixed",) and not c.startswith("strafe")]
        turns = [p for p, c in enumerate(classes) if c.startswith("turn")]
        if len(use) >= 3 and np.std(dyaw[use]) > 1.0:
            measured = motion.yaw[use]
            r = float(np.corrcoef(measured, dyaw[use])[0, 1]) if np.std(measured) > 1e-6 else 0.0
            metrics.append(Metric("yaw_correlation", r))
            components["yaw"] = float(np.clip(r / 0.7, 0.0, 1.0))
            where["yaw"] = use[int(np.argmax(np.abs(measured - dyaw[use])))] + 1
        else:
            metrics.append(Metric("yaw_correlation", None, error="the actions hold the yaw (nearly) constant"))
        if turns:
            error = float(np.median(np.abs(motion.yaw[turns] / dyaw[turns] - 1.0)))
            metrics.append(Metric("yaw_rate_error", error, higher_is_better=False))
        else:
            metrics.append(Metric("yaw_rate_error", None, higher_is_better=False, error="no turn to measure"))
        # the world persists
        revisits, still_pairs = same_pose_pairs(log)
        worst: list[tuple[float, int]] = []  # (change, later frame of the pair)
        for name, pairs, missing in (("world_revisit_change", revisits, "the camera never comes back to a pose"),
                                     ("world_still_change", still_pairs, "the camera never stands still")):
            peaks = [(v, j) for v, (_, j) in zip(world_changes(frames, reference, pairs, hud), pairs) if np.isfinite(v)]
            metrics.append(Metric(name, max(peaks)[0] if peaks else None, higher_is_better=False,
                                  error=None if peaks else missing))
            worst += peaks
        if worst:
            components["world"] = tolerant(max(worst)[0], *self.WORLD)
            where["world"] = max(worst)[1]
        metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
        weakest = min(components, key=components.get) if components else None
        frame = where.get(weakest) if weakest is not None and components[weakest] < 0.999 else None
        metrics.append(Metric("failure_frame", None if frame is None else float(frame),
                              error=None if frame is not None else "no failure localised"))
        if not components:
            metrics.append(Metric("score", None, error="nothing to check"))
        else:
            metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        if context.explaining:
            explain(context, T, dyaw, motion.yaw, disagree, changed, frame)
        return metrics
