"""The geometry score: components in [0, 1] from the measured numbers, tolerant up to what the ground truth
itself shows (or, without a probe, up to what ground-truth clips of every kind show), multiplied together.

Each rule is `1 up to a tolerance, then exp(-(x - tolerance) / scale)` (measure.tolerance.tolerant, strict: a
value that cannot be measured counts as failed, a tolerance that cannot be judges nothing). With a reference the
tolerance is a margin over the reference's own value, so a hard clip (a fast pan, a dolly whose SfM rotation is
ambiguous) is judged against what the measurement achieves on its own ground truth.
"""

from __future__ import annotations

import numpy as np

from simworld.analyzers.measure.tolerance import tolerant

SFM_METRICS = ("registered_fraction", "reprojection_error", "track_length", "points_per_frame")
PATH_METRICS = ("path_recovered", "rotation_error_deg", "position_error", "arc_ratio", "radius_ratio",
                "backtrack_fraction")


def _finite(d: dict | None, key: str) -> bool:
    return d is not None and d.get(key) is not None and bool(np.isfinite(d[key]))


def _log_ratio(value: float) -> float:
    return abs(float(np.log(value))) if np.isfinite(value) and value > 0 else float("inf")


# Without a reference, the worst a ground-truth clip of that kind shows (16-frame 128x128 camera_orbit and
# permanence clips, every seed measured; see tests/analyzers/geometry/): the same rules then apply.
TYPICAL = {
    "translation": {"coherent_epipolar_error": 0.15, "tracked_fraction": 0.75, "worst_pair_error": 0.2,
                    "worst_pair_tracked": 0.5, "registered_fraction": 0.9, "reprojection_error": 0.7,
                    "path_recovered": 1.0, "rotation_error_deg": 3.0, "arc_ratio": 1.0, "radius_ratio": 1.0,
                    "backtrack_fraction": 0.02},
    "rotation": {"coherent_epipolar_error": 0.15, "coherent_homography_error": 0.4, "tracked_fraction": 0.75,
                 "worst_pair_error": 0.6, "worst_pair_tracked": 0.5, "path_recovered": 1.0,
                 "rotation_error_deg": 3.0, "arc_ratio": 1.0, "backtrack_fraction": 0.02},
}


SHAPE = (0.3, 0.1)  # (tolerance, scale) on shape_drift: families' calm clips drift up to 0.22 (compressed orbit)


def shape_part(m: dict[str, float]) -> float:
    """The rigidity component's share from the objects' shapes (with a probe; 1 where it could not be measured)."""
    return tolerant(m["shape_drift"], *SHAPE) if _finite(m, "shape_drift") else 1.0


def score_components(m: dict[str, float], r: dict[str, float] | None, kind: str,
                     probe: bool) -> tuple[dict[str, float], dict[str, str]]:
    """Score components and, for metrics that are not applicable, the reason. m: the clip's numbers,
    r: the same measurement on the ground truth (None without one), kind: translation or rotation."""
    notes: dict[str, str] = {}
    components: dict[str, float] = {}
    measured = r is not None
    r = r if measured else TYPICAL[kind]
    # rigid scene: no coherent deviation from the best fundamental matrix (any rigid scene) nor, beyond the
    # ground truth's own parallax, from the best homography (exact for a camera that only turns; for one
    # that translates, growth beyond the ground truth's residual is deformation: decisive for a dolly)
    epipolar, homography = "coherent_epipolar_error", "coherent_homography_error"
    rigid = tolerant(m[epipolar], 2.0 * r[epipolar] + 0.06, 0.08, strict=True)
    if kind == "rotation" or measured:
        rigid *= tolerant(m[homography], 1.5 * r[homography] + 0.35, 0.3, strict=True)
    components["rigidity"] = rigid * tolerant(r["tracked_fraction"] - m["tracked_fraction"], 0.15, 0.1, strict=True)
    if probe:  # and every object keeps its shape (shape.py): one that stretches moves too few tracks to show above
        components["rigidity"] *= shape_part(m)
        if not _finite(m, "shape_drift"):
            notes["shape_drift"] = "no object in plain view in enough frames to compare its shape"

    # continuity: no pair of consecutive frames that breaks (a swapped or inserted frame)
    margin = 0.15 if kind == "translation" else 0.3
    worst_error = (tolerant(m["worst_pair_error"], 2.0 * r["worst_pair_error"] + margin, 2 * margin, strict=True)
                   if _finite(r, "worst_pair_error") else 1.0)
    kept = m["worst_pair_tracked"] / max(r["worst_pair_tracked"], 1e-6)  # shake or compression keep over half
    components["continuity"] = worst_error * tolerant(1.0 - kept, 0.45, 0.1, strict=True)

    # structure from motion, where the camera translates
    if kind == "rotation":
        notes.update({k: "the camera only turns: no parallax to reconstruct" for k in SFM_METRICS})
    elif "registered_fraction" not in m:
        notes.update({k: "frames too small for structure from motion (shorter side under 96 px)" for k in SFM_METRICS})
    elif measured and not r.get("registered_fraction"):
        notes.update({k: "structure from motion fails on the ground truth itself at this size" for k in SFM_METRICS})
    elif not probe and not m.get("registered_fraction"):
        notes.update({k: "structure from motion could not reconstruct the clip" for k in SFM_METRICS})
    else:
        registered = tolerant(r["registered_fraction"] - m.get("registered_fraction", 0.0), 0.15, 0.15, strict=True)
        error = (tolerant(m["reprojection_error"], 1.5 * r["reprojection_error"] + 0.1, 0.2, strict=True)
                 if _finite(m, "reprojection_error") else 0.0)
        components["reconstruction"] = registered * error

    if not probe:
        return components, notes
    # with a probe: the camera does what it was told
    if measured:
        ratio = m["motion"] / max(r["motion"], 1e-6)
        # a frozen clip; slower motion is the path's to judge
        components["motion"] = tolerant(1.0 - ratio, 0.6, 0.1, strict=True)
    if "path_recovered" not in m:
        notes.update({k: "frames too small for structure from motion: no camera path" for k in PATH_METRICS})
    elif r.get("path_recovered", 0.0) >= 0.5 and _finite(r, "rotation_error_deg"):
        parts = [tolerant(r["path_recovered"] - m["path_recovered"], 0.15, 0.15, strict=True),
                 tolerant(m.get("rotation_error_deg", np.nan), 2.0 * r["rotation_error_deg"] + 6.0, 5.0, strict=True)]
        if _finite(r, "backtrack_fraction"):
            parts.append(tolerant(m.get("backtrack_fraction", np.nan), r["backtrack_fraction"] + 0.1, 0.1, strict=True))
        # the ground truth says whether the commanded path turns or nears the scene; a typical one cannot
        judged = (lambda key: _finite(r, key)) if measured else (lambda key: _finite(m, key))
        if judged("arc_ratio"):
            parts.append(tolerant(_log_ratio(m.get("arc_ratio", np.nan)), _log_ratio(r["arc_ratio"]) + 0.2, 0.2,
                                  strict=True))
        if judged("radius_ratio"):
            parts.append(tolerant(_log_ratio(m.get("radius_ratio", np.nan)), _log_ratio(r["radius_ratio"]) + 0.35,
                                  0.3, strict=True))
        components["path"] = float(np.prod(parts))
    else:
        notes.update({k: "the camera path cannot be recovered from the ground truth itself" for k in PATH_METRICS})
    return components, notes
