"""``ellm sweep``: spec checks, the command lines of the grid, and real sweeps of tiny Crafter cells."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
import yaml

from ellm_core.cli import main
from ellm_core.experiments.local import FINISHED, core_slots, run_local, run_setup
from ellm_core.experiments.spec import PROGRAMS, SweepSpec, cells, flags
from ellm_core.experiments.sweep import run_finish

SMOKE = {"preset": "smoke", "steps": 120, "length": 40, "embedder": "hashing:32", "cache": "none",
         "tensorboard": False, "eval-episodes": 1, "checkpoint-every": 60}


def write_spec(path, **values):
    spec = {"command": "ellm crafter train", "out": str(path.parent / "sweep"), "seeds": [0],
            "methods": {"none": {"reward": "none"}, "novelty": {"reward": "novelty"}}, "args": SMOKE,
            "parallel": 2, "threads": 1, "compare": {"kind": "crafter", "baselines": ["none"], "bins": 2}, **values}
    path.write_text(yaml.safe_dump(spec))
    return path


def test_flags_from_a_mapping():
    assert flags({"steps": 10, "tensorboard": False, "goal-conditioned": True, "lm_model": "m", "x": None,
                  "methods": ["a", "b"], "init-from": "runs/{method}-seed{seed}"}, {"seed": 2, "method": "ellm"}) \
        == ["--steps", "10", "--no-tensorboard", "--goal-conditioned", "--lm-model", "m", "--methods", "a", "b",
            "--init-from", "runs/ellm-seed2"]
    # a JSON value keeps its braces; only the known fields are filled
    assert flags({"env-kwargs": '{"goal_vocabulary": "achievements"}', "out": "{out}/{nope}"}, {"out": "runs/x"}) \
        == ["--env-kwargs", '{"goal_vocabulary": "achievements"}', "--out", "runs/x/{nope}"]


def test_cells_are_method_major_with_overrides_and_seeds(tmp_path):
    spec = SweepSpec.load(write_spec(tmp_path / "spec.yaml", seeds=[0, 1],
                                     methods={"a": {"reward": "none", "steps": 50}, "b": {"init-from": "{out}/a-seed{seed}"}}))
    grid = cells(spec)
    assert [(c.method, c.seed) for c in grid] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert grid[0].argv[1:5] == ["-m", PROGRAMS["ellm"], "crafter", "train"]
    assert grid[0].argv[grid[0].argv.index("--steps") + 1] == "50" and grid[0].steps == 50
    assert grid[2].steps == 120 and f"{spec.out}/a-seed0" in grid[2].argv
    assert grid[3].argv[-4:] == ["--seed", "1", "--out", f"{spec.out}/b-seed1"]
    assert [cell.status for cell in grid] == ["new", "new", "waiting", "waiting"]  # b starts from a's runs


@pytest.mark.parametrize("content, message", [("- a\n- b\n", "YAML mapping"), ("out: x\nmethods: {a: {}}\n", "missing"),
                                              ("command: c\nout: x\nmethods: {a: 3}\n", "must map flags"),
                                              ("command: c\nout: x\nmethods: {a: {}}\nbogus: 1\n", "unknown")])
def test_bad_specs_are_clear_errors(tmp_path, capsys, content, message):
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        SweepSpec.load(path)
    assert main(["sweep", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"ellm sweep: {path}")


def test_core_slots_never_oversubscribe():
    cores = len(os.sched_getaffinity(0))
    slots, threads = core_slots(parallel=cores + 3, threads=1)
    assert len(slots) == cores and threads == 1 and len({c for s in slots for c in s}) == cores
    slots, threads = core_slots(parallel=1, threads=0)
    assert len(slots) == 1 and threads == cores


def test_local_sweep_runs_skips_and_extends(tmp_path, capsys):
    export = f"sh -c 'echo exported >> {tmp_path / 'export'}'"
    spec = write_spec(tmp_path / "spec.yaml", results=str(tmp_path / "results"),
                      finish=[{"run": export, "methods": ["novelty"]}])
    assert main(["sweep", str(spec), "--dry-run", "--allow-any-command"]) == 0
    assert capsys.readouterr().out.count("new ") == 2
    assert main(["sweep", str(spec), "--allow-any-command"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ran"] == 2 and report["failed"] == []
    assert report["finish_ran"] == [export] and (tmp_path / "export").read_text() == "exported\n"
    for method in ("none", "novelty"):
        run = tmp_path / "sweep" / f"{method}-seed0"
        assert json.loads((run / "summary.json").read_text())["step"] == 120
        log = (tmp_path / "sweep" / f"{method}-seed0.log").read_text()
        assert log.startswith("$ ") and f"--reward {method}" in log
    compare = json.loads((tmp_path / "sweep" / "compare" / "compare.json").read_text())
    assert set(compare["methods"]) == {"none", "novelty"} and "novelty" in compare["tests"]["none"]
    kept = tmp_path / "results" / "runs" / "novelty-seed0"
    assert sorted(p.name for p in kept.iterdir()) == ["config.yaml", "stats.jsonl", "summary.json"]
    assert (tmp_path / "results" / "compare.md").is_file() and (tmp_path / "results" / "curves.png").is_file()
    assert json.loads((tmp_path / "results" / "status.json").read_text())["unfinished"] == []
    assert main(["sweep", str(spec), "--dry-run", "--allow-any-command"]) == 0
    assert capsys.readouterr().out.startswith("done             120/120  ")
    assert main(["sweep", str(spec), "--allow-any-command"]) == 0  # everything done: nothing runs
    assert json.loads(capsys.readouterr().out)["ran"] == 0
    # a raised budget resumes the finished cells from their last checkpoint
    write_spec(spec, args={**SMOKE, "steps": 180}, methods={"none": {"reward": "none"}}, results=str(tmp_path / "results"))
    assert main(["sweep", str(spec), "--compare-only"]) == 0  # runs nothing, and lists the now unfinished cell
    assert json.loads(capsys.readouterr().out)["results"]["unfinished"] == ["none-seed0"]
    assert main(["sweep", str(spec), "--no-compare"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == 1
    assert json.loads((tmp_path / "sweep" / "none-seed0" / "summary.json").read_text())["step"] == 180
    commands = [line for line in (tmp_path / "sweep" / "none-seed0.log").read_text().splitlines() if line[:2] == "$ "]
    assert len(commands) == 2 and "--resume" not in commands[0] and commands[1].endswith("--resume")


def test_a_failing_cell_is_reported_and_the_others_still_run(tmp_path, capsys):
    spec = write_spec(tmp_path / "spec.yaml", methods={"bad": {"reward": "nonsense"}, "none": {"reward": "none"}})
    assert main(["sweep", str(spec)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == [str(tmp_path / "sweep" / "bad-seed0")]
    assert (tmp_path / "sweep" / "none-seed0" / "summary.json").is_file()
    assert "invalid choice" in (tmp_path / "sweep" / "bad-seed0.log").read_text()


def test_ray_sweep_on_a_local_instance(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is the optional 'ray' extra (also in 'test')")
    spec = write_spec(tmp_path / "spec.yaml", compare=None)
    assert main(["sweep", str(spec), "--backend", "ray"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ran"] == 2 and report["failed"] == []
    for method in ("none", "novelty"):
        assert json.loads((tmp_path / "sweep" / f"{method}-seed0" / "summary.json").read_text())["step"] == 120


def test_a_cell_is_judged_under_its_lock_not_when_planned(tmp_path):
    """Two sweeps over one grid: a cell the other finished after this one planned it is skipped, and one the other
    started is resumed, never begun again over its run."""
    import sys

    script = tmp_path / "cell.py"
    script.write_text("import pathlib, sys\nout = pathlib.Path(sys.argv[sys.argv.index('--out') + 1])\n"
                      "out.mkdir(parents=True, exist_ok=True)\n(out / 'summary.json').write_text('{}')\n")
    spec = write_spec(tmp_path / "spec.yaml", command=f"{sys.executable} {script}", seeds=[0, 1, 2],
                      methods={"a": {}}, args={}, parallel=1, compare=None)
    planned = cells(SweepSpec.load(spec, allow_any_command=True))
    assert [cell.status for cell in planned] == ["new"] * 3
    planned[1].out.mkdir(parents=True)  # meanwhile another sweep finished seed 1 and checkpointed seed 2
    (planned[1].out / "summary.json").write_text("{}")
    (planned[2].out / "checkpoints").mkdir(parents=True)
    (planned[2].out / "checkpoints" / "step_0000000001.pt").write_bytes(b"a checkpoint")  # any step file: partial
    codes = run_local(planned, parallel=1, threads=1)
    assert codes == {str(planned[0].out): 0, str(planned[1].out): FINISHED, str(planned[2].out): 0}
    commands = [[line for line in cell.log.read_text().splitlines() if line.startswith("$ ")] for cell in planned]
    assert len(commands[0]) == 1 and not commands[0][0].endswith("--resume")
    assert commands[1] == []
    assert len(commands[2]) == 1 and commands[2][0].endswith("--resume")


def test_fine_tune_cells_wait_for_their_pretrained_run(tmp_path, capsys):
    spec = write_spec(tmp_path / "spec.yaml", methods={"from-none": {"init-from": str(tmp_path / "pre" / "none-seed{seed}")}})
    (cell,) = cells(SweepSpec.load(spec))
    assert cell.init_from == tmp_path / "pre" / "none-seed0" and cell.status == "waiting"
    assert main(["sweep", str(spec), "--no-compare"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ran"] == 0 and report["waiting"] == [str(cell.out)]
    (tmp_path / "pre" / "none-seed0").mkdir(parents=True)
    (tmp_path / "pre" / "none-seed0" / "summary.json").write_text('{"step": 100}')
    assert cell.status == "waiting"  # finished, but no network to load
    (tmp_path / "pre" / "none-seed0" / "qnet.pt").write_bytes(b"")
    assert cell.status == "new"


def test_the_results_copy_is_the_record_once_the_run_directory_is_gone(tmp_path, capsys):
    import shutil

    spec = write_spec(tmp_path / "spec.yaml", results=str(tmp_path / "results"),
                      keep=["stats.jsonl", "config.yaml", "summary.json", "qnet.pt"])
    assert main(["sweep", str(spec)]) == 0
    capsys.readouterr()
    kept = tmp_path / "results" / "runs" / "none-seed0" / "qnet.pt"
    assert kept.is_file()
    # the comparison lists the kept copies (committed), not the scratch run directories
    listed = json.loads((tmp_path / "results" / "compare.json").read_text())["methods"]["none"]["runs"]
    assert listed == [str(tmp_path / "results" / "runs" / "none-seed0")]
    # a run finished before runs wrote qnet.pt: the kept copy is taken from its last checkpoint
    kept.unlink()
    (tmp_path / "sweep" / "none-seed0" / "qnet.pt").unlink()
    assert main(["sweep", str(spec), "--compare-only"]) == 0
    capsys.readouterr()
    assert kept.is_file()
    shutil.rmtree(tmp_path / "sweep")  # runs/ is scratch: lost with a machine, the committed results stay
    grid = cells(SweepSpec.load(spec))
    assert [cell.status for cell in grid] == ["done", "done"]
    assert grid[0].record == tmp_path / "results" / "runs" / "none-seed0"
    # a copy without the files the comparison reads does not stand for its cell: it runs again
    partial = dataclasses.replace(SweepSpec.load(spec), record=["summary.json", "eval.json"])
    assert [cell.status for cell in cells(partial)] == ["new", "new"]
    # a sweep of one method runs nothing and still compares the whole grid from the kept copies
    assert main(["sweep", str(spec), "--methods", "none"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ran"] == 0 and report["results"] == {"out": str(tmp_path / "results"), "finished": 2, "unfinished": []}
    assert set(json.loads((tmp_path / "results" / "compare.json").read_text())["methods"]) == {"none", "novelty"}
    # a fine-tuning cell starts from the kept network alone
    finetune = write_spec(tmp_path / "finetune.yaml", out=str(tmp_path / "ft"), compare=None, methods={
        "from-none": {"init-from": str(tmp_path / "results" / "runs" / "none-seed{seed}"), "steps": 60}})
    assert main(["sweep", str(finetune), "--seeds", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == 1
    assert "qnet.pt" in (tmp_path / "ft" / "from-none-seed0.log").read_text()
    assert main(["sweep", str(finetune), "--seeds", "0", "7"]) == 2
    assert "[7] are in no spec's methods or seeds" in capsys.readouterr().err


def test_setup_runs_once_for_the_methods_that_need_it(tmp_path):
    marker = tmp_path / "adapter"
    steps = [{"run": f"sh -c 'echo x >> {marker}'", "creates": str(marker), "methods": ["suggester"]}]
    assert run_setup(steps, "none") == 0 and not marker.exists()
    assert run_setup(steps, "suggester") == 0 and run_setup(steps, "suggester") == 0
    assert marker.read_text() == "x\n"  # created once, then skipped
    assert run_setup([{"run": "false"}], "none") == 1
    spec = tmp_path / "spec.yaml"
    write_spec(spec, setup=[{"run": "true", "when": "always"}])
    with pytest.raises(ValueError, match="setup step"):
        SweepSpec.load(spec)


def test_finish_steps_run_once_their_methods_cells_are_done(tmp_path):
    """A finish step (e.g. exporting the ELLM cells' LM cache) runs when every cell of its methods is done."""
    marker = tmp_path / "exported"
    grid = cells(SweepSpec.load(write_spec(tmp_path / "spec.yaml")))
    steps = [{"run": f"sh -c 'echo none >> {marker}'", "methods": ["none"]}, {"run": f"sh -c 'echo all >> {marker}'"}]
    assert run_finish(steps, grid) == [] and not marker.exists()  # nothing done yet
    grid[0].out.mkdir(parents=True)
    (grid[0].out / "summary.json").write_text(json.dumps({"step": 120}))
    assert run_finish(steps, grid) == [steps[0]["run"]]  # none is done, novelty is not
    assert marker.read_text() == "none\n"
    assert run_finish([{"run": "false"}], grid[:1]) == []  # a failing step is logged, not raised
    # a step whose input is not on this machine (the cells ran elsewhere; runs/ is scratch) is skipped, not failed
    away = {"run": f"sh -c 'echo away >> {marker}'", "needs": str(tmp_path / "gone.sqlite"), "methods": ["none"]}
    assert run_finish([away], grid) == [] and marker.read_text() == "none\n"
    (tmp_path / "gone.sqlite").write_text("")
    assert run_finish([away], grid) == [away["run"]] and marker.read_text() == "none\naway\n"
    write_spec(tmp_path / "spec.yaml", finish=[{"run": "ellm cache export a b", "creates": "b"}])
    with pytest.raises(ValueError, match="finish step"):
        SweepSpec.load(tmp_path / "spec.yaml")


def test_a_killed_sweep_stops_its_cells_and_starts_no_more(tmp_path):
    """SIGTERM to ``ellm sweep`` terminates the running cell (an orphan would hold no lock) and starts no other."""
    import signal
    import subprocess
    import sys
    import time

    sleeper = "import os, sys, time; open(sys.argv[-1] + '.pid', 'w').write(str(os.getpid())); time.sleep(120)"
    spec = write_spec(tmp_path / "spec.yaml", command=f"{sys.executable} -c \"{sleeper}\"", seeds=[0, 1],
                      methods={"a": {}}, args={}, parallel=1, compare=None)
    sweep = subprocess.Popen([sys.executable, "-m", "ellm_core.cli", "sweep", str(spec), "--allow-any-command"])
    pid_file = tmp_path / "sweep" / "a-seed0.pid"
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    cell = int(pid_file.read_text())
    sweep.send_signal(signal.SIGTERM)
    assert sweep.wait(timeout=60) == 128 + signal.SIGTERM
    with pytest.raises(ProcessLookupError):  # the cell is gone (reaped by the sweep)
        os.kill(cell, 0)
    assert not (tmp_path / "sweep" / "a-seed1.pid").exists()


def test_a_sweep_stopped_by_sigterm_leaves_its_cell_checkpointed_at_the_step_reached_and_resumes_it(tmp_path):
    """SIGTERM to the sweep reaches the cell, which finishes its step, writes a checkpoint and exits; the same sweep
    command resumes it, and the run ends with the network an uninterrupted run has."""
    import signal
    import subprocess
    import sys
    import time

    import torch

    from ellm_core.run.checkpoint import latest_checkpoint, load_checkpoint

    args = {"preset": "smoke", "steps": 1200, "embedder": "hashing", "cache": "none", "tensorboard": False,
            "checkpoint-every": 100_000, "log-every": 50}
    spec = write_spec(tmp_path / "spec.yaml", command="ellm train", methods={"novelty": {"reward": "novelty"}},
                      args=args, parallel=1, compare=None)
    sweep = subprocess.Popen([sys.executable, "-m", "ellm_core.cli", "sweep", str(spec)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    run, deadline = tmp_path / "sweep" / "novelty-seed0", time.monotonic() + 120
    while not ((run / "progress.csv").is_file() and len((run / "progress.csv").read_text().splitlines()) > 3):
        assert sweep.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    sweep.send_signal(signal.SIGTERM)
    assert sweep.wait(timeout=120) == 128 + signal.SIGTERM
    stopped_at = load_checkpoint(latest_checkpoint(run))["step"]
    assert 150 <= stopped_at < 1200
    assert f"stopped by SIGTERM at step {stopped_at}" in (tmp_path / "sweep" / "novelty-seed0.log").read_text()
    assert main(["sweep", str(spec), "--no-compare"]) == 0
    assert json.loads((run / "summary.json").read_text())["step"] == 1200
    straight = subprocess.run([sys.executable, "-m", "ellm_core.cli", "train", *flags({**args, "reward": "novelty", "seed": 0}, {}),
                               "--out", str(tmp_path / "straight")], capture_output=True, text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr[-2000:]
    resumed = load_checkpoint(latest_checkpoint(run))["agent"]["q"]
    uninterrupted = load_checkpoint(latest_checkpoint(tmp_path / "straight"))["agent"]["q"]
    assert all(torch.equal(resumed[key], uninterrupted[key]) for key in resumed)


def test_one_command_runs_pretraining_then_the_fine_tuning_that_waits_for_it(tmp_path, capsys):
    pretrain = write_spec(tmp_path / "pretrain.yaml", methods={"none": {"reward": "none"}}, compare=None)
    finetune = write_spec(tmp_path / "finetune.yaml", out=str(tmp_path / "finetune"), compare=None,
                          methods={"from-none": {"reward": "none", "keep-extrinsic": True,
                                                 "init-from": str(tmp_path / "sweep" / "none-seed{seed}")}})
    assert main(["sweep", str(pretrain), str(finetune), "--dry-run"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["new", "waiting"]
    assert main(["sweep", str(pretrain), str(finetune)]) == 0
    reports = capsys.readouterr().out
    assert reports.count('"ran": 1') == 2
    config = yaml.safe_load((tmp_path / "finetune" / "from-none-seed0" / "config.yaml").read_text())
    assert config["init_from"] == str(tmp_path / "sweep" / "none-seed0") and config["keep_extrinsic"] is True
