"""The OpenAI-compatible backend against a small chat-completions server on 127.0.0.1."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from ellm_core.lm.base import LLMServerError, LMConfig
from ellm_core.lm.openai_http import OpenAICompatibleLM
from ellm_core.lm.registry import make_language_model

SECRET = "sk-test-secret-123"


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.requests: list[dict] = []
        self.failures_left = 0
        self.auth_headers: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ChatHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        server: ChatServer = self.server
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append(request)
        server.auth_headers.append(self.headers.get("Authorization", ""))
        model = request["model"]
        if model == "slow":
            time.sleep(2.0)
        if model == "broken" or (model == "flaky" and server.failures_left > 0):
            server.failures_left -= 1
            return self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
        question = request["messages"][-1]["content"]
        choice = {"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": f"- answer to: {question}"}}
        if request.get("logprobs"):
            choice["message"]["content"] = "Yes"
            top = [{"token": "Yes", "logprob": np.log(0.6), "bytes": None},
                   {"token": " no", "logprob": np.log(0.2), "bytes": None},
                   {"token": "Maybe", "logprob": np.log(0.2), "bytes": None}]
            choice["logprobs"] = {"content": [{"token": "Yes", "logprob": np.log(0.6), "bytes": None, "top_logprobs": top}]}
        self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": model, "choices": [choice],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


@pytest.fixture
def server():
    chat_server = ChatServer()
    thread = threading.Thread(target=chat_server.serve_forever, daemon=True)
    thread.start()
    yield chat_server
    chat_server.shutdown()
    chat_server.server_close()


def test_generate_batch_concurrently_in_order_with_api_key_from_env(server, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    lm = OpenAICompatibleLM(base_url=server.url, model="normal", api_key_env="TEST_LLM_KEY", batch_size=4)
    answers = lm.generate([f"question {i}" for i in range(10)])
    assert answers == [f"- answer to: question {i}" for i in range(10)]
    assert all(header == f"Bearer {SECRET}" for header in server.auth_headers)
    assert server.requests[0]["max_tokens"] == 32 and server.requests[0]["temperature"] == 0.0


def test_yes_probability_from_top_logprobs(server):
    lm = OpenAICompatibleLM(base_url=server.url, model="normal")
    np.testing.assert_allclose(lm.yes_probability(["Should you collect wood?"]), [0.75])
    assert server.requests[-1]["logprobs"] is True and server.requests[-1]["top_logprobs"] == 20


def test_500_is_retried_then_succeeds(server):
    server.failures_left = 2
    lm = OpenAICompatibleLM(base_url=server.url, model="flaky", max_retries=3)
    assert lm.generate(["hi"]) == ["- answer to: hi"]
    assert len(server.requests) == 3


def test_persistent_500_gives_clear_error_without_the_key(server, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    lm = OpenAICompatibleLM(base_url=server.url, model="broken", api_key_env="TEST_LLM_KEY", max_retries=1)
    with pytest.raises(LLMServerError) as error:
        lm.generate(["hi"])
    message = str(error.value)
    assert server.url in message and "'broken'" in message and "after 1 retries" in message
    assert SECRET not in message
    assert len(server.requests) == 2


def test_slow_server_times_out_after_retries(server):
    lm = OpenAICompatibleLM(base_url=server.url, model="slow", timeout_s=0.3, max_retries=1)
    started = time.monotonic()
    with pytest.raises(LLMServerError, match="timeout 0.3 s"):
        lm.generate(["hi"])
    assert time.monotonic() - started < 5


def test_unreachable_server_is_a_clear_error():
    lm = make_language_model(LMConfig(backend="openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0))
    with pytest.raises(LLMServerError, match="127.0.0.1:9"):
        lm.generate(["hi"])


def test_extra_body_must_be_a_json_object_and_carries_the_repetition_penalty():
    with pytest.raises(ValueError, match="--lm-extra-body must be a JSON object"):
        OpenAICompatibleLM(LMConfig(backend="openai", extra_body="[1]"))
    lm = OpenAICompatibleLM(LMConfig(backend="openai", extra_body='{"top_k": 0}', repetition_penalty=1.2))
    assert lm.extra_body == {"repetition_penalty": 1.2, "repeat_penalty": 1.2, "top_k": 0}
