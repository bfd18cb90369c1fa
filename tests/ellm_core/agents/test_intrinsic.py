import io

import numpy as np
import pytest
import torch

from ellm_core.agents.intrinsic import APTBonus, make_intrinsic


@pytest.mark.parametrize("name", ["novelty", "rnd", "apt"])
def test_new_observation_gets_a_larger_bonus_than_a_familiar_one(name):
    rng = np.random.default_rng(0)
    familiar, new = rng.normal(size=(1, 32)).astype(np.float32), rng.normal(size=(1, 32)).astype(np.float32)
    bonus = make_intrinsic(name, dim=32, seed=0)
    for _ in range(300):
        bonus(familiar + rng.normal(scale=0.01, size=(1, 32)).astype(np.float32), ["you collect wood"])
    familiar_bonus = bonus(familiar, ["you collect wood"])[0]
    new_bonus = bonus(new, ["you defeat a zombie"])[0]
    assert new_bonus > familiar_bonus * 1.5, (new_bonus, familiar_bonus)


def test_state_dict_round_trip_gives_identical_bonuses():
    rng = np.random.default_rng(1)
    batches = [rng.normal(size=(2, 8)).astype(np.float32) for _ in range(5)]
    for name in ("novelty", "rnd", "apt"):
        first = make_intrinsic(name, dim=8, seed=3)
        for batch in batches[:3]:
            first(batch, ["a", "b"])
        second = make_intrinsic(name, dim=8, seed=3)
        buffer = io.BytesIO()  # as a checkpoint does: serialised, then loaded with weights_only=True
        torch.save(first.state_dict(), buffer)
        buffer.seek(0)
        second.load_state_dict(torch.load(buffer, weights_only=True))
        for batch in batches[3:]:
            np.testing.assert_allclose(first(batch, ["a", "c"]), second(batch, ["a", "c"]), rtol=1e-6)


def test_unknown_baseline_lists_known():
    with pytest.raises(ValueError, match="apt, novelty, rnd"):
        make_intrinsic("icm", dim=4)


def _plain_apt(batches, k, memory_size):
    """APT as a scan of every slot of the ring (the definition the deduplicated memory must reproduce)."""
    memory, bonuses = [], []
    for batch in batches:
        if memory:
            distances = torch.cdist(torch.from_numpy(batch), torch.from_numpy(np.stack(memory)),
                                    compute_mode="donot_use_mm_for_euclid_dist")
            nearest = distances.topk(min(k, len(memory)), dim=1, largest=False).values
            bonuses.append(torch.log1p(nearest.mean(dim=1)).numpy())
        else:
            bonuses.append(np.zeros(len(batch), dtype=np.float32))
        memory = (memory + list(batch))[-memory_size:]
    return bonuses


def test_apt_with_repeated_embeddings_equals_a_scan_of_every_slot_across_the_ring_wrapping():
    rng = np.random.default_rng(4)
    distinct = rng.normal(size=(15, 16)).astype(np.float32)  # text observations repeat: few distinct embeddings
    batches = [distinct[rng.integers(15, size=2)] for _ in range(120)]
    bonus = APTBonus(16, k=5, memory_size=37)  # a small ring: slots are overwritten and rows freed many times
    expected = _plain_apt(batches, k=5, memory_size=37)
    got = [bonus(batch, ["", ""]) for batch in batches]
    np.testing.assert_allclose(np.concatenate(got), np.concatenate(expected), rtol=1e-5, atol=1e-6)
    assert len(bonus.rows) == int((bonus.counts > 0).sum()) <= 15  # each distinct embedding is held once
    assert bonus.counts.sum() == 37


def test_apt_chooses_candidates_by_dot_product_and_still_equals_the_scan_with_many_distinct_embeddings():
    rng = np.random.default_rng(5)
    distinct = rng.normal(size=(400, 24)).astype(np.float32)  # more live rows than k + margin: candidates matter
    batches = [distinct[rng.integers(400, size=1)] for _ in range(600)]
    bonus = APTBonus(24, k=12, memory_size=250)
    expected = _plain_apt(batches, k=12, memory_size=250)
    got = [bonus(batch, [""]) for batch in batches]
    assert len(bonus.rows) > bonus.k + bonus.margin
    np.testing.assert_allclose(np.concatenate(got), np.concatenate(expected), rtol=1e-5, atol=1e-6)
