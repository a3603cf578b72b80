"""game: a Minecraft-like voxel island filmed first-person, with a HUD, driven by one action per frame.

What it shows: a 32 x 32 island of 1 m blocks (grass on top, dirt below, stone deeper, sand beaches, stone or
cobblestone outcrops, sometimes a pond) in a sea that fades into distance fog, with oak and birch trees and a carved
pumpkin. The camera is the player's eye, 1.6 m above the feet (`yaw_pitch_camera`, 70 degree vertical field of view).
A HUD drawn in screen space (crosshair, 9-slot hotbar with isometric block icons and the selected slot highlighted,
experience bar, hearts and hunger) scales with the resolution, is opaque and identical in every frame, and carries the
id of an untracked object with role "hud" in the masks (depth under it stays the depth of the world behind it).

Rendering: blocks are meshed like Minecraft chunks (only faces between a block and air), one textured PyBullet mesh per
16 x 16 terrain chunk, one per landmark (which keeps its faces against other objects, so its amodal silhouette is
whole) and one for the blocks the clip changes, all over a 64 x 64 atlas of 16 x 16 pixel-art tiles (nearest
sampling, as in the game). Only the meshes next to a changed block are rebuilt, so place/break really change the
rendered world and its ground truth, and the change stays.

The player: each frame applies one action from ACTIONS, then the frame is captured (frame t shows the state after
action t). Walking moves WALK_SPEED m/s along the view's horizontal direction (back and strafes likewise), turns change
the yaw by TURN_RATE deg/s, looks the pitch by LOOK_RATE deg/s (clamped to +-80 degrees), jump starts a ballistic hop
(JUMP_SPEED, GRAVITY) when standing; collision is kinematic against the voxel grid (a 0.6 x 0.6 x 1.8 m box; the sea,
ponds and the air above them block walking). place/break march a ray from the eye along the view (REACH m): break
removes the first block hit (not the bottom layer, not water), place puts the selected hotbar block in the empty cell
in front of the face hit, unless it would overlap the player.

Variations (params, else drawn from the seed): `terrain` (plains, hills, highlands), `trees` (1-4, oak or birch),
`policy` (explore: heads for one landmark after another with persistence, turns away from walls and canopies, hops
onto one-block steps, and every ~3 s looks down to break and/or place a block; builder: starts looking down and
alternates placing/breaking with short turns and strafes, without undoing its own work), or `actions`, an explicit
list of action names (or a comma-separated string) replayed exactly, padded with idle to the clip length (the policy
is then ignored; more actions than frames is an error). Seeds also vary the height map, pond, outcrops, selected
hotbar slot, health, hunger, start pose and sun. Policy decisions depend only on the seed and the time, so a longer
clip of a seed begins with the same actions as a shorter one.

Events: `action` every frame (detail: action, yaw and pitch in degrees, eye position, the block under the crosshair or
None); `place_block` / `break_block` at the frame whose image first shows the change (detail: block = cell (i, j, k),
the cube [i, i+1] x [j, j+1] x [k, k+1] m; block_type; center). Their object is the block's owner: a landmark (a tree
losing a leaf or log, the pumpkin) or the untracked "blocks the player breaks or places" object, which holds the
placed blocks and, from the first frame, the terrain blocks the clip will break (so "terrain" stays static).
Tracked objects: the trees and the pumpkin (track point: the centre of their bounding box as planted).

Modules: rules (the numbers), blocks (kinds and tiles), layout (params, the island), play (the game state),
policies, meshes, hud; this one registers the family.
"""

from __future__ import annotations

import math

import numpy as np

from simworld.world.camera import Camera, intrinsics
from simworld.world.engine import Lighting
from simworld.world.families._common import article
from simworld.world.families.game.blocks import BLOCK_NAMES, BUILD_SLOTS, EDITED, HOTBAR
from simworld.world.families.game.hud import hud_canvas, hud_layers, make_overlay
from simworld.world.families.game.layout import GameLayout, GameParams, make_world, parse_actions
from simworld.world.families.game.meshes import VoxelMeshes, add_ocean
from simworld.world.families.game.play import GameState, replay
from simworld.world.families.game.policies import Policy
from simworld.world.families.game.rules import FOV_Y, POLICIES, TERRAIN_WORDS, TERRAINS, TURN_RATE
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import SceneSpec, SpecError


@register_family
class Game(Family):
    name = "game"
    Params = GameParams

    def layout(self, spec: SceneSpec, rng: np.random.Generator) -> GameLayout:
        p: GameParams = spec.params
        explicit = parse_actions(p.actions, f"{spec.family}.actions") if p.actions is not None else None
        if explicit is not None and len(explicit) > spec.frames:
            raise SpecError(f"{spec.family}.actions", p.actions,
                            f"has {len(explicit)} actions but the clip has only {spec.frames} frames")
        terrain = p.terrain or str(rng.choice(TERRAINS, p=[0.35, 0.4, 0.25]))
        trees = int(p.trees) if p.trees is not None else int(rng.integers(2, 5))
        grid, owner, landmarks, facing, start, yaw = make_world(rng, terrain, trees)
        drawn = str(rng.choice(POLICIES, p=[0.65, 0.35]))  # drawn even when unused: same stream for every spec
        policy = "replay" if explicit is not None else p.policy or drawn
        pitch = math.radians(rng.uniform(-40, -30) if policy == "builder" else rng.uniform(-16, -6))
        azimuth, elevation = rng.uniform(0, 2 * np.pi), rng.uniform(np.radians(45), np.radians(70))
        light = (float(np.cos(azimuth) * np.cos(elevation)), float(np.sin(azimuth) * np.cos(elevation)),
                 float(np.sin(elevation)))
        layout = GameLayout(terrain, policy, grid, owner, landmarks, facing,
                            start, float(yaw), float(pitch), [], int(rng.choice(BUILD_SLOTS)),
                            int(rng.integers(11, 21)), int(rng.integers(9, 21)), light)
        if explicit is not None:
            layout.actions = explicit + ["idle"] * (spec.frames - len(explicit))
        else:
            layout.actions = Policy(policy, GameState(layout, spec.fps), rng, spec.frames, spec.fps,
                                    landmarks).run()
        summary = {"place_block": 0, "break_block": 0, "jumps": 0, "distance": 0.0, "turned": 0.0}
        previous, broken = np.array(start), []
        for action, edit, state in replay(layout, spec.fps):
            if edit is not None:
                summary[edit.kind] += 1
                if edit.kind == "break_block":
                    broken.append(edit.cell)
            summary["jumps"] += action == "jump"
            summary["distance"] += float(np.hypot(*(state.position - previous)[:2]))
            summary["turned"] += TURN_RATE / spec.fps * (action in ("turn_left", "turn_right"))
            previous = state.position.copy()
        layout.summary = summary
        # the terrain blocks the clip will break are their own (static-until-then) object, like placed blocks
        for cell in broken:
            if layout.owner[cell] == 0:
                layout.owner[cell] = EDITED
        return layout

    def run(self, world, spec: SceneSpec, layout: GameLayout) -> None:
        world.lighting = Lighting(direction=layout.light, ambient=0.62, diffuse=0.5, specular=0.0, shadows=False)
        hud = world.add_object("heads-up display", "overlay", "white", "plain", role="hud", tracked=False)
        terrain = world.add_object("green grassy voxel island", "terrain", "green", "plain", role="terrain",
                                   tracked=False)
        sea = world.add_object("blue sea", "plane", "blue", "plain", role="terrain", tracked=False)
        edited = world.add_object("blocks the player breaks or places", "cube", "brown", "plain", tracked=False)
        marks = [world.add_object(l.name, "tree" if l.kind != "pumpkin" else "cube", l.color, l.material)
                 for l in layout.landmarks]
        add_ocean(world, sea)
        canvas = hud_canvas(layout.selected, layout.health, layout.hunger, xp=0.3 + 0.05 * layout.selected)
        world.set_overlay(make_overlay(*hud_layers(spec.width, spec.height, canvas), hud.id))
        K = intrinsics(spec.width, spec.height, FOV_Y)
        meshes = None
        for action, edit, state in replay(layout, spec.fps):
            if meshes is None:  # the first frame's world (an edit in frame 0 is already applied to it)
                meshes = VoxelMeshes(world, state, (terrain, edited, marks), layout.pumpkin_facing, layout.owner,
                                     [l.anchor for l in layout.landmarks])
            elif edit is not None:
                meshes.changed(edit.cell, edit.owner)
            if edit is not None:
                owner = edited if edit.owner == EDITED else marks[edit.owner - 1] if edit.owner else terrain
                world.event(edit.kind, objects=[owner.id], block=list(edit.cell), block_type=BLOCK_NAMES[edit.block],
                            center=[c + 0.5 for c in edit.cell])
            hit = state.target()
            world.event("action", action=action, yaw=math.degrees(state.yaw), pitch=math.degrees(state.pitch),
                        position=[float(v) for v in state.eye], target=list(hit[0]) if hit else None)
            world.capture(Camera(K, state.camera_matrix()))

    def describe(self, layout: GameLayout) -> Description:
        s = layout.summary
        block = BLOCK_NAMES[HOTBAR[layout.selected]]
        deeds = []
        if s["distance"] > 0.5:
            walked = max(1, round(s["distance"]))
            deeds.append(f"walks about {walked} block{'s' * (walked > 1)}")
        if s["turned"] >= 20:
            deeds.append(f"turns {s['turned']:.0f} degrees in all")
        if s["jumps"]:
            deeds.append(f"jumps {'once' if s['jumps'] == 1 else str(s['jumps']) + ' times'}")
        if s["break_block"]:
            deeds.append(f"breaks {s['break_block']} block{'s' * (s['break_block'] > 1)}")
        if s["place_block"]:
            deeds.append(f"places {s['place_block']} {block} block{'s' * (s['place_block'] > 1)}")
        doing = ", ".join(deeds[:-1]) + (" and " if len(deeds) > 1 else "") + (deeds[-1] if deeds else "looks around")
        verb = {"explore": "explores the island", "builder": "builds",
                "replay": "follows a scripted action sequence"}[layout.policy]
        subjects = [article(l.name) for l in layout.landmarks] or ["a blocky voxel island"]
        what = "breaks and places blocks" if s["break_block"] and s["place_block"] else (
            "breaks blocks" if s["break_block"] else "places blocks" if s["place_block"] else "walks around")
        return Description(
            subjects=subjects,
            setting=f"on a {TERRAIN_WORDS[layout.terrain]} voxel island of grass, dirt, sand and stone blocks in a "
                    f"calm sea, in a Minecraft-like game",
            motion=f"The player {verb}: it {doing}",
            camera="First-person view from the player's eyes, 1.6 blocks above the ground, with a crosshair, "
                   "a nine-slot hotbar, hearts and hunger drawn on screen",
            short=f"minecraft-style first-person gameplay on a voxel island, the player {what}",
        )
