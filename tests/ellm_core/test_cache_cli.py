"""``ellm cache export|import``: the LM's answers survive the scratch cache, and bad files are clear errors."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest

from ellm_core.cache import SQLiteCache, pack_array, pack_json, unpack_json
from ellm_core.cache.files import export_cache, import_cache
from ellm_core.cli import main


def test_an_export_keeps_the_earlier_files_entries_and_writes_nothing_from_an_empty_cache(tmp_path):
    export = tmp_path / "answers.jsonl.gz"
    first = SQLiteCache(tmp_path / "first.sqlite")  # another machine's cache, exported and committed
    first.put_many("llm", {"a": pack_json(["eat cow"]), "b": pack_json(["drink water"])})
    assert export_cache(first, export) == 2
    second = SQLiteCache(tmp_path / "second.sqlite")  # this machine's: one answer again, one new
    second.put_many("llm", {"b": pack_json(["drink water"]), "c": pack_json(["collect wood"])})
    assert export_cache(second, export) == 3
    merged = SQLiteCache(tmp_path / "merged.sqlite")
    assert import_cache(merged, export) == (3, 0)
    assert unpack_json(merged.get_many("llm", ["a"])["a"]) == ["eat cow"]
    before = export.read_bytes()
    assert export_cache(SQLiteCache(tmp_path / "empty.sqlite"), export) == 3 and export.read_bytes() == before
    assert export_cache(SQLiteCache(tmp_path / "empty.sqlite"), tmp_path / "new.jsonl.gz") == 0
    assert not (tmp_path / "new.jsonl.gz").exists()  # no empty file beside the results
    export.write_bytes(before[: len(before) // 2])  # cut short: its entries cannot be kept, so nothing is written
    with pytest.raises(ValueError, match="move it aside"):
        export_cache(second, export)


@pytest.mark.parametrize("name", ["answers.jsonl", "answers.jsonl.gz"])
def test_export_then_import_round_trips_the_llm_answers_only(tmp_path, name):
    import numpy as np

    source = SQLiteCache(tmp_path / "source.sqlite")
    source.put_many("llm", {"b": pack_json("- chop tree"), "a": pack_json(["eat cow", "drink water"])})
    source.put_many("embedding", {"a": pack_array(np.ones(3, dtype=np.float32))})
    assert export_cache(source, tmp_path / name) == 2
    opener = gzip.open if name.endswith(".gz") else open
    with opener(tmp_path / name, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    assert [row["key"] for row in rows] == ["a", "b"] and rows[0]["value"] == ["eat cow", "drink water"]
    first = (tmp_path / name).read_bytes()
    time.sleep(1.1)  # a gzip header would hold a new time stamp
    assert export_cache(source, tmp_path / name) == 2 and (tmp_path / name).read_bytes() == first  # same entries, same bytes
    target = SQLiteCache(tmp_path / "target.sqlite")
    target.put_many("llm", {"b": pack_json("kept")})
    assert import_cache(target, tmp_path / name) == (1, 1)  # an entry the cache has is never replaced
    found = target.get_many("llm", ["a", "b"])
    assert unpack_json(found["a"]) == ["eat cow", "drink water"] and unpack_json(found["b"]) == "kept"
    assert target.get_many("embedding", ["a"]) == {}


def test_a_malformed_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"namespace": "llm", "key": "a", "value": "x"}\n{"key": "b"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a cache entry"):
        import_cache(SQLiteCache(tmp_path / "c.sqlite"), path)


def test_the_cli_exports_and_imports(tmp_path):
    SQLiteCache(tmp_path / "a.sqlite").put_many("llm", {"k": pack_json("- place table")})
    assert main(["cache", "export", str(tmp_path / "a.sqlite"), str(tmp_path / "out" / "llm.jsonl.gz")]) == 0
    assert main(["cache", "import", str(tmp_path / "out" / "llm.jsonl.gz"), str(tmp_path / "b.sqlite")]) == 0
    assert unpack_json(SQLiteCache(tmp_path / "b.sqlite").get_many("llm", ["k"])["k"]) == "- place table"
    with pytest.raises(SystemExit, match="no cache at"):
        main(["cache", "export", str(tmp_path / "missing.sqlite"), str(tmp_path / "x.jsonl")])


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_export_is_one_line_naming_the_file_and_line_and_imports_nothing(tmp_path, capsys, damage):
    source = SQLiteCache(tmp_path / "source.sqlite")
    source.put_many("llm", {f"key{i}": pack_json(f"- goal {i} " + "x" * (i % 97)) for i in range(3000)})
    export = tmp_path / "answers.jsonl.gz"
    assert export_cache(source, export) == 3000
    data = export.read_bytes()
    if damage == "truncated":  # a copy cut short: gzip's end-of-stream marker is missing
        export.write_bytes(data[: len(data) * 2 // 3])
    else:  # bytes flipped in the middle of the compressed stream
        export.write_bytes(data[:len(data) // 2] + bytes(b ^ 0xFF for b in data[len(data) // 2:len(data) // 2 + 64])
                           + data[len(data) // 2 + 64:])
    assert main(["cache", "import", str(export), str(tmp_path / "target.sqlite")]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert str(export) in line and "nothing was imported" in line
    reached = re.search(rf"{re.escape(str(export))}(?::(\d+): not a cache entry|: unreadable after line (\d+))", line)
    assert reached and 0 < int(reached.group(1) or reached.group(2)) < 3000  # where the damage was found
    assert SQLiteCache(tmp_path / "target.sqlite").check()[1].get("llm", 0) == 0  # nothing half-imported
