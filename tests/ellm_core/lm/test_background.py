"""Goal suggestion off the critical path: no lost or repeated requests, miss policies, errors, shutdown."""

import subprocess
import sys
import threading
import time

import pytest

from ellm_core.cache import SQLiteCache
from ellm_core.goals import OpenEndedGoals
from ellm_core.goals.background import BackgroundGoals, BackgroundWorkerError
from ellm_core.lm.base import CachedLM, ScriptedLM

ACTIONS = ["do", "noop"]


class CountingGenerator:
    """Answers "goal for <observation>", counting how often each observation was asked; optionally slow."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.asked: dict[str, int] = {}
        self.batches: list[int] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def suggest_batch(self, observations, actions):
        time.sleep(self.delay_s)
        with self.lock:
            self.batches.append(len(observations))
            for obs in observations:
                self.asked[obs] = self.asked.get(obs, 0) + 1
        return [[f"goal for {obs}"] for obs in observations]

    def suggest(self, observation, actions):
        return self.suggest_batch([observation], [actions])[0]


def test_a_burst_is_answered_once_each_in_batches():
    generator = CountingGenerator(delay_s=0.002)
    with BackgroundGoals(generator, batch_size=8) as goals:
        observations = [f"situation {i}" for i in range(300)]
        for start in range(0, 300, 4):  # a vector env of 4 asking every step, each situation several times
            goals.suggest_batch(observations[start : start + 4], [ACTIONS] * 4)
            goals.suggest_batch(observations[start : start + 4], [ACTIONS] * 4)
        goals.drain(timeout_s=30)
        assert generator.asked == {obs: 1 for obs in observations}  # none lost, none asked twice
        assert max(generator.batches) <= 8 and goals.computed == 300 and goals.batches == len(generator.batches)
        assert goals.suggest_batch(observations[:2], [ACTIONS] * 2) == [["goal for situation 0"],
                                                                        ["goal for situation 1"]]
        assert goals.requests == 602 and goals.ready + goals.misses == 602 and goals.misses >= 300


def test_a_miss_gets_the_previous_goals_of_its_position_or_none():
    generator = CountingGenerator()
    for miss, expected in (("previous", [["goal for a"], ["goal for b"]]), ("none", [[], []])):
        with BackgroundGoals(generator, miss=miss) as goals:
            goals.suggest_batch(["a", "b"], [ACTIONS] * 2)
            goals.drain(timeout_s=10)
            assert goals.suggest_batch(["a", "b"], [ACTIONS] * 2) == [["goal for a"], ["goal for b"]]
            assert goals.suggest_batch([f"{miss} new 1", f"{miss} new 2"], [ACTIONS] * 2) == expected
    with pytest.raises(ValueError, match="unknown miss policy"):
        BackgroundGoals(generator, miss="guess")


def test_cached_answers_are_ready_without_the_worker(tmp_path):
    cache = SQLiteCache(tmp_path / "c.sqlite")
    OpenEndedGoals(CachedLM(ScriptedLM({"tree": "- collect wood"}), cache)).suggest("You see a tree.", ACTIONS)
    blocked = threading.Event()
    inner = ScriptedLM(lambda text: blocked.wait(10) and "- never")
    with BackgroundGoals(OpenEndedGoals(CachedLM(inner, cache)), miss="none") as goals:
        assert goals.suggest_batch(["You see a tree."], [ACTIONS]) == [["collect wood"]]
        assert goals.ready == 1 and goals.misses == 0 and inner.calls == []
        blocked.set()


def test_a_worker_error_is_raised_at_the_next_call_not_a_hang():
    class Failing:
        def suggest_batch(self, observations, actions):
            raise RuntimeError("the LM fell over")

    goals = BackgroundGoals(Failing())
    goals.suggest_batch(["x"], [ACTIONS])
    with pytest.raises(BackgroundWorkerError, match="the LM fell over"):
        goals.drain(timeout_s=10)
    with pytest.raises(BackgroundWorkerError):
        goals.suggest_batch(["y"], [ACTIONS])
    goals.close()


def test_close_stops_the_worker_with_work_queued():
    goals = BackgroundGoals(CountingGenerator(delay_s=0.2), batch_size=1)
    goals.suggest_batch([f"s{i}" for i in range(20)], [ACTIONS] * 20)
    goals.close(timeout_s=5)
    assert not goals._worker.is_alive() and goals.computed < 20


SCRIPT = """
import time
from ellm_core.goals.background import BackgroundGoals

class Slow:
    def suggest_batch(self, observations, actions):
        time.sleep(0.5)
        return [["g"] for _ in observations]

goals = BackgroundGoals(Slow(), batch_size=1)
goals.suggest_batch(["s" + str(i) for i in range(100)], [["do"]] * 100)
print("queued", flush=True)
ENDING
"""


@pytest.mark.parametrize("ending", ["pass", "raise KeyboardInterrupt"])
def test_the_process_exits_promptly_with_work_queued(ending):
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", SCRIPT.replace("ENDING", ending)], capture_output=True, text=True,
                            timeout=60)
    assert "queued" in result.stdout
    assert (result.returncode == 0) == (ending == "pass")
    assert time.perf_counter() - started < 30  # 100 queued situations x 0.5 s would take 50 s
