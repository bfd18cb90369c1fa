"""The packages' import structure: no circles, the core never imports recrl, the LM protocol imports no backend,
the data layer stands alone, and the top of ``ellm_core`` needs no backend or sweep runner to import.

Read from the source with ``ast`` (every import statement, also those inside functions), not by importing.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ellm_core", "recrl")
BACKENDS = {"ellm_core.lm.hf", "ellm_core.lm.ct2", "ellm_core.lm.llamacpp", "ellm_core.lm.openai_http"}
RUNNERS = {"ellm_core.experiments.local", "ellm_core.experiments.ray_runner"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imports(name: str, top_level_only: bool = False) -> set[str]:
    """The project modules that module ``name`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {module for module in found if module in MODULES and module != name}


def graph(top_level_only: bool = False) -> dict[str, set[str]]:
    return {name: imports(name, top_level_only) for name in MODULES}


def reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for module in edges[todo.pop()] - seen:
            seen.add(module)
            todo.append(module)
    return seen


def test_no_import_circles():
    edges = graph()
    # a package's __init__ re-exporting its own submodules is not a circle (Python imports the package first)
    edges = {name: {m for m in targets if not (MODULES[name].name == "__init__.py" and m.startswith(name + "."))}
             for name, targets in edges.items()}
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_the_core_never_imports_recrl():
    offenders = {name: sorted(m for m in targets if m.startswith("recrl"))
                 for name, targets in graph().items() if name.startswith("ellm_core")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_recrls_top_folder_holds_only_its_cli_and_each_part_is_a_package():
    top = sorted(path.name for path in (ROOT / "recrl").glob("*.py"))
    assert top == ["__init__.py", "cli.py"]
    assert {path.parent.name for path in (ROOT / "recrl").glob("*/__init__.py")} == {
        "browse", "data", "rationale", "validation"}


def test_ellm_cores_top_folder_shows_its_parts():
    top = sorted(path.name for path in (ROOT / "ellm_core").glob("*.py"))
    assert len(top) <= 12, top
    assert {path.parent.name for path in (ROOT / "ellm_core").glob("*/*.py")} == {
        "agents", "cache", "crafter", "envs", "experiments", "goals", "lm", "run", "text"}
    assert {"train.py", "config.py", "cli.py", "rollout.py", "assembly.py", "checkpoint.py"} <= {
        path.name for path in (ROOT / "ellm_core" / "run").glob("*.py")}


def _layer(name: str) -> str:
    """A module's room on the floor plan: its package below ``ellm_core`` (``ellm_core.run``), or itself at the top."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (ROOT / Path(*parts) / "__init__.py").is_file() else name


def test_no_import_circles_between_packages():
    edges: dict[str, set[str]] = {}
    for name, targets in graph().items():
        if name in PACKAGES:  # a package's own __init__ (it registers the envs) is the door, not a room
            continue
        edges.setdefault(_layer(name), set()).update(_layer(t) for t in targets if t not in PACKAGES)
    edges = {room: targets - {room} for room, targets in edges.items()}
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import circle between packages: {' -> '.join(error.args[1])}")


METHOD = ("ellm_core.reward", "ellm_core.wrappers", "ellm_core.goals", "ellm_core.agents", "ellm_core.text")
ENVIRONMENTS = ("ellm_core.crafter", "ellm_core.envs")
UTILITIES = ("ellm_core.cache", "ellm_core.config", "ellm_core.resources", "ellm_core.hardware", "ellm_core.logs",
             "ellm_core.text")


def _offenders(sources: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {name: sorted(m for m in targets if m.startswith(forbidden))
             for name, targets in graph().items() if name.startswith(sources)}
    return {name: targets for name, targets in found.items() if targets}


def test_each_layer_knows_only_the_layers_below_it():
    assert _offenders(METHOD, ENVIRONMENTS) == {}  # the method imports no environment
    assert _offenders(UTILITIES, ("ellm_core.reward", "ellm_core.wrappers", "ellm_core.goals", "ellm_core.agents",
                                  "ellm_core.run", "ellm_core.lm", *ENVIRONMENTS)) == {}  # utilities, no method
    assert _offenders(("ellm_core.lm",), ("ellm_core.goals",)) == {}  # the LM protocol knows no goal module
    users = {name for name, targets in graph().items() if "ellm_core.cli" in targets and name.startswith("ellm_core")}
    assert users == set()  # nothing in ellm_core imports its command line


def test_the_lm_protocol_imports_no_backend():
    assert imports("ellm_core.lm.base") & BACKENDS == set()
    assert imports("ellm_core.lm.registry") & BACKENDS == set()  # by name, imported on demand
    assert reachable("ellm_core.lm", graph(top_level_only=True)) & BACKENDS == set()


def test_the_data_layer_imports_nothing_from_the_core():
    offenders = {name: sorted(m for m in targets if m.startswith("ellm_core"))
                 for name, targets in graph().items() if name.startswith("recrl.data")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_top_of_ellm_core_needs_no_backend_or_sweep_runner_to_import():
    edges = graph(top_level_only=True)
    top = [name for name, path in MODULES.items() if path.parent == ROOT / "ellm_core"]
    needs = {name: sorted(reachable(name, edges) & (BACKENDS | RUNNERS)) for name in top}
    assert {name: found for name, found in needs.items() if found} == {}


def test_the_sweep_finds_comparisons_by_name_not_by_import():
    assert not any(m.startswith("ellm_core.crafter") for m in imports("ellm_core.experiments.compare"))
    assert not any(m.startswith("ellm_core.crafter") for m in imports("ellm_core.experiments.sweep"))


def test_old_module_paths_still_import_with_a_deprecation_warning():
    import importlib
    import sys

    import ellm_core  # noqa: F401  (installs the finder)
    import recrl  # noqa: F401  (adds recrl's moved modules)
    from ellm_core._moved import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=new[0]):
            module = importlib.import_module(old)
        exported = [name for name in dir(importlib.import_module(new[0])) if not name.startswith("_")]
        assert getattr(module, exported[0]) is getattr(importlib.import_module(new[0]), exported[0])
    from ellm_core.llm import LMConfig, make_language_model  # the README's old spelling

    from ellm_core.lm import LMConfig as new_config
    from ellm_core.lm import make_language_model as new_factory

    assert (LMConfig, make_language_model) == (new_config, new_factory)


def test_language_models_do_not_reach_up_into_goals_or_the_loop():
    upward = ("ellm_core.goals", "ellm_core.run.assembly", "ellm_core.run.rollout", "ellm_core.run.train")
    offenders = {name: sorted(m for m in targets if m.startswith(upward))
                 for name, targets in graph().items() if name.startswith("ellm_core.lm")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_rollout_only_steps_and_the_assembly_is_where_goal_sources_are_built():
    assert not {m for m in imports("ellm_core.run.rollout") if m.startswith(("ellm_core.lm", "ellm_core.goals",
                                                                         "ellm_core.cache", "ellm_core.run.train"))}
    builders = {name for name, path in MODULES.items() if name.startswith("ellm_core")
                and "make_language_model(lm_config(" in path.read_text(encoding="utf-8")}
    assert builders == {"ellm_core.run.assembly"}
    assert not any(m.startswith("ellm_core.goals") for m in imports("ellm_core.goals.config")
                   if m != "ellm_core.goals.config")  # the config stands alone


def test_the_run_config_walks_to_its_parts_with_few_returns(tmp_path):
    """``train``'s config reaches its parts from the assembly: 10 returns to a module already left before the run
    loop moved into ``run/`` (c29087c), 8 now (the env asked once for its goal candidates and aliases)."""
    from tests.config_walk import smoke_argv, summary, walk

    result = summary(walk(smoke_argv(tmp_path / "run")))
    assert result["returns"] <= 8, result
    assert result["entered"]["ellm_core.run.train"] == 1


def test_no_module_imports_an_old_path():
    """Every module of both packages imports with the moved paths' DeprecationWarning as an error (a fresh process:
    this one has imported them already)."""
    import subprocess
    import sys

    script = ("import importlib, pkgutil, warnings\nwarnings.simplefilter('error', DeprecationWarning)\n"
              "import ellm_core, recrl\nbad = []\nfor package in (ellm_core, recrl):\n"
              "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
              "        try:\n            importlib.import_module(info.name)\n"
              "        except DeprecationWarning as error:\n            bad.append(f'{info.name}: {error}')\n"
              "print('\\n'.join(bad))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
