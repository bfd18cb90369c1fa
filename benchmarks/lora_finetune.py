"""LoRA fine-tuning tokens/s of the rationale generator (CPU, and CUDA when present), and rationale generation
tokens/s batched vs one at a time, side by side in one run.

Usage: python benchmarks/lora_finetune.py [--quick] [--steps 6] [--batch-size 8]

Uses the real default base model (SmolLM2-135M-Instruct) and rationale examples built from a synthetic prepared
directory (no data set needed). Prints a table and one JSON line; ``ratio`` is batched over single generation
tokens/s, ``gpu_cpu_ratio`` (when a GPU is present) is CUDA over CPU training tokens/s.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from ellm_core.hardware import describe, describe_line

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def training_rate(device: str, examples, steps: int, batch_size: int) -> tuple[float, float]:
    """(training tokens/s, final loss) of ``steps`` LoRA steps on ``device`` (after one warm-up step)."""
    import torch

    from recrl.rationale import model as rm

    tokenizer, base = rm.load_base(None, device)
    model = rm.add_lora(base, 8, 16, 0.05, ["q_proj", "v_proj"])
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4)
    encoded = [rm.encode(tokenizer, e, 192) for e in examples]
    batches = [rm.collate(encoded[i : i + batch_size], tokenizer.pad_token_id, device)
               for i in range(0, len(encoded) - batch_size + 1, batch_size)]
    tokens, loss, started = 0, float("nan"), 0.0
    for step in range(steps + 1):
        batch = batches[step % len(batches)]
        loss_tensor = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss_tensor.backward()
        optimizer.step()
        loss = loss_tensor.item()
        if step == 0:  # warm-up excluded
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            started = time.perf_counter()
        else:
            tokens += int(batch["attention_mask"].sum())
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return tokens / (time.perf_counter() - started), loss


def generation_rates(device: str, histories: dict, batch_size: int) -> tuple[float, float]:
    """(single, batched) generation tokens/s of the base model on rationale prompts (sampling, fixed seed)."""
    from ellm_core.lm.hf import TransformersLM
    from recrl.rationale.examples import chat

    lm = TransformersLM(device=device, max_new_tokens=32, temperature=0.8, top_p=0.95, batch_size=batch_size)
    prompts = [chat(list(h), c) for h, c in histories.values()]
    lm.generate(prompts[:2])  # warm-up
    rates = []
    for size in (1, batch_size):
        lm.batch_size = size
        before, started = lm.tokens_generated, time.perf_counter()
        lm.generate(prompts)
        rates.append((lm.tokens_generated - before) / (time.perf_counter() - started))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and prompts")
    parser.add_argument("--steps", type=int, default=None, help="timed training steps per device")
    parser.add_argument("--batch-size", type=int, default=8, help="training batch and generation batch")
    args = parser.parse_args()
    steps = args.steps or (4 if args.quick else 12)

    import torch

    from recrl.data.prepared import load_prepared
    from recrl.data.synthetic import write_prepared
    from recrl.rationale.examples import build_examples, user_histories

    with tempfile.TemporaryDirectory() as tmp:
        data = load_prepared(write_prepared(Path(tmp) / "prepared", users=16, items=12))
        examples = build_examples(data, "train")
        histories = user_histories(data, sorted(set(data.interactions["user_id"]))[: 8 if args.quick else 16])
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    result = {"benchmark": "lora_finetune", "goal": "> 1", "batch_size": args.batch_size, "steps": steps,
              **describe()}
    print(f"LoRA fine-tuning (r=8, q_proj/v_proj) of SmolLM2-135M-Instruct, batch {args.batch_size}, {steps} steps")
    print(describe_line())
    print(f"{'device':<8}{'train tokens/s':>16}{'final loss':>12}{'gen single tok/s':>18}{'gen batched tok/s':>19}")
    for device in devices:
        train_rate, loss = training_rate(device, examples, steps, args.batch_size)
        single, batched = generation_rates(device, histories, args.batch_size)
        print(f"{device:<8}{train_rate:>16.1f}{loss:>12.3f}{single:>18.1f}{batched:>19.1f}")
        result.update({f"{device}_train_tokens_per_s": round(train_rate, 1),
                       f"{device}_gen_single_tokens_per_s": round(single, 1),
                       f"{device}_gen_batched_tokens_per_s": round(batched, 1)})
    result["ratio"] = round(result["cpu_gen_batched_tokens_per_s"] / result["cpu_gen_single_tokens_per_s"], 2)
    if "cuda_train_tokens_per_s" in result:
        result["gpu_cpu_ratio"] = round(result["cuda_train_tokens_per_s"] / result["cpu_train_tokens_per_s"], 1)
    print(f"batched/single generation tokens/s ratio (cpu) {result['ratio']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
