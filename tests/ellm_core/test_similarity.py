import numpy as np
import pytest

from ellm_core.text.similarity import available_similarities, register_similarity, similarity


def test_known_similarities_shapes_and_values():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    cos = similarity("cosine")(a, b)
    assert cos.shape == (2, 3)
    np.testing.assert_allclose(cos[0], [1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    np.testing.assert_allclose(similarity("dot")(a, b)[1], [0.0, 2.0, -2.0])
    np.testing.assert_allclose(similarity("neg_euclidean")(a, a).diagonal(), [0.0, 0.0], atol=1e-3)


def test_unknown_similarity_lists_known_names():
    with pytest.raises(ValueError) as error:
        similarity("manhattan")
    for name in available_similarities():
        assert name in str(error.value)


def test_register_rejects_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        register_similarity("cosine")(lambda a, b: a @ b.T)
