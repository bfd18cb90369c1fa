"""What this machine is: the CPU's model and instruction sets, as the numeric libraries will use them.

Speed figures travel only with the hardware they came from, and one default depends on it: ``--lm-compute-type
auto`` runs the transformers backend in bfloat16 only where the CPU computes bfloat16 natively (AVX512-BF16 or AMX);
elsewhere bfloat16 is emulated and ~6x slower than float32. The masks that make an AVX-512 machine behave like an
AVX2 one (``make test-avx2``) are honoured: PyTorch's ``ATEN_CPU_CAPABILITY``, oneDNN's ``ONEDNN_MAX_CPU_ISA`` and
CTranslate2's ``CT2_FORCE_CPU_ISA``.
"""

from __future__ import annotations

import functools
import os
import platform
from importlib import metadata
from pathlib import Path

#: The environment that masks AVX-512 (and with it native bfloat16) in PyTorch, oneDNN and CTranslate2.
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "CT2_FORCE_CPU_ISA": "AVX2"}


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first CPU in ``/proc/cpuinfo``; the platform's processor name elsewhere."""
    model, flags = platform.processor() or platform.machine(), frozenset()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model in (platform.processor(), platform.machine()):
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
    return model, flags


def cpu_model() -> str:
    """The CPU's model name, e.g. ``AMD EPYC 9B14``."""
    return _cpuinfo()[0]


def _masked_to_avx2() -> bool:
    """True when the environment limits the numeric libraries to AVX2 (see :data:`AVX2_ONLY`)."""
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    return aten in ("avx2", "default") or onednn in ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2")


def isa() -> str:
    """The widest instruction set the numeric libraries use here: ``AMX``, ``AVX512-BF16``, ``AVX-512``, ``AVX2``
    or the machine's architecture; a masked AVX-512 CPU reads ``AVX2 (AVX-512 masked)``."""
    flags = _cpuinfo()[1]
    if not flags:
        return platform.machine()
    widest = ("AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags
              else "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else platform.machine())
    if _masked_to_avx2() and widest in ("AMX", "AVX512-BF16", "AVX-512"):
        return f"AVX2 ({widest} masked)"
    return widest


def native_bfloat16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX) and no mask hides it."""
    return isa() in ("AMX", "AVX512-BF16")


def auto_compute_type(backend: str, device: str = "cpu") -> str:
    """What ``--lm-compute-type auto`` means for ``backend`` on ``device``: bfloat16 for transformers on a CPU with
    native bfloat16 (about 2x faster ranking than float32, scores within ~0.2 nats), else float32 (the transformers
    backend itself runs float32 requests on a GPU in bfloat16; CTranslate2 keeps float32's goal quality)."""
    if backend == "transformers" and device == "cpu" and native_bfloat16():
        return "bfloat16"
    return "float32"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def describe(threads: int | None = None) -> dict[str, str | int]:
    """The machine as benchmarks report it: CPU model, ISA, threads, and the torch / CTranslate2 versions."""
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    return {"cpu": cpu_model(), "isa": isa(), "threads": threads, "torch": _version("torch"),
            "ctranslate2": _version("ctranslate2")}


def describe_line(threads: int | None = None) -> str:
    """:func:`describe` as one line for a benchmark's table, e.g. ``AMD EPYC 9B14 · AVX512-BF16 · 1 thread ...``."""
    info = describe(threads)
    plural = "" if info["threads"] == 1 else "s"
    return (f"{info['cpu']} · {info['isa']} · {info['threads']} thread{plural} · torch {info['torch']} · "
            f"CTranslate2 {info['ctranslate2']}")
