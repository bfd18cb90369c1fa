"""The caches: one SQLite store (:mod:`ellm_core.cache.store`) under the LM's answers (``lm.base.CachedLM``) and the
embeddings (``text.embed.CachedEmbedder``), and its portable files (:mod:`ellm_core.cache.files`: ``ellm cache
export|import|check``).

>>> from ellm_core.cache import SQLiteCache, open_cache
"""

from ellm_core.cache.store import (
    SQLiteCache,
    make_key,
    open_cache,
    pack_array,
    pack_json,
    unpack_array,
    unpack_json,
)

__all__ = ["SQLiteCache", "make_key", "open_cache", "pack_array", "pack_json", "unpack_array", "unpack_json"]
