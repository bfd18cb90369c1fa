"""Shipped models by name: the registry, joining wheel parts, and the one-line errors."""

import hashlib
import sys

import pytest

from ellm_core.lm import shipped


def test_the_registry_names_the_three_shipped_lms_with_their_install_commands():
    models = shipped.shipped_models()
    assert set(models) == {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    assert len(models["qwen2.5-coder-1.5b"].parts) == 22 and len(models["qwen2.5-coder-0.5b"].parts) == 6
    for model in models.values():
        assert model.install and model.file.endswith(".gguf")
        if len(model.parts) > 1:  # parts add up to the whole file
            assert sum(part.size for part in model.parts) == model.size and len(model.sha256) == 64
    assert "qwen-large" in models["qwen2.5-coder-1.5b"].install
    with pytest.raises(ValueError, match="shipped: qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, smollm2-135m"):
        shipped.shipped_model("qwen-9b")


def test_other_names_pass_through_and_none_is_the_default_smollm2():
    assert shipped.shipped_gguf("Qwen/Qwen2.5-0.5B-Instruct") is None
    assert shipped.shipped_gguf("/some/model.gguf") is None
    assert shipped.shipped_gguf(None).name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert shipped.identity_name(None) == shipped.identity_name("smollm2-135m")  # one cache for both spellings


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A two-part model in two fake packages on sys.path, registered as ``fake-lm``."""
    chunks = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 30]
    parts = []
    for number, chunk in enumerate(chunks, 1):
        package = tmp_path / f"fake_lm_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)
        parts.append(shipped.Part(package.name, f"data/part{number:02d}.bin", len(chunk),
                                  hashlib.sha256(chunk).hexdigest()))
    whole = b"".join(chunks)
    model = shipped.ShippedModel("fake-lm", "a fake", "none", "pip install '.[fake]'", "fake-lm.gguf", tuple(parts),
                                 len(whole), hashlib.sha256(whole).hexdigest())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ELLM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(shipped, "shipped_models", lambda: {"fake-lm": model})
    for name in [m for m in sys.modules if m.startswith("fake_lm_part")]:
        monkeypatch.delitem(sys.modules, name)
    return tmp_path, whole


def test_parts_are_joined_once_into_the_cache_and_checked(fake_model):
    root, whole = fake_model
    path = shipped.shipped_gguf("fake-lm")
    assert path == root / "cache" / "gguf" / "fake-lm.gguf" and path.read_bytes() == whole
    assert shipped.shipped_gguf("fake-lm") == path  # the second time: found, not joined again
    assert [p.name for p in path.parent.iterdir()] == ["fake-lm.gguf"]  # no staging file left


def test_a_damaged_part_is_named_and_nothing_is_left_in_the_cache(fake_model):
    root, _ = fake_model
    damaged = root / "fake_lm_part2" / "data" / "part02.bin"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"x")
    with pytest.raises(shipped.ShippedModelError, match=r"part .*part02\.bin is damaged \(sha256 .* reinstall"):
        shipped.shipped_gguf("fake-lm")
    assert not any((root / "cache" / "gguf").iterdir())


def test_a_truncated_part_is_named_by_its_size(fake_model):
    root, _ = fake_model
    truncated = root / "fake_lm_part1" / "data" / "part01.bin"
    truncated.write_bytes(truncated.read_bytes()[:100])
    with pytest.raises(shipped.ShippedModelError, match=r"part01\.bin is damaged \(100 bytes, expected 10,244\)"):
        shipped.shipped_gguf("fake-lm")


def test_a_missing_extra_is_one_line_naming_the_install_command(fake_model, capsys):
    from ellm_core.cli import main

    root, _ = fake_model
    (root / "fake_lm_part2" / "__init__.py").unlink()
    (root / "fake_lm_part2" / "data" / "part02.bin").unlink()
    (root / "fake_lm_part2" / "data").rmdir()
    (root / "fake_lm_part2").rmdir()
    with pytest.raises(shipped.ShippedModelError, match=r"fake-lm is not installed .*run `pip install '\.\[fake\]'`"):
        shipped.shipped_gguf("fake-lm")
    code = main(["goals", "--lm-backend", "transformers", "--lm-model", "fake-lm", "--cache", "none",
                 "--observation", "You see a tree.", "--actions", "do,noop"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install '.[fake]'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
