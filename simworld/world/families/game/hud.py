"""The heads-up display drawn in screen space (crosshair, hotbar, experience bar, hearts, hunger) and the distance
fog, applied to every rendered frame as an overlay."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.world.engine import SKY_HORIZON
from simworld.world.families.game.blocks import ATLAS, HOTBAR, TILES
from simworld.world.families.game.rules import FOG_END, FOG_START


def _sprite(rows: list[str], palette: dict[str, tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    chars = np.array([list(r) for r in rows])
    rgb = np.zeros((*chars.shape, 3), np.uint8)
    for key, color in palette.items():
        rgb[chars == key] = color
    return rgb, chars != "."


HEART = ([".111.111.", "133213221", "132222221", "122222221", ".1222221.", "..12221..", "...121...",
          "....1...."], {"1": (30, 8, 8), "2": (210, 30, 30), "3": (250, 190, 190), "4": (70, 24, 24)})
FOOD = ([".....11..", "....1221.", "...122221", "..1222221", "..122221.", ".141221..", "144.11...",
         "141......", ".1......."], {"1": (45, 22, 8), "2": (176, 104, 44), "4": (232, 226, 210),
                                     "5": (60, 40, 30)})


def block_icon(block: int) -> np.ndarray:
    """A 16 x 16 isometric icon of a block: top face over two shaded side faces."""
    top, side = (ATLAS[t // 4 * 16:t // 4 * 16 + 16, t % 4 * 16:t % 4 * 16 + 16] for t in TILES[block, :2])
    icon = np.zeros((16, 16, 3), np.float32)
    mask = np.zeros((16, 16), bool)
    py, px = np.mgrid[0:16, 0:16] + 0.5
    a, b = (py / 4 - (px - 8) / 8) / 2, (py / 4 + (px - 8) / 8) / 2
    faces = [((a >= 0) & (a < 1) & (b >= 0) & (b < 1), top, a, b, 1.0)]
    c_left = (py - 4 - px / 2) / 8
    faces.append(((px < 8) & (c_left >= 0) & (c_left < 1), side, px / 8, c_left, 0.8))
    c_right = (py - 8 + (px - 8) / 2) / 8
    faces.append(((px >= 8) & (c_right >= 0) & (c_right < 1), side, (px - 8) / 8, c_right, 0.62))
    for where, tex, u, v, shade in faces:
        where = where & ~mask
        rows = np.clip((v * 16).astype(int), 0, 15)[where]
        cols = np.clip((u * 16).astype(int), 0, 15)[where]
        icon[where] = tex[rows, cols] * shade
        mask |= where
    return np.concatenate([icon.astype(np.uint8), mask[..., None].astype(np.uint8) * 255], -1)


def hud_canvas(selected: int, health: int, hunger: int, xp: float) -> np.ndarray:
    """The HUD at Minecraft's GUI resolution (184 x 41 RGBA): hearts, hunger, experience bar, hotbar."""
    out = np.zeros((41, 184, 4), np.uint8)

    def paste(img_mask, x, y):
        img, mask = img_mask
        region = out[y:y + img.shape[0], x:x + img.shape[1]]
        region[mask, :3] = img[mask]
        region[mask, 3] = 255

    for n in range(10):
        heart, mask = _sprite(*HEART)
        heart = heart.copy()
        if health < 2 * n + 2:  # empty (or the right half empty) heart container
            dark = mask & (heart[..., 0] > 60)
            if health == 2 * n + 1:
                dark[:, :5] = False
            heart[dark] = (62, 20, 20)
        paste((heart, mask), 1 + 8 * n, 0)
        food, fmask = _sprite(*FOOD)
        food = food.copy()
        if hunger < 2 * n + 2:
            dark = fmask & (food.sum(-1) > 200)
            if hunger == 2 * n + 1:
                dark[:, 5:] = False
            food[dark] = (58, 40, 30)
        paste((food, fmask), 174 - 8 * n, 0)
    bar = np.zeros((5, 182, 3), np.uint8)
    bar[:] = (20, 20, 20)
    bar[1:4, 1:181] = (36, 60, 24)
    bar[1:4, 1:1 + int(180 * xp)] = (126, 232, 64)
    paste((bar, np.ones((5, 182), bool)), 1, 10)
    hotbar = np.zeros((22, 182, 3), np.uint8)
    hotbar[:] = (22, 22, 22)
    for slot, block in enumerate(HOTBAR):
        x = 1 + 20 * slot
        hotbar[1:21, x:x + 20] = (60, 60, 60)
        hotbar[2:20, x + 1:x + 19] = (118, 118, 118)
        hotbar[2:19, x + 1:x + 18] = (96, 96, 96)
        icon = block_icon(block)
        hotbar[3:19, x + 2:x + 18][icon[..., 3] > 0] = icon[..., :3][icon[..., 3] > 0]
    paste((hotbar, np.ones((22, 182), bool)), 1, 18)
    frame = np.zeros((24, 24), bool)
    frame[:2], frame[-2:], frame[:, :2], frame[:, -2:] = True, True, True, True
    paste((np.full((24, 24, 3), 236, np.uint8), frame), 20 * selected, 17)
    return out


def hud_layers(width: int, height: int, canvas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The HUD at frame size: (H,W,3) colours and the (H,W) mask of its pixels. The bars sit at the bottom
    centre, 60-80% of the width wide (whole-pixel scaled when the frame is big), the crosshair in the middle."""
    rgb = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), bool)
    whole = int(min(0.8 * width, 1.0 * height) // canvas.shape[1])
    if whole >= 1:  # big frames: whole-pixel scaling keeps the pixel art crisp
        scaled = cv2.resize(canvas, None, fx=whole, fy=whole, interpolation=cv2.INTER_NEAREST)
        alpha = scaled[..., 3] > 127
        colors = scaled[..., :3]
    else:  # small frames: area-average, then keep the pixels the HUD mostly covers
        target = min(0.7 * width, 0.8 * height)
        size = (max(1, round(target)), max(1, round(target * canvas.shape[0] / canvas.shape[1])))
        a = canvas[..., 3:].astype(np.float32) / 255
        premult = cv2.resize(canvas[..., :3].astype(np.float32) * a, size, interpolation=cv2.INTER_AREA)
        coverage = cv2.resize(a[..., 0], size, interpolation=cv2.INTER_AREA)
        alpha = coverage >= 0.5
        colors = np.clip(premult / np.maximum(coverage, 1e-3)[..., None], 0, 255).astype(np.uint8)
    h, w = alpha.shape
    x0, y0 = (width - w) // 2, height - h - max(1, height // 64)
    rgb[y0:y0 + h, x0:x0 + w][alpha] = colors[alpha]
    mask[y0:y0 + h, x0:x0 + w] = alpha
    # crosshair: a white plus with a dark rim, centred on the optical axis
    side = min(width, height)
    arm, thick = max(2, round(side * 0.035)), max(1, round(side / 100))
    cx, cy = width // 2 - thick // 2, height // 2 - thick // 2
    for color, grow in (((40, 40, 40), int(side >= 64)), ((240, 240, 240), 0)):
        for x0_, x1_, y0_, y1_ in ((cx - arm - grow, cx + thick + arm + grow, cy - grow, cy + thick + grow),
                                   (cx - grow, cx + thick + grow, cy - arm - grow, cy + thick + arm + grow)):
            rgb[y0_:y1_, x0_:x1_] = color
            mask[y0_:y1_, x0_:x1_] = True
    return rgb, mask


def make_overlay(rgb_hud: np.ndarray, mask: np.ndarray, hud_id: int):
    """Distance fog toward the horizon colour (hides the sea's edge), then the HUD, drawn opaque."""
    def overlay(rgb, ids, depth, frame):
        finite = np.isfinite(depth)
        fog = np.where(finite, np.clip((depth - FOG_START) / (FOG_END - FOG_START), 0, 1), 0)[..., None]
        rgb[:] = (rgb * (1 - fog) + SKY_HORIZON * fog + 0.5).astype(np.uint8)
        rgb[mask] = rgb_hud[mask]
        ids[mask] = hud_id
    return overlay

