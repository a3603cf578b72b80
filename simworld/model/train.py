"""`simworld train model=NAME`: one plain loop for the VAE and the diffusion transformers.

    for each step: draw a batch -> loss -> backward -> clip -> AdamW -> EMA
    every log_every: a line in log.jsonl; every eval_every: held-out loss; every sample_every: a contact
    sheet; every checkpoint_every (and at the end, or when max_minutes is up): the EMA weights as
    <name>.safetensors + card, and state.pt (weights, EMA, optimizer, counters) to resume from.

Batches are a pure function of (seed, step), so a run stopped and resumed sees the same data as one that
was not. What differs between the VAE and a transformer (data, loss, evaluation, samples) is in the two
small task classes below. Under torchrun each rank trains on its share of every global batch
(`simworld.model.distributed`); only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from simworld.model.checkpoint import CheckpointError, file_sha256, load_checkpoint, save_checkpoint
from simworld.model.distributed import Ranks
from simworld.model.data import (Bucket, BucketSampler, ClipPool, LatentPool, frames_uint8, random_windows,
                                 video_tensor)
from simworld.model.flow import (CONDITION_PATTERNS, SHIPPED_PATTERNS, add_noise, flow_loss, frame_timesteps,
                                 sample_condition_mask, sample_timesteps, still_ends)
from simworld.model.precision import cpu_flags, resolve_precision
from simworld.model.transformer import DIT_SIZES, VideoDiT
from simworld.model.vae import VAE_SIZES, VideoVAE, psnr


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_flags()[0]}, {torch.get_num_threads()} thread(s)"


def contact_sheet(rows: list[np.ndarray], path: Path, every: int = 2) -> None:
    """One row per clip (T, H, W, 3), every `every`-th frame, written as a PNG."""
    from PIL import Image

    width = max(r.shape[2] * len(r[::every]) for r in rows)
    lines = []
    for r in rows:
        line = np.concatenate(list(r[::every]), axis=1)
        lines.append(np.pad(line, ((0, 2), (0, width - line.shape[1]), (0, 0)), constant_values=255))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(lines, axis=0)).save(path)


class VAETask:
    """Crops of consecutive frames; L1 + MSE + small KL; held-out PSNR on whole clips."""

    ranks = Ranks()  # set by train() under torchrun

    def __init__(self, cfg: dict, device: torch.device, cache: Path):
        self.cfg, self.device = cfg, device
        self.model = VideoVAE(VAE_SIZES[cfg["model"]["size"]])
        self.buckets = [Bucket(**b) for b in cfg["data"]["buckets"]]
        self.pools = [ClipPool(b, cache, only_families=cfg["data"]["families"]) for b in self.buckets]
        self.held_out = ClipPool(self.buckets[0], cache, held_out=True, only_families=cfg["data"]["families"])
        self.sampler = BucketSampler(self.buckets, cfg["data"]["pool"], batch_tokens=1, seed=cfg["seed"])
        self.decoder_only, self.latent_space_of = bool(cfg.get("vae_decoder_only")), None
        if self.decoder_only:
            init = cfg.get("init") or (cfg.get("resume") and (Path(cfg["out"]) / "state.pt").exists() and "resume")
            if not init:
                raise ValueError("vae_decoder_only=true: give init=<a VAE checkpoint> (the encoder that stays)")
            for module in self.model.encoder_modules():
                module.requires_grad_(False)
            if init == "resume":  # the run's own card says whose latent space it keeps
                card_path = Path(cfg["out"]) / f"{cfg['model']['name']}.json"
                self.latent_space_of = json.loads(card_path.read_text()).get("latent_space_of") \
                    if card_path.exists() else None
            else:
                _, card = load_checkpoint(Path(init), "video-vae")
                self.latent_space_of = card.get("latent_space_of") or file_sha256(init)

    def batch(self, step: int) -> torch.Tensor:
        which, _ = self.sampler.draw(step)
        rng = np.random.default_rng([self.cfg["seed"], step, 1])
        count = self.cfg["model"]["batch"]
        clips = [self.pools[which][int(i)].frames for i in rng.choice(self.cfg["data"]["pool"], size=count)]
        windows = random_windows(clips, count, self.cfg["vae_window"], self.cfg["vae_crop"], rng)
        if self.ranks.enabled:  # every rank draws the global batch (cheap crops) and keeps its share
            windows = windows[self.ranks.shard(count)]
        return windows.to(self.device)

    def tokens(self, batch: torch.Tensor) -> int:
        return batch.shape[0] * batch.shape[2]  # frames seen

    def loss(self, model: VideoVAE, batch: torch.Tensor, step: int) -> tuple[torch.Tensor, dict]:
        generator = torch.Generator().manual_seed(self.cfg["seed"] * 1_000_003 + step)
        detail = self.cfg.get("vae_detail_weight", 0.0)
        if not self.ranks.enabled:
            return model.loss(batch, generator=None if self.device.type == "cuda" else generator, detail_weight=detail)
        # the posterior's noise is drawn per rank (the same in distribution as one process, not the same numbers);
        # the loss is a mean over crops: weighting each share by its size makes the ranks' mean the global mean
        generator.manual_seed(self.cfg["seed"] * 1_000_003 + step + 7919 * self.ranks.rank)
        loss, info = model.loss(batch, generator=None if self.device.type == "cuda" else generator,
                                detail_weight=detail)
        return loss * batch.shape[0] * self.ranks.world / self.cfg["model"]["batch"], info

    @torch.no_grad()
    def evaluate(self, model: VideoVAE) -> dict[str, float]:
        scores, losses = [], []
        for i in range(self.cfg["data"]["held_out"]):
            video = video_tensor(self.held_out[i].frames)[None].to(self.device)
            recon = model.decode_raw(model.posterior(video)[0])[:, :, :video.shape[2]]
            scores.append(psnr(recon, video))
            losses.append(((recon - video).abs().mean() + (recon - video).pow(2).mean()).item())
        return {"held_out_loss": float(np.mean(losses)), "held_out_psnr": float(np.mean(scores))}

    @torch.no_grad()
    def samples(self, model: VideoVAE, path: Path) -> None:
        rows = []
        for i in range(min(3, self.cfg["data"]["held_out"])):
            frames = self.held_out[i].frames
            recon = model.decode_raw(model.posterior(video_tensor(frames)[None].to(self.device))[0])[0]
            rows += [frames, frames_uint8(recon[:, :len(frames)])]
        contact_sheet(rows, path)

    def before_save(self, ema: VideoVAE) -> None:
        """Measure the latent's per-channel statistics (the transformer trains on normalised latents); a decoder
        trained alone keeps its encoder's, which transformers were trained with."""
        if self.decoder_only:
            return
        videos = [video_tensor(self.pools[0][i].frames)[None].to(self.device)
                  for i in range(min(16, self.cfg["data"]["pool"]))]
        ema.fit_latent_statistics(videos)

    def card(self) -> dict:
        return {"latent_space_of": self.latent_space_of} if self.latent_space_of else {}


class DiTTask:
    """Cached VAE latents in buckets; rectified-flow loss with masked conditioning frames and caption dropout;
    held-out loss at 10 evenly spaced timesteps; samples from held-out captions."""

    ranks = Ranks()  # set by train() under torchrun

    def __init__(self, cfg: dict, device: torch.device, cache: Path):
        from simworld.model.text import shared_text_encoder

        self.cfg, self.device = cfg, device
        self.vae_path = Path(cfg["vae"]).resolve()
        self.vae, _ = load_checkpoint(self.vae_path, "video-vae", device=device)
        self.vae_sha = file_sha256(self.vae_path)
        # the size's width and depth, reading and writing as many latent channels as the VAE makes (8, or 16 for
        # vae-z16)
        self.model = VideoDiT(replace(DIT_SIZES[cfg["model"]["size"]],
                                      latent_channels=self.vae.config.latent_channels))
        self.text = shared_text_encoder(cache)
        families = cfg["data"]["families"]
        self.buckets = [Bucket(**b) for b in cfg["data"]["buckets"]]
        self.precision = resolve_precision(cfg["precision"], device.type)
        self.pools = [LatentPool(ClipPool(b, cache, only_families=families), self.vae, self.vae_sha, device,
                                 self.precision) for b in self.buckets]
        self.held_out = [LatentPool(ClipPool(b, cache, held_out=True, only_families=families), self.vae,
                                    self.vae_sha, device, self.precision) for b in self.buckets]
        self.sampler = BucketSampler(self.buckets, cfg["data"]["pool"], cfg["model"]["batch"], seed=cfg["seed"])

    def _batch(self, pool: LatentPool, indices, captions_dropped=None) -> dict[str, Any]:
        items = [pool[int(i)] for i in indices]
        captions = [c for _, c in items]
        if captions_dropped is not None:
            captions = ["" if drop else c for c, drop in zip(captions, captions_dropped)]
        text = self.text(captions)
        latent = torch.from_numpy(np.stack([a for a, _ in items])).float()
        batch = {"latent": latent.to(self.device), "text": text.tokens.to(self.device),
                 "mask": text.mask.to(self.device)}
        if self.cfg.get("still_given", 0.0) > 0:  # each clip's first and last frame as one still image, encoded
            still = np.stack([pool.still(int(i)) for i in indices])
            batch["still"] = torch.from_numpy(still).float().to(self.device)
        return batch

    def batch(self, step: int) -> dict[str, Any]:
        which, indices = self.sampler.draw(step)
        rng = np.random.default_rng([self.cfg["seed"], step, 2])
        dropped = rng.random(len(indices)) < self.cfg["caption_dropout"]
        if not self.ranks.enabled:
            return self._batch(self.pools[which], indices, dropped)
        shard = self.ranks.shard(len(indices))
        return {**self._batch(self.pools[which], indices[shard], dropped[shard]),
                "shard": (shard.start, shard.stop, len(indices))}

    def tokens(self, batch: dict) -> int:
        b, _, t, h, w = batch["latent"].shape
        return b * t * h * w // self.model.config.patch ** 2

    def loss(self, model: VideoDiT, batch: dict, step: int) -> tuple[torch.Tensor, dict]:
        generator = torch.Generator().manual_seed(self.cfg["seed"] * 1_000_003 + step)
        latent = batch["latent"]
        b, _, frames = latent.shape[:3]
        # under torchrun: the global batch's random draws, and this rank's rows of them
        start, stop, total = batch.get("shard", (0, b, b))
        t = sample_timesteps(total, generator, shift=self.cfg["timestep_shift"])[start:stop].to(self.device)
        patterns = tuple(self.cfg.get("condition_patterns") or SHIPPED_PATTERNS)
        given_all = sample_condition_mask(total, frames, self.cfg["condition_probability"], generator, patterns)
        given = given_all[start:stop].to(self.device)
        noise = torch.randn((total, *latent.shape[1:]), generator=generator)[start:stop].to(self.device)
        if self.cfg.get("still_given", 0.0) > 0:  # a given end shown as sampling shows one image: still
            still = still_ends(given_all, self.cfg["still_given"], generator)[start:stop].to(self.device)
            latent = latent.clone()
            for end, frame in ((0, 0), (1, -1)):
                latent[still[:, end], :, frame] = batch["still"][still[:, end], end, :, 0]
        frame_t = frame_timesteps(t, given)
        velocity = model(add_noise(latent, noise, frame_t), frame_t, batch["text"], batch["mask"])
        loss = flow_loss(velocity, latent, noise, given)
        if "shard" in batch:  # normalised by the global batch's generated frames: the ranks' mean is the global loss
            generated, generated_all = (~given).sum().clamp_min(1).item(), (~given_all).sum().clamp_min(1).item()
            loss = loss * generated * self.ranks.world / generated_all
        return loss, {}

    @torch.no_grad()
    def evaluate(self, model: VideoDiT) -> dict[str, Any]:
        """Open-Sora's proxy: the loss at t = 0.05, 0.15, ..., 0.95 with fixed noise, averaged over buckets; and
        the loss at each of those t and at t = 1 (pure noise, where sampling starts and the layout is decided)."""
        autocast = self.precision.autocast(self.device)
        times = [*np.linspace(0.05, 0.95, 10).round(2), 1.0]
        per_bucket = []  # (buckets, times)
        for pool in self.held_out:
            batch = self._batch(pool, range(self.cfg["data"]["held_out"]))
            latent = batch["latent"]
            generator = torch.Generator().manual_seed(1234)
            noise = torch.randn(latent.shape, generator=generator).to(self.device)
            given = torch.zeros(latent.shape[0], latent.shape[2], dtype=torch.bool, device=self.device)
            per_t = []
            for t in times:
                frame_t = torch.full(given.shape, float(t), device=self.device)
                with autocast:
                    v = model(add_noise(latent, noise, frame_t), frame_t, batch["text"], batch["mask"])
                per_t.append(flow_loss(v, latent, noise, given).item())
            per_bucket.append(per_t)
        losses = np.asarray(per_bucket)
        return {"held_out_loss": float(losses[:, :10].mean()),  # t = 1 is reported, not averaged in
                "held_out_loss_by_t": {f"{t:.2f}": round(float(v), 4) for t, v in zip(times, losses.mean(0))},
                "held_out_loss_image": self.image_loss(model)}

    @torch.no_grad()
    def image_loss(self, model: VideoDiT, times=(0.5, 0.7, 0.9)) -> float:
        """Image-to-video's proxy: the loss on the frames after the first latent frame when that frame is given as
        sampling gives one image (the first frame repeated, clean at t = 0), at t where the motion is decided;
        the 128x128x16 held-out clips, fixed noise. Falls when the model learns to carry a given image forward."""
        pool = next((p for p in self.held_out if p.clips.bucket.key == "128x128x16"), self.held_out[0])
        indices = range(self.cfg["data"]["held_out"])
        batch = self._batch(pool, indices)
        latent = batch["latent"].clone()
        first = np.stack([pool.still(i)[0, :, 0] for i in indices])  # the first frame as one still image
        latent[:, :, 0] = torch.from_numpy(first).float().to(self.device)
        noise = torch.randn(latent.shape, generator=torch.Generator().manual_seed(1234)).to(self.device)
        given = torch.zeros(latent.shape[0], latent.shape[2], dtype=torch.bool, device=self.device)
        given[:, 0] = True
        losses = []
        for t in times:
            frame_t = frame_timesteps(torch.full((latent.shape[0],), float(t), device=self.device), given)
            with self.precision.autocast(self.device):
                v = model(add_noise(latent, noise, frame_t), frame_t, batch["text"], batch["mask"])
            losses.append(flow_loss(v, latent, noise, given).item())
        return round(float(np.mean(losses)), 4)

    @torch.no_grad()
    def samples(self, model: VideoDiT, path: Path) -> None:
        from simworld.model.pipeline import VideoPipeline
        from simworld.model.sampler import SamplerConfig

        pipeline = VideoPipeline(self.vae, model, self.text, SamplerConfig(steps=self.cfg["sample_steps"]),
                                 device=str(self.device), precision=self.precision.chosen)
        clips = self.held_out[0].clips
        b = clips.bucket
        rows = []
        for i in range(min(2, self.cfg["data"]["held_out"])):
            truth = clips[i]
            rows += [truth.frames, pipeline(truth.caption, b.frames, b.height, b.width, seed=i)]
        truth = clips[0]  # image-to-video from the first held-out clip's first frame
        rows.append(pipeline(truth.caption, b.frames, b.height, b.width, seed=0, given=truth.frames[:1], indices=[0]))
        contact_sheet(rows, path)

    def before_save(self, ema: VideoDiT) -> None:
        return None

    def card(self) -> dict:
        return {"vae": {"file": os.path.relpath(self.vae_path, Path(self.cfg["out"]).resolve()),
                        "sha256": self.vae_sha}}


def initial_state(path: str | Path, model: torch.nn.Module, kind: str) -> dict:
    """Load a checkpoint's weights into `model` (same architecture and size) and return its card's counts, so a
    continued run's card adds up: steps, tokens, FLOPs and wall time go on from where that run ended."""
    source, card = load_checkpoint(Path(path), "video-vae" if kind == "vae" else "video-dit")
    if source.config != model.config:
        raise CheckpointError(f"init={path}: a {card.get('name', '?')} checkpoint ({source.config}) cannot start "
                              f"this model ({model.config})")
    model.load_state_dict({k: v.float() for k, v in source.state_dict().items()})
    step = int(card.get("steps", 0))
    return {"step": step, "optimizer_start": step, "tokens": int(card.get("tokens_seen", 0)),
            "flops": float(card.get("training_flops", 0.0)), "wall_s": float(card.get("wall_time_s", 0.0)),
            "init": {"file": str(path), "steps": step}}


def learning_rate(cfg: dict, step: int, optimizer_start: int = 0) -> float:
    """Warm-up, stable, decay: linear warm-up from `optimizer_start` (a fresh optimizer warms up again), the peak
    rate, then with `cooldown` > 0 a linear decay to zero over the last `cooldown` steps (cheap to extend a run)."""
    rate = cfg["model"]["lr"] * min(1.0, (step + 1 - optimizer_start) / max(1, cfg["warmup"]))
    if cfg["cooldown"] > 0:
        rate *= min(1.0, (cfg["model"]["steps"] - step) / cfg["cooldown"])
    return rate


def load_state(path: Path, device: Any) -> dict:
    """A training state written by `train` (tensors, numbers, strings), loaded with weights_only=True: a state.pt
    that holds anything else (a crafted pickle runs code when unpickled) is refused with one line."""
    try:
        saved = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError or others for a file it refuses
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        reason = next((line for line in lines if "unsupported" in line.lower()), lines[0] if lines else type(err).__name__)
        raise ValueError(f"{path}: not a training state simworld wrote, refused ({reason}); delete it or pass "
                         "resume=false") from None
    if not isinstance(saved, dict) or not {"model", "ema", "optimizer", "state"} <= set(saved):
        raise ValueError(f"{path}: not a training state simworld wrote (needs model, ema, optimizer, state); delete it "
                         "or pass resume=false")
    return saved


def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def train(cfg: dict) -> Path:
    """Train cfg["model"] (the resolved TrainConfig as a dict); returns the checkpoint path."""
    from simworld.model.pipeline import resolve_device
    from simworld.world.textures import cache_dir

    unknown = [p for p in cfg.get("condition_patterns") or () if p not in CONDITION_PATTERNS]
    if unknown:
        raise ValueError(f"condition_patterns: unknown pattern {unknown[0]!r}; known: {', '.join(CONDITION_PATTERNS)}")
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    device = resolve_device(cfg["device"])
    ranks = Ranks.from_env(device.type)
    device = ranks.device(device)
    name = cfg["model"]["name"]
    out = Path(cfg["out"] or Path("runs") / "train" / name)
    cfg["out"] = str(out)
    out.mkdir(parents=True, exist_ok=True)
    kind = cfg["model"]["kind"]
    if kind not in ("vae", "dit"):
        raise ValueError(f"model.kind={kind!r}; known: vae, dit")
    if not ranks.main:
        ranks.barrier()  # rank 0 prepares the shared caches (text encoder, ...) first
    task = (VAETask if kind == "vae" else DiTTask)(cfg, device, cache_dir())
    if ranks.main:
        ranks.barrier()
    task.ranks = ranks
    model = task.model.to(device).train()
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["model"]["lr"], weight_decay=cfg["weight_decay"])
    # flops_per_shape: training FLOPs of one step per batch shape, counted on its first step (and kept, so a
    # resumed run counts the same way)
    state = {"step": 0, "tokens": 0, "flops": 0.0, "wall_s": 0.0, "evaluation": {}, "flops_per_shape": {}}
    state_path, checkpoint = out / "state.pt", out / f"{name}.safetensors"
    if cfg["resume"] and state_path.exists():
        saved = load_state(state_path, device)
        model.load_state_dict(saved["model"])
        ema.load_state_dict(saved["ema"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        if ranks.main:
            print(f"resuming {name} from step {state['step']} ({state_path})")
    elif cfg.get("init"):
        state.update(initial_state(cfg["init"], model, kind))
        if state["step"] >= cfg["model"]["steps"]:
            raise ValueError(f"init={cfg['init']} ends at step {state['step']}; model.steps={cfg['model']['steps']} "
                             "leaves nothing to train (steps count on from init's)")
        ema.load_state_dict(model.state_dict())
        if ranks.main:
            print(f"starting {name} from {cfg['init']} at step {state['step']} (fresh optimizer)")
    if ranks.enabled:
        ranks.broadcast_parameters(model)
        ranks.broadcast_parameters(ema)
    precision = resolve_precision(cfg["precision"], device.type)  # bf16 only where this device has it natively
    autocast = precision.autocast(device)
    if ranks.main:
        print(f"{name}: training in {precision.chosen} ({precision.reason})")
    flops_per_shape: dict[str, float] = state["flops_per_shape"]
    steps, started = cfg["model"]["steps"], time.perf_counter()
    wall_before = state["wall_s"]
    log = open(out / "log.jsonl" if ranks.main else os.devnull, "a")

    saved_step = [state["step"] if state_path.exists() and cfg["resume"] else None]  # the step state.pt holds

    def save() -> None:
        task.before_save(ema)
        card = {"name": name, "kind": kind, "steps": state["step"], "tokens_seen": state["tokens"],
                "training_flops": state["flops"], "wall_time_s": round(state["wall_s"], 1),
                "hardware": hardware(device) + (f", {ranks.world} ranks" if ranks.enabled else ""),
                "torch": torch.__version__, "precision": precision.chosen, "precision_reason": precision.reason,
                **state["evaluation"], **task.card(), "train_config": cfg,
                **({"continued_from": state["init"]} if "init" in state else {})}
        save_checkpoint(checkpoint, ema, card)
        _atomic_torch_save({"model": model.state_dict(), "ema": ema.state_dict(),
                            "optimizer": optimizer.state_dict(), "state": state}, state_path)
        saved_step[0] = state["step"]

    last_log = time.perf_counter()
    try:
        while state["step"] < steps:
            step = state["step"]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, step, state.get("optimizer_start", 0))
            batch = task.batch(step)
            shape = str(tuple(batch.shape if torch.is_tensor(batch) else batch["latent"].shape))
            counter = FlopCounterMode(display=False) if shape not in flops_per_shape else None
            with counter or contextlib.nullcontext():
                with autocast:
                    loss, info = task.loss(model, batch, step)
                loss.backward()
            if counter is not None:
                flops_per_shape[shape] = float(counter.get_total_flops())
            loss_value, tokens, flops = loss.item(), task.tokens(batch), flops_per_shape[shape]
            if ranks.enabled:  # the global batch's gradient, loss, tokens and FLOPs
                ranks.average_gradients(model.parameters())
                loss_value, tokens, flops = ranks.sum([loss_value / ranks.world, tokens, flops], device)
                tokens = int(round(tokens))
            if not math.isfinite(loss_value):
                raise FloatingPointError(f"loss is {loss_value} at step {step}; lower model.lr or check the data")
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            decay = min(cfg["ema"], (1 + step) / (10 + step))  # a short warm-up so early checkpoints are usable
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters()):
                    e.lerp_(p, 1 - decay)
            state["step"] += 1
            state["tokens"] += tokens
            state["flops"] += flops
            state["wall_s"] = wall_before + time.perf_counter() - started
            done = state["step"] == steps
            out_of_time = cfg["max_minutes"] is not None and time.perf_counter() - started > 60 * cfg["max_minutes"]
            if ranks.enabled and cfg["max_minutes"] is not None:  # all ranks stop at the same step
                out_of_time = ranks.sum([float(out_of_time)], device)[0] > 0
            if not ranks.main:
                if out_of_time:
                    break
                continue
            if state["step"] % cfg["log_every"] == 0 or done:
                now = time.perf_counter()
                record = {"step": state["step"], "loss": round(loss_value, 5), "lr": optimizer.param_groups[0]["lr"],
                          "tokens": state["tokens"], "flops": state["flops"], "wall_s": round(state["wall_s"], 1), **info}
                log.write(json.dumps(record) + "\n")
                log.flush()
                print(f"{name} step {state['step']}/{steps} loss {loss_value:.4f} "
                      f"{(now - last_log) / cfg['log_every']:.2f} s/step", flush=True)
                last_log = now
            if state["step"] % cfg["eval_every"] == 0 or done or out_of_time:
                ema.eval()
                with autocast:
                    state["evaluation"] = task.evaluate(ema)
                log.write(json.dumps({"step": state["step"], **state["evaluation"]}) + "\n")
                log.flush()
                print(f"{name} step {state['step']} held out: "
                      + ", ".join(f"{k} {v:.4f}" for k, v in state["evaluation"].items() if not isinstance(v, dict)),
                      flush=True)
            if cfg["sample_every"] and (state["step"] % cfg["sample_every"] == 0 or done or out_of_time):
                with autocast:
                    task.samples(ema, out / "samples" / f"step_{state['step']:06d}.png")
            if state["step"] % cfg["checkpoint_every"] == 0 or done or out_of_time:
                save()
            if out_of_time:
                print(f"{name}: stopped after {cfg['max_minutes']} minutes at step {state['step']}; run again to resume")
                break
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: say where the run can go on from (simworld.interrupt)
        if ranks.main:
            saved = f"step {saved_step[0]}" if saved_step[0] is not None else "the start (nothing was saved yet)"
            print(f"{name}: interrupted at step {state['step']}; the last checkpoint is {saved} in {out}",
                  flush=True)
        raise
    log.close()
    if not ranks.main:
        ranks.close()
        return checkpoint
    if state["step"] == steps and not checkpoint.exists():
        save()  # a resumed run that had already finished
    if cfg.get("export"):
        target = Path(cfg["export"]).with_suffix(".safetensors")
        card = json.loads(checkpoint.with_suffix(".json").read_text())
        if kind == "dit":
            card["vae"]["file"] = os.path.relpath(task.vae_path, target.parent.resolve())
        for key in ("architecture", "config", "parameters", "sha256", "dtype"):
            card.pop(key, None)
        save_checkpoint(target, ema, card, dtype=torch.float16)
        print(f"exported {target} (float16)")
    ranks.close()
    return checkpoint

