"""Log-probabilities of many short continuations after prompts that share a long head: the fast path of ranking.

Ranked goals ask, for every situation, how likely the LM is to write each of 22 candidate goals after the same
~450-token chat. Three things make that cheap without changing the numbers:

- **The head is computed once.** Every prompt starts with the same system message, few-shot turns and actions line.
  :class:`PrefixScorer` keeps the key/value cache of the longest token prefix the prompts share (found from the
  prompts themselves: no template knowledge), and after each use crops the cache back to that head.
- **The candidates share one pass.** The candidates' tokens form a trie ("collect wood", "collect stone" share
  "collect"), laid out after the situation's own tokens; an attention mask lets each trie node see the head, the
  situation and its own ancestors only, and position ids put it where it would sit in a plain prompt.
- **Several situations share one pass** the same way: each sees the head and itself, never another situation.

Only the positions that predict a candidate token go through the output layer (151k words for Qwen).
The scores equal those of running each prompt + candidate on its own, within float rounding (tests compare both).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CandidateTrie:
    """Candidate token sequences merged into a trie.

    ``tokens[v]`` is node v's token, ``parents[v]`` its parent node (-1: the end of the prompt), ``depths[v]`` its
    depth (1 for a first token), ``paths[c]`` the nodes of candidate c in order.
    """

    tokens: list[int]
    parents: list[int]
    depths: list[int]
    paths: list[list[int]]

    @classmethod
    def build(cls, pieces: Sequence[Sequence[int]]) -> CandidateTrie:
        """The trie of ``pieces`` (token id lists, each non-empty)."""
        tokens, parents, depths, paths = [], [], [], []
        children: dict[tuple[int, int], int] = {}
        for piece in pieces:
            if not piece:
                raise ValueError("a candidate continuation has no tokens")
            node, path = -1, []
            for token in piece:
                key = (node, int(token))
                if key not in children:
                    children[key] = len(tokens)
                    tokens.append(int(token))
                    parents.append(node)
                    depths.append(1 if node < 0 else depths[node] + 1)
                node = children[key]
                path.append(node)
            paths.append(path)
        return cls(tokens, parents, depths, paths)

    def ancestry(self) -> torch.Tensor:
        """``(n, n)`` bool: row v is True at v and at every ancestor of v."""
        n = len(self.tokens)
        mask = torch.eye(n, dtype=torch.bool)
        for node in range(n):  # parents come before children, so each row extends its parent's
            if self.parents[node] >= 0:
                mask[node] |= mask[self.parents[node]]
        return mask


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class PrefixScorer:
    """Scores continuations after token-id prompts with a causal LM (``transformers``), reusing a shared head.

    Args:
        model: a causal LM whose forward takes ``cache``, ``position_ids``, a 4D bool ``attention_mask`` and a tensor
            ``logits_to_keep``.
        device: where inputs go.
        min_head_tokens: a shared prefix shorter than this is not worth keeping; the head is then recomputed.
        situations_per_pass: prompts packed into one forward pass.
    """

    def __init__(self, model: torch.nn.Module, device: str = "cpu", min_head_tokens: int = 16,
                 situations_per_pass: int = 4) -> None:
        self.model, self.device = model, device
        self.min_head_tokens, self.situations_per_pass = min_head_tokens, situations_per_pass
        self.head: list[int] = []
        self.cache = None
        self.head_tokens_computed = 0  # tokens prefilled into heads (a head is computed again when prompts change)

    def _set_head(self, ids: Sequence[int]) -> None:
        from transformers import DynamicCache

        self.cache = DynamicCache(config=self.model.config)
        self.head = list(ids)
        if self.head:
            inputs = torch.tensor([self.head], device=self.device)
            self.model(input_ids=inputs, cache=self.cache, use_cache=True, logits_to_keep=1)
        self.head_tokens_computed += len(self.head)

    def _fit_head(self, prompts: Sequence[Sequence[int]]) -> None:
        """Make the head a prefix of every prompt, leaving each at least one token of its own."""
        limit = min(len(p) for p in prompts) - 1
        shared = min([common_prefix_length(self.head, p) for p in prompts] + [limit])
        if self.cache is not None and shared >= self.min_head_tokens:
            if shared < len(self.head):
                self.cache.crop(-(len(self.head) - shared))
                self.head = self.head[:shared]
            return
        first = prompts[0]
        shared = min([common_prefix_length(first, p) for p in prompts[1:]] + [limit])
        logger.debug("computing a %d-token prompt head", shared)
        self._set_head(first[:shared])

    @torch.inference_mode()
    def score(self, prompts: Sequence[Sequence[int]], pieces: Sequence[Sequence[int]]) -> np.ndarray:
        """Sum of log-probabilities of each continuation (``pieces``) after each prompt (token ids):
        shape ``(len(prompts), len(pieces))``."""
        scores = np.zeros((len(prompts), len(pieces)), dtype=np.float64)
        if not prompts or not pieces:
            return scores
        trie = CandidateTrie.build(pieces)
        for start in range(0, len(prompts), self.situations_per_pass):
            group = [list(p) for p in prompts[start:start + self.situations_per_pass]]
            self._fit_head(group)
            scores[start:start + len(group)] = self._score_group(group, trie)
        return scores

    def _score_group(self, prompts: list[list[int]], trie: CandidateTrie) -> np.ndarray:
        head = len(self.head)
        suffixes = [p[head:] for p in prompts]
        n = len(trie.tokens)
        total = sum(len(s) + n for s in suffixes)
        tokens = torch.empty(total, dtype=torch.long)
        positions = torch.empty(total, dtype=torch.long)
        mask = torch.zeros((total, head + total), dtype=torch.bool)
        mask[:, :head] = True
        ancestry = trie.ancestry()
        trie_tokens, depths = torch.tensor(trie.tokens), torch.tensor(trie.depths)
        keep, offset = [], 0  # keep: the positions whose logits are needed
        for suffix in suffixes:
            length = len(suffix)
            block = slice(offset, offset + length)
            nodes = slice(offset + length, offset + length + n)
            tokens[block] = torch.tensor(suffix)
            positions[block] = torch.arange(head, head + length)
            tokens[nodes] = trie_tokens
            positions[nodes] = head + length - 1 + depths
            mask[block, head + offset:head + offset + length] = torch.ones(length, length, dtype=torch.bool).tril()
            mask[nodes, head + offset:head + offset + length] = True
            mask[nodes, head + offset + length:head + offset + length + n] = ancestry
            keep.append(offset + length - 1)
            keep.extend(offset + length + v for v in range(n))
            offset += length + n
        out = self.model(input_ids=tokens[None].to(self.device), position_ids=positions[None].to(self.device),
                         attention_mask=mask[None, None].to(self.device), cache=self.cache, use_cache=True,
                         logits_to_keep=torch.tensor(keep, device=self.device))
        self.cache.crop(-total)  # back to the head
        logprobs = torch.log_softmax(out.logits[0].float(), dim=-1)
        rows = logprobs.view(len(prompts), n + 1, -1)  # row 0: the prompt's last token; row 1 + v: trie node v
        scores = np.zeros((len(prompts), len(trie.paths)), dtype=np.float64)
        for c, path in enumerate(trie.paths):
            before = [0] + [1 + v for v in path[:-1]]  # the row that predicts each token of the candidate
            picked = rows[:, before, [trie.tokens[v] for v in path]]
            scores[:, c] = picked.sum(dim=1).double().cpu().numpy()
        return scores
