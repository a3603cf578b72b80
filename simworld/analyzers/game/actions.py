"""The probe's action log (the ground truth's `action` events): per frame the action, yaw, pitch and eye
position, and each frame pair's class (turn, look, walk, strafe, still, mixed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np



@dataclass
class ActionLog:
    """The commanded poses of the first T frames: what the frames must show."""

    actions: list[str]
    yaw: np.ndarray  # (T,) degrees, unwrapped
    pitch: np.ndarray  # (T,) degrees
    position: np.ndarray  # (T,3) eye position, m
    edits: list[tuple[int, tuple[int, int, int]]]  # (frame, block cell) of place/break events

    @property
    def frames(self) -> int:
        return len(self.actions)


def action_log(gt, frames: int) -> ActionLog | None:
    """The action log of a game ground truth, cut to `frames`; None when it has none."""
    if gt is None:
        return None
    events = sorted((e for e in gt.events if e.kind == "action" and "yaw" in e.detail), key=lambda e: e.frame)
    by_frame = {e.frame: e.detail for e in events}
    if not by_frame or any(t not in by_frame for t in range(min(frames, gt.masks.shape[0]))):
        return None
    T = min(frames, len(by_frame))
    details = [by_frame[t] for t in range(T)]
    yaw = np.degrees(np.unwrap(np.radians([float(d["yaw"]) for d in details])))
    edits = [(e.frame, tuple(int(v) for v in e.detail["block"])) for e in gt.events
             if e.kind in ("place_block", "break_block") and "block" in e.detail and e.frame < T]
    return ActionLog([str(d.get("action", "")) for d in details], yaw,
                     np.array([float(d["pitch"]) for d in details]),
                     np.array([[float(v) for v in d["position"]] for d in details]), edits)


def pair_classes(log: ActionLog) -> list[str]:
    """What each frame pair (t-1, t) must show, from the commanded pose change: turn_left/right, look_up/down,
    forward, back, strafe_left/right, still, or mixed (not checked)."""
    out = []
    for t in range(1, log.frames):
        dyaw, dpitch = log.yaw[t] - log.yaw[t - 1], log.pitch[t] - log.pitch[t - 1]
        move = log.position[t] - log.position[t - 1]
        heading = math.radians(log.yaw[t - 1])
        forward = move[0] * math.cos(heading) + move[1] * math.sin(heading)
        lateral = -move[0] * math.sin(heading) + move[1] * math.cos(heading)
        horizontal, vertical = float(np.hypot(*move[:2])), abs(float(move[2]))
        still_pose = abs(dpitch) < 0.3 and vertical < 0.02
        if abs(dyaw) < 0.3 and still_pose and horizontal < 0.02:
            out.append("still")
        elif abs(dyaw) >= 2.0 and abs(dpitch) < 0.5 and horizontal < 0.05 and vertical < 0.05:
            out.append("turn_left" if dyaw > 0 else "turn_right")
        elif abs(dpitch) >= 2.0 and abs(dyaw) < 0.5 and horizontal < 0.05 and vertical < 0.05:
            out.append("look_up" if dpitch > 0 else "look_down")
        elif horizontal >= 0.1 and abs(dyaw) < 0.5 and abs(dpitch) < 0.5 and vertical < 0.05:
            if abs(forward) >= 0.8 * horizontal:
                out.append("forward" if forward > 0 else "back")
            elif abs(lateral) >= 0.8 * horizontal:
                out.append("strafe_left" if lateral > 0 else "strafe_right")
            else:
                out.append("mixed")
        else:
            out.append("mixed")
    return out
