"""Text encoder: the frozen MiniLM loads with no network, keeps each word in its tokens, and caches captions."""

from __future__ import annotations

import numpy as np
import torch

from simworld.model.text import TEXT_DIM, TextEncoder, TextTokens, shared_text_encoder
from simworld.world.textures import cache_dir


def test_loads_offline_and_encodes_tokens(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    encoder = shared_text_encoder(cache_dir())
    batch = encoder(["a red circle moves left", "a red circle moves right across the whole floor", ""])
    assert batch.tokens.shape[0] == 3 and batch.tokens.shape[2] == TEXT_DIM
    assert batch.mask.sum(1).tolist()[2] == 2  # the empty caption: [CLS] [SEP]
    assert batch.mask[0].sum() < batch.mask[1].sum()
    left, right = encoder.embed(["a red circle moves left", "a red circle moves right"])
    assert left.shape == right.shape and left.dtype == np.float16
    # the word that differs differs much more in its token than the pooled sentences do
    token = torch.nn.functional.cosine_similarity(torch.tensor(left[5:6]).float(), torch.tensor(right[5:6]).float())
    pooled = torch.nn.functional.cosine_similarity(torch.tensor(left).float().mean(0, keepdim=True),
                                                   torch.tensor(right).float().mean(0, keepdim=True))
    assert token < pooled - 0.1


def test_pooled_embedding_matches_sentence_transformers_reference():
    """Mean pooling of our tokens is the published all-MiniLM-L6-v2 sentence embedding (normalised)."""
    encoder = shared_text_encoder(cache_dir())
    a, b = (torch.tensor(x).float().mean(0) for x in encoder.embed(["a dog runs in the park", "A cat sits on the mat"]))
    c = torch.tensor(encoder.embed(["a dog runs through the park"])[0]).float().mean(0)
    cos = torch.nn.functional.cosine_similarity
    assert cos(a, c, dim=0) > 0.8 > 0.3 > cos(a, b, dim=0)


def test_captions_are_cached_on_disk(tmp_path):
    encoder = shared_text_encoder(cache_dir())
    first = encoder.embed(["a blue ball rolls"])[0]
    cached = TextEncoder.__new__(TextEncoder)  # a second process: no model, only the disk cache
    cached.cache_dir, cached.memory = encoder.cache_dir, {}
    assert np.array_equal(cached.embed(["a blue ball rolls"])[0], first)


def test_padding():
    batch = TextTokens.pad([np.ones((3, 4), np.float16), np.ones((5, 4), np.float16)])
    assert batch.tokens.shape == (2, 5, 4) and batch.mask.tolist()[0] == [True] * 3 + [False] * 2
    assert batch.tokens[0, 3:].abs().sum() == 0
