"""Ask an LM what must come first for each of Crafter's 22 caption texts, and write the prerequisite file that
``--prerequisites`` reads (:class:`ellm_core.goals.chain.GoalChain`).

``python -m ellm_core.crafter.analysis.prerequisites --out FILE.json --lm-backend transformers --lm-model ...``
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ellm_core.goals.chain import ask_prerequisites
from ellm_core.goals.prompts import PromptConfig


def main(argv: list[str] | None = None) -> int:
    """Ask an LM for the prerequisites of Crafter's 22 caption texts; print them and write the file."""
    from ellm_core.config import add_dataclass_arguments, dataclass_from_args
    from ellm_core.crafter.caption import crafter_text
    from ellm_core.lm.base import LMConfig
    from ellm_core.lm.registry import for_ranking, make_language_model

    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.analysis.prerequisites",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the prerequisite file to write (JSON)")
    parser.add_argument("--prompts", default="data:crafter/prompts.yaml", help="prompt YAML (the goal source's)")
    add_dataclass_arguments(parser, LMConfig, prefix="lm-")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    text = crafter_text()
    lm = make_language_model(for_ranking(dataclass_from_args(LMConfig, args, prefix="lm-")))
    result = ask_prerequisites(lm, list(text["achievements"].values()), list(text["actions"].values()),
                               PromptConfig.load(args.prompts))
    calibrated, material = result["prerequisite_calibrated"], result.get("material", {})
    print(f"{'goal':<24} {'prerequisite (raw)':<24} {'prerequisite (calibrated)':<26} {'material':<24}")
    for goal, row in result["prerequisite"].items():
        print(f"{goal:<24} {row['goal']:<24} {calibrated[goal]['goal']:<26} {material.get(goal, {}).get('goal', '-')}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
