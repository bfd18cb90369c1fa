"""Bad input at the command line: one clear line naming the input, a non-zero exit, no traceback (``-v`` shows it)."""

from __future__ import annotations

import pytest

from ellm_core.cli import main as ellm
from recrl.cli import main as recrl


def one_line_error(capsys, run, argv) -> str:
    code = run(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if " INFO " not in line]
    assert len(lines) == 1, err
    return lines[0]


def test_validate_with_a_missing_data_folder(capsys, tmp_path):
    line = one_line_error(capsys, recrl, ["validate", "--data", str(tmp_path / "nope")])
    assert line.startswith("recrl validate: ") and "nope" in line and "recrl data prepare" in line


def test_browse_eval_of_a_missing_run(capsys, tmp_path):
    line = one_line_error(capsys, recrl, ["browse", "eval", str(tmp_path / "no-run")])
    assert line.startswith("recrl browse eval: ") and "no-run" in line and "recrl browse train" in line


def test_crafter_record_of_a_missing_run(capsys, tmp_path):
    line = one_line_error(capsys, ellm, ["crafter", "record", str(tmp_path / "no-run")])
    assert line.startswith("ellm crafter record: ") and "not a training run directory" in line


def test_crafter_compare_of_a_missing_folder(capsys, tmp_path):
    line = one_line_error(capsys, ellm, ["crafter", "compare", str(tmp_path / "no-folder")])
    assert line.startswith("ellm crafter compare: ") and "no-folder" in line and "no such folder" in line


def test_sweep_spec_with_a_yaml_syntax_error(capsys, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("command: ellm crafter train\nout: [runs\n")
    line = one_line_error(capsys, ellm, ["sweep", str(spec)])
    assert line.startswith("ellm sweep: ") and "bad.yaml" in line and "not valid YAML" in line


def test_sweep_spec_may_run_only_ellm_or_recrl_commands(capsys, tmp_path):
    spec = tmp_path / "rm.yaml"
    spec.write_text("command: rm -rf /\nout: runs/x\nmethods: {a: {}}\n")
    line = one_line_error(capsys, ellm, ["sweep", str(spec), "--dry-run"])
    assert "'rm -rf /' is not an ellm or recrl command" in line and "--allow-any-command" in line
    setup = tmp_path / "setup.yaml"
    setup.write_text("command: ellm crafter train\nout: runs/x\nmethods: {a: {}}\nsetup: [{run: curl x}]\n")
    assert "setup" in one_line_error(capsys, ellm, ["sweep", str(setup), "--dry-run"])
    assert ellm(["sweep", str(spec), "--dry-run", "--allow-any-command"]) == 0
    assert "rm -rf / --seed 0" in capsys.readouterr().out


@pytest.mark.parametrize("argv, flag", [(["--steps", "-5"], "--steps -5"), (["--length", "0"], "--length 0"),
                                        (["--dqn-lr", "0"], "--dqn-lr 0.0"), (["--threshold", "1.5"], "--threshold")])
def test_crafter_train_refuses_impossible_values_before_any_work(capsys, tmp_path, argv, flag):
    line = one_line_error(capsys, ellm, ["crafter", "train", "--out", str(tmp_path / "run"), *argv])
    assert line.startswith(f"ellm crafter train: {flag}") and "must be" in line
    assert not (tmp_path / "run").exists()  # nothing was started


def test_verbose_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a training run directory"):
        ellm(["crafter", "record", str(tmp_path / "no-run"), "-v"])


def test_crafter_train_materials_without_a_prerequisite_file(capsys, tmp_path):
    line = one_line_error(capsys, ellm, ["crafter", "train", "--out", str(tmp_path / "run"), "--materials"])
    assert line.startswith("ellm crafter train: --materials") and "--prerequisites FILE" in line
    assert not (tmp_path / "run").exists()
