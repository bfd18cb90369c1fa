"""``recrl validate``: the reward against held-out ratings, per metric and goal source, with 95% intervals."""

from __future__ import annotations

import argparse
import dataclasses

from recrl.validation.metrics import available_metrics


def add_validate_command(commands: argparse._SubParsersAction) -> None:
    """Add ``validate`` to the ``recrl`` parser."""
    from recrl.validation.validate import PRESETS, ValidateConfig

    parser = commands.add_parser(
        "validate", help="correlate the ELLM reward with held-out ratings (Spearman, Kendall, AUC, NDCG@10)",
        description="For every held-out (user, item, rating): the reward of the item's description under the "
                    "user's goals, per metric and goal source, against the rating; 95%% bootstrap intervals "
                    "over users. Without --rationales the goals are the user's own earlier liked reviews.")
    parser.add_argument("--preset", choices=tuple(PRESETS), default=None, help="budget preset; explicit flags win")
    parser.add_argument("--data", default=ValidateConfig.data, help="prepared data directory")
    parser.add_argument("--out", default=ValidateConfig.out, help="output directory")
    parser.add_argument("--rationales", default=None, help="rationales of the fine-tuned generator (parquet/JSONL)")
    parser.add_argument("--extra-goals", action="append", default=[], metavar="LABEL=PATH",
                        help="another goal source, e.g. base=runs/base-rationales.parquet (repeatable)")
    parser.add_argument("--metric", dest="metrics", action="append", default=None, metavar="NAME",
                        help=f"metric (repeatable): {', '.join(available_metrics())}; 'learned' trains one on the "
                             "train split, 'learned-taste' one whose negatives are disliked items matched in popularity "
                             "to the positive; learned:PATH loads one (default: sbert-cosine tfidf-cosine bm25 jaccard)")
    for field in dataclasses.fields(ValidateConfig):
        if field.name in ("data", "out", "rationales", "extra_goals", "metrics"):
            continue
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default,
                            help=f"{field.metadata['help']} (default: {field.default})".replace("%", "%%"))
    parser.set_defaults(handler=run_validate, preset_hook=lambda name: parser.set_defaults(**PRESETS[name]))


def run_validate(args: argparse.Namespace) -> int:
    """Handler of ``recrl validate``."""
    from recrl.validation.validate import ValidateConfig, format_table, validate

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(ValidateConfig) if hasattr(args, f.name)}
    if values.get("metrics") is None:
        values.pop("metrics")
    report = validate(ValidateConfig(**values))
    print(format_table(report))
    print(f"{report['pairs']} held-out pairs of {report['users']} users; wrote {args.out}/report.json, report.md, "
          f"{', '.join(p.rsplit('/', 1)[-1] for p in report['plots'])}")
    return 0
