"""A scripted fake Ollama: a real HTTP server on 127.0.0.1 speaking Ollama's wire protocol.

Like Ollama's (server/routes.go Serve: a net/http Server with Go's defaults), it speaks HTTP/1.1
and keeps connections alive between requests, streams in chunks, and lets an idle connection
stay open until the client or `stop()` closes it: clients reuse their pooled connections here as
they do against Ollama. (cheroot serves it: werkzeug's own server, pytest-httpserver's, ends
every response with `Connection: close`.)

Tests queue turns (`script`) and read back every request (`requests`, `chat_bodies`), the
connections they came over (`connections`), how often a model was reloaded (`reloads`) and how
many streams a client left unfinished (`dropped`). Each behaviour names the ollama/ollama file
it follows (v0.33.0-rc2 unless a v0.2x tag is named); the rules themselves live in
fake_ollama_wire.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import socket
import string
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from fake_ollama_wire import (
    OVERFLOW_V02,
    PULL_MISSING,
    keep_alive_error,
    overflow_v030,
    prompt_count,
)
from werkzeug import Request, Response

# gemma4 GGUFs: completion, vision, audio from the GGUF, then tools and thinking from the gemma4
# parser (server/images.go capabilitiesForTemplate keeps this order)
ALL_CAPS = ["completion", "vision", "audio", "tools", "thinking"]
DEFAULT_NUM_CTX = 4096  # envconfig's default below ~23 GiB of VRAM, when num_ctx is not sent
LIBRARY = {"gemma4:12b", "gemma4:e4b", "embeddinggemma", "tiny:1b", "qwen3:0.6b"}
"""Names the fake registry can pull; anything else is a missing model."""


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
    prompt_eval_count: int | None = None  # default: the fake's own count of the request
    chunk_chars: int = 8  # content is streamed in pieces this long
    delay: float = 0.0  # seconds between streamed pieces
    status: int = 200  # non-200 answers with {"error": error} and no stream
    error: str = "fake error"
    error_after: int | None = None  # stream this many pieces, then an {"error"} line
    cut_after: int | None = None  # stream this many pieces, then drop the connection
    done_reason: str = "stop"  # "length" when the answer filled num_ctx or num_predict
    send_done: bool = True  # False: the stream closes with no final done chunk
    unclosed_call: bool = False  # the last tool call never closes: it comes in the final chunk
    # Stream this many pieces, then a line that is not JSON. Ollama itself never sends one
    # (server/routes.go streamResponse writes json.Marshal of each value plus "\n"); a proxy
    # or another server on OLLAMA_HOST's port can.
    garbage_after: int | None = None
    cut_at_end: bool = False  # drop the connection after the done chunk, before the body ends


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
    client: tuple[str, int] = ("", 0)  # the connection's far end: one per TCP connection


@dataclass
class Runner:
    """A loaded model as the scheduler sees it: the options that force a reload."""

    num_ctx: int
    shift: bool
    auto_ctx: bool
    expires: float = 0.0  # server/sched.go: expiresAt = now + keep_alive when a request ends


def _keep_alive_seconds(value: Any) -> float:
    """keep_alive as api/types.go Duration reads it: seconds, or a Go duration (5m default)."""
    if value is None:
        return 300.0
    if isinstance(value, (int, float)):
        return 1e9 if value < 0 else float(value)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"([\d.]+)(ms|h|m|s)", str(value))
    total = sum(float(n) * units[u] for n, u in parts)
    return 1e9 if str(value).startswith("-") else total


def _rfc3339(when: float) -> str:
    """A time as Go's time.Time marshals to JSON."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e6):06d}Z"


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for a text (meaning does not matter here)."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [(seed[i % 32] - 127.5) / 127.5 for i in range(dims)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [v / norm for v in raw]


def full_name(name: str) -> str:
    """types/model/name.go: host, namespace and tag filled with their defaults."""
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    parts = name.split("/")
    return "/".join(["registry.ollama.ai", "library"][: 3 - len(parts)] + parts)


def tool_call_id() -> str:
    """server/routes.go toolCallId: "call_" and 8 characters of [a-z0-9]."""
    return "call_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


class _Server(wsgi.Server):
    @classmethod
    def prepare_socket(cls, *args: Any, **kwargs: Any) -> socket.socket:
        """SO_REUSEADDR on every listener, as Go's net.Listen sets it (cheroot skips it on port
        0): a server started on a stopped one's port binds at once, as a restarted Ollama."""
        sock = super().prepare_socket(*args, **kwargs)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock


class FakeOllama:
    """The fake server; start it with `start()`, stop with `stop()`."""

    def __init__(self, tls: Path | None = None, port: int = 0) -> None:
        # Ollama serves plain HTTP; an https:// OLLAMA_HOST is a TLS proxy in front of it, which
        # `tls` (one PEM file with the key and the certificate chain) stands in for: the same
        # routes, behind a handshake.
        # port: 0 for any free one; an earlier server's, to stand for Ollama restarted
        self.server = _Server(("127.0.0.1", port), self._app, numthreads=16, shutdown_timeout=1)
        self.server.error_log = _quiet  # a cut stream is a test's doing, not the server's fault
        # Go's http.Server closes no idle connection (IdleTimeout and ReadTimeout both 0);
        # cheroot closes one after `timeout` (10 s): a TUI left alone keeps its connection
        self.server.timeout = 24 * 3600
        self.server.keep_alive_conn_limit = 100_000  # cheroot's 10 would close the 11th idle one
        if tls is not None:
            self.server.ssl_adapter = BuiltinSSLAdapter(str(tls), str(tls))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget scripts, recordings, loaded runners and changes to the models."""
        self.models: dict[str, FakeModel] = {
            "gemma4:12b": FakeModel(),
            "embeddinggemma": FakeModel(["embedding"], 2048, "gemma3", 768),
        }
        self.library = set(LIBRARY)
        self.turns: deque[Responder] = deque()
        self.default: Responder | None = None
        self.requests: list[Recorded] = []
        self.failures: deque[tuple[int, str]] = deque()
        self.version = "0.30.3"
        self.generation = "0.30"  # "0.2x": the old runner's overflow wording
        self.runners: dict[str, Runner] = {}
        self.reloads: Counter[str] = Counter()
        """Per model, how often a request forced a loaded runner to reload."""
        self.dropped = 0
        """Chat streams whose client went away before their end. Ollama stops generating then:
        server/routes.go ChatHandler runs the runner's Completion under the request's context,
        which net/http cancels when the connection closes."""

    @property
    def url(self) -> str:
        """Base URL to put in OLLAMA_HOST."""
        scheme = "https" if self.server.ssl_adapter else "http"
        return f"{scheme}://127.0.0.1:{self.server.bind_addr[1]}"

    def start(self) -> FakeOllama:
        """Start serving."""
        self.server.prepare()  # bound and listening when this returns
        self._thread = threading.Thread(target=self.server.serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, closing every open connection."""
        if self._thread is not None:
            self.server.stop()
            self._thread.join()
            self._thread = None

    def script(self, *turns: Responder) -> None:
        """Queue answers for the next /api/chat requests, in order."""
        self.turns.extend(turns)

    def fail_next(self, count: int, status: int = 500, error: str = "fake overload") -> None:
        """Answer the next `count` requests (any path) with this HTTP error."""
        self.failures.extend([(status, error)] * count)

    def connections(self) -> int:
        """How many TCP connections the requests so far came over."""
        return len({r.client for r in self.requests})

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The bodies of every /api/chat request so far."""
        return [r.body for r in self.requests if r.path == "/api/chat"]

    # -- request handling ---------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}") if request.method == "POST" else {}
        with self._lock:
            far = (request.environ["REMOTE_ADDR"], int(request.environ["REMOTE_PORT"]))
            self.requests.append(Recorded(request.method, request.path, body, far))
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
        # server/routes.go handleScheduleError (os.ErrNotExist) and ShowHandler
        if name in self.models:
            return None
        return _json({"error": f"model '{name}' not found"}, 404)

    def _schedule(self, name: str, body: dict[str, Any]) -> None:
        """Load or reuse a runner; count a reload when num_ctx or shift differ.

        server/sched.go needsReload: the effective num_ctx (capped at the trained length by
        effectiveContext) and the resolved context shift (true unless sent) are compared with
        the loaded runner's; an automatic num_ctx keeps an automatic runner's.
        """
        options = body.get("options") or {}
        auto = "num_ctx" not in options
        trained = self.models[name].context_length
        wanted = min(max(int(options.get("num_ctx") or DEFAULT_NUM_CTX), 4), trained)
        shift = body.get("shift") is not False
        with self._lock:
            loaded = self.runners.get(name)
            if loaded and auto and loaded.auto_ctx:
                wanted = loaded.num_ctx
            if loaded and (loaded.num_ctx, loaded.shift) != (wanted, shift):
                self.reloads[name] += 1
            expires = time.time() + _keep_alive_seconds(body.get("keep_alive"))
            self.runners[name] = Runner(wanted, shift, auto, expires)

    def _tags(self, body: dict[str, Any]) -> Response:
        models = [
            {"name": n, "model": n, "size": 1000, "digest": hashlib.sha256(n.encode()).hexdigest()}
            for n in self.models
        ]
        return _json({"models": models})

    def _ps(self, body: dict[str, Any]) -> Response:
        # api/types.go ProcessModelResponse (name, model, size, digest, details, expires_at,
        # size_vram, context_length), filled by server/routes.go PsHandler from the scheduler's
        # loaded runners, most recently expiring first. Sizes are fake bytes that grow with
        # the context, as the KV cache does.
        loaded = [
            {
                "name": n,
                "model": n,
                "size": 1000 + r.num_ctx,
                "digest": hashlib.sha256(n.encode()).hexdigest(),
                "details": {"format": "gguf", "family": self.models[n].family},
                "expires_at": _rfc3339(r.expires),
                "size_vram": 1000 + r.num_ctx,
                "context_length": r.num_ctx,
            }
            for n, r in sorted(self.runners.items(), key=lambda item: -item[1].expires)
            if n in self.models
        ]
        return _json({"models": loaded})

    def _show(self, body: dict[str, Any]) -> Response:
        # api/types.go ShowResponse; the shape of docs/openapi.yaml's gemma4 example
        name = body.get("model") or body.get("name", "")
        if missing := self._missing(name):
            return missing
        model = self.models[name]
        info = {
            "general.architecture": model.family,
            f"{model.family}.context_length": model.context_length,
        }
        if "vision" in model.capabilities:
            info[f"{model.family}.vision.block_count"] = 16
        if "audio" in model.capabilities:
            info[f"{model.family}.audio.block_count"] = 12
        shown = {
            "modelfile": "",
            "template": "",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": model.family,
                "families": [model.family],
            },
            "model_info": info,
            "capabilities": model.capabilities,
            "modified_at": "2026-11-27T00:00:00Z",
        }
        if model.family == "gemma4":  # model/parsers/gemma4.go, model/renderers/gemma4.go
            shown |= {"renderer": "gemma4", "parser": "gemma4"}
        return _json(shown)

    def _embed(self, body: dict[str, Any]) -> Response:
        if bad := keep_alive_error(body.get("keep_alive")):
            return _json({"error": bad}, 400)
        name = body.get("model", "")
        if missing := self._missing(name):
            return missing
        if "embedding" not in self.models[name].capabilities:
            return _json({"error": f'"{name}" does not support embeddings'}, 400)
        self._schedule(name, body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [fake_vector(t, self.models[name].dims) for t in texts]
        return _json({"model": name, "embeddings": vectors, "prompt_eval_count": len(texts)})

    def _pull(self, body: dict[str, Any]) -> Response:
        # server/routes.go PullHandler: a bad name is a 400 at once; a name the registry does
        # not have is a 200 stream whose last line is {"error"} (server/images.go PullModel)
        name = body.get("model", "")
        if not re.fullmatch(r"[\w.\-/]+(:[\w.\-]+)?", name):
            return _json({"error": "invalid model name"}, 400)

        def lines() -> Iterator[str]:
            yield _line({"status": "pulling manifest"})
            if name not in self.library:
                yield _line({"error": PULL_MISSING})
                return
            for done in (0, 400, 800, 1000):
                yield _line(
                    {"status": "pulling abc", "digest": "abc", "total": 1000, "completed": done}
                )
            self.models.setdefault(name, FakeModel())
            yield _line({"status": "success"})

        return Response(lines(), mimetype="application/x-ndjson")

    def _refuse(self, body: dict[str, Any]) -> Response | None:
        """The 400/404 answers server/routes.go ChatHandler gives before any model runs."""
        if bad := keep_alive_error(body.get("keep_alive")):  # ShouldBindJSON fails first
            return _json({"error": bad}, 400)
        name = body.get("model", "")
        if missing := self._missing(name):
            return missing
        model = self.models[name]
        # only a truthy think is refused (ThinkValue.Bool); think: false passes
        if body.get("think") and "thinking" not in model.capabilities:
            return _json({"error": f'"{name}" does not support thinking'}, 400)
        if body.get("tools") and "tools" not in model.capabilities:
            # server/images.go CheckCapabilities, wrapped by scheduleRunner with model.Name,
            # the full name that GetModel makes with model.ParseName(name).String()
            return _json({"error": f"{full_name(name)} does not support tools"}, 400)
        return None

    def _overflow(self, body: dict[str, Any], count: int) -> Response | None:
        """With truncate false a prompt longer than num_ctx is a 400, in either wording."""
        num_ctx = self.runners[body["model"]].num_ctx
        if count <= num_ctx or body.get("truncate", True):
            return None
        if self.generation == "0.2x":
            return _json({"error": OVERFLOW_V02}, 400)
        return _json({"error": overflow_v030(count, num_ctx)}, 400)

    def _chat(self, body: dict[str, Any]) -> Response:
        if refused := self._refuse(body):
            return refused
        self._schedule(body["model"], body)
        with self._lock:
            responder = self.turns.popleft() if self.turns else self.default
        if responder is None:
            return _json({"error": "fake ollama: no scripted turn left"}, 500)
        turn = responder(body) if callable(responder) else responder
        if turn.status != 200:
            return _json({"error": turn.error}, turn.status)
        count = turn.prompt_eval_count or prompt_count(body)
        if overflow := self._overflow(body, count):
            return overflow
        if not body.get("stream", True):
            return _json(self._final(body, turn, count, whole=True))
        if turn.error_after == 0:
            # server/routes.go streamResponse: an error before anything is written goes out as
            # a status (500 unless the runner's error carries one) with JSON, not a stream line
            return _json({"error": turn.error}, 500)
        return Response(
            self._watched(self._stream(body, turn, count)), mimetype="application/x-ndjson"
        )

    def _watched(self, lines: Iterator[str]) -> Iterator[str]:
        """The stream, counted in `dropped` when the server closes it unfinished (cheroot does
        when a write to a client that went away fails)."""
        try:
            yield from lines
        except GeneratorExit:
            with self._lock:
                self.dropped += 1
            raise

    def _stream(self, body: dict[str, Any], turn: Turn, count: int) -> Iterator[str]:
        """Thinking, content pieces, each closed tool call in its own chunk, then done.

        server/routes.go ChatHandler sends a tool call in the chunk where the gemma4 parser
        sees it close, with an id from toolCallId and function.index counting from 0
        (model/parsers/gemma4.go); an unclosed call is flushed when done.
        """
        pieces = [{"thinking": turn.thinking}] if turn.thinking and body.get("think") else []
        pieces += [
            {"content": turn.content[i : i + turn.chunk_chars]}
            for i in range(0, len(turn.content), turn.chunk_chars)
        ]
        for index, piece in enumerate(pieces):
            if turn.error_after is not None and index == turn.error_after:
                yield _line({"error": turn.error})
                return
            if turn.garbage_after is not None and index == turn.garbage_after:
                yield "<html>502 Bad Gateway</html>\n"
                return
            if turn.cut_after is not None and index == turn.cut_after:
                raise ConnectionAbortedError("fake ollama: connection cut")
            if turn.delay:
                time.sleep(turn.delay)
            yield _line(self._part(body, {"role": "assistant", "content": "", **piece}))
        calls = _wire_calls(turn.tool_calls)
        closed = calls[:-1] if turn.unclosed_call else calls
        for one in closed:
            yield _line(self._part(body, {"role": "assistant", "content": "", "tool_calls": [one]}))
        if turn.send_done:
            final = self._final(body, turn, count, whole=False)
            if turn.unclosed_call and calls:
                final["message"]["tool_calls"] = calls[-1:]
            yield _line(final)
        if turn.cut_at_end:  # a proxy can; Ollama's handler returns once done is written
            raise ConnectionAbortedError("fake ollama: connection cut after done")

    def _part(self, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": body["model"],
            "created_at": "2026-11-27T00:00:00Z",
            "message": message,
            "done": False,
        }

    def _final(self, body: dict[str, Any], turn: Turn, count: int, whole: bool) -> dict[str, Any]:
        """The done chunk's figures: api/types.go ChatResponse and Metrics (durations in ns)."""
        message: dict[str, Any] = {"role": "assistant", "content": turn.content if whole else ""}
        if whole and turn.tool_calls:
            message["tool_calls"] = _wire_calls(turn.tool_calls)
        if whole and turn.thinking and body.get("think"):
            message["thinking"] = turn.thinking
        return {
            **self._part(body, message),
            "done": True,
            "done_reason": turn.done_reason,
            "total_duration": 1_500_000,
            "load_duration": 200_000,
            "prompt_eval_count": count,
            "prompt_eval_duration": 300_000,
            "eval_count": max(1, len(turn.content) // 4),
            "eval_duration": 500_000,
        }


def _wire_calls(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": tool_call_id(),
            "function": {"index": i, "name": c["name"], "arguments": c.get("arguments", {})},
        }
        for i, c in enumerate(tool_calls)
    ]


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj) + "\n"


def _quiet(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    logging.getLogger(__name__).debug(msg)


def _json(obj: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(obj), status=status, mimetype="application/json")
