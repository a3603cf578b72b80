"""The autoencoder generator: the ground truth through the bundled VAE (the bundled model's own ceiling)."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.generators import GENERATORS
from simworld.model.checkpoint import vae_path
from simworld.model.checkpoint import MODEL_DIR
from simworld.model.checkpoint import CheckpointError
from simworld.probes import Conditioning, ProbeSpec
from simworld.runner import GroundTruthStore, Job, build_request


def _request(tmp_path, kind="none", k=1, width=64, height=64, frames=8):
    probe = ProbeSpec("p", "physics", width=width, height=height, frames=frames, conditioning=Conditioning(kind, k))
    return build_request(Job(probe, 0), GroundTruthStore(tmp_path))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture(scope="module")
def autoencoder():
    return GENERATORS.get("autoencoder")(precision="fp32")


def test_round_trip_is_close_to_the_ground_truth_and_not_equal(autoencoder, tmp_path):
    request = _request(tmp_path)
    truth = request.ground_truth().frames
    frames = autoencoder.generate(request)
    assert frames.shape == truth.shape and frames.dtype == np.uint8
    assert 18.0 < _psnr(frames, truth) < 60.0  # the bundled VAE: about 22 dB on held-out clips; lossy, not a copy
    assert np.array_equal(frames, autoencoder.generate(request))  # deterministic (posterior mean)


@pytest.mark.parametrize("width, height, frames", [(72, 56, 10)])
def test_sizes_that_of_frames_not_whole_latent_frames_are_cropped(autoencoder, tmp_path, width, height, frames):
    request = _request(tmp_path, width=width, height=height, frames=frames)
    assert autoencoder.generate(request).shape == (frames, height, width, 3)


def test_given_frames_are_kept_exactly(autoencoder, tmp_path):
    request = _request(tmp_path, "extend_forward", 4)
    frames = autoencoder.generate(request)
    assert np.array_equal(frames[request.given_indices], request.given_frames)


def test_a_transformer_checkpoint_names_its_vae(tmp_path):
    assert vae_path(MODEL_DIR / "dit-16m.safetensors") == MODEL_DIR / "vae.safetensors"
    with pytest.raises(CheckpointError, match="does not exist"):
        GENERATORS.get("autoencoder")(checkpoint=str(tmp_path / "none.safetensors"))
