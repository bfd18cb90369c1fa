"""Similarity functions chosen by name: ``similarity(name)(a, b) -> (len(a), len(b))`` matrix.

Example:
    >>> import numpy as np
    >>> cosine = similarity("cosine")
    >>> cosine(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [0.0, 1.0]])).round(3).tolist()
    [[1.0, 0.0]]
    >>> similarity("cosinus")
    Traceback (most recent call last):
    ...
    ValueError: unknown similarity 'cosinus'; known: cosine, dot, neg_euclidean
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SimilarityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_REGISTRY: dict[str, SimilarityFn] = {}


def register_similarity(name: str) -> Callable[[SimilarityFn], SimilarityFn]:
    """Decorator registering a similarity function under ``name``."""

    def decorator(function: SimilarityFn) -> SimilarityFn:
        if name in _REGISTRY:
            raise ValueError(f"similarity {name!r} is already registered")
        _REGISTRY[name] = function
        return function

    return decorator


def similarity(name: str) -> SimilarityFn:
    """The similarity function registered as ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown similarity {name!r}; known: {', '.join(available_similarities())}") from None


def available_similarities() -> list[str]:
    """Sorted names of the registered similarity functions."""
    return sorted(_REGISTRY)


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x[None, :] if x.ndim == 1 else x


@register_similarity("cosine")
def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity in [-1, 1]; zero vectors give 0."""
    a, b = _as_2d(a), _as_2d(b)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.clip(a @ b.T, -1.0, 1.0)


@register_similarity("dot")
def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain dot product (equals cosine for unit-norm embeddings)."""
    return _as_2d(a) @ _as_2d(b).T


@register_similarity("neg_euclidean")
def neg_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Negative Euclidean distance (higher is more similar; 0 for identical vectors)."""
    a, b = _as_2d(a), _as_2d(b)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return -np.sqrt(np.maximum(squared, 0.0))
