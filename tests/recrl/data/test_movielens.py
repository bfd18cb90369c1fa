"""MovieLens ml-100k and CSV fixtures, the film-table join, and the bundled sample."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recrl.data import BadRowError, PrepareConfig, load_prepared, prepare
from recrl.data.movielens import FilmTable, split_title, title_key

from .conftest import write_lines


@pytest.mark.parametrize("raw, expected", [
    ("Usual Suspects, The (1995)", ("The Usual Suspects", 1995)),
    ("Cité des enfants perdus, La (1995)", ("La Cité des enfants perdus", 1995)),
    ("Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)", ("Shanghai Triad", 1995)),
    ("Homage (1995/I)", ("Homage", 1995)),
    ("unknown", ("unknown", None)),
])
def test_split_title(raw, expected):
    assert split_title(raw) == expected


def test_title_key_folds_case_accents_punctuation_and_articles():
    assert title_key("The Usual Suspects") == title_key("usual suspects") == "usual suspects"
    assert title_key("Amélie!") == "amelie"


def test_film_table_prefers_the_most_voted_and_tolerates_one_year(films_db):
    films = FilmTable(films_db)
    assert films.match("The Usual Suspects", 1995)["director"] == "Bryan Singer"
    assert films.match("Usual Suspects", 1996)["imdb_id"] == "tt0114814"
    assert films.match("The Usual Suspects", 1997) is None


def _prepare(tmp_path, folder, **kwargs):
    config = PrepareConfig(source="movielens", input=str(folder), out=str(tmp_path / "out"), min_user=1,
                           min_item=1, **kwargs)
    return prepare(config), load_prepared(config.out)


def test_ml100k_fields_and_film_join(tmp_path, ml100k_dir, films_db):
    report, data = _prepare(tmp_path, ml100k_dir, films=str(films_db))
    items = data.items.set_index("item_id")
    assert items.loc["2", "title"] == "The Usual Suspects (1995)"
    assert items.loc["2", "description"] == ("The Usual Suspects (1995). Crime, Mystery, Thriller. "
                                             "Director: Bryan Singer. Writer: Christopher McQuarrie. "
                                             "Cast: Gabriel Byrne, Kevin Spacey. Country: United States.")
    assert json.loads(items.loc["2", "extra"])["imdb_id"] == "tt0114814"
    # latin-1 title decoded; no English-title match, so title + genres only
    assert items.loc["3", "description"] == "La Cité des enfants perdus (1995). Fantasy, Sci-Fi."
    assert list(items.loc["1", "categories"]) == ["Animation", "Children's", "Comedy"]
    assert report["notes"]["films_matched"] == 1
    row = data.interactions.set_index(["user_id", "item_id"]).loc[("2", "3")]
    assert row["rating"] == 2.0 and row["timestamp"] == pd.Timestamp(881260000, unit="s", tz="UTC")
    assert row["review_text"] == ""
    assert set(data.users["user_id"]) == {"1", "2", "3"}
    assert json.loads(data.users.set_index("user_id").loc["1", "extra"])["occupation"] == "technician"


def test_ml100k_bad_row(tmp_path, ml100k_dir):
    with open(ml100k_dir / "u.data", "a") as handle:
        handle.write("4\t2\t9\t891717742\n4\t1\n")
    with pytest.raises(BadRowError, match=r"u\.data, line 6: bad_rating: rating '9' is outside 1-5"):
        _prepare(tmp_path, ml100k_dir, films="none")
    report, _ = _prepare(tmp_path, ml100k_dir, films="none", on_bad_row="skip")
    entry = report["files"]["interactions"]
    assert entry["dropped"] == {"bad_rating": 1, "missing_field": 1}
    assert entry["read"] == 7 and entry["kept"] == 5


def test_csv_release(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    write_lines(folder / "movies.csv", ["movieId,title,genres", '1,"American President, The (1995)",Comedy|Drama|Romance',
                                        "2,Heat (1995),Action|Crime|Thriller", "3,Empty (2000),(no genres listed)"])
    write_lines(folder / "ratings.csv", ["userId,movieId,rating,timestamp", "1,1,4.0,964982703", "1,2,3.5,964981247",
                                         "2,2,0.5,964982224", "2,3,5.0,964983815", "2,1,4.5,964983816"])
    report, data = _prepare(tmp_path, folder, films="none", on_bad_row="skip")
    items = data.items.set_index("item_id")
    assert items.loc["1", "description"] == "The American President (1995). Comedy, Drama, Romance."
    assert list(items.loc["3", "categories"]) == []
    assert report["files"]["interactions"]["dropped"] == {"bad_rating": 1}  # 0.5 stars is outside 1-5
    assert sorted(data.interactions["rating"]) == [3.5, 4.0, 4.5, 5.0]


def test_movielens_cannot_require_text(tmp_path, ml100k_dir):
    with pytest.raises(ValueError, match="no review text"):
        _prepare(tmp_path, ml100k_dir, require_text=True)


def test_sample_end_to_end(tmp_path):
    """The bundled sample: real MovieLens-100k ratings with Wikidata film details."""
    report = prepare(PrepareConfig(source="sample", out=str(tmp_path / "sample")))
    data = load_prepared(tmp_path / "sample")
    assert report["files"]["interactions"]["read"] == 100_000
    assert report["files"]["items"]["read"] == 1_682
    for entry in report["files"].values():
        assert entry["kept"] + sum(entry["dropped"].values()) == entry["read"]
    assert report["users"] == 943 and len(data.interactions) == report["interactions"] > 95_000
    assert report["notes"]["films_matched"] > 1_250  # most movies get director / cast / country
    assert data.items["description"].str.contains("Director:").mean() > 0.7
    assert set(data.interactions["split"]) == {"train", "valid", "test"}
    assert 0.15 < (data.interactions["split"] == "test").mean() < 0.25
