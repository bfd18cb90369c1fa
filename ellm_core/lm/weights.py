"""Where a local model's weights come from: shipped names and GGUF files converted once into a plain checkpoint
(loading a GGUF dequantises it, ~20 s; the converted checkpoint loads in ~0.3 s with identical logits), and peft
adapters applied on top, with a content fingerprint for cache keys.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

from ellm_core.lm.shipped import convert_dtype, shipped_gguf
from ellm_core.resources import cache_dir

logger = logging.getLogger(__name__)


def _converted_dir(gguf_path: Path) -> Path:
    stat = gguf_path.stat()
    dtype = convert_dtype(gguf_path)
    return cache_dir() / "models" / (f"{gguf_path.stem}-{stat.st_size}" + ("" if dtype == "float32" else f"-{dtype}"))


def _convert_gguf(directory: Path, gguf_file: str, target: Path) -> None:
    """Load a GGUF model once and save it as a plain checkpoint at ``target`` (atomically), in float32, or in the
    dtype ``data/models.yaml`` names for a shipped model (bfloat16 halves the 1.5B's 6.7 GB)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s once into a plain checkpoint at %s", gguf_file, target)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file, dtype=torch.float32)
    model = model.to(getattr(torch, convert_dtype(Path(directory) / gguf_file)))
    model.hf_quantizer = None  # both are needed, or save_pretrained refuses a gguf-"quantised" model
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)  # atomic: readers see either nothing or the whole checkpoint
    except OSError:
        if not (target / "config.json").exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_model_location(model: str | None, gguf_file: str | None) -> tuple[str, str | None]:
    """Turn (model, gguf_file) into something ``from_pretrained`` loads fast.

    ``None`` means the shipped SmolLM2 GGUF and a shipped model's name (``qwen2.5-coder-1.5b``,
    :mod:`ellm_core.lm.shipped`) its GGUF; a ``.gguf`` path or a directory + ``gguf_file`` is converted once
    into the cache and that plain checkpoint returned. Anything else (a directory, a hub name) is returned
    unchanged. A path that does not exist is an error naming it.
    """
    shipped = shipped_gguf(model)
    if shipped is not None:
        gguf_path = shipped
    elif model.endswith(".gguf"):
        gguf_path = Path(model).expanduser()
    elif gguf_file is not None and Path(model).expanduser().is_dir():
        gguf_path = Path(model).expanduser() / gguf_file
    else:
        local = Path(model).expanduser()
        if model.startswith((".", "~", os.sep)) and not local.exists():
            raise FileNotFoundError(f"language model path {model!r} does not exist")
        return (str(local) if local.exists() else model), gguf_file
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF file {str(gguf_path)!r} does not exist")
    target = _converted_dir(gguf_path)
    if not (target / "config.json").exists():
        _convert_gguf(gguf_path.parent, gguf_path.name, target)
    return str(target), None


def adapter_fingerprint(adapter: str | Path) -> str:
    """A short content hash of a peft adapter's weights (for cache keys and manifests)."""
    directory = Path(adapter)
    digest = hashlib.sha256()
    for path in sorted(directory.glob("adapter_model.*")) + sorted(directory.glob("adapter_config.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def apply_adapter(model, adapter: str | Path, base_name: str):
    """``model`` with the peft adapter at ``adapter`` applied; a missing or incompatible adapter is a clear error
    naming both the adapter and the base."""
    from peft import PeftModel

    directory = Path(adapter).expanduser()
    if not (directory / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{directory} is not a peft adapter directory (no adapter_config.json)")
    try:
        return PeftModel.from_pretrained(model, str(directory))
    except (RuntimeError, ValueError, KeyError) as error:
        raise ValueError(f"adapter {str(directory)!r} does not fit base model {base_name!r}: {error}") from error
