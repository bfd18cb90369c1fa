"""A static embedder distilled from the shipped all-MiniLM-L6-v2 by model2vec: ``--embedder minilm-static``.

model2vec passes every word piece of MiniLM's vocabulary through MiniLM once (~30 s on one core, offline: the
model is the shipped one), reduces the outputs with PCA to 256 dimensions and weights them; a text's vector is
then the mean of its word pieces' vectors, ~0.1 ms a caption against ~10 ms for MiniLM itself. The vectors are not
MiniLM's (on Crafter captions the rank correlation of pairwise cosines is ~0.7), so runs with it are their own
rows: it is opt-in, and its cache identity is its own.

The distilled model is built once into the cache directory (``models/model2vec-all-MiniLM-L6-v2-pca256``).
Install with ``pip install -e '.[static]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

PCA_DIMS = 256


def distilled_model_dir() -> Path:
    """The model2vec model distilled from the shipped MiniLM, built once into the cache directory."""
    from ellm_core.resources import build_once, cache_dir, default_embedder_path

    def build(folder: Path) -> None:
        from model2vec.distill import distill  # heavy imports: only when the model is not built yet

        logger.info("distilling a static embedder from all-MiniLM-L6-v2 (once, ~30 s) into %s", folder)
        distill(model_name=str(default_embedder_path()), pca_dims=PCA_DIMS).save_pretrained(str(folder))

    return build_once(cache_dir() / "models" / f"model2vec-all-MiniLM-L6-v2-pca{PCA_DIMS}", build,
                      marker="model.safetensors")


class StaticEmbedder:
    """model2vec's static embeddings of texts (unit norm, float32), distilled from the shipped MiniLM unless a
    model2vec model directory is given."""

    def __init__(self, model: str | Path | None = None) -> None:
        try:
            from model2vec import StaticModel
        except ImportError:
            raise ValueError("--embedder minilm-static needs model2vec: pip install -e '.[static]'") from None

        location = Path(model) if model is not None else distilled_model_dir()
        self.model = StaticModel.from_pretrained(str(location))
        self.dim = int(self.model.dim)
        self.identity = f"model2vec:all-MiniLM-L6-v2-pca{PCA_DIMS}" if model is None else f"model2vec:{location}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm float32 vectors of ``texts``."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self.model.encode(list(texts), show_progress_bar=False), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
