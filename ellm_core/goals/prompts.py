"""Goal-suggestion prompts (open-ended and closed-form) and a robust parser for the LM's answers.

A prompt is a *chat*: a list of ``{"role": ..., "content": ...}`` messages, which both the local
transformers backend (via the tokenizer's chat template) and OpenAI-compatible servers accept.

Example:
    >>> config = PromptConfig.load()
    >>> chat = open_ended_prompt("You see a tree.", ["do", "move left"], config)
    >>> chat[-1]["content"].endswith("What would you do?")
    True
    >>> parse_goals("Sure! Here are my goals:\\n1. Chop a tree.\\n- chop a tree\\n* Drink water!")
    ['chop a tree', 'drink water']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ellm_core.lm.base import Chat
from ellm_core.resources import load_yaml, resolve_resource

_REQUIRED_KEYS = ("system", "open_ended", "closed_form_system", "closed_form")


@dataclass(frozen=True)
class PromptConfig:
    """Templates and few-shot examples for goal suggestion (see ``data/prompts.yaml``)."""

    system: str
    open_ended: str
    closed_form_system: str
    closed_form: str
    few_shot: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PromptConfig:
        """Load the defaults from ``data/prompts.yaml``, overridden by the keys of ``path`` if given."""
        values: dict[str, Any] = dict(load_yaml("prompts.yaml"))
        if path is not None:
            path = resolve_resource(path)
            if not path.is_file():
                raise FileNotFoundError(f"no prompt file at {path}")
            with path.open(encoding="utf-8") as handle:
                override = yaml.safe_load(handle) or {}
            if not isinstance(override, dict):
                raise ValueError(f"{path}: expected a mapping of prompt keys, found {type(override).__name__}")
            values.update(override)
        missing = [key for key in _REQUIRED_KEYS if not values.get(key)]
        if missing:
            raise ValueError(f"prompt config is missing {missing}")
        few_shot = tuple(dict(example) for example in values.get("few_shot") or ())
        for example in few_shot:
            if not {"actions", "observation", "answer"} <= example.keys():
                raise ValueError(f"few-shot example needs actions, observation and answer; found {sorted(example)}")
        return cls(
            system=values["system"].strip(),
            open_ended=values["open_ended"],
            closed_form_system=values["closed_form_system"].strip(),
            closed_form=values["closed_form"],
            few_shot=few_shot,
        )

    def without_few_shot(self) -> PromptConfig:
        """The same config with the few-shot examples removed (for ablations)."""
        return PromptConfig(self.system, self.open_ended, self.closed_form_system, self.closed_form, ())

    def without_system(self) -> PromptConfig:
        """The same config with no task system message (open-ended and closed-form), for ablations."""
        return PromptConfig("", self.open_ended, "", self.closed_form, self.few_shot)


def format_actions(actions: list[str]) -> str:
    """Render valid actions as the comma-separated list the templates expect."""
    return ", ".join(action.replace("_", " ") for action in actions)


def open_ended_prompt(observation: str, actions: list[str], config: PromptConfig) -> Chat:
    """The open-ended chat: system message, few-shot turns, then actions + observation + "What would you do?"."""
    chat: Chat = [{"role": "system", "content": config.system}] if config.system else []
    for example in config.few_shot:
        user = config.open_ended.format(actions=example["actions"], observation=example["observation"])
        chat.append({"role": "user", "content": user})
        chat.append({"role": "assistant", "content": example["answer"].strip()})
    user = config.open_ended.format(actions=format_actions(actions), observation=observation.strip())
    chat.append({"role": "user", "content": user})
    return chat


def closed_form_prompt(observation: str, actions: list[str], goal: str, config: PromptConfig) -> Chat:
    """One yes/no question: should the agent pursue ``goal`` in this situation?"""
    user = config.closed_form.format(
        actions=format_actions(actions), observation=observation.strip(), goal=goal.strip()
    )
    chat: Chat = [{"role": "system", "content": config.closed_form_system}] if config.closed_form_system else []
    chat.append({"role": "user", "content": user})
    return chat


# A list marker at the start of a line: "-", "*", "•", "1.", "1)", "(1)", "a)", "Goal 1:", "Step 2 -".
_MARKER = re.compile(
    r"^\s*(?:[-*+•·◦▪►>]+|\(?\d{1,3}[.):]|\(?[a-z][.)](?=\s)|(?:goal|step)\s*\d*\s*[:.)-])\s*", re.IGNORECASE
)
# Inline numbering inside one line: "1. chop tree 2. drink water" -> split before " 2. ".
_INLINE_NUMBER = re.compile(r"\s+(?=\d{1,2}[.)]\s)")
_NOT_TEXT = re.compile(r"[^\w\s'\-,/&]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_MAX_WORD_CHARS = 25


def _clean_goal(line: str, max_words: int, max_chars: int) -> str:
    line = unicodedata.normalize("NFKC", line)
    while True:  # strip stacked markers such as "- 1. "
        stripped = _MARKER.sub("", line, count=1)
        if stripped == line:
            break
        line = stripped
    line = _NOT_TEXT.sub(" ", line).replace("_", " ")
    line = _SPACES.sub(" ", line).strip(" ,-'/&").lower()
    words = line.split(" ")[:max_words]
    return " ".join(words)[:max_chars].strip()


def parse_goals(text: str | None, max_goals: int = 5, max_words: int = 12, max_chars: int = 80) -> list[str]:
    """Parse an LM answer into a clean goal list; never raises on garbage (returns ``[]`` instead).

    Accepts bulleted, numbered or plain lines. Strips markers and trailing punctuation, lower-cases,
    drops intros ending with ":", non-text lines, goals without letters or with run-on "words" longer
    than 25 characters, de-duplicates in order,
    and caps each goal at ``max_words`` words / ``max_chars`` characters and the list at ``max_goals``.
    """
    if not text or not isinstance(text, str):
        return []
    goals: list[str] = []
    for raw_line in text.splitlines():
        for piece in _INLINE_NUMBER.split(raw_line):
            if piece.rstrip().endswith(":") and len(goals) == 0:
                continue  # "Here are some goals:" style preamble
            goal = _clean_goal(piece, max_words, max_chars)
            if len(goal) < 2 or not any(ch.isalpha() for ch in goal) or goal in goals:
                continue
            if max(len(word) for word in goal.split(" ")) > _MAX_WORD_CHARS:
                continue  # a run-on token is not language (e.g. one 10,000-character line)
            goals.append(goal)
            if len(goals) >= max_goals:
                return goals
    return goals
