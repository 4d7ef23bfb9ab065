"""The one boundary to Ollama: capability probes, the context guarantee, streaming, errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

import httpx
import ollama
from ollama import ChatResponse
from pydantic import BaseModel, ValidationError, model_validator
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gemloom import messages as msg
from gemloom.context_floor import ContextFloor
from gemloom.errors import (
    AnswerCut,
    CapabilityMissing,
    ContextOverflow,
    GemloomError,
    ModelOutputError,
    OllamaUnreachable,
    RequestTimeout,
    ServerContextOverflow,
    ServerError,
    UntrustedServer,
)
from gemloom.llm_errors import Request, error_text, translate_response
from gemloom.llm_hosts import (
    FailoverHook,
    least_busy,
    ollama_client,
    say_on_stderr,
    unverified,
)
from gemloom.llm_types import (  # re-exported: the public names of gemloom.llm
    ChatResult,
    ContentDelta,
    Done,
    ModelInfo,
    Stats,
    StreamEvent,
    ThinkingDelta,
    ToolCall,
    ToolCalls,
)
from gemloom.settings import Settings, load_settings, normalise_keep_alive

CONTEXT_STEPS = (8_192, 32_768, 65_536, 131_072, 262_144)  # few steps: a new num_ctx reloads
FALLBACK_CONTEXT = 8_192  # when /api/show does not say
T = TypeVar("T", bound=BaseModel)


def choose_num_ctx(
    needed: int, trained: int, model: str, parts: dict[str, int] | None = None
) -> int:
    """The smallest fixed step that holds `needed` tokens, capped at the trained maximum."""
    if needed > trained:
        raise ContextOverflow(model, needed, trained, parts)
    step = next((s for s in CONTEXT_STEPS if s >= needed), trained)
    return min(step, trained)


def _retryable(exc: BaseException) -> bool:
    return getattr(exc, "retryable", False)


class LLM:
    """A client for Ollama (one server, or several) that keeps gemloom's guarantees."""

    def __init__(
        self,
        settings: Settings | None = None,
        client: ollama.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
    ):
        self.settings = settings or load_settings()
        self.hosts = list(self.settings.ollama_hosts) or [self.settings.ollama_host]
        """The servers to use: `ollama_hosts`, else the one `ollama_host`."""
        self._host: str | None = self.hosts[0] if len(self.hosts) == 1 or client else None
        self._clients: dict[str, ollama.Client] = {self.hosts[0]: client} if client else {}
        self._floors: dict[str, ContextFloor] = {}
        self._retries = retries
        self._backoff = backoff
        self._models: dict[tuple[str, str], ModelInfo] = {}
        self.token_ratios: dict[str, float] = {}
        """The last prompt_eval_count/estimate ratio seen per model."""
        self.on_failover: FailoverHook = say_on_stderr
        """Called with (old, new) when a server stops answering and work moves to another."""

    # -- servers ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The server in use: with several, the least busy one when first asked."""
        if self._host is None:
            self._host = least_busy(self.hosts) or self.hosts[0]
        return self._host

    @property
    def client(self) -> ollama.Client:
        """The official client for the server in use."""
        host = self.host
        if host not in self._clients:
            timeout = httpx.Timeout(self.settings.request_timeout, connect=5.0)
            self._clients[host] = ollama_client(host, timeout)
        return self._clients[host]

    @property
    def floor(self) -> ContextFloor:
        """num_ctx floors shared by every gemloom process, so the model is not reloaded."""
        host = self.host
        if host not in self._floors:
            self._floors[host] = ContextFloor(self.settings.data_dir, host)
        return self._floors[host]

    def use_host(self, host: str | None) -> str:
        """Stick to `host` (a session's own); one no longer configured gets the least busy."""
        if host in self.hosts:
            self._host = host
        elif len(self.hosts) > 1:
            self._host = least_busy(self.hosts) or self.hosts[0]
        return self.host

    def rebalance(self) -> str:
        """Move new work (a session, a recording) to the least busy server now."""
        if len(self.hosts) > 1:
            self._host = least_busy(self.hosts) or self._host or self.hosts[0]
        return self.host

    def _fail_over(self) -> bool:
        """After a server stopped answering: move to the least busy of the others, if any."""
        old = self.host
        new = least_busy(self.hosts, exclude=[old]) if len(self.hosts) > 1 else None
        if new is None:
            return False
        self._host = new
        self.on_failover(old, new)
        return True

    # -- errors -------------------------------------------------------------------------

    def _translate(self, exc: Exception, sent: Request) -> GemloomError:
        """Turn a client or transport error into a gemloom error with a one-line message."""
        if isinstance(exc, GemloomError):
            return exc
        if (refused := unverified(exc)) is not None:
            return UntrustedServer(self.host, refused)
        away = (httpx.ConnectError, httpx.ConnectTimeout, ConnectionError)
        if isinstance(exc, away) and len(self.hosts) > 1:
            err: GemloomError = OllamaUnreachable(self.host)
            err.retryable = self._fail_over()  # the retry goes to the other server
            return err
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(self.settings.request_timeout)
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            err = OllamaUnreachable(self.host)
            err.retryable = True
            return err
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            err = ServerError(f"Ollama at {self.host} closed the connection mid-answer; try again.")
            err.retryable = True
            return err
        if isinstance(exc, ollama.ResponseError):
            err = translate_response(exc, sent)
            if isinstance(err, CapabilityMissing) and not err.alternatives:
                # the server refused although our /api/show cache said yes: ask the others
                others = self._having(err.capability, exclude=err.model)
                err = CapabilityMissing(err.model, err.capability, others)
            if isinstance(err, ServerContextOverflow) and sent.estimate:
                at_least = err.needed or sent.num_ctx + 1  # v0.2x only says "longer"
                self._learn_ratio(sent.model, at_least / sent.estimate)
            return err
        if isinstance(exc, ValueError):  # a line that is not JSON, or not Ollama's shape
            first = str(exc).strip().splitlines()[0][:120]
            return ServerError(
                f"The server at {self.host} sent a reply that is not Ollama's ({first}); "
                "check that OLLAMA_HOST points at Ollama."
            )
        raise exc

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=self._backoff, max=8),
            reraise=True,
        )

    def _call(self, fn: Callable[[], Any], model: str = "") -> Any:
        """Run one non-streaming request with error translation and retries."""
        for attempt in self._retrying():
            with attempt:
                try:
                    return fn()
                except Exception as exc:
                    raise self._translate(exc, Request(model)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- models -------------------------------------------------------------------------

    def model_info(self, model: str | None = None) -> ModelInfo:
        """Capabilities and trained context length of a model, cached per model."""
        name = model or self.settings.chat_model
        key = (self.host, name)  # servers may hold different builds of a model
        if key not in self._models:
            shown = self._call(lambda: self.client.show(name), name)
            info = shown.modelinfo or {}
            family = str(info.get("general.architecture", ""))
            context = info.get(f"{family}.context_length") or next(
                (v for k, v in info.items() if k.count(".") == 1 and k.endswith(".context_length")),
                FALLBACK_CONTEXT,
            )
            self._models[key] = ModelInfo(
                name, frozenset(shown.capabilities or ()), int(context), family
            )
        return self._models[key]

    def list_models(self) -> list[str]:
        """Names of the models pulled on the server."""
        listed = self._call(self.client.list)
        return sorted(m.model for m in listed.models if m.model)

    def running(self) -> list[str]:
        """Names of the models loaded in memory now."""
        return [m.model for m in self._call(self.client.ps).models if m.model]

    def version(self) -> str:
        """The server's version string."""
        raw = self._call(lambda: self.client._request_raw("GET", "/api/version"))
        return str(raw.json().get("version", "unknown"))

    def require(self, capability: str, model: str | None = None) -> ModelInfo:
        """Model info, or CapabilityMissing naming the pulled models that do have it."""
        info = self.model_info(model)
        if info.has(capability):
            return info
        raise CapabilityMissing(info.name, capability, self._having(capability))

    def _having(self, capability: str, exclude: str = "") -> list[str]:
        """The pulled models (but `exclude`) whose /api/show announces this capability."""
        try:
            names = self.list_models()
        except GemloomError:
            return []
        having = []
        for name in names:
            try:
                if name != exclude and self.model_info(name).has(capability):
                    having.append(name)
            except GemloomError:
                continue
        return having

    def pull(self, model: str) -> Iterator[Mapping[str, Any]]:
        """Pull a model, yielding Ollama's progress records (status, total, completed)."""
        try:
            for part in self.client.pull(model, stream=True):
                yield part.model_dump(exclude_none=True)
        except ollama.ResponseError as exc:
            text = error_text(exc)[0]
            if "file does not exist" in text or "manifest" in text:  # 200, then {"error"}
                raise ServerError(
                    f"Ollama found no model '{model}' to pull ({text}): check the name and tag."
                ) from None
            raise self._translate(exc, Request(model)) from None
        except Exception as exc:
            raise self._translate(exc, Request(model)) from None

    def embed(self, texts: Sequence[str], model: str | None = None) -> list[list[float]]:
        """Embeddings for texts from the embedding model."""
        name = model or self.settings.embed_model
        response = self._call(
            lambda: self.client.embed(name, list(texts), keep_alive=self._keep_alive()), name
        )
        return [list(v) for v in response.embeddings]

    # -- chat ---------------------------------------------------------------------------

    def prepare(
        self,
        messages: Sequence[msg.Message],
        *,
        model: str | None = None,
        tools: Sequence[Mapping] = (),
        think: bool | None = None,
        format: Mapping[str, Any] | str | None = None,
        options: Mapping[str, Any] | None = None,
        count: Callable[[Sequence[msg.Message], Sequence[Mapping]], int] = msg.estimate_tokens,
    ) -> tuple[dict[str, Any], Stats]:
        """Build the request body that keeps the context guarantee; raises before any chat.

        `count(messages, tools)` estimates the tokens: an agent whose history only grows
        passes a `msg.HistoryTokens` (each message and the schemas estimated once), everyone
        else the full estimate.
        """
        info = self.model_info(model)
        for capability in sorted(msg.needed_capabilities(messages, tools)):
            self.require(capability, info.name)
        raw = count(messages, tools)
        estimate = round(raw * max(1.0, self.token_ratios.get(info.name, 1.0)))
        opts = dict(options or {})
        reserve = int(opts.get("num_predict") or self.settings.answer_reserve)
        opts["num_predict"] = reserve  # the answer cannot run past the room kept for it
        parts = None
        if estimate + reserve > info.context_length:  # what takes the room, for the advice
            schemas = msg.estimate_tokens([], tools)
            parts = {"the answer reserve": reserve, "tool schemas": schemas,
                     "the messages": max(estimate - schemas, 0)}  # fmt: skip
        opts["num_ctx"] = self._num_ctx(info, estimate + reserve, parts)
        body: dict[str, Any] = {
            "model": info.name,
            "messages": list(messages),
            "stream": True,
            "options": opts,
            "keep_alive": self._keep_alive(),
            "shift": False,  # overflow must be an error, never a silent cut
            "truncate": False,
        }
        if tools:
            body["tools"] = list(tools)
        if format is not None:
            body["format"] = format
        if info.has("thinking"):
            body["think"] = self.settings.think if think is None else think
        return body, Stats(info.name, opts["num_ctx"], raw, num_predict=reserve)

    def _num_ctx(self, info: ModelInfo, needed: int, parts: dict[str, int] | None = None) -> int:
        """The step that holds `needed`, never below the shared floor, so nothing reloads."""
        step = choose_num_ctx(needed, info.context_length, info.name, parts)
        num_ctx = min(max(step, self.floor.get(info.name)), info.context_length)
        self.floor.raise_to(info.name, num_ctx)
        return num_ctx

    def _keep_alive(self) -> float | int | str:
        try:
            return normalise_keep_alive(self.settings.keep_alive)
        except ValueError as exc:
            raise ServerError(f"Invalid keep_alive {self.settings.keep_alive!r}: {exc}.") from None

    def _learn_ratio(self, model: str, ratio: float) -> None:
        """Remember how far Ollama's count ran above the estimate, to size the next request."""
        self.token_ratios[model] = max(ratio, self.token_ratios.get(model, 1.0))

    def stream(self, messages: Sequence[msg.Message], **kwargs: Any) -> Iterator[StreamEvent]:
        """Chat, yielding thinking, content, tool calls and finally Done with figures."""
        body, stats = self.prepare(messages, **kwargs)
        for attempt in self._retrying():
            with attempt:
                started = False
                try:
                    request = self.client._request(
                        _ChatChunk, "POST", "/api/chat", json=body, stream=True
                    )  # a generator, typed as an Iterator
                    # closed on the way out, also when the caller stops reading: left to the
                    # garbage collector, the response could be closed inside the pool's lock
                    with contextlib.closing(cast(Generator[_ChatChunk], request)) as parts:
                        for part in parts:
                            started = True
                            if part.done:
                                # Ollama sends nothing after done: reading the end of the body
                                # gives the connection back to the client's pool, where a body
                                # left unread would close it (a new TCP and TLS setup a chat).
                                # The answer is whole: a body that ends badly only costs that.
                                with contextlib.suppress(Exception):
                                    next(parts, None)
                            yield from self._events(part, stats)
                            if part.done:
                                return
                except Exception as exc:
                    sent = Request(stats.model, stats.num_ctx, stats.estimated_prompt_tokens)
                    err = self._translate(exc, sent)
                    if started:  # the caller has seen part of the answer: never replay it
                        err.retryable = False
                    raise err from None
                raise ServerError(f"Ollama at {self.host} ended the answer without finishing it.")

    def _events(self, part: ChatResponse, stats: Stats) -> Iterator[StreamEvent]:
        message = part.message
        if message.thinking:
            yield ThinkingDelta(message.thinking)
        if message.content:
            yield ContentDelta(message.content)
        if message.tool_calls:
            yield ToolCalls(
                [ToolCall(c.function.name, dict(c.function.arguments)) for c in message.tool_calls]
            )
        if part.done:
            stats.prompt_eval_count = part.prompt_eval_count or 0
            stats.eval_count = part.eval_count or 0
            stats.total_duration_ns = part.total_duration or 0
            stats.eval_duration_ns = part.eval_duration or 0
            stats.done_reason = part.done_reason or ""
            if stats.ratio is not None:
                self.token_ratios[stats.model] = stats.ratio
            yield Done(stats)

    def chat(self, messages: Sequence[msg.Message], **kwargs: Any) -> ChatResult:
        """Chat and return the whole turn at once."""
        events = list(self.stream(messages, **kwargs))
        done = next(e for e in events if isinstance(e, Done))
        return ChatResult(
            content="".join(e.text for e in events if isinstance(e, ContentDelta)),
            thinking="".join(e.text for e in events if isinstance(e, ThinkingDelta)),
            tool_calls=[c for e in events if isinstance(e, ToolCalls) for c in e.calls],
            stats=done.stats,
            events=events,
        )

    def structured(self, messages: Sequence[msg.Message], schema: type[T], **kwargs: Any) -> T:
        """Ask for JSON matching a pydantic model.

        A reply cut at its token limit is asked again once with twice the room (AnswerCut if
        it is cut again); an invalid reply gets one repair round (then ModelOutputError).
        """
        history = list(messages)
        kwargs.setdefault("think", False)  # reasoning must not leak into the JSON
        repaired = widened = False
        while True:
            result = self.chat(history, format=schema.model_json_schema(), **kwargs)
            if result.cut:
                if widened:
                    raise AnswerCut(f"The {schema.__name__} reply", result.stats.num_predict)
                widened = True
                options = dict(kwargs.get("options") or {})
                kwargs["options"] = options | {"num_predict": 2 * result.stats.num_predict}
                continue
            try:
                return schema.model_validate_json(result.content)
            except ValidationError as exc:
                problem = _first_problem(exc)
                if repaired:
                    raise ModelOutputError(
                        f"The model's reply does not match {schema.__name__} after a repair "
                        f"round ({problem}); try again or use a larger model."
                    ) from None
                repaired = True
                history += [
                    msg.assistant(result.content),
                    msg.user(
                        f"That reply is not valid: {problem}. Answer again with only JSON "
                        f"matching this schema:\n{json.dumps(schema.model_json_schema())}"
                    ),
                ]


class _ChatChunk(ChatResponse):
    """One streamed chunk; tool-call arguments sent as a JSON string are decoded first."""

    @model_validator(mode="before")
    @classmethod
    def _decode_arguments(cls, part: Any) -> Any:
        if not isinstance(part, dict):
            return part
        for call in (part.get("message") or {}).get("tool_calls") or ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                try:
                    decoded = json.loads(function["arguments"] or "{}")
                except ValueError:
                    decoded = None
                function["arguments"] = decoded if isinstance(decoded, dict) else {}
        return part


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "reply"
    return f"{where}: {err['msg']}"
