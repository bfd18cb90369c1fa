"""The aggregation that ends a sweep, chosen by name in the spec (``compare: {kind: crafter, ...}``).

Each kind is one function ``(methods: {name: run dirs}, options, out) -> report``: a name registered in
:data:`COMPARISONS`, or ``module:function`` for one defined elsewhere (``recrl.browse.evaluate:sweep_comparison``),
so the core needs no import of the packages built on it. Cells without output yet are left out, so a partial
sweep still gets its table.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ellm_core.run.checkpoint import NETWORK_FILE, latest_checkpoint, load_network, save_network

logger = logging.getLogger(__name__)


#: Comparisons by name: ``"module:function"``, imported when a spec asks for it (the core imports no comparison).
#: A spec may also name any ``module:function`` itself (``recrl.browse.evaluate:sweep_comparison``).
COMPARISONS: dict[str, str] = {
    "crafter": "ellm_core.crafter.analysis.compare:sweep_comparison",
}


def comparison_function(kind: str) -> Callable[[dict[str, list[Path]], dict[str, Any], Path], dict[str, Any]]:
    """The comparison registered as ``kind``, or the ``module:function`` it names."""
    target = COMPARISONS.get(kind, kind)
    if ":" not in target:
        raise ValueError(f"unknown comparison kind {kind!r}; known: {sorted(COMPARISONS)} or module:function")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_comparison(spec, grid) -> dict[str, Any]:
    """Aggregate a sweep's cells with the comparison its spec names (default out: ``OUT/compare``). The options
    carry ``results``, the spec's results folder, when it has one: the comparison kept there last time."""
    options = dict(spec.compare)
    kind = options.pop("kind", "crafter")
    function = comparison_function(kind)
    methods: dict[str, list[Path]] = {}
    for cell in grid:
        methods.setdefault(cell.method, []).append(cell.record)
    out = Path(options.pop("out", Path(spec.out) / "compare"))
    if spec.results:  # where the kept copy of an earlier comparison lives (a comparison may reuse what it recorded)
        options.setdefault("results", str(spec.results))
    report = function(methods, options, out)
    logger.info("comparison (%s) written to %s", kind, out)
    return report


def collect(spec, grid) -> dict[str, Any]:
    """Copy what a results folder keeps of a sweep's cells: each finished cell's ``spec.keep`` files into
    ``RESULTS/runs/<cell>/`` (before the comparison, which then reads and lists these copies). Unfinished cells are
    listed in ``RESULTS/status.json``, not copied."""
    results = Path(spec.results)
    copied, unfinished = [], []
    for cell in grid:
        if cell.status != "done":
            unfinished.append(cell.out.name)
            continue
        copied.append(cell.out.name)
        target = results / "runs" / cell.out.name
        if not cell.finished(cell.out):
            continue  # only the kept copy is left: nothing newer to copy
        target.mkdir(parents=True, exist_ok=True)
        for name in spec.keep:
            if (cell.out / name).is_file():
                shutil.copy2(cell.out / name, target / name)
            elif name == NETWORK_FILE and latest_checkpoint(cell.out) is not None:  # a run from before qnet.pt
                save_network(target, load_network(cell.out)[0])
    (results / "status.json").write_text(json.dumps({"finished": copied, "unfinished": unfinished}, indent=2),
                                         encoding="utf-8")
    logger.info("copied %d finished cells to %s (%d unfinished)", len(copied), results, len(unfinished))
    return {"out": str(results), "finished": len(copied), "unfinished": unfinished}


def keep_comparison(spec) -> list[Path]:
    """Copy the comparison's files (``compare.md``, ``curves.png``, ...) into the spec's results folder."""
    compared, results = Path((spec.compare or {}).get("out", Path(spec.out) / "compare")), Path(spec.results)
    if not compared.is_dir() or compared.resolve() == results.resolve():
        return []
    kept = []
    for path in compared.iterdir():
        if path.is_file():
            kept.append(Path(shutil.copy2(path, results / path.name)))
    return kept
