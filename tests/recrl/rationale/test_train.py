"""LoRA fine-tuning with the real shipped base model (SmolLM2-135M) on a tiny prepared directory."""

import json

import pytest

from recrl.cli import main
from recrl.data.prepared import load_prepared
from recrl.rationale.generate import read_rationales
from recrl.rationale.model import check_base, rationale_lm, read_manifest, target_loss
from recrl.rationale.train import RationaleConfig, select_examples, train_rationale

pytestmark = pytest.mark.real_model


def tiny_config(data, out, **overrides) -> RationaleConfig:
    values = dict(data=str(data), out=str(out), steps=6, batch_size=4, learning_rate=2e-3, lora_dropout=0.0,
                  max_examples=0, eval_examples=8, checkpoint_every=0, device="cpu", max_length=96)
    return RationaleConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from recrl.data.synthetic import write_prepared

    root = tmp_path_factory.mktemp("rationale")
    data = write_prepared(root / "prepared")
    config = tiny_config(data, root / "run")
    return config, train_rationale(config)


def test_a_few_lora_steps_lower_the_loss(trained):
    _, metrics = trained
    assert metrics["last_train_loss"] < metrics["first_train_loss"]
    assert metrics["eval_loss_tuned"] < metrics["eval_loss_base"]
    assert metrics["perplexity_tuned"] < metrics["perplexity_base"]


def test_saved_adapter_reloads_exactly(trained):
    config, metrics = trained
    directory, manifest = read_manifest(config.out)
    assert manifest["base_identity"].startswith("default:SmolLM2") and manifest["metrics"] == metrics
    assert manifest["prompt"]["system"] and len(manifest["data_fingerprint"]) == 16
    from recrl.rationale import model as rm

    lm = rationale_lm(config.out, temperature=0.0, max_new_tokens=12)
    _, held_out = select_examples(config, load_prepared(config.data))
    batches = [rm.collate([rm.encode(lm.tokenizer, e, config.max_length) for e in held_out[i : i + 4]],
                          lm.tokenizer.pad_token_id, "cpu") for i in range(0, len(held_out), 4)]
    assert target_loss(lm.model, batches) == pytest.approx(metrics["eval_loss_tuned"], abs=1e-5)
    prompt = [{"role": "user", "content": "Items I liked before: Film 1 (1981)\nWhat are you looking for next?"}]
    again = rationale_lm(directory, temperature=0.0, max_new_tokens=12)
    assert lm.generate([prompt]) == again.generate([prompt])


def test_killed_run_resumes_to_the_same_result(tmp_path, trained):
    config, metrics = trained
    partial = tiny_config(config.data, tmp_path / "run", steps=3, checkpoint_every=1)
    train_rationale(partial)  # leaves checkpoints at steps 1 and 2, as a run killed at step 3 would
    resumed = train_rationale(tiny_config(config.data, tmp_path / "run"))
    assert resumed["eval_loss_tuned"] == pytest.approx(metrics["eval_loss_tuned"], abs=1e-4)


def test_wrong_base_or_missing_adapter_is_a_clear_error(tmp_path, trained):
    config, _ = trained
    directory, manifest = read_manifest(config.out)
    with pytest.raises(ValueError, match="trained on base 'default:SmolLM2.*not 'other/model'"):
        check_base(manifest, directory, "other/model")
    with pytest.raises(FileNotFoundError, match="is not a rationale adapter"):
        read_manifest(tmp_path)


def test_cli_train_then_generate(tmp_path, trained, capsys):
    config, _ = trained
    run = tmp_path / "cli-run"
    assert main(["rationale", "train", "--preset", "smoke", "--data", config.data, "--out", str(run),
                 "--steps", "2", "--device", "cpu", "--samples", "2"]) == 0
    assert json.loads((run / "metrics.json").read_text())["steps"] == 2  # the explicit flag beat the preset
    assert (run / "samples.md").read_text().startswith("| user | generated rationales")
    assert (run / "loss.png").stat().st_size > 0 and (run / "config.yaml").is_file()
    out = tmp_path / "rationales.jsonl"
    assert main(["rationale", "generate", "--adapter", str(run), "--data", config.data, "--num", "2",
                 "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--device", "cpu"]) == 0
    rationales = read_rationales(out)
    assert set(rationales) <= {"u0", "u1", "u2", "u3"} and all(1 <= len(v) <= 2 for v in rationales.values())
    assert "rationales for 4 users" in capsys.readouterr().out


def test_browse_run_precomputes_rationales_with_the_adapter(tmp_path, trained):
    config, _ = trained
    run = tmp_path / "browse"
    assert main(["browse", "train", "--preset", "smoke", "--data", config.data, "--rationale", config.out,
                 "--num-rationales", "1", "--max-users", "2", "--steps", "60", "--embedder", "hashing",
                 "--catalog-embedder", "hashing", "--slate-size", "3", "--mix", "1,1,1", "--eval-sessions", "3",
                 "--cache", "none", "--out", str(run)]) == 0
    rationales = read_rationales(run / "rationales.parquet")
    assert set(rationales) <= {"u0", "u1"} and all(len(v) == 1 for v in rationales.values())
