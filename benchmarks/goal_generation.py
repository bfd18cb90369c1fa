"""Goal generation tokens/s with the real default LM, side by side in one run: transformers batched vs one at a
time, the CTranslate2 backend (one at a time and batched), and, when the optional llama.cpp extra is installed, the same GGUF run by llama.cpp in-process and as an
OpenAI-compatible server (one request at a time and ``--batch-size`` concurrent requests).

Usage: python benchmarks/goal_generation.py [--quick] [--batch-size 8] [--device cpu] [--no-llamacpp]

Prints a table and one JSON line; ``ratio`` is transformers batched tokens/s over single tokens/s (useful tokens
only: padding and tokens after end-of-sequence are not counted); ``llamacpp_over_transformers_batched`` compares
llama.cpp in-process with transformers' best.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from ellm_core.hardware import describe, describe_line

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SITUATIONS = [
    "You see grass and a tree. You have nothing.",
    "You see water and sand. You are thirsty.",
    "You see grass and a cow. You are hungry.",
    "You see stone and a table. You have 5 wood and a wood pickaxe.",
    "You see a zombie nearby. Your health is low.",
    "You see coal and stone. You have a stone pickaxe.",
    "You see iron, a table and a furnace. You have a stone pickaxe and 2 coal.",
    "It is dark. You see grass. Your energy is low.",
    "You see a skeleton and a path. You have a stone sword.",
    "You see sand, water and a tree. You have 1 wood.",
    "You see a plant and grass. You have a sapling.",
    "You see diamond and stone. You have an iron pickaxe.",
    "You see grass, a tree and a cow. You have 2 wood. You are hungry.",
    "You see lava and stone. You have a wood pickaxe.",
    "You see a table. You have 1 wood and 3 stone.",
    "You see water. You have nothing. You are thirsty and hungry.",
]
ACTIONS = ["noop", "move left", "move right", "move up", "move down", "do", "sleep", "place stone", "place table",
           "place furnace", "place plant", "make wood pickaxe", "make stone pickaxe", "make iron pickaxe",
           "make wood sword", "make stone sword", "make iron sword"]


def timed_generation(lm, chats, batch_size: int) -> tuple[float, int, list[str]]:
    """(seconds, useful tokens generated, answers) for generating ``chats`` in batches of ``batch_size``."""
    lm.batch_size = batch_size
    before = lm.tokens_generated
    started = time.perf_counter()
    answers = [] if batch_size == 1 else lm.generate(chats)
    if batch_size == 1:
        for chat in chats:
            answers.extend(lm.generate([chat]))
    return time.perf_counter() - started, lm.tokens_generated - before, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 prompts per scenario instead of 16")
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per batched forward pass")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--no-llamacpp", action="store_true", help="skip the llama.cpp rows even if installed")
    args = parser.parse_args()

    import torch

    from ellm_core.goals.prompts import PromptConfig, open_ended_prompt
    from ellm_core.lm.hf import TransformersLM

    config = PromptConfig.load()
    situations = SITUATIONS[: 8 if args.quick else 16]
    scenarios = {  # prefill-bound (the default few-shot prompt, short answers) and decode-bound (long answers)
        "few-shot prompt": [open_ended_prompt(s, ACTIONS, config) for s in situations],
        "zero-shot prompt": [open_ended_prompt(s, ACTIONS, config.without_few_shot()) for s in situations],
    }
    lm = TransformersLM(device=args.device, max_new_tokens=32)
    lm.generate(scenarios["few-shot prompt"][:2])  # warm-up
    print(f"goal generation, SmolLM2-135M-Instruct (transformers), {len(situations)} prompts per scenario, "
          f"device {args.device}, {torch.get_num_threads()} threads")
    print(describe_line())
    print(f"{'scenario / backend':<22}{'mode':<16}{'seconds':>9}{'tokens':>8}{'tokens/s':>10}{'prompts/s':>11}")
    result = {"benchmark": "goal_generation", "goal": "> 1", "batch_size": args.batch_size,
              "prompts": len(situations), "device": args.device, **describe()}
    for name, chats in scenarios.items():
        single_s, single_tokens, single_answers = timed_generation(lm, chats, 1)
        batched_s, batched_tokens, batched_answers = timed_generation(lm, chats, args.batch_size)
        single_rate, batched_rate = single_tokens / single_s, batched_tokens / batched_s
        same = sum(a == b for a, b in zip(single_answers, batched_answers))
        for mode, seconds, tokens, rate in (("one at a time", single_s, single_tokens, single_rate),
                                            (f"batched ({args.batch_size})", batched_s, batched_tokens, batched_rate)):
            print(f"{name:<22}{mode:<16}{seconds:>9.2f}{tokens:>8}{rate:>10.1f}{len(chats) / seconds:>11.2f}")
        print(f"{name:<22}batched/single tokens/s ratio {batched_rate / single_rate:.2f}; "
              f"identical greedy answers {same}/{len(chats)}")
        key = "fewshot" if name.startswith("few") else "zeroshot"
        result.update({f"{key}_ratio": round(batched_rate / single_rate, 2),
                       f"{key}_single_tokens_per_s": round(single_rate, 1),
                       f"{key}_batched_tokens_per_s": round(batched_rate, 1), f"{key}_identical_answers": same})
    result["ratio"] = result["fewshot_ratio"]  # the default prompt is what training uses
    ctranslate2_rows(scenarios["few-shot prompt"], args.batch_size, result)
    if not args.no_llamacpp:
        llamacpp_rows(scenarios["few-shot prompt"], args.batch_size, result)
    print(json.dumps(result))


def ctranslate2_rows(chats, batch_size: int, result: dict) -> None:
    """The same few-shot prompts on the CTranslate2 backend (float32, the shared head as static prompt)."""
    from ellm_core.lm.ct2 import CTranslate2LM

    lm = CTranslate2LM(max_new_tokens=32)
    lm.generate(chats[:2])  # warm-up: learns the shared head and computes its state once
    for mode, size in (("one at a time", 1), (f"batched ({batch_size})", batch_size)):
        seconds, tokens, _ = timed_generation(lm, chats, size)
        print(f"{'ctranslate2 float32':<22}{mode:<16}{seconds:>9.2f}{tokens:>8}{tokens / seconds:>10.1f}"
              f"{len(chats) / seconds:>11.2f}")
        key = "single" if size == 1 else "batched"
        result[f"ctranslate2_{key}_tokens_per_s"] = round(tokens / seconds, 1)
    best_transformers = max(result["fewshot_single_tokens_per_s"], result["fewshot_batched_tokens_per_s"])
    best = max(result["ctranslate2_single_tokens_per_s"], result["ctranslate2_batched_tokens_per_s"])
    result["ctranslate2_over_transformers_best"] = round(best / best_transformers, 2)
    print(f"ctranslate2 best / transformers best tokens/s: {result['ctranslate2_over_transformers_best']:.2f}")


def llamacpp_rows(chats, concurrency: int, result: dict) -> None:
    """llama.cpp in-process (one at a time) and served (1 and ``concurrency`` requests in flight), few-shot prompt."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        print("llama.cpp rows skipped: the extra is not installed (pip install '.[llamacpp]')")
        return
    from ellm_core.lm.llamacpp import SERVER_SAMPLING, LlamaCppLM, llamacpp_server
    from ellm_core.lm.openai_http import OpenAICompatibleLM

    # Each row is one generate() call over all chats: llama.cpp decodes one sequence at a time in-process, and
    # the server has `concurrency` requests in flight.
    rows = []
    lm = LlamaCppLM(max_new_tokens=32)
    lm.generate(chats[:2])  # warm-up
    rows.append(("llama.cpp in-process", "one at a time", *timed_generation(lm, chats, len(chats))[:2]))
    lm.close()
    with llamacpp_server() as url:
        for size in (1, concurrency):
            served = OpenAICompatibleLM(base_url=url, model="smollm2", batch_size=size, max_new_tokens=32,
                                        extra_body=json.dumps(SERVER_SAMPLING))
            served.generate(chats[:1])  # warm-up
            rows.append(("llama.cpp server", "one at a time" if size == 1 else f"{size} concurrent",
                         *timed_generation(served, chats, len(chats))[:2]))
    for name, mode, seconds, tokens in rows:
        print(f"{name:<22}{mode:<16}{seconds:>9.2f}{tokens:>8}{tokens / seconds:>10.1f}{len(chats) / seconds:>11.2f}")
    in_process = rows[0][3] / rows[0][2]
    result.update({"llamacpp_in_process_tokens_per_s": round(in_process, 1),
                   "llamacpp_server_single_tokens_per_s": round(rows[1][3] / rows[1][2], 1),
                   "llamacpp_server_concurrent_tokens_per_s": round(rows[2][3] / rows[2][2], 1),
                   "llamacpp_over_transformers_batched": round(in_process / result["fewshot_batched_tokens_per_s"], 2),
                   "llamacpp_over_transformers_single": round(in_process / result["fewshot_single_tokens_per_s"], 2)})
    print(f"llama.cpp in-process / transformers batched tokens/s {result['llamacpp_over_transformers_batched']:.2f}; "
          f"/ transformers one at a time {result['llamacpp_over_transformers_single']:.2f}")


if __name__ == "__main__":
    main()
