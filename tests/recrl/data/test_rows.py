"""Line reading: gzip by magic bytes, blank lines, undecodable bytes, CSV column errors."""

from __future__ import annotations

import gzip

import pytest

from recrl.data.rows import BadRowError, RowLedger, iter_csv_rows, iter_json_lines, parse_rating


def test_gzip_is_detected_by_content(tmp_path):
    path = tmp_path / "no_suffix"
    path.write_bytes(gzip.compress(b'{"a": 1}\n\n{"a": 2}\n'))
    ledger = RowLedger(path)
    assert [record["a"] for _, record in iter_json_lines(path, ledger)] == [1, 2]
    assert ledger.read == 2


def test_undecodable_csv_line_is_named_and_the_rest_still_reads(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"a,b\n1,2\n3,\xff\n5,6\n")
    with pytest.raises(BadRowError, match=r"r\.csv, line 3: undecodable"):
        list(iter_csv_rows(path, RowLedger(path)))
    ledger = RowLedger(path, "skip")
    assert [row["a"] for _, row in iter_csv_rows(path, ledger)] == ["1", "5"]
    assert ledger.read == 3 and ledger.dropped["undecodable"] == 1


def test_wrong_column_count(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b\n1,2\n3\n4,5,6\n")
    ledger = RowLedger(path, "skip")
    assert [(line, row) for line, row in iter_csv_rows(path, ledger)] == [(2, {"a": "1", "b": "2"})]
    assert ledger.report()["dropped"] == {"missing_field": 2} and ledger.kept == 1


@pytest.mark.parametrize("value", [True, "abc", float("nan"), 0.99, 5.01, [5]])
def test_bad_ratings(value):
    with pytest.raises(ValueError):
        parse_rating(value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.jsonl"):
        list(iter_json_lines(tmp_path / "nothing.jsonl", RowLedger("x")))
