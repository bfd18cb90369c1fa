"""The ``recrl`` command: help everywhere, ``data prepare`` end to end on the sample, ``data stats``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recrl.cli import main


def test_help_lists_data(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "data" in capsys.readouterr().out
    for argv in (["data", "--help"], ["data", "prepare", "--help"], ["data", "stats", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "usage: recrl data" in capsys.readouterr().out


def test_prepare_sample_and_stats_from_the_console_script(tmp_path):
    out = tmp_path / "sample"
    result = subprocess.run([sys.executable, "-m", "recrl.cli", "data", "prepare", "--source", "sample",
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "interactions: " in result.stdout and "read 100000, kept" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert {"items.parquet", "interactions.parquet", "split.parquet", "users.parquet", "config.yaml"} <= {
        path.name for path in out.iterdir()}
    result = subprocess.run([sys.executable, "-m", "recrl.cli", "data", "stats", str(out), "--json"],
                            capture_output=True, text=True, timeout=300)
    stats = json.loads(result.stdout)
    assert stats["users"] == report["users"] == 943
    assert stats["interactions"] == report["interactions"]
    assert stats["rating_histogram"] == report["rating_histogram"]
    assert sum(stats["rating_histogram"].values()) == stats["interactions"]
    assert stats["split"] == report["split"]


def test_prepare_refuses_to_overwrite_and_reports_bad_rows(tmp_path, capsys, caplog):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert main(["data", "prepare", "--out", str(tmp_path / "out"), "--overwrite"]) == 2
    assert "not a prepared directory" in caplog.text and (tmp_path / "out" / "keep.txt").exists()
    reviews = tmp_path / "R.jsonl"
    reviews.write_text('{"user_id": "u", "parent_asin": "i", "rating": 5, "timestamp": 1}\nnot json\n')
    (tmp_path / "meta_R.jsonl").write_text('{"parent_asin": "i", "title": "Thing"}\n')
    argv = ["data", "prepare", "--source", "amazon2023", "--input", str(reviews), "--out", str(tmp_path / "p"),
            "--min-user", "1", "--min-item", "1", "--no-require-text"]
    assert main(argv) == 2
    assert "R.jsonl, line 2: bad_json" in caplog.text
    assert main([*argv, "--on-bad-row", "skip"]) == 0
    assert "read 2, kept 1, dropped: bad_json 1" in capsys.readouterr().out


def test_stats_of_a_missing_directory(tmp_path, caplog):
    assert main(["data", "stats", str(tmp_path)]) == 2
    assert "not a prepared data directory" in caplog.text
