"""Small fixtures written in each source's exact file format (field names, units, encodings, gzip)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

DAY_MS = 86_400_000


def write_lines(path: Path, lines: list[str | bytes], gz: bool = False) -> Path:
    """Write raw lines (str or bytes) as a file, gzipped when ``gz``."""
    data = b"".join((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def review_2023(user: str, item: str, rating: float, day: int, title: str = "Nice", text: str = "Works well.") -> dict:
    """An Amazon Reviews 2023 review record (timestamp in milliseconds)."""
    return {"rating": rating, "title": title, "text": text, "images": [], "asin": item + "-v",
            "parent_asin": item, "user_id": user, "timestamp": 1_600_000_000_000 + day * DAY_MS,
            "helpful_vote": 0, "verified_purchase": True}


def meta_2023(item: str, title: str, **fields) -> dict:
    """An Amazon Reviews 2023 item-metadata record."""
    record = {"main_category": "AMAZON FASHION", "title": title, "average_rating": 4.2, "rating_number": 12,
              "features": [], "description": [], "price": None, "images": [], "videos": [], "store": "Acme",
              "categories": [], "details": {}, "parent_asin": item, "bought_together": None}
    record.update(fields)
    return record


@pytest.fixture
def amazon2023_files(tmp_path: Path) -> tuple[Path, Path]:
    """Clothing_Test.jsonl.gz + meta_Clothing_Test.jsonl.gz: 3 users x 3 items, all well-formed."""
    metas = [
        meta_2023("B001", "Linen Summer Dress", description=["<p>A light &amp; airy dress.</p>"],
                  features=["Two side pockets", "Machine washable"],
                  categories=["Clothing, Shoes & Jewelry", "Women", "Dresses"], details={"Material": "Linen"},
                  price=39.99),
        meta_2023("B002", "Wool Winter Coat", description=["Warm and long."], features=["Hood"]),
        meta_2023("B003", "Rain Boots", categories=["Shoes"], details={"Color": "Yellow"}),
    ]
    reviews = []
    for user_index, user in enumerate(("U1", "U2", "U3")):
        for item_index, item in enumerate(("B001", "B002", "B003")):
            reviews.append(review_2023(user, item, rating=1 + (user_index + item_index) % 5,
                                       day=10 * user_index + item_index,
                                       title=f"{user} on {item}", text=f"Review by {user} of {item}."))
    reviews_path = write_lines(tmp_path / "Clothing_Test.jsonl.gz", [json.dumps(r) for r in reviews], gz=True)
    meta_path = write_lines(tmp_path / "meta_Clothing_Test.jsonl.gz", [json.dumps(m) for m in metas], gz=True)
    return reviews_path, meta_path


@pytest.fixture
def amazon2018_files(tmp_path: Path) -> tuple[Path, Path]:
    """Toys_Test.json + meta_Toys_Test.json.gz in the 2018 format (unixReviewTime in seconds)."""
    reviews = [
        {"overall": 5.0, "vote": "2", "verified": True, "reviewTime": "01 2, 2016", "reviewerID": "R1",
         "asin": "T1", "style": {"Color:": " Red"}, "reviewerName": "Ann", "reviewText": "My son loves it.",
         "summary": "Great truck", "unixReviewTime": 1451692800},
        {"overall": 2.0, "verified": False, "reviewTime": "02 2, 2016", "reviewerID": "R1", "asin": "T2",
         "reviewerName": "Ann", "reviewText": "Broke quickly.", "summary": "Meh", "unixReviewTime": 1454371200},
        {"overall": 4.0, "reviewerID": "R2", "asin": "T1", "reviewText": "", "summary": "Fun",
         "unixReviewTime": 1454371300},
    ]
    metas = [
        {"asin": "T1", "title": "Red Toy Truck", "feature": ["Die-cast metal"], "description": ["A sturdy truck."],
         "category": ["Toys & Games", "Vehicles"], "brand": "ToyCo", "price": "$12.99"},
        {"asin": "T2", "title": "Kite", "description": "A kite for windy days.", "category": [], "brand": "SkyCo"},
    ]
    reviews_path = write_lines(tmp_path / "Toys_Test.json", [json.dumps(r) for r in reviews])
    meta_path = write_lines(tmp_path / "meta_Toys_Test.json.gz", [json.dumps(m) for m in metas], gz=True)
    return reviews_path, meta_path


@pytest.fixture
def ml100k_dir(tmp_path: Path) -> Path:
    """An ml-100k folder: u.data (tab), u.item (pipe, latin-1, 19 genre flags), u.user."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    genres = ["0"] * 19

    def flags(*indices: int) -> str:
        values = list(genres)
        for index in indices:
            values[index] = "1"
        return "|".join(values)

    items = [f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|{flags(3, 4, 5)}",
             f"2|Usual Suspects, The (1995)|14-Aug-1995||http://x|{flags(6, 13, 16)}",
             f"3|Cité des enfants perdus, La (1995)|01-Jan-1995||http://y|{flags(9, 15)}"]
    write_lines(folder / "u.item", [line.encode("latin-1") for line in items])
    ratings = ["1\t1\t5\t881250949", "1\t2\t3\t881250950", "2\t1\t4\t881250000", "2\t3\t2\t881260000",
               "3\t2\t5\t891717742"]
    write_lines(folder / "u.data", ratings)
    write_lines(folder / "u.user", ["1|24|M|technician|85711", "2|53|F|other|94043", "3|23|M|writer|32067"])
    return folder


@pytest.fixture
def films_db(tmp_path: Path) -> Path:
    """A tiny film table with the ``omdb`` columns of the Wikidata snapshot."""
    path = tmp_path / "films.db"
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE omdb (ID INTEGER, imdbID TEXT, Title TEXT, Year INTEGER, Director TEXT, '
                           'Writer TEXT, "Cast" TEXT, Country TEXT, Runtime REAL, imdbVotes INTEGER)')
        connection.executemany("INSERT INTO omdb VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (1, "tt0114814", "The Usual Suspects", 1995, "Bryan Singer", "Christopher McQuarrie",
             "Gabriel Byrne, Kevin Spacey", "United States", 106.0, 900),
            (2, "tt0112682", "The City of Lost Children", 1995, "Jean-Pierre Jeunet", "Gilles Adrien",
             "Ron Perlman", "France", 112.0, 50),
            (3, "tt9999999", "The Usual Suspects", 1995, "Someone Else", "", "", "Nowhere", 90.0, 3),
        ])
    return path
