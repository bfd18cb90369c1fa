"""Faults from outside a run, injected into smoke runs: each ends in a resumed run or one clear line, and nothing
written before the fault is lost (the stats.jsonl lines, the earlier checkpoints)."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3

import pytest
import torch

import ellm_core.crafter.stats
import ellm_core.run.checkpoint
from ellm_core.cache import SQLiteCache, pack_json
from ellm_core.cli import main
from ellm_core.lm.base import CachedLM, ScriptedLM
from ellm_core.run.checkpoint import checkpoints, verify_checkpoint

SMOKE = ["crafter", "train", "--preset", "smoke", "--reward", "none", "--length", "60", "--checkpoint-every", "200",
         "--embedder", "hashing:32", "--cache", "none", "--no-tensorboard", "--eval-episodes", "1"]


def train(run, steps: int, *extra: str) -> int:
    return main([*SMOKE, "--steps", str(steps), "--out", str(run), *extra])


def stats_lines(run) -> list[str]:
    return (run / "stats.jsonl").read_text().splitlines()


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 600-step run with checkpoints at 400 and 600 (the newest two kept) and its stats."""
    run = tmp_path_factory.mktemp("faults") / "run"
    assert train(run, 600) == 0
    assert [path.name for path in checkpoints(run)] == ["step_0000000600.pt", "step_0000000400.pt"]
    return run


@pytest.fixture
def run(trained, tmp_path):
    """A fresh copy of the trained run for each fault."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def test_a_damaged_latest_pointer_is_not_trusted(run):
    (run / "checkpoints" / "latest").write_bytes(b"\x00garbage")
    before = stats_lines(run)
    assert train(run, 800, "--resume") == 0
    after = stats_lines(run)
    assert after[:len(before)] == before and len(after) > len(before)  # resumed at 600: nothing before it redone
    assert json.loads((run / "summary.json").read_text())["step"] == 800


def test_a_truncated_newest_checkpoint_resumes_from_the_one_before(run, caplog):
    newest = run / "checkpoints" / "step_0000000600.pt"
    newest.write_bytes(newest.read_bytes()[:1000])
    kept = [line for line in stats_lines(run) if json.loads(line)["step"] <= 400]
    with caplog.at_level(logging.INFO, logger="ellm_core.run.checkpoint"):
        assert train(run, 800, "--resume") == 0
    assert "skipping checkpoint" in caplog.text and "cut short" in caplog.text
    assert "resuming from" in caplog.text and "step_0000000400.pt" in caplog.text
    assert stats_lines(run)[:len(kept)] == kept
    assert json.loads((run / "summary.json").read_text())["step"] == 800


def test_a_checkpoint_from_before_the_checksums_is_trusted_when_it_loads(run):
    for sidecar in (run / "checkpoints").glob("*.sha256"):
        sidecar.unlink()
    assert verify_checkpoint(run / "checkpoints" / "step_0000000600.pt") is None
    (run / "checkpoints" / "step_0000000600.pt").write_bytes(b"not a zip")
    assert "does not load" in verify_checkpoint(run / "checkpoints" / "step_0000000600.pt")


def test_no_usable_checkpoint_is_one_line_and_overwrite_starts_again(run, capsys):
    for path in checkpoints(run):
        path.write_bytes(path.read_bytes()[:500])
    assert train(run, 800, "--resume") == 2
    line = one_line(capsys)
    assert str(run) in line and "no checkpoint that loads" in line and "--overwrite" in line
    assert train(run, 800) == 2  # nor a silent fresh start without --resume
    assert "--overwrite" in one_line(capsys)
    assert train(run, 400, "--overwrite") == 0
    assert json.loads((run / "summary.json").read_text())["step"] == 400
    assert max(json.loads(line)["step"] for line in stats_lines(run)) <= 400  # the old run's lines are gone


def test_a_full_disk_during_a_checkpoint_stops_with_one_line_and_the_previous_one_loads(run, capsys, monkeypatch):
    real_save = torch.save
    calls = {"n": 0}

    def save_until_full(obj, handle, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, handle, *args, **kwargs)

    monkeypatch.setattr(ellm_core.run.checkpoint.torch, "save", save_until_full)
    assert train(run, 1200, "--resume") == 2  # the checkpoint at 800 fits, the one at 1000 does not
    line = one_line(capsys)
    assert "step_0000001000.pt" in line and "the disk is full" in line and "step_0000000800.pt is intact" in line
    assert verify_checkpoint(run / "checkpoints" / "step_0000000800.pt") is None
    assert not (run / "checkpoints" / "step_0000001000.pt").exists()
    assert not list((run / "checkpoints").glob("*.tmp"))
    monkeypatch.setattr(ellm_core.run.checkpoint.torch, "save", real_save)
    assert train(run, 1200, "--resume") == 0
    assert json.loads((run / "summary.json").read_text())["step"] == 1200


def test_a_full_disk_during_a_stats_write_stops_with_one_line_and_keeps_the_lines_before(run, capsys, monkeypatch):
    before = stats_lines(run)
    real_open = ellm_core.crafter.stats.Path.open
    writes = {"n": 0}

    def open_until_full(self, mode="r", *args, **kwargs):
        if self.name == "stats.jsonl" and mode == "a":
            writes["n"] += 1
            if writes["n"] > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(ellm_core.crafter.stats.Path, "open", open_until_full)
    assert train(run, 1000, "--resume") == 2
    assert "stats.jsonl" in one_line(capsys)
    assert stats_lines(run)[:len(before)] == before
    monkeypatch.setattr(ellm_core.crafter.stats.Path, "open", real_open)
    (run / "stats.jsonl").write_text((run / "stats.jsonl").read_text() + '{"length": 6')  # a line cut short
    assert train(run, 1000, "--resume") == 0
    lines = stats_lines(run)
    assert lines[:len(before)] == before and all(json.loads(line) for line in lines)


def test_a_cache_that_is_not_a_database_is_one_line_with_the_ways_out(tmp_path, capsys):
    damaged = tmp_path / "cache.sqlite"
    damaged.write_bytes(b"this is not an SQLite file" * 100)
    code = main(["goals", "--cache", str(damaged), "--lm-backend", "scripted", "--observation", "You see a tree.",
                 "--actions", "do,noop"])
    line = one_line(capsys)
    assert code == 2 and str(damaged) in line and "--cache none" in line and "ellm cache import" in line
    assert train(tmp_path / "run", 100, "--cache", str(damaged)) == 2
    assert "is damaged" in one_line(capsys)
    assert main(["cache", "check", str(damaged)]) == 2
    assert "is damaged" in one_line(capsys)


def test_cache_check_reports_integrity_and_entries(tmp_path, capsys):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    cache.put_many("llm", {"a": pack_json(["collect wood"]), "b": pack_json([])})
    cache.put_many("embedding", {"c": b"x"})
    assert main(["cache", "check", str(tmp_path / "cache.sqlite")]) == 0
    assert capsys.readouterr().out.strip().endswith("integrity ok; 1 embedding, 2 llm")


def test_a_cache_that_cannot_store_more_is_used_uncached_with_one_warning(tmp_path, caplog):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    cache.put_many("llm", {"first": pack_json(["collect wood"])})
    connection = cache._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    lm = CachedLM(ScriptedLM(lambda text: f"- {text.split()[-1]}"), cache)
    with caplog.at_level(logging.WARNING, logger="ellm_core.cache"):
        answers = [lm.generate([f"goal number {i} " + "x" * 3000])[0] for i in range(5)]
    assert answers == ["- " + "x" * 3000] * 5  # every answer used, none lost
    assert cache.write_failures >= 1 and caplog.text.count("cannot store new entries") == 1
    with pytest.raises(sqlite3.OperationalError):  # the limit is real: SQLite refuses the insert itself
        connection.execute("INSERT INTO cache VALUES ('llm', 'big', ?)", [b"y" * 100_000])
