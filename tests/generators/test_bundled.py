"""The bundled generator: every conditioning kind of the probes, SDEdit editing, determinism, sizes, errors.

Uses a tiny untrained checkpoint made by the test (tests/model/tiny.py): what is checked is the machinery
(where conditioning enters, what is exact, what is an error), not sample quality.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from simworld.generators import GENERATORS, GenerationError, check_output
from simworld.model.checkpoint import CheckpointError
from simworld.probes import Conditioning, ProbeSpec
from simworld.runner import GroundTruthStore, Job, build_request
from tests.model.tiny import make_tiny_checkpoint

KINDS = [("none", 1), ("image", 1), ("extend_forward", 4), ("extend_backward", 4), ("interpolate", 2), ("loop", 1)]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def bundled(checkpoint):
    return GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=3)


def _request(tmp_path, kind="none", k=1, width=32, height=32, frames=16, seed=0):
    probe = ProbeSpec("p", "camera_orbit", width=width, height=height, frames=frames,
                      conditioning=Conditioning(kind, k))
    return build_request(Job(probe, seed), GroundTruthStore(tmp_path))


@pytest.mark.parametrize("kind, k", KINDS)
def test_every_conditioning_kind_reproduces_its_frames_exactly(bundled, tmp_path, kind, k):
    request = _request(tmp_path, kind, k)
    frames = check_output(bundled.generate(request), request, "bundled")
    assert frames.shape == (16, 32, 32, 3)
    if kind != "none":
        assert len(request.given_indices) and np.array_equal(frames[request.given_indices], request.given_frames)
    assert np.array_equal(frames, bundled.generate(request)), "same request, same clip"


@pytest.mark.parametrize("kind, k, frames, join", [
    ("image", 1, 16, [0.7, 1, 1, 1]),
    ("extend_forward", 4, 16, [0, 1, 1, 1]),
    ("extend_forward", 8, 16, [0, 0, 1, 1]),
    ("extend_backward", 4, 16, [1, 1, 1, 0]),
    ("interpolate", 2, 16, [0.7, 1, 1, 0.7]),
    ("loop", 1, 16, [0.7, 1, 1, 0.7]),
    ("extend_backward", 2, 10, [1, 1, 0]),  # frames 8, 9 given; the padding repeats frame 9: a whole group
    ("none", 1, 16, [1, 1, 1, 1]),
])
def test_latent_frames_join_denoising_as_their_groups_are_given(bundled, tmp_path, kind, k, frames, join):
    request = _request(tmp_path, kind, k, frames=frames)
    _, m = bundled.pipeline.condition(frames, 32, 32, request.given_frames, request.given_indices, None, 1.0)
    assert m.tolist() == pytest.approx(join)


def test_fully_given_groups_are_hard_conditioning(bundled, tmp_path):
    """A group whose frames are all given is decoded from its clean latent, whatever the noise."""
    request = _request(tmp_path, "extend_forward", 4)
    run = lambda seed: bundled.pipeline(request.caption, 16, 32, 32, seed=seed, given=request.given_frames,  # noqa
                                        indices=request.given_indices, keep_given=False)
    a, b = run(1), run(2)
    assert np.array_equal(a[:4], b[:4]) and not np.array_equal(a[4:], b[4:])


def test_sdedit_strength(bundled, tmp_path):
    request = _request(tmp_path)
    reference = request.ground_truth().frames
    pipe = bundled.pipeline
    free = pipe(request.caption, 16, 32, 32, seed=3)
    assert np.array_equal(pipe(request.caption, 16, 32, 32, seed=3, reference=reference, strength=1.0), free)
    kept = [pipe(request.caption, 16, 32, 32, seed=s, reference=reference, strength=0.0) for s in (3, 4)]
    assert np.array_equal(*kept), "strength 0 keeps the reference (its VAE reconstruction)"
    edited = pipe(request.caption, 16, 32, 32, seed=3, reference=reference, strength=0.5)
    assert not np.array_equal(edited, free) and not np.array_equal(edited, kept[0])


def test_seed_decides_the_sample(bundled, tmp_path):
    a, b = _request(tmp_path, seed=0), _request(tmp_path, seed=1)
    assert not np.array_equal(bundled.generate(a), bundled.generate(b))


@pytest.mark.parametrize("width, height, frames", [(40, 32, 8), (64, 40, 9), (32, 56, 12)])
def test_sizes_that_are_not_whole_patches_are_padded_and_cropped(bundled, tmp_path, width, height, frames):
    request = _request(tmp_path, "image", width=width, height=height, frames=frames)
    assert bundled.generate(request).shape == (frames, height, width, 3)


def test_sizes_the_model_cannot_take(bundled, tmp_path):
    request = _request(tmp_path)
    request.width = 36
    with pytest.raises(GenerationError, match="bundled: the bundled model makes clips whose sides are multiples of 8"):
        bundled.generate(request)
    request.width = request.height = 1024
    request.frames = 64
    with pytest.raises(GenerationError, match="1024x1024x64 needs 65536 latent tokens; the bundled model takes at most"):
        bundled.generate(request)


def test_identity_names_checkpoint_and_sampler(bundled, checkpoint):
    from simworld.model.checkpoint import file_sha256

    ident = bundled.identity()
    assert ident["generator"] == "bundled" and ident["checkpoint_sha256"] == file_sha256(checkpoint)
    assert ident["sampler"] == {"method": "euler", "steps": 3, "guidance": 4.0, "shift": 1.0}
    assert ident["pipeline"] == 2  # the sampling loop's version: a fixed loop does not serve the old loop's clips
    heun = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=3, sampler="heun")
    assert heun.identity() != ident and bundled.checkpoint == str(checkpoint)


def test_missing_checkpoint_and_vae(tmp_path):
    with pytest.raises(CheckpointError, match="nope.safetensors does not exist"):
        GENERATORS.get("bundled")(checkpoint=str(tmp_path / "nope.safetensors"))
    path = make_tiny_checkpoint(tmp_path)
    (tmp_path / "vae-tiny.safetensors").unlink()
    with pytest.raises(CheckpointError, match="vae-tiny.safetensors does not exist"):
        GENERATORS.get("bundled")(checkpoint=str(path))


def test_eval_with_a_missing_checkpoint_is_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "eval", "generator=bundled",
                             f"generator.checkpoint={tmp_path}/gone.safetensors", f"runs_dir={tmp_path}",
                             "progress=false"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"simworld eval: error: checkpoint {tmp_path}/gone.safetensors does not exist" in result.stderr


def test_checkpoint_paths_are_shown_relative_to_the_working_directory(tmp_path, monkeypatch):
    from simworld.generators.bundled import shown_path
    from simworld.model.checkpoint import DEFAULT_CHECKPOINT

    monkeypatch.chdir(DEFAULT_CHECKPOINT.parents[1])
    assert shown_path(DEFAULT_CHECKPOINT) == "model/dit-16m.safetensors"  # no build machine's path in a report
    assert shown_path(tmp_path / "x.safetensors") == str(tmp_path / "x.safetensors")  # outside: as given


def test_guidance_one_runs_the_conditional_pass_alone(checkpoint, tmp_path):
    """Guidance 1 is v_u + 1 (v_c - v_u) = v_c: one transformer pass per step instead of two, the same clip."""
    one = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=3, guidance=1.0)
    nearly = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=3, guidance=1.0 + 1e-6)
    batches = []
    for generator in (one, nearly):
        dit = generator.pipeline.dit
        original = dit.forward
        dit.forward = lambda x, *a, _f=original, **k: (batches.append(len(x)), _f(x, *a, **k))[1]
    request = _request(tmp_path)
    single = one.generate(request)
    assert set(batches) == {1} and len(batches) == 3
    double = nearly.generate(request)
    assert set(batches[3:]) == {2}
    assert np.abs(single.astype(int) - double.astype(int)).mean() < 1.0


def test_precision_auto_is_resolved_recorded_and_keyed_by_what_runs(checkpoint, tmp_path):
    """`auto` becomes the format that runs (the clip cache is keyed by it, so `auto` and the explicit choice share
    clips); run.json says what ran and why; a value that is neither is one line, exit status 2."""
    import json

    from simworld.evaluate import run_eval
    from simworld.model.precision import resolve_precision

    auto = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=2)
    chosen = resolve_precision("auto", "cpu").chosen
    explicit = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=2, precision=chosen)
    assert auto.identity()["precision"] == chosen and auto.identity() == explicit.identity()
    other = GENERATORS.get("bundled")(checkpoint=str(checkpoint), steps=2,
                                      precision="fp32" if chosen == "bf16" else "bf16")
    assert other.identity() != auto.identity()
    out = run_eval({"generator": {"name": "bundled", "checkpoint": str(checkpoint), "steps": 2, "guidance": 4.0,
                                  "sampler": "euler", "shift": 1.0, "partial_strength": 0.7, "precision": "auto",
                                  "device": "cpu", "threads": None},
                    "suite": "smoke", "seeds": 1, "name": "p", "runs_dir": str(tmp_path / "runs"), "out": None,
                    "workers": 1, "analyzers": ["temporal"], "cache_dir": str(tmp_path / "cache"),
                    "probes_dir": None, "progress": False, "report": False})
    record = json.loads((out / "run.json").read_text())
    assert record["precision"]["requested"] == "auto" and record["precision"]["chosen"] == chosen
    assert record["precision"]["reason"] and "torch" in record["machine"]
    bad = subprocess.run([sys.executable, "-m", "simworld.cli", "eval", f"generator.checkpoint={checkpoint}",
                          "generator.precision=fp16", f"runs_dir={tmp_path}", "progress=false"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "simworld eval: error: precision='fp16'; known: auto, bf16, fp32" in bad.stderr
