"""The machine as benchmarks name it, and ``--lm-compute-type auto``: bfloat16 only where the CPU has it natively."""

import pytest

from ellm_core import hardware
from ellm_core.lm.base import LMConfig

ZEN2 = ("AMD EPYC 7B12", frozenset({"sse4_2", "avx", "avx2", "fma"}))
ZEN4 = ("AMD EPYC 9B14", frozenset({"avx2", "avx512f", "avx512bw", "avx512_bf16"}))
SAPPHIRE = ("Intel Xeon Platinum 8481C", frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}))
SKYLAKE = ("Intel Xeon 8175M", frozenset({"avx2", "avx512f", "avx512bw"}))


@pytest.fixture
def cpu(monkeypatch):
    def use(info, masked=False):
        monkeypatch.setattr(hardware, "_cpuinfo", lambda: info)
        for name, value in hardware.AVX2_ONLY.items():
            if masked:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
    return use


@pytest.mark.parametrize("info, isa, native", [(ZEN2, "AVX2", False), (SKYLAKE, "AVX-512", False),
                                               (ZEN4, "AVX512-BF16", True), (SAPPHIRE, "AMX", True)])
def test_isa_and_native_bfloat16_follow_the_cpu_flags(cpu, info, isa, native):
    cpu(info)
    assert hardware.isa() == isa and hardware.native_bfloat16() is native
    assert hardware.auto_compute_type("transformers") == ("bfloat16" if native else "float32")
    assert hardware.auto_compute_type("ctranslate2") == "float32"  # CTranslate2 keeps float32's goal quality
    assert hardware.auto_compute_type("transformers", "cuda") == "float32"


def test_masking_avx512_hides_native_bfloat16(cpu):
    cpu(ZEN4, masked=True)
    assert hardware.isa() == "AVX2 (AVX512-BF16 masked)" and not hardware.native_bfloat16()
    assert LMConfig(backend="transformers").resolved_compute_type() == "float32"


def test_auto_is_the_default_and_an_explicit_type_is_kept(cpu):
    cpu(ZEN4)
    assert LMConfig().compute_type == "auto"
    assert LMConfig(backend="transformers").resolved_compute_type() == "bfloat16"
    assert LMConfig(backend="transformers", compute_type="float32").resolved_compute_type() == "float32"


def test_describe_names_cpu_isa_threads_and_versions(cpu):
    cpu(ZEN2)
    info = hardware.describe(threads=1)
    assert info["cpu"] == "AMD EPYC 7B12" and info["isa"] == "AVX2" and info["threads"] == 1
    assert info["torch"].startswith("2.") and info["ctranslate2"][0].isdigit()
    assert hardware.describe_line(2).startswith("AMD EPYC 7B12 · AVX2 · 2 threads · torch ")


def test_this_machine_reads_as_one_of_the_known_isas():
    assert hardware.isa().split()[0] in ("AMX", "AVX512-BF16", "AVX-512", "AVX2", "x86_64", "aarch64")
    assert hardware.cpu_model()


def test_make_test_avx2_masks_what_hardware_reads_as_masked():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest-avx2:")[1].split("\n\n")[0]
    for name, value in hardware.AVX2_ONLY.items():
        assert f"{name}={value}" in recipe
