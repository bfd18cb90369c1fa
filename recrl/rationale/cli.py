"""``recrl rationale train`` and ``recrl rationale generate``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
from pathlib import Path

import pandas as pd

from ellm_core.cache import open_cache
from ellm_core.config import add_dataclass_arguments, dataclass_from_args
from recrl.data.prepared import load_prepared
from recrl.rationale.examples import user_histories
from recrl.rationale.generate import generate_rationales, samples_table, write_rationales
from recrl.rationale.model import rationale_lm, read_manifest
from recrl.rationale.train import PRESETS, RationaleConfig, apply_preset, train_rationale

logger = logging.getLogger(__name__)


def add_rationale_command(commands: argparse._SubParsersAction) -> None:
    """Add ``rationale`` with its ``train`` and ``generate`` subcommands to the ``recrl`` parser."""
    rationale = commands.add_parser("rationale", help="fine-tune the rationale generator (LoRA) and generate goals",
                                    description="LoRA fine-tuning of a causal LM on what users liked, and "
                                                "rationale goals per user.")
    rationale.set_defaults(handler=lambda args: rationale.print_help() or 2)
    actions = rationale.add_subparsers(dest="rationale_command", metavar="ACTION")

    train = actions.add_parser("train", help="fine-tune a LoRA adapter; report held-out perplexity base vs tuned",
                               description="Fine-tune the rationale generator on the train split of a prepared "
                                           "directory and evaluate it on the test split.")
    train.add_argument("--preset", choices=tuple(PRESETS), default=None, help="budget preset; explicit flags win")
    add_dataclass_arguments(train, RationaleConfig)
    train.add_argument("--samples", type=int, default=5, help="test users shown in samples.md (0 = none)")
    train.set_defaults(handler=run_train, preset_hook=lambda name: train.set_defaults(
        **dataclasses.asdict(apply_preset(RationaleConfig(), name))))

    generate = actions.add_parser("generate", help="write K rationales per user (cached)",
                                  description="Generate K cleaned rationales per user from their liked train items.")
    generate.add_argument("--adapter", required=True, help="a rationale run directory or its adapter/ folder")
    generate.add_argument("--data", required=True, help="prepared data directory")
    generate.add_argument("--users", nargs="*", default=None, help="user ids (default: every user)")
    generate.add_argument("--max-users", type=int, default=0, help="take this many users, sorted (0 = all)")
    generate.add_argument("--sample-test-users", type=int, default=0, metavar="N",
                          help="a seeded sample of N test users (--seed): the users `recrl validate --sample-users N "
                               "--seed S` takes (0 = off)")
    generate.add_argument("--num", "-k", type=int, default=3, help="rationales per user")
    generate.add_argument("--out", default=None, help="output .parquet or .jsonl (default: ADAPTER/rationales.parquet)")
    generate.add_argument("--base-model", default=None, help="override the base model (must match the manifest)")
    generate.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (0 = greedy)")
    generate.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass")
    generate.add_argument("--max-new-tokens", type=int, default=40, help="tokens per rationale")
    generate.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass")
    generate.add_argument("--device", default="auto", help="torch device (auto = cuda when available)")
    generate.add_argument("--backend", choices=("transformers", "ctranslate2"), default="transformers",
                          help="transformers (adapter applied), or ctranslate2 (adapter merged, converted once; "
                               "faster on CPU)")
    generate.add_argument("--seed", type=int, default=0, help="sampling seed")
    generate.add_argument("--cache", default="default", help="SQLite cache path, 'default' or 'none'")
    generate.set_defaults(handler=run_generate)

    check = actions.add_parser("check", help="how often rationales name people who are made up",
                               description="Shares of rationales naming a person, a person listed in no catalogue "
                                           "item (made up), and a person in none of the user's train items.")
    check.add_argument("rationales", nargs="+", help="rationale files (parquet/JSONL from `recrl rationale generate`)")
    check.add_argument("--data", required=True, help="prepared data directory")
    check.add_argument("--json", action="store_true", help="print the reports as JSON")
    check.set_defaults(handler=run_check)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``recrl rationale train``."""
    config = dataclass_from_args(RationaleConfig, args)
    metrics = train_rationale(config)
    print(json.dumps(metrics, indent=2))
    if args.samples > 0:
        data = load_prepared(config.data)
        users = sorted(set(data.part("test")["user_id"]))
        chosen = sorted(random.Random(config.seed).sample(users, min(args.samples, len(users))))
        lm = rationale_lm(Path(config.out) / "adapter", device=config.device, temperature=0.8, top_p=0.95,
                          max_new_tokens=40, seed=config.seed)
        frame, counts = generate_rationales(lm, user_histories(data, chosen, config.liked_threshold,
                                                                config.max_history, history=config.history), 3)
        table = samples_table(frame, data, chosen, config.liked_threshold)
        (Path(config.out) / "samples.md").write_text(table, encoding="utf-8")
        if config.steps < 50:
            print(f"Samples of a {config.steps}-step smoke adapter: expect little sense. The committed samples of the "
                  "full run are in results/recrl/rationale/samples.md.")
        print(table)
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``recrl rationale generate``."""
    directory, manifest = read_manifest(args.adapter)
    data = load_prepared(args.data)
    users = args.users
    if users is None and args.sample_test_users:
        users = data.test_users(args.sample_test_users, args.seed)
    if users is None and args.max_users:
        users = sorted(set(data.interactions["user_id"]))[: args.max_users]
    histories = user_histories(data, users, manifest.get("liked_threshold", 4.0), manifest.get("max_history", 5),
                               history=manifest.get("history", "titles"))
    lm = rationale_lm(directory, args.base_model, args.device, args.backend, temperature=args.temperature, top_p=args.top_p,
                      max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, seed=args.seed)
    cache = open_cache(None if args.cache == "default" else args.cache)
    frame, counts = generate_rationales(lm, histories, args.num, cache)
    out = write_rationales(frame, args.out or directory / "rationales.parquet")
    print(f"wrote {out}: {len(frame)} rationales for {len(histories)} users; {json.dumps(counts.as_dict())}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``recrl rationale check``."""
    from recrl.rationale.generate import read_rationales
    from recrl.rationale.people import format_report, hallucination_report

    data = load_prepared(args.data)
    reports = {}
    for path in args.rationales:
        rows = pd.DataFrame([{"user_id": user, "rationale": text} for user, texts in read_rationales(path).items()
                             for text in texts], columns=["user_id", "rationale"])
        reports[path] = hallucination_report(rows, data)
    for path, report in reports.items():
        print(json.dumps({path: report}) if args.json else format_report(report, path))
    return 0
