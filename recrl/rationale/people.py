"""Who a rationale names, and whether those people exist: the hallucination rate of generated rationales.

Film rationales name people in fixed phrases ("directed by Martin Campbell, starring Alan Cumming"); the
targets they are trained on do too. A named person is **made up** when no item of the catalogue lists them
(director, writer or cast), and **outside the history** when none of the user's own train items does (they may
still be a real person of the catalogue). The rates are shares of rationales naming at least one such person.
"""

from __future__ import annotations

import re

import pandas as pd

from recrl.data.prepared import PreparedData

_NAME = r"[A-Z][\w.'-]*(?:\s+(?:(?:de|da|du|van|von|der|la|le|del)\s+)*[A-Z][\w.'-]*)*"
_PERSON = re.compile(rf"\b(?:directed by|starring|with|and)\s+({_NAME})")
_FIELDS = re.compile(r"(Director|Writer|Cast): (.*?)(?=\. (?:Director|Writer|Cast|Country): |\.?$)")


def named_people(text: str) -> list[str]:
    """The people a rationale names after "directed by", "starring", "with" or "and" (in order, unique)."""
    return list(dict.fromkeys(name.rstrip(".") for name in _PERSON.findall(str(text))))


def item_people(description: str) -> set[str]:
    """Directors, writers and cast listed in an item description ("Director: A. Cast: B, C.")."""
    return {name.strip() for _, names in _FIELDS.findall(str(description)) for name in names.split(", ") if name}


def hallucination_report(rationales: pd.DataFrame, data: PreparedData) -> dict[str, float]:
    """Shares of rationales (``user_id``, ``rationale`` columns) naming a person, a made-up person, and a person
    outside the user's train items; plus the counts behind them."""
    people = {str(i): item_people(d) for i, d in zip(data.items["item_id"], data.items["description"])}
    catalogue = set().union(*people.values()) if people else set()
    train = data.part("train")
    history: dict[str, set[str]] = {}
    for user, items in train.groupby("user_id")["item_id"]:
        history[str(user)] = set().union(*(people.get(str(i), set()) for i in items))
    counts = {"rationales": 0, "naming_a_person": 0, "made_up": 0, "outside_history": 0, "people_named": 0,
              "people_made_up": 0}
    for user, text in zip(rationales["user_id"].astype(str), rationales["rationale"]):
        names = named_people(text)
        counts["rationales"] += 1
        counts["people_named"] += len(names)
        made_up = [n for n in names if n not in catalogue]
        counts["people_made_up"] += len(made_up)
        counts["naming_a_person"] += bool(names)
        counts["made_up"] += bool(made_up)
        counts["outside_history"] += any(n not in history.get(user, set()) for n in names)
    total = max(counts["rationales"], 1)
    return {**counts, "made_up_rate": counts["made_up"] / total, "outside_history_rate": counts["outside_history"] / total,
            "naming_rate": counts["naming_a_person"] / total}


def format_report(report: dict[str, float], label: str = "") -> str:
    """One line of the report."""
    return (f"{label + ': ' if label else ''}{report['rationales']} rationales; {report['naming_rate']:.1%} name a person; "
            f"{report['made_up_rate']:.1%} name someone in no catalogue item (made up); "
            f"{report['outside_history_rate']:.1%} someone in none of the user's train items")

