"""Amazon Reviews 2023 and 2018: a reviews file with its ``meta_`` file, converted to the canonical schema.

- 2023 (McAuley Lab): ``<Category>.jsonl(.gz)`` with rating, title, text, user_id, parent_asin, timestamp
  (ms), ...; ``meta_<Category>.jsonl(.gz)`` with title, description (list), features, categories, details
  (dict), main_category, store, price, ... Items are keyed by ``parent_asin``.
- 2018 (Ni et al.): ``<Category>.json(.gz)`` with reviewerID, asin, overall, summary, reviewText,
  unixReviewTime (s); ``meta_<Category>.json(.gz)`` with asin, title, description, feature, category,
  brand, price, ... Items are keyed by ``asin``.

Both files are streamed line by line. ``--input hub:<Category>`` downloads the 2023 files from the
Hugging Face hub (``huggingface_hub.hf_hub_download``) and then reads them exactly like local files.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from recrl.data.describe import DescriptionOptions, as_text_list, build_description, clean_text
from recrl.data.rows import BadRow, RowLedger, iter_json_lines, parse_rating, parse_timestamp_s, require
from recrl.data.schema import (
    INTERACTION_COLUMNS,
    ITEM_COLUMNS,
    ChunkedTable,
    SourceOptions,
    SourceTables,
    convert_rows,
    to_json,
)

HUB_REPO_2023 = "McAuley-Lab/Amazon-Reviews-2023"
_SUFFIXES = (".jsonl.gz", ".jsonl", ".json.gz", ".json")
DEFAULT_DESCRIPTION = DescriptionOptions()


def download_amazon2023(category: str, repo_id: str = HUB_REPO_2023) -> tuple[str, str]:
    """Download one category's reviews and meta files from the hub; returns their local paths."""
    from huggingface_hub import hf_hub_download

    reviews = hf_hub_download(repo_id, f"raw/review_categories/{category}.jsonl", repo_type="dataset")
    meta = hf_hub_download(repo_id, f"raw/meta_categories/meta_{category}.jsonl", repo_type="dataset")
    return reviews, meta


def find_meta_file(reviews_path: str | Path) -> Path:
    """The ``meta_<Category>`` file beside a reviews file (any of .jsonl/.json, gzipped or not)."""
    reviews_path = Path(reviews_path)
    stem = reviews_path.name
    for suffix in _SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    candidates = [reviews_path.with_name(f"meta_{stem}{suffix}") for suffix in _SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no item metadata file beside {reviews_path}: looked for "
                            f"{', '.join(c.name for c in candidates)}; pass --meta PATH")


def _review_row(user: Any, item: Any, rating: Any, timestamp_s: float, title: Any, text: Any,
                require_text: bool) -> dict[str, Any]:
    review_title, review_text = clean_text(title), clean_text(text)
    if require_text and not (review_title or review_text):
        raise BadRow("empty_text", "the review's title and text are both empty")
    return {"user_id": str(user), "item_id": str(item), "rating": parse_rating(rating),
            "review_title": review_title, "review_text": review_text, "timestamp": timestamp_s}


def parse_review_2023(record: dict[str, Any], require_text: bool = True) -> dict[str, Any]:
    """One Amazon 2023 review line as a canonical interaction row."""
    require(record, "user_id", "parent_asin", "rating", "timestamp")
    timestamp_s = parse_timestamp_s(record["timestamp"], unit_s=0.001)
    return _review_row(record["user_id"], record["parent_asin"], record["rating"], timestamp_s,
                       record.get("title"), record.get("text"), require_text)


def parse_review_2018(record: dict[str, Any], require_text: bool = True) -> dict[str, Any]:
    """One Amazon 2018 review line as a canonical interaction row."""
    require(record, "reviewerID", "asin", "overall", "unixReviewTime")
    timestamp_s = parse_timestamp_s(record["unixReviewTime"])
    return _review_row(record["reviewerID"], record["asin"], record["overall"], timestamp_s,
                       record.get("summary"), record.get("reviewText"), require_text)


def _item_row(item_id: str, title: Any, description: Any, features: Any, categories: list[str],
              details: Any, extra: dict[str, Any], options: DescriptionOptions) -> dict[str, Any]:
    details = {key: value for key, value in details.items()} if isinstance(details, dict) else {}
    text = build_description(title, description=description, features=features, categories=categories,
                             details=details, options=options)
    if not text:
        raise BadRow("empty_text", "the item has no title, description, features, categories or details")
    return {"item_id": str(item_id), "title": clean_text(title), "description": text,
            "categories": categories, "extra": to_json(extra)}


def parse_meta_2023(record: dict[str, Any], options: DescriptionOptions = DEFAULT_DESCRIPTION) -> dict[str, Any]:
    """One Amazon 2023 meta line as a canonical item row."""
    require(record, "parent_asin")
    categories = as_text_list(record.get("categories")) or as_text_list(record.get("main_category"))
    extra = {key: record.get(key) for key in ("main_category", "store", "price", "average_rating", "rating_number")}
    return _item_row(record["parent_asin"], record.get("title"), record.get("description"),
                     record.get("features"), categories, record.get("details"), extra, options)


def parse_meta_2018(record: dict[str, Any], options: DescriptionOptions = DEFAULT_DESCRIPTION) -> dict[str, Any]:
    """One Amazon 2018 meta line as a canonical item row."""
    require(record, "asin")
    categories = as_text_list(record.get("category")) or as_text_list(record.get("main_cat"))
    extra = {key: record.get(key) for key in ("brand", "price", "main_cat", "rank")}
    return _item_row(record["asin"], record.get("title"), record.get("description"), record.get("feature"),
                     categories, record.get("details"), extra, options)


def _load(options: SourceOptions, parse_review: Any, parse_meta: Any, source: str) -> SourceTables:
    if not options.input:
        raise ValueError(f"--source {source} needs --input PATH (the reviews file"
                         + (" or hub:<Category>)" if source == "amazon2023" else ")"))
    reviews_path, meta_path = options.input, options.meta
    if reviews_path.startswith("hub:"):
        if source != "amazon2023":
            raise ValueError("hub: inputs are available for --source amazon2023 only")
        reviews_path, meta_path = download_amazon2023(reviews_path[len("hub:"):])
    meta_path = str(meta_path or find_meta_file(reviews_path))
    require_text = True if options.require_text is None else options.require_text

    item_ledger = RowLedger(meta_path, options.on_bad_row)
    items = ChunkedTable(ITEM_COLUMNS)
    convert_rows(iter_json_lines(meta_path, item_ledger),
                 functools.partial(parse_meta, options=options.description), item_ledger, items)
    interaction_ledger = RowLedger(reviews_path, options.on_bad_row)
    interactions = ChunkedTable(INTERACTION_COLUMNS)
    convert_rows(iter_json_lines(reviews_path, interaction_ledger),
                 functools.partial(parse_review, require_text=require_text), interaction_ledger, interactions)
    return SourceTables(items.frame(), interactions.frame(), item_ledger, interaction_ledger,
                        notes={"require_text": require_text})


def load_amazon2023(options: SourceOptions) -> SourceTables:
    """Amazon Reviews 2023: ``--input <Category>.jsonl(.gz)`` (or ``hub:<Category>``), meta beside it."""
    return _load(options, parse_review_2023, parse_meta_2023, "amazon2023")


def load_amazon2018(options: SourceOptions) -> SourceTables:
    """Amazon Reviews 2018: ``--input <Category>.json(.gz)``, ``meta_<Category>.json(.gz)`` beside it."""
    return _load(options, parse_review_2018, parse_meta_2018, "amazon2018")
