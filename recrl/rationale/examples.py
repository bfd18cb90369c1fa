"""How a rationale training example is built from a prepared data directory.

For every interaction of the chosen split rated at or above ``liked_threshold`` whose target is usable:

- **input** (the user's context): the user's *earlier* liked items (strictly older timestamps, train split only
  unless told otherwise, at most ``max_history``, oldest first), and the category most common among those
  earlier items (the first entry of their ``categories``). The target item never appears in it. Each earlier
  item is given by its title (``history="titles"``), or grounded in its metadata (``history="metadata"``: title,
  genres, director, the first two cast names), so that the people a rationale names can come from the input.
- **target** (the rationale): where the interaction has review text (Amazon, clothing), its first sentences,
  cleaned and capped at ``max_target_chars``; where it has none (the MovieLens sample), a *proxy* taste
  statement built from the liked item's metadata ("I want a 1990s crime, thriller film directed by Quentin
  Tarantino, starring Samuel L. Jackson."), which is a stand-in, not something the user wrote.

Both are put into one chat: :data:`SYSTEM` as the system turn, :func:`user_message` as the user turn, and the
target as the assistant answer. Generation uses the same prompt with the user's latest history.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from recrl.data.prepared import PreparedData

SYSTEM = ("You are a shopper describing what you want. Answer with one short sentence in the first person, "
          "saying what kind of product you are looking for next.")
USER_TEMPLATE = "Category: {category}\nItems I liked before: {history}\nWhat are you looking for next?"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LABELS = ("Director", "Writer", "Cast", "Country")
_FIELD = re.compile(r"(Director|Writer|Cast|Country): (.*?)(?=\. (?:Director|Writer|Cast|Country): |\.?$)")


@dataclass(frozen=True)
class RationaleExample:
    """One (context → rationale) pair; ``item_id`` is the liked target item (never part of ``context``)."""

    user_id: str
    item_id: str
    history: tuple[str, ...]
    category: str
    target: str


HISTORY_FORMATS = ("titles", "metadata")


def history_entry(item: dict, history: str = "titles") -> str:
    """How one earlier liked item appears in the prompt: its title, or its title with its metadata."""
    title = str(item.get("title") or item.get("item_id", ""))
    if history == "titles":
        return title
    if history != "metadata":
        raise ValueError(f"history must be one of {HISTORY_FORMATS}, got {history!r}")
    fields = dict(_FIELD.findall(str(item.get("description", ""))))
    parts = [", ".join(str(c).lower() for c in list(item.get("categories", []))[:3])]
    if fields.get("Director"):
        parts.append("directed by " + fields["Director"].split(", ")[0])
    if fields.get("Cast"):
        parts.append("with " + " and ".join(fields["Cast"].split(", ")[:2]))
    return f"{title} ({'; '.join(p for p in parts if p)})" if any(parts) else title


def user_message(history: tuple[str, ...] | list[str], category: str) -> str:
    """The user turn of the rationale prompt."""
    return USER_TEMPLATE.format(category=category or "any", history="; ".join(history) or "nothing yet")


def chat(history: tuple[str, ...] | list[str], category: str) -> list[dict[str, str]]:
    """The rationale prompt as a chat (system + user turn)."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_message(history, category)}]


def first_sentences(text: str, max_chars: int) -> str:
    """The leading sentences of ``text`` that fit in ``max_chars`` (at least the first one, cut at a word)."""
    text = " ".join(str(text).split())
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        kept = candidate
    if not kept and text:
        kept = text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text
    return kept.strip()


def proxy_rationale(item: dict) -> str:
    """A taste statement from an item's metadata (genres, decade, director, lead cast), for data without reviews."""
    extra = json.loads(item.get("extra") or "{}")
    fields = dict(_FIELD.findall(str(item.get("description", ""))))
    genres = ", ".join(str(c).lower() for c in list(item.get("categories", []))[:3])
    year = extra.get("year")
    decade = f"{int(year) // 10 * 10}s " if isinstance(year, (int, float)) and year == year else ""
    text = f"I want a {decade}{genres or 'good'} film"
    if fields.get("Director"):
        text += f" directed by {fields['Director'].split(', ')[0]}"
    if fields.get("Cast"):
        text += f", starring {fields['Cast'].split(', ')[0]}"
    return text + "."


def _first_category(categories) -> str:
    values = list(categories) if categories is not None else []
    return str(values[0]) if values else ""


def build_examples(
    data: PreparedData,
    split: str = "train",
    liked_threshold: float = 4.0,
    max_history: int = 5,
    max_target_chars: int = 160,
    history_splits: tuple[str, ...] = ("train",),
    history: str = "titles",
) -> list[RationaleExample]:
    """Training (or held-out) examples from the liked interactions of ``split``; see the module docstring.

    ``history_splits`` says which splits the earlier liked items may come from (``("train",)`` for training;
    held-out evaluation may also use ``valid``/``test`` items that are older than the target).
    """
    items = data.items.set_index("item_id")
    entries = _entries(data, history)
    first_category = items["categories"].map(_first_category).to_dict()
    frame = data.interactions
    liked = frame[frame["rating"] >= liked_threshold].sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    examples = []
    for user_id, rows in liked.groupby("user_id", sort=True):
        seen: list[tuple] = []  # (timestamp, item_id) of earlier liked items usable as history
        for row in rows.itertuples(index=False):
            if row.split == split:
                target = _target(row, items)
                if target:
                    earlier = [i for t, i in seen if t < row.timestamp and i != row.item_id][-max_history:]
                    context = tuple(entries.get(i, str(i)) for i in earlier)
                    counts = Counter(first_category.get(i, "") for i in earlier if first_category.get(i))
                    category = counts.most_common(1)[0][0] if counts else ""
                    examples.append(RationaleExample(str(user_id), str(row.item_id), context, category,
                                                     first_sentences(target, max_target_chars)))
            if row.split in history_splits:
                seen.append((row.timestamp, row.item_id))
    return examples


def _entries(data: PreparedData, history: str) -> dict[str, str]:
    """item_id -> its history entry (:func:`history_entry`)."""
    return {str(item["item_id"]): history_entry(item, history) for item in data.items.to_dict("records")}


def _target(row, items: pd.DataFrame) -> str:
    review = " ".join(str(row.review_text or "").split())
    if review:
        return review
    if row.item_id in items.index:
        return proxy_rationale({"item_id": row.item_id, **items.loc[row.item_id].to_dict()})
    return ""


def user_histories(data: PreparedData, users: list[str] | None = None, liked_threshold: float = 4.0,
                   max_history: int = 5, splits: tuple[str, ...] = ("train",),
                   history: str = "titles") -> dict[str, tuple[tuple, str]]:
    """user_id -> (history entries, category) from the user's latest liked items of ``splits``, for generation
    (``history`` as in training: the adapter manifest records it).

    A user without liked items there gets an empty history ("nothing yet") rather than an error.
    """
    items = data.items.set_index("item_id")
    titles, first_category = _entries(data, history), items["categories"].map(_first_category).to_dict()
    frame = data.interactions
    frame = frame[frame["split"].isin(splits) & (frame["rating"] >= liked_threshold)]
    frame = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    wanted = sorted(set(data.interactions["user_id"])) if users is None else [str(u) for u in users]
    grouped = {str(u): list(g["item_id"]) for u, g in frame.groupby("user_id", sort=False)}
    result = {}
    for user in wanted:
        recent = grouped.get(user, [])[-max_history:]
        counts = Counter(first_category.get(i, "") for i in recent if first_category.get(i))
        result[user] = (tuple(titles.get(i, str(i)) for i in recent), counts.most_common(1)[0][0] if counts else "")
    return result
