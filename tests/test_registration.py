"""The environments are available the way gymnasium users expect: after the top-level import, or by
``gymnasium.make("module:id")`` with no import at all (each checked in a fresh interpreter)."""

import subprocess
import sys

import pytest

CASES = [
    ("import ellm_core", "ellm/TextChain-v0", "{}"),
    ("import ellm_core", "ellm/Crafter-v0", "{'length': 10}"),
    ("pass", "ellm_core:ellm/Crafter-v0", "{'length': 10, 'pixels': False}"),
    ("import ellm_core", "ellm/CrafterPaper-v0", "{'length': 10}"),
    ("pass", "ellm_core:ellm/CrafterPaper-v0", "{'length': 10, 'pixels': False}"),
    ("pass", "ellm_core:ellm/TextChain-v0", "{}"),
    ("import recrl", "recrl/ProductBrowse-v0", None),
    ("pass", "recrl:recrl/ProductBrowse-v0", None),
]


@pytest.mark.parametrize("setup, env_id, kwargs", CASES)
def test_env_is_registered_in_a_fresh_interpreter(setup, env_id, kwargs):
    if kwargs is None:  # the browse env needs a prepared directory: gymnasium must get as far as asking for it
        body = (f"import gymnasium as gym\n{setup}\ntry:\n    gym.make({env_id!r}, data='/no/such/dir')\n"
                f"except FileNotFoundError as error:\n    print('data', error)\nprint(gym.spec({env_id.split(':')[-1]!r}).id)")
    else:
        body = (f"import gymnasium as gym\n{setup}\nenv = gym.make({env_id!r}, **{kwargs})\nenv.reset(seed=0)\n"
                f"print(env.spec.id)")
    result = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith(env_id.split(":")[-1])
    if kwargs is None:
        assert result.stdout.startswith("data") and "/no/such/dir" in result.stdout
