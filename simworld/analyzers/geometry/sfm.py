"""Structure from motion of a short clip with COLMAP (pycolmap), for analyzers that reason about 3D.

The frames are written as PNGs at native resolution to a temporary folder, SIFT features are extracted on
the CPU (upsampled first octave, low peak threshold: small frames have few features), matched sequentially
(each frame with the next `overlap`) and the incremental mapper reconstructs one model with a single
pinhole camera whose intrinsics are given and held fixed: refining the focal length from a 16-frame,
128-pixel clip is unstable (a dolly collapses the focal length), and a fixed guess registers every frame
of an orbit or a dolly. Single-threaded with fixed seeds, so the result is deterministic.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass
class SfmResult:
    """One reconstruction of a clip with T frames; arrays are indexed by frame."""

    registered: np.ndarray  # (T,) bool
    rotations: np.ndarray  # (T,3,3) world-to-camera rotation; NaN where not registered
    centers: np.ndarray  # (T,3) camera centre in the reconstruction's world; NaN where not registered
    points: int  # 3D points
    reprojection_error: float  # mean over all observations, pixels (NaN without points)
    track_length: float  # mean number of frames observing a 3D point (NaN without points)
    observations: np.ndarray  # (T,) 3D points observed in each frame
    point_xyz: np.ndarray  # (P,3) the 3D points
    obs_frame: np.ndarray  # (M,) frame of each observation of a 3D point
    obs_xy: np.ndarray  # (M,2) where the feature was detected, pixels
    obs_residual: np.ndarray  # (M,2) reprojection minus detection, pixels
    obs_depth: np.ndarray  # (M,) depth of the observed 3D point in that frame's camera

    @property
    def registered_fraction(self) -> float:
        return float(self.registered.mean())


def default_intrinsics(width: int, height: int, fov_y_deg: float = 50.0) -> np.ndarray:
    """A pinhole guess when nothing better is known: square pixels, centred, vertical field of view fov_y."""
    f = 0.5 * height / np.tan(np.radians(fov_y_deg) / 2)
    return np.array([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])


@contextlib.contextmanager
def _quiet():
    import pycolmap

    previous = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = 3  # COLMAP logs every step to stderr through glog; keep only fatal ones
    try:
        yield
    finally:
        pycolmap.logging.minloglevel = previous


def run_sfm(frames: np.ndarray, K: np.ndarray, overlap: int = 5, threads: int = 1, seed: int = 0,
            peak_threshold: float = 0.002, max_ratio: float = 0.9, min_pose_inliers: int = 10,
            init_tri_angle: float = 4.0, init_pair: tuple[int, int] | None = None, upsample: int = 1,
            **mapper) -> SfmResult:
    """Reconstruct the clip's cameras and a sparse point cloud; K (3x3) is the fixed pinhole camera.
    A low SIFT peak threshold, a lenient ratio test and few inliers to register a frame keep one model over a
    whole orbit even after heavy compression; the geometric verification and bundle adjustment still hold."""
    import pycolmap

    T = len(frames)
    empty = SfmResult(np.zeros(T, bool), np.full((T, 3, 3), np.nan), np.full((T, 3), np.nan), 0, float("nan"),
                      float("nan"), np.zeros(T, int), np.zeros((0, 3)), np.zeros(0, int), np.zeros((0, 2)),
                      np.zeros((0, 2)), np.zeros(0))
    with tempfile.TemporaryDirectory(prefix="simworld_sfm_") as tmp, _quiet():
        folder = Path(tmp)
        images = folder / "images"
        images.mkdir()
        names = [f"{t:05d}.png" for t in range(T)]
        if upsample > 1:
            frames = np.stack([cv2.resize(f, None, fx=upsample, fy=upsample, interpolation=cv2.INTER_CUBIC) for f in frames])
            K = np.diag([upsample, upsample, 1.0]) @ K
        for name, frame in zip(names, frames):
            cv2.imwrite(str(images / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        database = folder / "database.db"
        extraction = pycolmap.FeatureExtractionOptions()
        extraction.num_threads = threads
        extraction.sift.peak_threshold = peak_threshold
        extraction.sift.first_octave = -1
        extraction.sift.max_num_features = 2048
        reader = pycolmap.ImageReaderOptions()
        reader.camera_model = "SIMPLE_PINHOLE"
        reader.camera_params = f"{0.5 * (K[0, 0] + K[1, 1])},{K[0, 2]},{K[1, 2]}"
        pycolmap.set_random_seed(seed)
        pycolmap.extract_features(database, images, names, camera_mode=pycolmap.CameraMode.SINGLE,
                                  reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)
        matching = pycolmap.FeatureMatchingOptions()
        matching.num_threads = threads
        matching.sift.max_ratio = max_ratio
        pairing = pycolmap.SequentialPairingOptions()
        pairing.overlap = overlap
        pairing.quadratic_overlap = False
        pairing.num_threads = threads
        verification = pycolmap.TwoViewGeometryOptions()
        verification.ransac.random_seed = seed
        pycolmap.match_sequential(database, matching, pairing, verification, device=pycolmap.Device.cpu)
        options = pycolmap.IncrementalPipelineOptions()
        options.num_threads = threads
        options.random_seed = seed
        options.multiple_models = False
        options.min_model_size = 3
        options.extract_colors = False
        options.ba_refine_focal_length = False
        options.ba_refine_extra_params = False
        options.ba_refine_principal_point = False
        options.mapper.num_threads = threads
        if init_pair is not None:
            options.init_image_id1, options.init_image_id2 = init_pair[0] + 1, init_pair[1] + 1
        options.mapper.random_seed = seed
        options.mapper.init_min_num_inliers = 30
        options.mapper.init_min_tri_angle = init_tri_angle
        for k, v in mapper.items():
            setattr(options.mapper, k, v)
        options.mapper.abs_pose_min_num_inliers = min_pose_inliers
        options.mapper.abs_pose_refine_focal_length = False
        options.mapper.abs_pose_refine_extra_params = False
        options.triangulation.random_seed = seed
        output = folder / "sparse"
        output.mkdir()
        try:
            models = pycolmap.incremental_mapping(database, images, output, options)
        except Exception:  # noqa: BLE001 - COLMAP gives up in many ways on clips it cannot reconstruct
            return empty
    if not models:
        return empty
    model = max(models.values(), key=lambda m: (m.num_reg_images(), m.num_points3D()))
    scale_error = 1.0 / upsample
    if model.num_reg_images() < 2:
        return empty
    out = SfmResult(np.zeros(T, bool), np.full((T, 3, 3), np.nan), np.full((T, 3), np.nan), model.num_points3D(),
                    float(model.compute_mean_reprojection_error()) * scale_error if model.num_points3D() else float("nan"),
                    float(model.compute_mean_track_length()) if model.num_points3D() else float("nan"),
                    np.zeros(T, int), np.zeros((0, 3)), np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2)),
                    np.zeros(0))
    camera = next(iter(model.cameras.values()))
    Kc = np.asarray(camera.calibration_matrix())
    xyz = {pid: np.asarray(p.xyz) for pid, p in model.points3D.items()}
    frames_of, detected, projected, depths = [], [], [], []
    for image_id in model.reg_image_ids():
        image = model.image(image_id)
        t = names.index(image.name)
        pose = image.cam_from_world()
        matrix = np.asarray(pose.matrix())
        out.registered[t] = True
        out.rotations[t] = matrix[:3, :3]
        out.centers[t] = -matrix[:3, :3].T @ matrix[:3, 3]
        out.observations[t] = image.num_points3D
        seen = [(p.xy, xyz[p.point3D_id]) for p in image.points2D if p.has_point3D()]
        if seen:
            xy = np.array([a for a, _ in seen])
            local = (matrix[:3, :3] @ np.array([b for _, b in seen]).T + matrix[:3, 3:4]).T
            cam = local @ Kc.T
            depths.append(local[:, 2])
            frames_of.append(np.full(len(seen), t))
            detected.append(xy)
            projected.append(cam[:, :2] / cam[:, 2:3])
    if frames_of:
        out.obs_frame = np.concatenate(frames_of)
        out.obs_xy = np.concatenate(detected) / upsample
        out.obs_residual = (np.concatenate(projected) - np.concatenate(detected)) / upsample
        out.obs_depth = np.concatenate(depths)
    if model.num_points3D():
        out.point_xyz = np.array([p.xyz for p in model.points3D.values()])
    return out
