import subprocess
import sys

import pytest

from ellm_core.cli import main


@pytest.mark.parametrize("command", [[], ["goals"], ["demo"]])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: ellm" in capsys.readouterr().out


def test_goals_with_scripted_backend_prints_placeholder(capsys, tmp_path):
    main(["goals", "--observation", "You see a tree.", "--actions", "do,noop", "--lm-backend", "scripted",
          "--cache", str(tmp_path / "c.sqlite")])
    assert "no goals" in capsys.readouterr().out


def test_closed_mode_needs_candidates(capsys):
    assert main(["goals", "--observation", "x", "--actions", "do", "--mode", "closed", "--lm-backend", "scripted",
                 "--cache", "none"]) == 2
    assert "--mode closed needs --candidates" in capsys.readouterr().err


@pytest.mark.real_model
def test_ellm_goals_with_the_default_offline_model(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ellm_core.cli", "goals", "--observation", "You see grass and a tree. You have nothing.",
         "--actions", "move left,move right,do,place table", "--cache", str(tmp_path / "c.sqlite")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    goals = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert goals, result.stdout


@pytest.mark.real_model
def test_demo_runs_offline_and_prints_reward_table(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ellm_core.cli", "demo", "--cache", str(tmp_path / "c.sqlite")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Situation ") == 4 and "achievable in view" in result.stdout
    assert "(matches the goal" in result.stdout  # at least one LM goal matches something achievable, and pays


def test_ranked_goals_without_a_named_backend_are_ranked_by_one_that_scores(monkeypatch, capsys):
    """`ellm goals --mode ranked` (and `goals eval`) takes the transformers backend when none is named: the default
    ctranslate2 only generates."""
    import ellm_core.lm.registry as registry
    from ellm_core.lm.base import ScriptedLM

    asked = []

    def fake(config, cache=None, vocabulary=None):
        asked.append(config)
        return ScriptedLM(scores=lambda text, goal: 1.0 if "wood" in goal else 0.0)

    monkeypatch.setattr(registry, "make_language_model", fake)
    assert main(["goals", "--mode", "ranked", "--candidates", "collect wood;drink water", "--cache", "none",
                 "--observation", "You see a tree.", "--actions", "do,noop"]) == 0
    assert asked[0].backend == "transformers" and "- collect wood" in capsys.readouterr().out
