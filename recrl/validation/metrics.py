"""Description-distance metrics by registered name: ``metric(name).score(goals, descriptions) -> matrix``.

Every metric returns a ``(len(goals), len(descriptions))`` float matrix, higher = closer. Metrics that
depend on a corpus (``tfidf-cosine``, ``bm25``) are fitted on the whole catalogue once with ``fit(texts)``
(else on the descriptions they are given). Names:

- ``sbert-cosine`` (``sbert-cosine:MODEL`` for another embedder of the core; ``hashing`` works offline fast),
- ``tfidf-cosine`` (scikit-learn), ``bm25`` (the ``bm25s`` package, Okapi BM25), ``jaccard`` (token sets),
- ``learned:PATH``: a sentence-transformer fine-tuned by :mod:`recrl.validation.learned_metric`, cosine of its embeddings.

Example:
    >>> m = metric("jaccard")
    >>> m.score(["red summer dress"], ["a red dress for summer", "winter boots"]).round(2).tolist()
    [[1.0, 0.0]]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


@runtime_checkable
class DescriptionMetric(Protocol):
    """Scores goal texts against description texts (higher = closer)."""

    def score(self, goals: Sequence[str], descriptions: Sequence[str]) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[[str], DescriptionMetric]] = {}


def register_metric(name: str):
    """Decorator registering a factory ``factory(argument) -> DescriptionMetric`` under ``name``."""

    def decorator(factory):
        if name in _REGISTRY:
            raise ValueError(f"metric {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorator


def metric(spec: str) -> DescriptionMetric:
    """The metric named ``spec`` (``name`` or ``name:argument``); ``ValueError`` listing known names."""
    name, _, argument = spec.partition(":")
    if name not in _REGISTRY:
        raise ValueError(f"unknown metric {spec!r}; known: {', '.join(available_metrics())} "
                         "(learned:PATH for a trained metric)")
    return _REGISTRY[name](argument)


def available_metrics() -> list[str]:
    """Sorted registered metric names."""
    return sorted(_REGISTRY)


def tokens(text: str) -> set[str]:
    """Lower-cased word tokens without English stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return {word for word in _WORD.findall(text.lower()) if word not in ENGLISH_STOP_WORDS}


class EmbeddingCosine:
    """Cosine of sentence embeddings; texts are embedded once (memo + the SQLite cache)."""

    def __init__(self, embedder_name: str = "default", cache: str | None = None) -> None:
        from ellm_core.cache import open_cache
        from ellm_core.text.embed import CachedEmbedder, make_embedder

        self.embedder = CachedEmbedder(make_embedder(embedder_name), open_cache(cache))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm embeddings of ``texts``."""
        vectors = np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def score(self, goals: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        """Cosine matrix."""
        return self.encode(goals) @ self.encode(descriptions).T


@register_metric("sbert-cosine")
def _sbert(argument: str) -> DescriptionMetric:
    return EmbeddingCosine(argument or "default")


@register_metric("learned")
def _learned(argument: str) -> DescriptionMetric:
    from pathlib import Path

    if not argument or not (Path(argument) / "config_sentence_transformers.json").is_file():
        raise ValueError(f"learned metric needs learned:PATH of a model saved by `recrl validate` / "
                         f"recrl.validation.learned_metric (got {argument!r})")
    return EmbeddingCosine(argument)


class TfidfCosine:
    """Cosine of TF-IDF vectors (scikit-learn), vocabulary and IDF from the fitted corpus."""

    def __init__(self) -> None:
        self.vectorizer = None

    def fit(self, corpus: Sequence[str]) -> TfidfCosine:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(list(corpus))
        return self

    def score(self, goals: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None:
            self.fit(descriptions)
        left, right = self.vectorizer.transform(list(goals)), self.vectorizer.transform(list(descriptions))
        return np.asarray((left @ right.T).todense(), dtype=np.float32)  # rows are L2-normalised: cosine


class BM25:
    """Okapi BM25 of each goal (the query) against each description (the documents), from ``bm25s``."""

    def __init__(self) -> None:
        self.retriever, self.index = None, {}

    def fit(self, corpus: Sequence[str]) -> BM25:
        import bm25s

        corpus = list(dict.fromkeys(corpus))
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
        self.index = {text: i for i, text in enumerate(corpus)}
        return self

    def score(self, goals: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        import bm25s

        if self.retriever is None or any(d not in self.index for d in descriptions):
            self.fit(descriptions)
        columns = np.asarray([self.index[d] for d in descriptions], dtype=np.int64)
        queries = bm25s.tokenize(list(goals), stopwords="en", show_progress=False, return_ids=False)
        rows = [self.retriever.get_scores(query)[columns] if query else np.zeros(len(columns)) for query in queries]
        return np.asarray(rows, dtype=np.float32).reshape(len(goals), len(descriptions))


class Jaccard:
    """|A ∩ B| / |A ∪ B| of the token sets (stop words removed)."""

    def score(self, goals: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        left, right = [tokens(g) for g in goals], [tokens(d) for d in descriptions]
        result = np.zeros((len(left), len(right)), dtype=np.float32)
        for i, a in enumerate(left):
            for j, b in enumerate(right):
                union = len(a | b)
                result[i, j] = len(a & b) / union if union else 0.0
        return result


register_metric("tfidf-cosine")(lambda argument: TfidfCosine())
register_metric("bm25")(lambda argument: BM25())
register_metric("jaccard")(lambda argument: Jaccard())
