"""A scripted fake Ollama: a real HTTP server on 127.0.0.1 speaking Ollama's wire protocol.

Tests queue turns (`script`) and read back every request (`requests`, `chat_bodies`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the output
ALL_CAPS = ["completion", "tools", "vision", "audio", "thinking"]


@dataclass
class FakeModel:
    """A model the fake server announces."""

    capabilities: list[str] = field(default_factory=lambda: list(ALL_CAPS))
    context_length: int = 262_144
    family: str = "gemma4"
    dims: int = 768  # for embedding models


@dataclass
class Turn:
    """One scripted answer to /api/chat."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_eval_count: int | None = None  # default: a count derived from the request
    chunk_chars: int = 8  # content is streamed in pieces this long
    delay: float = 0.0  # seconds between streamed pieces
    status: int = 200  # non-200 answers with {"error": error} and no stream
    error: str = "fake error"
    error_after: int | None = None  # stream this many pieces, then an {"error"} line
    cut_after: int | None = None  # stream this many pieces, then drop the connection
    done_reason: str = "stop"  # "length" when the answer filled num_ctx or num_predict
    send_done: bool = True  # False: the stream closes with no final done chunk


def call(tool_name: str, /, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call for `Turn(tool_calls=[...])`."""
    return {"name": tool_name, "arguments": arguments}


Responder = Turn | Callable[[dict[str, Any]], Turn]


@dataclass
class Recorded:
    """One request the fake server received."""

    method: str
    path: str
    body: dict[str, Any]


def fake_prompt_count(body: dict[str, Any]) -> int:
    """What the fake 'tokenizer' counts for a request: 1 token per 3.6 characters + media."""
    chars = sum(len(m.get("content") or "") for m in body.get("messages", []))
    media = sum(280 for m in body.get("messages", []) for _ in m.get("images") or ())
    return max(1, round(chars / 3.6) + media)


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for a text (meaning does not matter here)."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [(seed[i % 32] - 127.5) / 127.5 for i in range(dims)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [v / norm for v in raw]


class FakeOllama:
    """The fake server; start it with `start()`, stop with `stop()`."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget scripts, recordings and changes to the models."""
        self.models: dict[str, FakeModel] = {
            "gemma4:12b": FakeModel(),
            "embeddinggemma": FakeModel(["embedding"], 2048, "gemma3", 768),
        }
        self.turns: deque[Responder] = deque()
        self.default: Responder | None = None
        self.requests: list[Recorded] = []
        self.failures: deque[tuple[int, str]] = deque()
        self.version = "0.30.0-fake"

    @property
    def url(self) -> str:
        """Base URL to put in OLLAMA_HOST."""
        return self.server.url_for("/").rstrip("/")

    def start(self) -> FakeOllama:
        """Start serving."""
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self.server.is_running():
            self.server.clear()
            self.server.stop()

    def script(self, *turns: Responder) -> None:
        """Queue answers for the next /api/chat requests, in order."""
        self.turns.extend(turns)

    def fail_next(self, count: int, status: int = 500, error: str = "fake overload") -> None:
        """Answer the next `count` requests (any path) with this HTTP error."""
        self.failures.extend([(status, error)] * count)

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The bodies of every /api/chat request so far."""
        return [r.body for r in self.requests if r.path == "/api/chat"]

    # -- request handling ---------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}") if request.method == "POST" else {}
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, body))
            failure = self.failures.popleft() if self.failures else None
        if failure:
            return _json({"error": failure[1]}, failure[0])
        handler = {
            "/api/version": lambda b: _json({"version": self.version}),
            "/api/tags": self._tags,
            "/api/ps": self._ps,
            "/api/show": self._show,
            "/api/chat": self._chat,
            "/api/embed": self._embed,
            "/api/pull": self._pull,
        }.get(request.path)
        if handler is None:
            return _json({"error": f"404 page not found: {request.path}"}, 404)
        return handler(body)

    def _missing(self, name: str) -> Response | None:
        if name in self.models:
            return None
        return _json({"error": f"model '{name}' not found"}, 404)

    def _tags(self, body: dict[str, Any]) -> Response:
        models = [
            {"name": n, "model": n, "size": 1000, "digest": hashlib.sha256(n.encode()).hexdigest()}
            for n in self.models
        ]
        return _json({"models": models})

    def _ps(self, body: dict[str, Any]) -> Response:
        loaded = [r.body.get("model") for r in self.requests if r.path == "/api/chat"]
        names = sorted({n for n in loaded if n in self.models})
        return _json({"models": [{"name": n, "model": n, "size": 1000} for n in names]})

    def _show(self, body: dict[str, Any]) -> Response:
        name = body.get("model") or body.get("name", "")
        if missing := self._missing(name):
            return missing
        model = self.models[name]
        info = {
            "general.architecture": model.family,
            f"{model.family}.context_length": model.context_length,
        }
        return _json(
            {
                "modelfile": "",
                "template": "",
                "model_info": info,
                "capabilities": model.capabilities,
                "details": {"family": model.family},
            }
        )

    def _embed(self, body: dict[str, Any]) -> Response:
        name = body.get("model", "")
        if missing := self._missing(name):
            return missing
        if "embedding" not in self.models[name].capabilities:
            return _json({"error": f'"{name}" does not support embeddings'}, 400)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [fake_vector(t, self.models[name].dims) for t in texts]
        return _json({"model": name, "embeddings": vectors, "prompt_eval_count": len(texts)})

    def _pull(self, body: dict[str, Any]) -> Response:
        name = body.get("model", "")
        if not re.fullmatch(r"[\w.\-/]+(:[\w.\-]+)?", name):
            return _json({"error": "pull model manifest: file does not exist"}, 500)

        def lines() -> Iterator[str]:
            yield _line({"status": "pulling manifest"})
            for done in (0, 400, 800, 1000):
                yield _line(
                    {"status": "pulling abc", "digest": "abc", "total": 1000, "completed": done}
                )
            self.models.setdefault(name, FakeModel())
            yield _line({"status": "success"})

        return Response(lines(), mimetype="application/x-ndjson")

    def _chat(self, body: dict[str, Any]) -> Response:
        name = body.get("model", "")
        if missing := self._missing(name):
            return missing
        model = self.models[name]
        if "think" in body and "thinking" not in model.capabilities:
            return _json({"error": f'"{name}" does not support thinking'}, 400)
        if body.get("tools") and "tools" not in model.capabilities:
            return _json({"error": f"{name} does not support tools"}, 400)
        with self._lock:
            responder = self.turns.popleft() if self.turns else self.default
        if responder is None:
            return _json({"error": "fake ollama: no scripted turn left"}, 500)
        turn = responder(body) if callable(responder) else responder
        if turn.status != 200:
            return _json({"error": turn.error}, turn.status)
        if not body.get("stream", True):
            return _json(self._final(body, turn, whole=True))
        return Response(self._stream(body, turn), mimetype="application/x-ndjson")

    def _stream(self, body: dict[str, Any], turn: Turn) -> Iterator[str]:
        pieces = [{"thinking": turn.thinking}] if turn.thinking and body.get("think") else []
        pieces += [
            {"content": turn.content[i : i + turn.chunk_chars]}
            for i in range(0, len(turn.content), turn.chunk_chars)
        ]
        for index, piece in enumerate(pieces):
            if turn.error_after is not None and index == turn.error_after:
                yield _line({"error": turn.error})
                return
            if turn.cut_after is not None and index == turn.cut_after:
                raise ConnectionAbortedError("fake ollama: connection cut")
            if turn.delay:
                time.sleep(turn.delay)
            yield _line(self._part(body, {"role": "assistant", "content": "", **piece}))
        if turn.tool_calls:
            yield _line(self._part(body, _assistant("", turn.tool_calls)))
        if turn.send_done:
            yield _line(self._final(body, turn, whole=False))

    def _part(self, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": body["model"],
            "created_at": "2026-11-27T00:00:00Z",
            "message": message,
            "done": False,
        }

    def _final(self, body: dict[str, Any], turn: Turn, whole: bool) -> dict[str, Any]:
        message = _assistant(turn.content, turn.tool_calls) if whole else _assistant("", [])
        count = turn.prompt_eval_count or fake_prompt_count(body)
        return {
            **self._part(body, message),
            "done": True,
            "done_reason": turn.done_reason,
            "prompt_eval_count": count,
            "eval_count": max(1, len(turn.content) // 4),
            "total_duration": 1_000_000,
            "eval_duration": 500_000,
        }


def _assistant(content: str, tool_calls: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"function": {"name": c["name"], "arguments": c.get("arguments", {})}}
            for c in tool_calls
        ]
    return message


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj) + "\n"


def _json(obj: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(obj), status=status, mimetype="application/json")
