"""Explanations: small typed data an analyzer leaves beside its metrics so that the report can draw the pictures
that explain them (a warp error over time, a camera path from above, an object's crops before and after an
occlusion). The report reads only result files: the runner writes these into the clip's rows JSON
(`rows/<probe>/s<seed>/<analyzer>.json`, key "explanations"; `simworld score` into `rows/<video>/<analyzer>.json`)
and the report draws each one with matplotlib.

Four kinds, each a dataclass with a `name` (unique per analyzer and clip: the picture's file name) and a `title`:
- Series: values over the clip's frames, one line per source (clip, ground truth), frames to mark, a threshold;
- Trajectories: 2D or 3D paths (lines) and observations (points), e.g. a camera path seen from above against the
  commanded one, or an object's positions with the fitted parabola;
- Crops: a grid of small images (rows x columns), each with an optional object mask drawn as its outline, e.g.
  the object before and after each occlusion, in the clip and in the ground truth;
- Timeline: per row (an object in the clip, the same in the ground truth), per frame: present or not.

An analyzer adds them through its context, which has a sink only when someone will read them (the runner,
`simworld score`); `simworld validate` and tests call `analyze` without one, and `explain` then does nothing:

    if context.explaining:  # skip the work when nobody reads it
        context.explain(Series("warp_error", "Warp error per frame pair", x=pairs + 0.5,
                               lines={"clip": warp, "ground truth": warp_truth}, ylabel="warp error",
                               marks=jumps))
    context.explain(Trajectories("camera_path", "Camera path seen from above",
                                 lines={"recovered (SfM)": centres, "commanded": commanded},  # (N,3) each
                                 axes=(0, 2), xlabel="x (m)", ylabel="z (m)"))
    context.explain(Trajectories("trajectory_3", "Object 3: path and fitted parabola", points={"observed": uv},
                                 lines={"fitted parabola": fit}, xlabel="x (px)", ylabel="y (px)", invert_y=True))

Everything is stored small: numbers rounded to 4 significant digits, at most MAX_POINTS values per line, crops
at most CROP_SIDE pixels on their long side (PNG, base64).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field, fields
from typing import Any, Sequence

import cv2
import numpy as np

MAX_POINTS = 2048  # values per line or path
MAX_ITEMS = 16  # explanations per analyzer and clip
CROP_SIDE = 96  # pixels: crops are shrunk to this long side
MAX_CROPS = 48  # images per Crops grid


def _number(value: Any) -> float | None:
    """A finite float rounded to 4 significant digits, or None (NaN, inf, None)."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


def _numbers(values: Any, what: str) -> list[float | None]:
    array = np.asarray(values, dtype=np.float64).ravel() if values is not None else np.zeros(0)
    if len(array) > MAX_POINTS:
        raise ValueError(f"{what}: {len(array)} values, at most {MAX_POINTS}")
    return [_number(v) for v in array]


def _points(values: Any, what: str) -> list[list[float | None]]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] not in (2, 3):
        raise ValueError(f"{what}: points must be (N, 2) or (N, 3), got shape {array.shape}")
    if len(array) > MAX_POINTS:
        raise ValueError(f"{what}: {len(array)} points, at most {MAX_POINTS}")
    return [[_number(v) for v in row] for row in array]


def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"explanation name {name!r}: use letters, digits, _ and -")


@dataclass
class Series:
    """Values over the clip's frames: one line per source (e.g. "clip", "ground truth"), on the same x."""

    name: str
    title: str
    x: Sequence[float]  # frame index of each value (a frame pair t, t+1 may sit at t + 0.5)
    lines: dict[str, Sequence[float | None]]  # label -> values (None or NaN: a gap)
    ylabel: str = ""
    xlabel: str = "frame"
    marks: Sequence[float] = ()  # frames to mark: where it fails (drawn as red vertical lines)
    events: Sequence[float] = ()  # frames of the world's events (a stroke, a bite, a cut: grey dotted lines)
    threshold: float | None = None  # a horizontal reference line (e.g. the level counted as a jump)
    log_y: bool = False
    kind: str = field(default="series", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        self.x = _numbers(self.x, f"{self.name}.x")
        self.lines = {str(k): _numbers(v, f"{self.name}.lines[{k}]") for k, v in self.lines.items()}
        for label, values in self.lines.items():
            if len(values) != len(self.x):
                raise ValueError(f"{self.name}: line {label!r} has {len(values)} values for {len(self.x)} x")
        self.marks = [m for m in _numbers(list(self.marks), f"{self.name}.marks") if m is not None]
        self.events = [m for m in _numbers(list(self.events), f"{self.name}.events") if m is not None]
        self.threshold = _number(self.threshold)


@dataclass
class Trajectories:
    """Paths in 2D or 3D: `lines` drawn as lines (a recovered or commanded path, a fitted curve), `points` as
    markers (observations). `axes` picks the two coordinates drawn: (0, 2) shows x-right / z-forward camera
    positions from above."""

    name: str
    title: str
    lines: dict[str, Any] = field(default_factory=dict)  # label -> (N, 2) or (N, 3)
    points: dict[str, Any] = field(default_factory=dict)  # label -> (N, 2) or (N, 3)
    axes: tuple[int, int] = (0, 1)
    xlabel: str = ""
    ylabel: str = ""
    equal_aspect: bool = True
    invert_y: bool = False  # image coordinates: y grows downwards
    kind: str = field(default="trajectories", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        self.lines = {str(k): _points(v, f"{self.name}.lines[{k}]") for k, v in self.lines.items()}
        self.points = {str(k): _points(v, f"{self.name}.points[{k}]") for k, v in self.points.items()}
        if not self.lines and not self.points:
            raise ValueError(f"{self.name}: no line and no point")
        self.axes = (int(self.axes[0]), int(self.axes[1]))
        dims = {len(p[0]) for p in [*self.lines.values(), *self.points.values()] if p}
        if any(a >= min(dims, default=3) for a in self.axes):
            raise ValueError(f"{self.name}: axes {self.axes} for points of {sorted(dims)} coordinates")


@dataclass
class Crop:
    """One small image (h, w, 3) uint8, with the object's mask (h, w) bool when there is one."""

    image: np.ndarray
    mask: np.ndarray | None = None


def encode_png(image: np.ndarray) -> str:
    """Base64 PNG of an RGB (h,w,3) or gray (h,w) uint8 image."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise ValueError("cannot encode a crop as PNG")
    return base64.b64encode(data.tobytes()).decode("ascii")


def decode_png(text: str) -> np.ndarray:
    """RGB (h,w,3) or gray (h,w) uint8 from encode_png."""
    image = cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


def _shrunk(crop: Crop) -> dict[str, str]:
    image = np.asarray(crop.image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"a crop must be (h, w, 3) uint8, got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    factor = min(1.0, CROP_SIDE / max(h, w))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    out = {"image": encode_png(cv2.resize(image, size, interpolation=cv2.INTER_AREA) if factor < 1 else image)}
    if crop.mask is not None:
        mask = np.asarray(crop.mask).astype(np.uint8) * 255
        if mask.shape != (h, w):
            raise ValueError(f"a crop's mask must be {(h, w)}, got {mask.shape}")
        out["mask"] = encode_png(cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) if factor < 1 else mask)
    return out


@dataclass
class Crops:
    """A grid of small images: `rows` (e.g. "clip", "ground truth") x `columns` (e.g. "before frame 5")."""

    name: str
    title: str
    columns: list[str]
    rows: dict[str, list[Crop | None]]  # label -> one crop (or None: not found) per column
    kind: str = field(default="crops", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        self.columns = [str(c) for c in self.columns]
        if sum(len(v) for v in self.rows.values()) > MAX_CROPS:
            raise ValueError(f"{self.name}: more than {MAX_CROPS} crops")
        for label, crops in self.rows.items():
            if len(crops) != len(self.columns):
                raise ValueError(f"{self.name}: row {label!r} has {len(crops)} crops for {len(self.columns)} columns")
        self.rows = {str(k): [None if c is None else (c if isinstance(c, dict) else _shrunk(c)) for c in v]
                     for k, v in self.rows.items()}


@dataclass
class Timeline:
    """Per row, per frame: present (True), absent (False) or unknown (None), e.g. an object in the clip and in
    the ground truth."""

    name: str
    title: str
    rows: dict[str, Sequence[bool | None]]
    marks: Sequence[float] = ()  # frames to mark: where it fails
    events: Sequence[float] = ()  # frames of the world's events (an occlusion starts, a cut)
    kind: str = field(default="timeline", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        self.rows = {str(k): [None if v is None else bool(v) for v in values] for k, values in self.rows.items()}
        lengths = {len(v) for v in self.rows.values()}
        if len(lengths) > 1 or any(n > MAX_POINTS for n in lengths):
            raise ValueError(f"{self.name}: rows of lengths {sorted(lengths)} (one length, at most {MAX_POINTS})")
        self.marks = [m for m in _numbers(list(self.marks), f"{self.name}.marks") if m is not None]
        self.events = [m for m in _numbers(list(self.events), f"{self.name}.events") if m is not None]


Explanation = Series | Trajectories | Crops | Timeline
KINDS: dict[str, type] = {"series": Series, "trajectories": Trajectories, "crops": Crops, "timeline": Timeline}


class Explanations:
    """The sink an analyzer fills for one clip (AnalysisContext.explain); the runner stores `to_json()`."""

    def __init__(self) -> None:
        self.items: list[Explanation] = []

    def add(self, item: Explanation) -> None:
        if not isinstance(item, tuple(KINDS.values())):
            raise TypeError(f"an explanation is one of {', '.join(k.__name__ for k in KINDS.values())}, "
                            f"not {type(item).__name__}")
        if any(i.name == item.name for i in self.items):
            raise ValueError(f"explanation {item.name!r} given twice")
        if len(self.items) >= MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} explanations per analyzer and clip")
        self.items.append(item)

    def to_json(self) -> list[dict]:
        return [to_json(item) for item in self.items]


def to_json(item: Explanation) -> dict:
    out = {f.name: getattr(item, f.name) for f in fields(item)}
    if isinstance(item, Trajectories):
        out["axes"] = list(item.axes)
    return out


def from_json(data: dict) -> Explanation:
    """An explanation read back from a rows file (unknown kinds raise ValueError)."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise ValueError(f"unknown explanation kind {kind!r}")
    if kind == "trajectories":
        data["axes"] = tuple(data.get("axes", (0, 1)))
    return KINDS[kind](**data)
