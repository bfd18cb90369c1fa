"""Rationale goals for users: K sampled, cleaned, de-duplicated sentences per user, cached per prompt.

The rationale model is the core's :class:`~ellm_core.lm.hf.TransformersLM` with the LoRA adapter applied,
so it is a :class:`~ellm_core.lm.base.LanguageModel` and can serve as the goal generator of the browsing
environment. Empty or degenerate generations (no letters, fewer than ``min_words`` words, one word repeated
over half the text) and duplicates are dropped and counted (as are usable extras of the second round); a user short of K gets one more sampling round.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ellm_core.cache import SQLiteCache, make_key, pack_json, unpack_json
from ellm_core.lm.base import LanguageModel
from recrl.rationale.examples import chat, first_sentences

logger = logging.getLogger(__name__)

_LEADING = re.compile(r"^\s*(?:(?:[-*•\d.)]+|(?:answer|rationale)\s*:)\s*)+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass
class GenerationCounts:
    """What happened to the raw generations."""

    generated: int = 0
    kept: int = 0
    empty: int = 0
    degenerate: int = 0
    duplicate: int = 0
    surplus: int = 0
    users_short: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**self.__dict__, "users_short": len(self.users_short)}


def clean_rationale(text: str, max_chars: int = 160) -> str:
    """The first line of an answer without list markers or quotes, cut to whole leading sentences."""
    line = next((part for part in str(text).splitlines() if part.strip()), "")
    line = _LEADING.sub("", line).strip().strip("\"'“”").strip()
    return first_sentences(line, max_chars)


def is_degenerate(text: str, min_words: int = 3) -> bool:
    """True for text with fewer than ``min_words`` words or one word making up over half of it."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < min_words:
        return True
    return Counter(words).most_common(1)[0][1] > len(words) / 2


def _sample_round(lm: LanguageModel, prompts: dict[str, list], num: int) -> dict[str, list[str]]:
    """``num`` raw answers per user (the same prompt repeated: the LM samples each row independently)."""
    users = list(prompts)
    answers = lm.generate([prompts[user] for user in users for _ in range(num)])
    return {user: answers[i * num : (i + 1) * num] for i, user in enumerate(users)}


def generate_rationales(
    lm: LanguageModel,
    histories: dict[str, tuple[Sequence[str], str]],
    num: int,
    cache: SQLiteCache | None = None,
    max_chars: int = 160,
    chunk_users: int = 16,
) -> tuple[pd.DataFrame, GenerationCounts]:
    """``num`` cleaned rationales per user (columns ``user_id, rank, rationale``) and the filtering counts.

    ``histories`` maps user -> (earlier liked titles, category), as :func:`~recrl.rationale.examples.user_histories`
    gives. With a cache, a user's list is stored under the LM identity, prompt and ``num``, so reruns are free.
    """
    identity = str(getattr(lm, "identity", type(lm).__name__))
    counts, rows = GenerationCounts(), []
    users = list(histories)
    prompts = {user: chat(list(histories[user][0]), histories[user][1]) for user in users}
    keys = {user: make_key(identity, "rationales", str(num), json.dumps(prompts[user])) for user in users}
    found = cache.get_many("rationale", keys.values()) if cache is not None else {}
    done = {user: unpack_json(found[keys[user]]) for user in users if keys[user] in found}
    todo = [user for user in users if user not in done]
    for start in tqdm(range(0, len(todo), chunk_users), desc="rationales", disable=not todo, unit="chunk"):
        chunk = {user: prompts[user] for user in todo[start : start + chunk_users]}
        kept: dict[str, list[str]] = {user: [] for user in chunk}
        for _ in range(2):  # one more round for users short of num after filtering
            short = {user: prompt for user, prompt in chunk.items() if len(kept[user]) < num}
            if not short:
                break
            for user, answers in _sample_round(lm, short, num).items():
                for answer in answers:
                    counts.generated += 1
                    text = clean_rationale(answer, max_chars)
                    if not text:
                        counts.empty += 1
                    elif is_degenerate(text):
                        counts.degenerate += 1
                    elif text.lower() in {k.lower() for k in kept[user]}:
                        counts.duplicate += 1
                    elif len(kept[user]) < num:
                        kept[user].append(text)
                    else:
                        counts.surplus += 1
        done.update(kept)
        if cache is not None:
            cache.put_many("rationale", {keys[user]: pack_json(kept[user]) for user in chunk})
    for user in users:
        if len(done[user]) < num:
            counts.users_short.append(user)
        rows += [{"user_id": user, "rank": rank, "rationale": text} for rank, text in enumerate(done[user])]
    counts.kept = len(rows)
    if counts.users_short:
        logger.warning("%d of %d users have fewer than %d usable rationales", len(counts.users_short), len(users), num)
    return pd.DataFrame(rows, columns=["user_id", "rank", "rationale"]), counts


def samples_table(rationales: pd.DataFrame, data, users: Sequence[str], liked_threshold: float = 4.0,
                  disliked_threshold: float = 2.0, max_items: int = 3) -> str:
    """A Markdown table: each user's generated rationales beside their held-out (test) liked/disliked titles."""
    titles = dict(zip(data.items["item_id"], data.items["title"]))
    test = data.part("test")
    lines = ["| user | generated rationales | held-out liked | held-out disliked |", "| --- | --- | --- | --- |"]
    for user in users:
        mine = test[test["user_id"] == user]
        liked = [titles.get(i, i) for i in mine[mine["rating"] >= liked_threshold]["item_id"][:max_items]]
        disliked = [titles.get(i, i) for i in mine[mine["rating"] <= disliked_threshold]["item_id"][:max_items]]
        said = rationales[rationales["user_id"] == user]["rationale"].tolist()
        cells = ["<br>".join(x.replace("|", "/") for x in column) or "–" for column in (said, liked, disliked)]
        lines.append(f"| {user} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_rationales(frame: pd.DataFrame, path: str | Path) -> Path:
    """Save rationales as parquet or JSON lines (by the file suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def read_rationales(path: str | Path) -> dict[str, list[str]]:
    """user_id -> rationales from a file written by :func:`write_rationales` (a clear error if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no rationales file at {path} (write one with `recrl rationale generate`)")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_json(path, lines=True, dtype=False)
    missing = {"user_id", "rationale"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks columns {sorted(missing)}")
    frame = frame.sort_values(["user_id", "rank"]) if "rank" in frame else frame
    return {str(user): group["rationale"].astype(str).tolist() for user, group in frame.groupby("user_id")}
