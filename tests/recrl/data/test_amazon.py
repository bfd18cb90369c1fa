"""Amazon Reviews 2023 / 2018 fixtures converted field by field, bad rows in both modes, the hub path."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recrl.data import BadRowError, PrepareConfig, load_prepared, prepare
from recrl.data.amazon import find_meta_file

from .conftest import meta_2023, review_2023, write_lines


def _prepare(tmp_path, source, reviews, **kwargs):
    config = PrepareConfig(source=source, input=str(reviews), out=str(tmp_path / "out"), min_user=1, min_item=1,
                           **kwargs)
    return prepare(config), load_prepared(config.out)


def test_amazon2023_fields(tmp_path, amazon2023_files):
    reviews, meta = amazon2023_files
    assert find_meta_file(reviews) == meta
    report, data = _prepare(tmp_path, "amazon2023", reviews)
    dress = data.items.set_index("item_id").loc["B001"]
    assert dress["title"] == "Linen Summer Dress"
    assert dress["description"] == ("Linen Summer Dress. Clothing, Shoes & Jewelry, Women, Dresses. A light & airy dress. "
                                    "Two side pockets. "
                                    "Machine washable. Material: Linen.")
    assert list(dress["categories"]) == ["Clothing, Shoes & Jewelry", "Women", "Dresses"]
    assert json.loads(dress["extra"]) == {"average_rating": 4.2, "main_category": "AMAZON FASHION", "price": 39.99,
                                          "rating_number": 12, "store": "Acme"}
    # main_category stands in for empty categories
    assert list(data.items.set_index("item_id").loc["B002", "categories"]) == ["AMAZON FASHION"]
    row = data.interactions.set_index(["user_id", "item_id"]).loc[("U2", "B003")]
    assert row["rating"] == 1 + (1 + 2) % 5
    assert row["review_title"] == "U2 on B003" and row["review_text"] == "Review by U2 of B003."
    assert row["timestamp"] == pd.Timestamp(1_600_000_000_000 + 12 * 86_400_000, unit="ms", tz="UTC")
    assert row["liked"] == (row["rating"] >= 4)
    assert report["files"]["interactions"] == {"path": str(reviews), "read": 9, "kept": 9, "dropped": {}}
    assert report["users"] == 3 and report["items"] == 3 and report["interactions"] == 9


def test_amazon2018_fields(tmp_path, amazon2018_files):
    reviews, _ = amazon2018_files
    report, data = _prepare(tmp_path, "amazon2018", reviews)
    truck = data.items.set_index("item_id").loc["T1"]
    assert truck["description"] == "Red Toy Truck. Toys & Games, Vehicles. A sturdy truck. Die-cast metal."
    assert json.loads(truck["extra"]) == {"brand": "ToyCo", "price": "$12.99"}
    row = data.interactions.set_index(["user_id", "item_id"]).loc[("R1", "T1")]
    assert (row["rating"], row["review_title"], row["review_text"]) == (5.0, "Great truck", "My son loves it.")
    assert row["timestamp"] == pd.Timestamp(1451692800, unit="s", tz="UTC")
    # R2's review has a summary but no text: kept (title or text is enough)
    assert ("R2", "T1") in set(zip(data.interactions["user_id"], data.interactions["item_id"]))
    assert report["files"]["items"]["read"] == 2


BAD_LINES = [  # (line, reason)
    ("{not json", "bad_json"),
    ('["a", "list"]', "bad_json"),
    (json.dumps({k: v for k, v in review_2023("U9", "B001", 5, 1).items() if k != "user_id"}), "missing_field"),
    (json.dumps(review_2023("U9", "B001", "five", 1)), "bad_rating"),
    (json.dumps(review_2023("U9", "B001", 7, 1)), "bad_rating"),
    (json.dumps(review_2023("U9", "B001", 0, 1)), "bad_rating"),
    (json.dumps({**review_2023("U9", "B001", 5, 1), "timestamp": "yesterday"}), "bad_timestamp"),
    (json.dumps(review_2023("U9", "B001", 5, 1, title="", text="  ")), "empty_text"),
    ('{"rating": 5, "title": "caf\xe9"}'.encode("latin-1"), "undecodable"),
]


@pytest.fixture
def messy_2023(tmp_path):
    good = [review_2023("U1", "B001", 5, 1), review_2023("U1", "B002", 3, 2), review_2023("U2", "B001", 4, 3),
            review_2023("U1", "B001", 2, 9),   # duplicate (U1, B001): the later one (day 9, rating 2) is kept
            review_2023("U2", "B404", 4, 4)]    # unknown item
    lines = [json.dumps(r) for r in good[:2]] + [line for line, _ in BAD_LINES] + [json.dumps(r) for r in good[2:]]
    reviews = write_lines(tmp_path / "Messy.jsonl", lines + [""])  # a blank line is not a row
    metas = [meta_2023("B001", "Dress"), meta_2023("B002", "Coat"), meta_2023("B003", "Boots"),
             meta_2023("B002", "Coat, second listing"), '{"broken']
    write_lines(tmp_path / "meta_Messy.jsonl", [m if isinstance(m, str) else json.dumps(m) for m in metas])
    return reviews


def test_bad_row_stops_prepare_with_file_and_line(tmp_path, messy_2023):
    with pytest.raises(BadRowError, match=r"meta_Messy\.jsonl, line 5: bad_json"):
        _prepare(tmp_path, "amazon2023", messy_2023)
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize("index", range(len(BAD_LINES)))
def test_each_malformed_review_names_its_line(tmp_path, index):
    line, reason = BAD_LINES[index]
    write_lines(tmp_path / "meta_One.jsonl", [json.dumps(meta_2023("B001", "Dress"))])
    reviews = write_lines(tmp_path / "One.jsonl", [json.dumps(review_2023("U1", "B001", 5, 0)), line])
    with pytest.raises(BadRowError, match=rf"One\.jsonl, line 2: {reason}"):
        _prepare(tmp_path, "amazon2023", reviews)


def test_skip_mode_accounts_for_every_row(tmp_path, messy_2023):
    report, data = _prepare(tmp_path, "amazon2023", messy_2023, on_bad_row="skip")
    reviews = report["files"]["interactions"]
    expected = {"bad_json": 2, "missing_field": 1, "bad_rating": 3, "bad_timestamp": 1, "empty_text": 1,
                "undecodable": 1, "duplicate": 1, "unknown_item": 1}
    assert reviews["dropped"] == expected
    assert reviews["read"] == 5 + len(BAD_LINES) == reviews["kept"] + sum(reviews["dropped"].values())
    assert reviews["kept"] == len(data.interactions) == 3
    items = report["files"]["items"]
    assert items["dropped"] == {"bad_json": 1, "duplicate": 1, "no_interactions": 1}
    assert items["read"] == 5 and items["kept"] == len(data.items) == 2
    table = data.interactions.set_index(["user_id", "item_id"])
    assert table.loc[("U1", "B001"), "rating"] == 2.0  # latest duplicate kept
    assert data.items.set_index("item_id").loc["B002", "title"] == "Coat, second listing"


def test_missing_meta_file_is_a_clear_error(tmp_path):
    reviews = write_lines(tmp_path / "Lonely.jsonl", [json.dumps(review_2023("U1", "B001", 5, 0))])
    with pytest.raises(FileNotFoundError, match="meta_Lonely.jsonl.*--meta"):
        _prepare(tmp_path, "amazon2023", reviews)


def test_meta_elsewhere(tmp_path, amazon2023_files):
    reviews, meta = amazon2023_files
    moved = tmp_path / "elsewhere.jsonl.gz"
    meta.rename(moved)
    report, _ = _prepare(tmp_path, "amazon2023", reviews, meta=str(moved))
    assert report["files"]["items"]["path"] == str(moved)


def test_hub_input_downloads_then_reads_the_same_files(tmp_path, amazon2023_files, monkeypatch):
    reviews, meta = amazon2023_files
    asked = []

    def fake_download(repo_id, filename, repo_type):
        asked.append((repo_id, filename, repo_type))
        return str(reviews if "review_categories" in filename else meta)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    report, data = _prepare(tmp_path, "amazon2023", "hub:All_Beauty")
    assert asked == [("McAuley-Lab/Amazon-Reviews-2023", "raw/review_categories/All_Beauty.jsonl", "dataset"),
                     ("McAuley-Lab/Amazon-Reviews-2023", "raw/meta_categories/meta_All_Beauty.jsonl", "dataset")]
    assert report["interactions"] == 9 and len(data.items) == 3


def test_prepared_directory_is_replaced_only_with_overwrite(tmp_path, amazon2023_files):
    reviews, _ = amazon2023_files
    _prepare(tmp_path, "amazon2023", reviews)
    with pytest.raises(FileExistsError, match="--overwrite"):
        _prepare(tmp_path, "amazon2023", reviews)
    report, _ = _prepare(tmp_path, "amazon2023", reviews, overwrite=True, liked=5.0)
    assert report["liked_threshold"] == 5.0
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".out-")] == []  # no staging left


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_gz_download_is_one_line_naming_the_file_and_line_and_writes_nothing(tmp_path, caplog, damage):
    """A ``<Category>.jsonl.gz`` cut short (gzip's end-of-stream marker missing) or garbled, as ``ellm cache import``
    answers the same fault: exit 2, one line, the file and the last line read whole, no prepared directory."""
    import re

    from recrl.cli import main

    write_lines(tmp_path / "meta_Big.jsonl.gz", [json.dumps(meta_2023(f"B{i:04d}", f"Item {i}")) for i in range(300)],
                gz=True)
    reviews = write_lines(tmp_path / "Big.jsonl.gz", [json.dumps(review_2023(f"U{i % 97}", f"B{i % 300:04d}", 1 + i % 5,
                                                                             i, text=f"review {i} " + "x" * (i % 89)))
                                                      for i in range(3000)], gz=True)
    data = reviews.read_bytes()
    if damage == "truncated":
        reviews.write_bytes(data[: len(data) * 2 // 3])
    else:
        middle = len(data) // 2
        reviews.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
    out = tmp_path / "out"
    assert main(["data", "prepare", "--source", "amazon2023", "--input", str(reviews), "--out", str(out)]) == 2
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1
    line = errors[0]
    assert "\n" not in line and "Traceback" not in line
    # cut short: where the stream ends; garbled: the first line the damage reaches (a bad row) or where it is found
    reached = re.search(rf"{re.escape(str(reviews))}(?:, line (\d+): bad_json|: unreadable after line (\d+))", line)
    assert reached and 0 < int(reached.group(1) or reached.group(2)) < 3000
    assert damage == "garbled" or "nothing was written" in line
    assert not out.exists()
