import io

import numpy as np
import pytest
import torch

from ellm_core.agents.intrinsic import make_intrinsic


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
