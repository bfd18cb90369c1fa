"""Text embedding: the ``Embedder`` protocol and its sentence-transformers, hashing and cached implementations
(:mod:`~ellm_core.text.embed`), the static embedder distilled from MiniLM (:mod:`~ellm_core.text.static_embed`),
and the similarity functions by registered name (:mod:`~ellm_core.text.similarity`)."""
