"""The one boundary to Ollama: capability probes, the context guarantee, streaming, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import ollama
from ollama import ChatResponse
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gemloom import messages as msg
from gemloom.errors import (
    CapabilityMissing,
    ContextOverflow,
    GemloomError,
    ModelNotFound,
    ModelOutputError,
    OllamaUnreachable,
    RequestTimeout,
    ServerError,
)
from gemloom.settings import Settings, load_settings

CONTEXT_STEPS = (8_192, 32_768, 65_536, 131_072, 262_144)  # few steps: a new num_ctx reloads
FALLBACK_CONTEXT = 8_192  # when /api/show does not say
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class ModelInfo:
    """What a model can do, from /api/show."""

    name: str
    capabilities: frozenset[str]
    context_length: int
    family: str = ""

    def has(self, capability: str) -> bool:
        """Whether the model announces this capability."""
        return capability in self.capabilities


@dataclass
class ToolCall:
    """A tool call the model made."""

    name: str
    arguments: dict[str, Any]


@dataclass
class Stats:
    """Figures of one finished call; `ratio` is Ollama's prompt count over our estimate."""

    model: str
    num_ctx: int
    estimated_prompt_tokens: int
    prompt_eval_count: int = 0
    eval_count: int = 0
    total_duration_ns: int = 0
    done_reason: str = ""

    @property
    def ratio(self) -> float | None:
        """prompt_eval_count / estimate, or None when Ollama did not count."""
        if not self.prompt_eval_count or not self.estimated_prompt_tokens:
            return None
        return self.prompt_eval_count / self.estimated_prompt_tokens


@dataclass
class ThinkingDelta:
    """A piece of the model's reasoning text."""

    text: str


@dataclass
class ContentDelta:
    """A piece of the answer text."""

    text: str


@dataclass
class ToolCalls:
    """Tool calls the model made in this turn."""

    calls: list[ToolCall]


@dataclass
class Done:
    """The end of a turn, with its figures."""

    stats: Stats


StreamEvent = ThinkingDelta | ContentDelta | ToolCalls | Done


@dataclass
class ChatResult:
    """A whole turn: answer, reasoning, tool calls and figures."""

    content: str
    thinking: str
    tool_calls: list[ToolCall]
    stats: Stats
    events: list[StreamEvent] = field(default_factory=list, repr=False)


def choose_num_ctx(needed: int, trained: int, model: str) -> int:
    """The smallest fixed step that holds `needed` tokens, capped at the trained maximum."""
    if needed > trained:
        raise ContextOverflow(model, needed, trained)
    step = next((s for s in CONTEXT_STEPS if s >= needed), trained)
    return min(step, trained)


def _retryable(exc: BaseException) -> bool:
    return getattr(exc, "retryable", False)


class LLM:
    """A client for one Ollama server that keeps gemloom's guarantees on every request."""

    def __init__(
        self,
        settings: Settings | None = None,
        client: ollama.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
    ):
        self.settings = settings or load_settings()
        self.host = self.settings.ollama_host
        self.client = client or ollama.Client(
            host=self.host, timeout=httpx.Timeout(self.settings.request_timeout, connect=5.0)
        )
        self._retries = retries
        self._backoff = backoff
        self._models: dict[str, ModelInfo] = {}
        self.token_ratios: dict[str, float] = {}
        """The last prompt_eval_count/estimate ratio seen per model."""

    # -- errors -------------------------------------------------------------------------

    def _translate(self, exc: Exception, model: str = "") -> GemloomError:
        """Turn a client or transport error into a gemloom error with a one-line message."""
        if isinstance(exc, GemloomError):
            return exc
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(self.settings.request_timeout)
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            err: GemloomError = OllamaUnreachable(self.host)
            err.retryable = True
            return err
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            err = ServerError(f"Ollama at {self.host} closed the connection mid-answer; try again.")
            err.retryable = True
            return err
        if isinstance(exc, ollama.ResponseError):
            return self._translate_response(exc, model)
        raise exc

    def _translate_response(self, exc: ollama.ResponseError, model: str) -> GemloomError:
        text = str(exc.error).strip().splitlines()[0] if exc.error else "unknown error"
        lowered = text.lower()
        if exc.status_code == 404 or ("model" in lowered and "not found" in lowered):
            return ModelNotFound(model or "?")
        if "does not support" in lowered:
            capability = next(
                (c for c in ("thinking", "tools", "vision", "audio", "embed") if c in lowered),
                lowered,
            )
            return CapabilityMissing(model, capability)
        if "context" in lowered and ("exceed" in lowered or "length" in lowered):
            return ServerError(
                f"Ollama refused a prompt longer than the context of '{model}': {text}."
            )
        err = ServerError(f"Ollama answered with an error ({exc.status_code}): {text}.")
        err.retryable = exc.status_code >= 500 or exc.status_code == -1
        return err

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
                    raise self._translate(exc, model) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- models -------------------------------------------------------------------------

    def model_info(self, model: str | None = None) -> ModelInfo:
        """Capabilities and trained context length of a model, cached per model."""
        name = model or self.settings.chat_model
        if name not in self._models:
            shown = self._call(lambda: self.client.show(name), name)
            info = shown.modelinfo or {}
            context = next(
                (int(v) for k, v in info.items() if k.endswith(".context_length")),
                FALLBACK_CONTEXT,
            )
            family = str(info.get("general.architecture", ""))
            self._models[name] = ModelInfo(
                name, frozenset(shown.capabilities or ()), context, family
            )
        return self._models[name]

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
        others = []
        for name in self.list_models():
            try:
                if name != info.name and self.model_info(name).has(capability):
                    others.append(name)
            except GemloomError:
                continue
        raise CapabilityMissing(info.name, capability, others)

    def pull(self, model: str) -> Iterator[Mapping[str, Any]]:
        """Pull a model, yielding Ollama's progress records (status, total, completed)."""
        try:
            for part in self.client.pull(model, stream=True):
                yield part.model_dump(exclude_none=True)
        except Exception as exc:
            raise self._translate(exc, model) from None

    def embed(self, texts: Sequence[str], model: str | None = None) -> list[list[float]]:
        """Embeddings for texts from the embedding model."""
        name = model or self.settings.embed_model
        response = self._call(
            lambda: self.client.embed(name, list(texts), keep_alive=self.settings.keep_alive), name
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
    ) -> tuple[dict[str, Any], Stats]:
        """Build the request body that keeps the context guarantee; raises before any chat."""
        info = self.model_info(model)
        for capability in sorted(msg.needed_capabilities(messages, tools)):
            self.require(capability, info.name)
        raw = msg.estimate_tokens(messages, tools)
        estimate = round(raw * max(1.0, self.token_ratios.get(info.name, 1.0)))
        opts = dict(options or {})
        reserve = int(opts.get("num_predict") or self.settings.answer_reserve)
        opts["num_ctx"] = choose_num_ctx(estimate + reserve, info.context_length, info.name)
        body: dict[str, Any] = {
            "model": info.name,
            "messages": list(messages),
            "stream": True,
            "options": opts,
            "keep_alive": self.settings.keep_alive,
            "shift": False,  # overflow must be an error, never a silent cut
            "truncate": False,
        }
        if tools:
            body["tools"] = list(tools)
        if format is not None:
            body["format"] = format
        if info.has("thinking"):
            body["think"] = self.settings.think if think is None else think
        return body, Stats(info.name, opts["num_ctx"], raw)

    def stream(self, messages: Sequence[msg.Message], **kwargs: Any) -> Iterator[StreamEvent]:
        """Chat, yielding thinking, content, tool calls and finally Done with figures."""
        body, stats = self.prepare(messages, **kwargs)
        for attempt in self._retrying():
            with attempt:
                started = False
                try:
                    for part in self.client._request(
                        ChatResponse, "POST", "/api/chat", json=body, stream=True
                    ):
                        started = True
                        yield from self._events(part, stats)
                        if part.done:
                            return
                except Exception as exc:
                    err = self._translate(exc, stats.model)
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
        """Ask for JSON matching a pydantic model; one repair round, then ModelOutputError."""
        history = list(messages)
        kwargs.setdefault("think", False)  # reasoning must not leak into the JSON
        for round_ in range(2):
            result = self.chat(history, format=schema.model_json_schema(), **kwargs)
            try:
                return schema.model_validate_json(result.content)
            except ValidationError as exc:
                problem = _first_problem(exc)
                if round_:
                    raise ModelOutputError(
                        f"The model's reply does not match {schema.__name__} after a repair "
                        f"round ({problem}); try again or use a larger model."
                    ) from None
                history += [
                    msg.assistant(result.content),
                    msg.user(
                        f"That reply is not valid: {problem}. Answer again with only JSON "
                        f"matching this schema:\n{json.dumps(schema.model_json_schema())}"
                    ),
                ]
        raise AssertionError("unreachable")  # pragma: no cover


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "reply"
    return f"{where}: {err['msg']}"
