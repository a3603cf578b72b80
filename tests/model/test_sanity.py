"""Sanity of the bundled model's machinery, end to end: a tiny transformer that overfits clips must give them
back through the real pipeline, and sampling must show the model what training shows it.

Overfitting is done in latent space with the real bundled VAE (`model/vae.safetensors`) on 64x64x16 clips
(latent 8 x 4 x 8 x 8: 64 tokens), through `DiTTask.loss`, the loss `simworld train` runs. The bar is the VAE's
own reconstruction: a transformer that returned the clip's latent exactly would score the VAE's PSNR (19.5 dB
on the physics clip, 15.4 dB on the orbit clip), and one that returns the wrong clip scores about 10-11 dB. So
a sample counts as the clip when its PSNR is within 1 dB of the VAE's own, and the tiny models here land
within 0.1 dB of it. Every test here failed before the fix of issue 22 or guards a step of that check.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simworld.model.checkpoint import MODEL_DIR
from simworld.model.pipeline import VideoPipeline
from simworld.model.checkpoint import load_checkpoint
from simworld.model.data import frames_uint8, video_tensor
from simworld.model.flow import CONDITION_PATTERNS, SHIPPED_PATTERNS, condition_mask, sample_condition_mask
from simworld.model.sampler import SamplerConfig
from simworld.model.text import TextTokens
from simworld.model.train import DiTTask
from simworld.model.transformer import DiTConfig, VideoDiT
from simworld.probes import Conditioning
from tests.conftest import rendered

TEXT_DIM = 8
SIZE = dict(width=64, height=64, frames=16)
KINDS = [("image", 1), ("extend_forward", 4), ("extend_forward", 6), ("extend_backward", 4), ("interpolate", 1),
         ("interpolate", 2)]


class NoText:
    """The empty caption for every clip: what tells the overfit clips apart is only what the pipeline is given."""

    def __call__(self, texts: list[str]) -> TextTokens:
        return TextTokens(torch.zeros(len(texts), 2, TEXT_DIM), torch.ones(len(texts), 2, dtype=torch.bool))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / ((a.astype(float) - b.astype(float)) ** 2).mean()))


@pytest.fixture(scope="module")
def vae():
    torch.set_num_threads(1)
    return load_checkpoint(MODEL_DIR / "vae.safetensors", "video-vae")[0]


@pytest.fixture(scope="module")
def clips():
    return [rendered("physics", 0, **SIZE).frames, rendered("camera_orbit", 1, **SIZE).frames]


@pytest.fixture(scope="module")
def latents(vae, clips):
    with torch.no_grad():
        return torch.cat([vae.encode(video_tensor(c)[None]) for c in clips])


@pytest.fixture(scope="module")
def ceilings(vae, latents):
    """The VAE's own reconstructions: what a perfect transformer would return."""
    with torch.no_grad():
        return [frames_uint8(vae.decode(latents[i:i + 1])[0]) for i in range(len(latents))]


def overfit(latents: torch.Tensor, steps: int, condition_probability: float) -> VideoDiT:
    """A tiny transformer trained by `DiTTask.loss` (timesteps, conditioning masks, noising and loss as `simworld
    train` draws them) on batches of 8 that repeat the given clips."""
    torch.manual_seed(0)
    dit = VideoDiT(DiTConfig(width=64, depth=2, heads=2, latent_channels=8, text_dim=TEXT_DIM))
    task = DiTTask.__new__(DiTTask)  # the training loss without the training data, VAE and text encoder
    task.cfg = {"seed": 0, "timestep_shift": 1.0, "condition_probability": condition_probability}
    task.device = torch.device("cpu")
    optimizer = torch.optim.AdamW(dit.parameters(), lr=2e-3, weight_decay=0.0)
    batch = {"latent": latents[torch.arange(8) % len(latents)], "text": torch.zeros(8, 2, TEXT_DIM),
             "mask": torch.ones(8, 2, dtype=torch.bool)}
    for step in range(steps):
        for group in optimizer.param_groups:  # the last 30% anneal to zero
            group["lr"] = 2e-3 * min(1.0, (steps - step) / (0.3 * steps))
        loss, _ = task.loss(dit, batch, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return dit.eval()


def pipeline(vae, dit) -> VideoPipeline:
    return VideoPipeline(vae, dit, NoText(), SamplerConfig(steps=10, guidance=1.0), precision="fp32")


def sample(pipe: VideoPipeline, seed: int, clip: np.ndarray | None = None, kind: str = "none", k: int = 1,
           keep_given: bool = False) -> np.ndarray:
    target, source = Conditioning(kind, k).indices(len(clip) if clip is not None else 16)
    given = clip[source] if len(source) else None
    return pipe("", 16, 64, 64, seed=seed, given=given, indices=target, keep_given=keep_given)


# ---------------------------------------------------------------------- overfitting
def test_a_tiny_transformer_overfits_one_clip(vae, clips, latents, ceilings):
    pipe = pipeline(vae, overfit(latents[:1], steps=500, condition_probability=0.0))
    ceiling = psnr(ceilings[0], clips[0])
    for seed in (0, 1):
        out = sample(pipe, seed)
        assert psnr(out, clips[0]) > ceiling - 1.0, f"seed {seed}: {psnr(out, clips[0]):.1f} dB, VAE {ceiling:.1f}"
        assert psnr(out, ceilings[0]) > 28.0, "the latent itself is returned, not only something as good"


@pytest.fixture(scope="module")
def two_clip_model(vae, latents):
    """Two unrelated clips, half of the batches conditioned as training conditions them."""
    return pipeline(vae, overfit(latents, steps=1000, condition_probability=0.5))


def test_without_conditioning_either_clip_comes_out(two_clip_model, clips, ceilings):
    """What the conditioned test below relies on: the model knows both clips, and noise alone picks one."""
    picked = set()
    for seed in range(4):
        out = sample(two_clip_model, seed)
        scores = [psnr(out, c) for c in clips]
        which = int(np.argmax(scores))
        assert scores[which] > psnr(ceilings[which], clips[which]) - 1.0
        picked.add(which)
    assert picked == {0, 1}


@pytest.mark.parametrize("kind, k", KINDS)
def test_conditioning_gives_back_the_clip_it_comes_from(two_clip_model, clips, ceilings, kind, k):
    """Given part of clip A, the sample is clip A at every seed, also where the unconditioned noise leads to B.
    Before the fix, one image (and an interpolation's or a loop's single end frames) joined at
    partial_strength on the noising path, which training never pairs with conditioning: 4 of 16 such samples
    here were the other clip."""
    for which, clip in enumerate(clips):
        ceiling = psnr(ceilings[which], clip)
        for seed in range(4):
            out = sample(two_clip_model, seed, clip, kind, k)
            assert psnr(out, clip) > ceiling - 1.0, (f"{kind} k={k}, clip {which}, seed {seed}: "
                                                     f"{psnr(out, clip):.1f} dB against the VAE's {ceiling:.1f}")


def test_the_whole_clip_given_comes_back_as_the_vae_reconstruction(vae, clips, ceilings):
    """Every group given: the model's output is never used, whatever it is (here untrained)."""
    torch.manual_seed(1)
    pipe = pipeline(vae, VideoDiT(DiTConfig(width=32, depth=1, heads=2, latent_channels=8, text_dim=TEXT_DIM)))
    for which, clip in enumerate(clips):
        out = pipe("", 16, 64, 64, seed=0, given=clip, indices=np.arange(16), keep_given=False)
        assert np.array_equal(out, ceilings[which])
    # 14 frames: the last group is frames 12, 13 and two padding copies of 13, still whole
    out = pipe("", 14, 64, 64, seed=0, given=clips[0][:14], indices=np.arange(14), keep_given=False)
    with torch.no_grad():
        padded = vae.decode(vae.encode(video_tensor(clips[0][:14])[None]))[0]
    assert np.abs(out.astype(int) - frames_uint8(padded)[:14]).max() <= 1  # padding by copy vs by expand: rounding


# ---------------------------------------------------------------------- what the model sees
class Spy(VideoDiT):
    """Records the latent and per-frame timesteps of every call; predicts zero velocity."""

    def __init__(self):
        super().__init__(DiTConfig(width=32, depth=1, heads=2, latent_channels=8, text_dim=TEXT_DIM))
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x, t, text, text_mask):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return torch.zeros_like(x)


def test_training_shows_given_frames_clean_at_t0_and_the_rest_at_the_clip_t(latents):
    """The reference for the sampling test below: in `DiTTask.loss`, a given latent frame is its clean latent at
    t = 0; every other frame of the clip shares one t and lies on the noising path."""
    spy = Spy()
    task = DiTTask.__new__(DiTTask)
    task.cfg = {"seed": 0, "timestep_shift": 1.0, "condition_probability": 1.0}
    task.device = torch.device("cpu")
    batch = {"latent": latents, "text": torch.zeros(2, 2, TEXT_DIM), "mask": torch.ones(2, 2, dtype=torch.bool)}
    seen_given = 0
    for step in range(8):
        spy.calls.clear()
        task.loss(spy, batch, step)
        x, t = spy.calls[0]
        for b in range(2):
            given = t[b] == 0
            seen_given += int(given.sum())
            assert torch.equal(x[b][:, given], latents[b][:, given])
            assert len(set(t[b][~given].tolist())) == 1
    assert seen_given > 0


def group_mask(indices: np.ndarray, frames: int) -> torch.Tensor:
    """Latent frames (groups of 4 video frames) that hold at least one given frame."""
    mask = torch.zeros(-(-frames // 4), dtype=torch.bool)
    mask[np.unique(np.asarray(indices) // 4)] = True
    return mask


def training_frequency(mask: torch.Tensor, draws: int = 20000) -> float:
    """How often training's `sample_condition_mask` (at its default 25%) gives a clip exactly this mask."""
    drawn = sample_condition_mask(draws, len(mask), generator=torch.Generator().manual_seed(0))
    return float((drawn == mask).all(1).float().mean())


@pytest.mark.parametrize("kind, k, frames", [(kind, k, 16) for kind, k in KINDS]
                         + [("loop", 1, 16), ("extend_forward", 5, 16), ("extend_forward", 3, 16),
                            ("extend_backward", 2, 18), ("extend_forward", 6, 18)])
@pytest.mark.parametrize("method", ["euler", "heun"])
def test_sampling_shows_given_frames_as_training_does(vae, clips, kind, k, frames, method):
    """At every model call of the sampler: a latent frame at t = 0 holds exactly the conditioning latent of its
    group (a group of 4 video frames: the given ones, the rest filled by the nearest given one), every other
    frame is at the step's t. While the layout is decided (the first call, t = 1), the frames at t = 0 are
    exactly the groups that hold given frames: the mask training draws (image: `first`, extend forward by one
    group: `first`/`head_quarter`, interpolation and loops: `first_and_last`, ...). Before the fix a partly
    given group (one image, k not a multiple of 4) was fed noised at t, a pairing training never makes."""
    spy = Spy()
    pipe = VideoPipeline(vae, spy, NoText(), SamplerConfig(method=method, steps=6, guidance=1.0), precision="fp32")
    clip = rendered("physics", 0, 64, 64, frames).frames if frames != 16 else clips[0]
    target, source = Conditioning(kind, k).indices(frames)
    pipe("", frames, 64, 64, seed=0, given=clip[source], indices=target)
    ref, m = pipe.condition(frames, 64, 64, clip[source], target, None, 1.0)
    expected = group_mask(target, frames)
    assert torch.equal(m < 1, expected)
    first_x, first_t = spy.calls[0]
    assert torch.equal(first_t[0] == 0, expected), f"t at the first call: {first_t[0].tolist()}"
    assert training_frequency(expected) > 0, "a conditioning mask training never draws"
    for x, t in spy.calls:
        given = t[0] == 0
        assert torch.equal(x[0][:, given], ref[0][:, given])
        assert len(set(t[0][~given].tolist())) <= 1
    hard = m <= 0  # whole groups stay given to the end
    assert all(torch.equal(t[0][hard], torch.zeros(int(hard.sum()))) for _, t in spy.calls)


def test_training_draws_the_masks_the_pipeline_uses():
    """Image-to-video and extend backward by one image are 'first' and 'last' in training, interpolation and
    loops 'first_and_last', about 1/28 of clips each at the default 25% conditioning."""
    for pattern, frames in (("first", 4), ("last", 4), ("first_and_last", 4), ("head_quarter", 8)):
        assert training_frequency(condition_mask(pattern, frames)) > 0.02, pattern
    assert len(SHIPPED_PATTERNS) == 7 and set(SHIPPED_PATTERNS) < set(CONDITION_PATTERNS)


def test_conditioning_latents_line_up_with_the_training_latents(vae, clips):
    """The latent of a whole given group is the latent training used for that group (the same frames, the same
    normalisation); a one-frame shift would be far off, which shows the check can fail."""
    clip = clips[0]
    with torch.no_grad():
        training = vae.encode(video_tensor(clip)[None])
    pipe = pipeline(vae, Spy())
    for k in (4, 8, 12):
        ref, m = pipe.condition(16, 64, 64, clip[:k], np.arange(k), None, 1.0)
        whole = m <= 0
        assert int(whole.sum()) == k // 4
        assert torch.allclose(ref[:, :, whole], training[:, :, whole], atol=1e-4)
    shifted, _ = pipe.condition(16, 64, 64, clip[1:9], np.arange(8), None, 1.0)
    assert (shifted[:, :, :2] - training[:, :, :2]).abs().mean() > 0.02
    # the scale the transformer trains on: normalised per channel (mean 0, std 1 over training clips)
    assert abs(float(training.mean())) < 0.5 and 0.4 < float(training.std()) < 2.0
