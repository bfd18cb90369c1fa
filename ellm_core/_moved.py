"""Old module paths of ``ellm_core`` that moved into subpackages keep importing for one release, with a warning.

``import ellm_core.llm`` (or ``from ellm_core.sweep import SweepSpec``) still works: a finder on ``sys.meta_path``
answers each old name with a stand-in module that forwards every attribute to the new modules and warns once
with a ``DeprecationWarning`` naming the new path. Nothing is copied, so there is one definition of everything.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

#: old module -> the new modules its names now live in (searched in order).
MOVED: dict[str, tuple[str, ...]] = {
    "ellm_core.llm": ("ellm_core.lm.base", "ellm_core.lm.registry"),
    "ellm_core.llm_local": ("ellm_core.lm.hf",),
    "ellm_core.llm_ct2": ("ellm_core.lm.ct2",),
    "ellm_core.llm_llamacpp": ("ellm_core.lm.llamacpp",),
    "ellm_core.llm_http": ("ellm_core.lm.openai_http",),
    "ellm_core.background": ("ellm_core.goals.background",),
    "ellm_core.lora": ("ellm_core.run.lora",),
    "ellm_core.lm.lora": ("ellm_core.run.lora",),
    "ellm_core.sweep": ("ellm_core.experiments.sweep", "ellm_core.experiments.spec", "ellm_core.experiments.local"),
    "ellm_core.sweep_local": ("ellm_core.experiments.local",),
    "ellm_core.sweep_ray": ("ellm_core.experiments.ray_runner",),
    "ellm_core.sweep_compare": ("ellm_core.experiments.compare",),
    "ellm_core.sweep_cli": ("ellm_core.experiments.cli",),
    "ellm_core.stats": ("ellm_core.experiments.stats",),
    "ellm_core.lm.background": ("ellm_core.goals.background",),
    "ellm_core.distilled": ("ellm_core.goals.distilled",),
    "ellm_core.labels": ("ellm_core.goals.labels",),
    "ellm_core.goal_chain": ("ellm_core.goals.chain",),
    "ellm_core.cache_cli": ("ellm_core.cache.files",),
    # the second step of the house: the run loop in run/, text embedding in text/, the caches in cache/, the prompts
    # and the goal-quality measure with the goals
    **{f"ellm_core.{name}": (f"ellm_core.run.{name}",)
       for name in ("train", "rollout", "evaluate", "assembly", "checkpoint", "runlog", "faults", "demo_summary")},
    "ellm_core.train_config": ("ellm_core.run.config",),
    "ellm_core.train_cli": ("ellm_core.run.cli",),
    **{f"ellm_core.{name}": (f"ellm_core.text.{name}",) for name in ("embed", "static_embed", "similarity")},
    "ellm_core.prompts": ("ellm_core.goals.prompts",),
    "ellm_core.goal_quality": ("ellm_core.goals.quality",),
    "ellm_core.cache_files": ("ellm_core.cache.files",),
    **{f"ellm_core.crafter.{name}": (f"ellm_core.crafter.analysis.{name}",)
       for name in ("chain_levers", "compare", "distill_quality", "goal_sources", "goal_table", "goals_cli")},
}


class _Forwarding(types.ModuleType):
    """A stand-in for an old module: attribute reads go to the first new module that has the name."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved: use {' / '.join(targets)}.")
        self._targets = targets

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, attribute):
                return getattr(module, attribute)
        raise AttributeError(f"module {self.__name__!r} (moved to {', '.join(self._targets)}) has no {attribute!r}")

    def __dir__(self) -> list[str]:
        return sorted({name for target in self._targets for name in dir(importlib.import_module(target))})


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec):
        targets = MOVED[spec.name]
        warnings.warn(f"{spec.name} has moved to {targets[0]}; the old path goes away in the next release",
                      DeprecationWarning, stacklevel=3)
        return _Forwarding(spec.name, targets)

    def exec_module(self, module) -> None:
        return None


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
