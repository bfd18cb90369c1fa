"""A GGUF model run in-process by llama.cpp (``llama-cpp-python``), behind the :class:`LanguageModel` protocol.

Optional: ``pip install '.[llamacpp]'`` builds llama.cpp from source (5 to 12 minutes on 2 cores). It loads the
shipped SmolLM2 GGUF in ~0.2 s (transformers: a one-off ~20 s conversion, then ~1 s) and decodes several times
faster on CPU. The same file can instead be served (``python -m llama_cpp.server --model FILE.gguf``) and used
through :class:`ellm_core.lm.openai_http.OpenAICompatibleLM`; in-process saves the server and the HTTP round trips.

Prompts are rendered by the chat template stored in the GGUF (llama-cpp-python's Jinja2 formatter). llama.cpp
decodes one sequence at a time, so a batch is answered prompt by prompt. P(yes) comes from the next-token logits,
captured with a logits processor on a one-token completion (public API, no ``logits_all`` needed).
``grammar`` constrains answers with a GBNF grammar (e.g. the built-in ``goal-lines``: one to three "- verb
object" lines).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ellm_core.lm.base import NO_WORDS, YES_WORDS, LMConfig, Prompt, as_chat
from ellm_core.lm.shipped import shipped_gguf
from ellm_core.resources import cpu_threads

logger = logging.getLogger(__name__)

INSTALL_HINT = "llama.cpp is not installed: pip install '.[llamacpp]' (builds llama-cpp-python from source: 5 to 12 minutes on 2 cores)"


def _import_llama_cpp():
    try:
        import llama_cpp
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return llama_cpp


def gguf_path(model: str | None, gguf_file: str | None = None) -> Path:
    """The GGUF file to load: the shipped SmolLM2 by default, a shipped model by name (``qwen2.5-coder-1.5b``),
    ``model`` if it is a file, else ``model/gguf_file``."""
    shipped = shipped_gguf(model)
    if shipped is not None:
        return shipped
    path = Path(model).expanduser()
    if gguf_file is not None:
        path = path / gguf_file
    if not path.is_file() or path.suffix != ".gguf":
        raise FileNotFoundError(f"llama.cpp backend needs a .gguf file; {str(path)!r} is not one")
    return path


#: Built-in GBNF grammars (``--lm-grammar NAME``); any other value is read as a grammar file.
GRAMMARS = {
    # one to three lines "- verb object", lower-case words only: the answer format the Crafter prompt asks for
    "goal-lines": 'root ::= line line? line?\nline ::= "- " word (" " word)? (" " word)? (" " word)? "\\n"\n'
                  'word ::= [a-z]+\n',
}


def load_grammar(grammar: str, llm) -> object:
    """A ``LlamaGrammar`` from a built-in name (:data:`GRAMMARS`) or a GBNF file, checked against ``llm``'s vocabulary
    now (llama.cpp would otherwise abort at the first answer); a bad one is a clear error."""
    llama_cpp = _import_llama_cpp()
    text = GRAMMARS.get(grammar)
    if text is None:
        path = Path(grammar).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"grammar {grammar!r} is neither a built-in ({', '.join(GRAMMARS)}) nor a file")
        text = path.read_text(encoding="utf-8")
    sampler = llama_cpp.llama_sampler_init_grammar(llama_cpp.llama_model_get_vocab(llm.model), text.encode(), b"root")
    if not sampler:
        raise ValueError(f"grammar {grammar!r} is not valid GBNF (llama.cpp printed the parse error above)")
    llama_cpp.llama_sampler_free(sampler)
    return llama_cpp.LlamaGrammar.from_string(text, verbose=False)


#: Request fields that make llama.cpp's server sample like :class:`LlamaCppLM` (its defaults differ).
SERVER_SAMPLING = {"repeat_penalty": 1.0, "top_k": 0, "min_p": 0.0}


@contextlib.contextmanager
def llamacpp_server(model: str | None = None, threads: int | None = None, alias: str = "smollm2",
                    start_timeout_s: float = 60.0) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free local port; yields its base URL and stops it afterwards."""
    _import_llama_cpp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path(model)), "--port", str(port),
               "--n_threads", str(threads or cpu_threads()), "--model_alias", alias]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start ({' '.join(command)})")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


class LlamaCppLM:
    """In-process llama.cpp, built from its :class:`ellm_core.lm.base.LMConfig` (or that config's fields as keywords;
    ``model`` is a .gguf path, default the shipped SmolLM2; ``threads`` 0 uses all cores)."""

    def __init__(self, config: LMConfig | None = None, /, *, n_ctx: int = 4096, **overrides: Any) -> None:
        config = LMConfig.for_backend(config, "llamacpp", overrides)
        model, gguf_file, grammar, n_threads = config.model, config.gguf_file, config.grammar, config.threads
        max_new_tokens, temperature, top_p = config.max_new_tokens, config.temperature, config.top_p
        repetition_penalty, seed = config.repetition_penalty, config.seed
        llama_cpp = _import_llama_cpp()
        path = gguf_path(model, gguf_file)
        threads = n_threads or cpu_threads()
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                   seed=seed, verbose=False)
        atexit.register(self.close)  # free llama.cpp before interpreter teardown (its __del__ fails late)
        self._processors = llama_cpp.LogitsProcessorList
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        self.repetition_penalty, self.seed = repetition_penalty, seed
        self.grammar = load_grammar(grammar, self.llm) if grammar else None
        self.identity = (f"llamacpp:{path.name}:{path.stat().st_size}:t={temperature}:p={top_p}:"
                         f"rp={repetition_penalty}:n={max_new_tokens}:seed={seed}"
                         + (f":grammar={grammar}" if grammar else ""))
        self.tokens_generated = 0
        self._calls = 0
        self._yes_ids = self._first_tokens(YES_WORDS)
        self._no_ids = self._first_tokens(NO_WORDS)

    def close(self) -> None:
        """Free the llama.cpp model and context (also done at exit)."""
        self.llm.close()

    def _first_tokens(self, words: Sequence[str]) -> list[int]:
        return sorted({self.llm.tokenize(word.encode(), add_bos=False, special=False)[0] for word in words})

    def _complete(self, prompt: Prompt, **overrides):
        arguments = {"max_tokens": self.max_new_tokens, "temperature": self.temperature, "top_p": self.top_p,
                     "top_k": 0, "min_p": 0.0, "repeat_penalty": self.repetition_penalty,
                     "seed": self.seed + self._calls, **overrides}
        return self.llm.create_chat_completion(messages=as_chat(prompt), **arguments)

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """Answers to ``prompts``, one at a time (llama.cpp decodes a single sequence)."""
        answers = []
        for prompt in prompts:
            response = self._complete(prompt, grammar=self.grammar)
            self._calls += 1
            self.tokens_generated += int(response["usage"]["completion_tokens"])
            answers.append((response["choices"][0]["message"]["content"] or "").strip())
        return answers

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """P(yes) / (P(yes) + P(no)) of the first answer token, from the captured next-token logits."""
        captured: list[np.ndarray] = []

        def capture(input_ids, scores):
            captured.append(np.array(scores, dtype=np.float64))
            return scores

        values = []
        for prompt in prompts:
            captured.clear()
            self._complete(prompt, max_tokens=1, temperature=0.0, logits_processor=self._processors([capture]))
            logits = captured[0]
            probs = np.exp(logits - logits.max())
            yes, no = probs[self._yes_ids].sum(), probs[self._no_ids].sum()
            values.append(float(yes / max(yes + no, 1e-12)))
        return np.asarray(values, dtype=np.float64)
