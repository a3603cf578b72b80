"""The policies that play the game when the params name no actions: explore (visit the landmarks, use a block
now and then) and builder (place and break blocks close by)."""

from __future__ import annotations

import math

import numpy as np

from simworld.world.families.game.layout import Landmark
from simworld.world.families.game.play import WALK_HEADINGS, GameState
from simworld.world.families.game.rules import LOOK_RATE, MAX_PITCH, TURN_RATE


class Policy:
    """Emits one action per frame with persistence (segments of a few frames) and reacts to the world:
    jumps onto one-block steps, turns away from walls, looks down until a block is in reach before using it."""

    def __init__(self, kind: str, state: GameState, rng: np.random.Generator, frames: int, fps: float,
                 landmarks: list[Landmark] = ()):
        self.kind, self.state, self.rng, self.frames, self.fps = kind, state, rng, frames, fps
        self.walk_pitch = state.pitch
        # explore: block use at absolute times (the first after 0.4-0.9 s, then every 2.5-3.5 s) drawn with a fixed
        # number of draws, so a longer clip of a seed starts with the same actions (and events) as a shorter one;
        # a clip too short for the first one starts it early (see run)
        times = rng.uniform(0.4, 0.9) + np.concatenate([[0.0], np.cumsum(rng.uniform(2.5, 3.5, 23))])
        self.interactions = [int(round(t * fps)) for t in times if t * fps < frames]
        self.uses = [int(u) for u in rng.choice(3, size=len(times), p=[0.45, 0.3, 0.25])]  # break, place, both
        self.started = 0
        self.last = "idle"
        self.used = False  # builder: whether the last segment used a block
        self.placed: set[tuple] = set()
        self.broken: set[tuple] = set()
        self.goals: list[np.ndarray] = []
        for landmark in landmarks:  # in the order the player meets them turning from its start yaw
            centre = np.mean(landmark.cells, axis=0)[:2] + 0.5
            self.goals.append(centre)
        self.goals.sort(key=lambda g: abs((math.atan2(g[1] - state.position[1], g[0] - state.position[0])
                                           - state.yaw + math.pi) % (2 * math.pi) - math.pi))

    def hold(self, seconds_low: float, seconds_high: float) -> int:
        return max(1, round(self.rng.uniform(seconds_low, seconds_high) * self.fps))

    def run(self) -> list[str]:
        actions: list[str] = []
        plan: list[str] = []
        while len(actions) < self.frames:
            if self.interactions and self.kind == "explore":
                use = self.interaction()
                # start at the planned time once standing, or earlier when the clip's end would cut it off
                due = len(actions) >= self.interactions[0] and self.state.on_ground
                if due or len(actions) + len(use) // 2 + 2 >= self.frames:
                    self.interactions.pop(0)
                    if use:
                        plan, self.started = use, self.started + 1
                    elif self.interactions or len(actions) + 2 < self.frames:  # nothing in reach: retry later
                        self.interactions.insert(0, len(actions) + self.hold(0.3, 0.6))
            if not plan:
                plan = self.segment()
            action = plan.pop(0)
            action, plan = self.react(action, plan)
            actions.append(action)
            self.last = action
            edit = self.state.apply(action)
            if edit is not None:
                (self.placed if edit.kind == "place_block" else self.broken).add(edit.cell)
        return actions

    def segment(self) -> list[str]:
        rng, s = self.rng, self.state
        if self.kind == "builder":  # use a block, shift the aim a little, use the next one
            self.used = not self.used
            if self.used:
                return ["place" if rng.random() < 0.65 else "break"]
            choice = rng.choice(["turn", "strafe", "look"], p=[0.5, 0.35, 0.15])
            if choice == "turn":
                return [str(rng.choice(["turn_left", "turn_right"]))] * self.hold(0.15, 0.4)
            if choice == "strafe":
                return [str(rng.choice(["strafe_left", "strafe_right", "back"]))] * self.hold(0.15, 0.3)
            up = s.pitch < math.radians(-55) or (s.pitch < math.radians(-25) and rng.random() < 0.5)
            return ["look_up" if up else "look_down"] * self.hold(0.1, 0.2)
        # explore: head for one landmark after another, so they stay in view
        if self.goals:
            offset = self.goals[0] - s.position[:2]
            if np.hypot(*offset) < 5.0:
                self.goals.append(self.goals.pop(0))
                offset = self.goals[0] - s.position[:2]
            bearing = (math.atan2(offset[1], offset[0]) - s.yaw + math.pi) % (2 * math.pi) - math.pi
            turn_step = math.radians(TURN_RATE) / self.fps
            if abs(bearing) > max(math.radians(20), turn_step) and rng.random() < 0.85:
                turns = max(1, min(round(abs(bearing) / turn_step), self.hold(0.6, 1.2)))
                return ["turn_left" if bearing > 0 else "turn_right"] * turns
        choice = rng.choice(["forward", "turn", "strafe", "look", "jump", "idle", "back"],
                            p=[0.62, 0.08, 0.08, 0.08, 0.08, 0.03, 0.03])
        if choice == "forward":
            return ["forward"] * self.hold(0.4, 0.9)
        if choice == "turn":
            return [str(rng.choice(["turn_left", "turn_right"]))] * self.hold(0.2, 0.4)
        if choice == "strafe":
            return [str(rng.choice(["strafe_left", "strafe_right"]))] * self.hold(0.2, 0.4)
        if choice == "look":
            up = s.pitch < self.walk_pitch - math.radians(4) or (
                s.pitch < self.walk_pitch + math.radians(4) and rng.random() < 0.5)
            return ["look_up" if up else "look_down"] * self.hold(0.1, 0.25)
        if choice == "jump":
            return ["jump"] + ["forward"] * self.hold(0.3, 0.5)
        return [str(choice)] * self.hold(0.1, 0.25)

    def interaction(self) -> list[str]:
        """Look down until a block is in reach, break or place (or both), look back up."""
        s = self.state
        pitch, step = s.pitch, math.radians(LOOK_RATE) / self.fps
        for downs in range(0, math.ceil(math.radians(50) / step) + 1):
            s.pitch = max(pitch - downs * step, -math.radians(MAX_PITCH))
            hit = s.target()
            if s.can_break(hit) and s.can_place(hit):
                break
        else:
            downs = None
        s.pitch = pitch
        if downs is None:
            return []
        use = [["break"], ["place"], ["break", "place"]][self.uses[self.started % len(self.uses)]]
        return ["look_down"] * downs + use + ["look_up"] * downs

    def react(self, action: str, plan: list[str]) -> tuple[str, list[str]]:
        s = self.state
        if action in WALK_HEADINGS and s.on_ground:
            heading = s.yaw + WALK_HEADINGS[action]
            direction = np.array([math.cos(heading), math.sin(heading), 0.0])
            ahead = s.position + 0.35 * direction
            # walls two blocks high and landmarks, canopies included, a little ahead: turn away
            wall = any(s.collides(s.position + d * direction + (0, 0, 1.05))
                       or any(s.landmark_at(s.position + d * direction + (0, 0, z)) for z in (0.5, 1.5, 2.5, 3.5))
                       for d in (0.35, 0.8, 1.25))
            if wall or (s.collides(ahead) and (self.last == "jump" or s.collides(s.position + (0, 0, 1.05)))):
                turn = str(self.rng.choice(["turn_left", "turn_right"]))
                turns = self.hold(0.5, 0.9)
                return turn, [turn] * (turns - 1) + ([action] * len(plan))[:3]
            if s.collides(ahead):  # a one-block step: hop onto it
                return "jump", [action] + plan
        if action in ("place", "break"):
            hit = s.target()
            # a builder doesn't undo its own work: break what it placed, or fill what it dug
            undo = False
            if self.kind == "builder" and hit is not None:
                if action == "break" and hit[0] in self.placed:
                    action = "place"
                elif action == "place" and hit[1] in self.broken:
                    action = "break"
                undo = hit[0] in self.placed if action == "break" else hit[1] in self.broken
            ok = not undo and (s.can_place(hit) if action == "place" else s.can_break(hit))
            if not ok:
                if hit is not None and action == "place" and not undo:  # the new block would overlap the player
                    return "back", plan
                if s.pitch > -math.radians(60) and plan.count("look_down") < 4:
                    return "look_down", [action] + plan
                return str(self.rng.choice(["turn_left", "turn_right"])), plan
        return action, plan

