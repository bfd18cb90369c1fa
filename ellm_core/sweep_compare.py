"""The aggregation that ends a sweep, chosen by name in the spec (``compare: {kind: crafter, ...}``).

Each kind is one function ``(methods: {name: run dirs}, options, out) -> report``: a name registered in
:data:`COMPARISONS`, or ``module:function`` for one defined elsewhere (``recrl.browse.evaluate:sweep_comparison``),
so the core needs no import of the packages built on it. Cells without output yet are left out, so a partial
sweep still gets its table.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ellm_core.checkpoint import NETWORK_FILE, latest_checkpoint, load_network, save_network

logger = logging.getLogger(__name__)


def crafter_comparison(methods: dict[str, list[Path]], options: dict[str, Any], out: Path) -> dict[str, Any]:
    """The Crafter comparison (:mod:`ellm_core.crafter.compare`) of the finished runs."""
    from ellm_core.crafter.compare import compare, write_comparison

    runs = {method: [run for run in paths if (run / "summary.json").is_file()] for method, paths in methods.items()}
    runs = {method: paths for method, paths in runs.items() if paths}
    if not runs:
        return {"skipped": "no run has finished yet"}
    result = compare(runs, baselines=options.get("baselines", ("none", "novelty")), bins=options.get("bins", 20))
    files = write_comparison(result, out)
    return {"out": str(out), "files": [str(path) for path in files],
            "score": {method: row["score"]["mean"] for method, row in result["methods"].items()}}


COMPARISONS: dict[str, Callable[[dict[str, list[Path]], dict[str, Any], Path], dict[str, Any]]] = {
    "crafter": crafter_comparison,
}


def run_comparison(spec, grid) -> dict[str, Any]:
    """Aggregate a sweep's cells with the comparison its spec names (default out: ``OUT/compare``)."""
    options = dict(spec.compare)
    kind = options.pop("kind", "crafter")
    if ":" in kind:
        import importlib

        module, _, name = kind.partition(":")
        function = getattr(importlib.import_module(module), name)
    elif kind in COMPARISONS:
        function = COMPARISONS[kind]
    else:
        raise ValueError(f"unknown comparison kind {kind!r}; known: {sorted(COMPARISONS)} or module:function")
    methods: dict[str, list[Path]] = {}
    for cell in grid:
        methods.setdefault(cell.method, []).append(cell.record)
    out = Path(options.pop("out", Path(spec.out) / "compare"))
    report = function(methods, options, out)
    logger.info("comparison (%s) written to %s", kind, out)
    return report


def collect(spec, grid) -> dict[str, Any]:
    """Copy what a results folder keeps of a sweep: each finished cell's ``spec.keep`` files into
    ``RESULTS/runs/<cell>/`` and the comparison's files into ``RESULTS/``. Unfinished cells are listed, not copied."""
    results = Path(spec.results)
    copied, unfinished = [], []
    for cell in grid:
        if cell.status != "done":
            unfinished.append(cell.out.name)
            continue
        copied.append(cell.out.name)
        target = results / "runs" / cell.out.name
        if cell.record.resolve() == target.resolve():
            continue  # only the kept copy is left: nothing newer to copy
        target.mkdir(parents=True, exist_ok=True)
        for name in spec.keep:
            if (cell.out / name).is_file():
                shutil.copy2(cell.out / name, target / name)
            elif name == NETWORK_FILE and latest_checkpoint(cell.out) is not None:  # a run from before qnet.pt
                save_network(target, load_network(cell.out)[0])
    compared = Path((spec.compare or {}).get("out", Path(spec.out) / "compare"))
    if compared.is_dir() and compared.resolve() != results.resolve():
        for path in compared.iterdir():
            if path.is_file():
                shutil.copy2(path, results / path.name)
    (results / "status.json").write_text(json.dumps({"finished": copied, "unfinished": unfinished}, indent=2),
                                         encoding="utf-8")
    logger.info("copied %d finished cells to %s (%d unfinished)", len(copied), results, len(unfinished))
    return {"out": str(results), "finished": len(copied), "unfinished": unfinished}
