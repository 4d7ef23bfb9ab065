"""The gemloom error hierarchy and the one exit-code table; every message is one actionable line."""

from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    """Every exit code of the `gemloom` command; each has one meaning (EXIT_MEANINGS)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    OLLAMA_UNREACHABLE = 3
    MODEL_MISSING = 4
    CONTEXT_OVERFLOW = 5
    TIMEOUT = 6
    SERVER_ERROR = 7
    MODEL_OUTPUT = 8
    STOPPED_EARLY = 9
    REJECTED = 10
    NO_DISPLAY = 11
    BUSY = 12
    STORE_UNUSABLE = 13
    FINDINGS = 14
    INTERRUPTED = 130


EXIT_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "could not do what was asked; the line says why (an unknown session, tool "
    "or memory id, nothing to pack, empty meeting notes, a failed doctor check, an MCP server "
    "that did not start, skipped import lines)",
    ExitCode.USAGE: "invalid settings, options or arguments (an unusable image, budget or output "
    "path too)",
    ExitCode.OLLAMA_UNREACHABLE: "Ollama is not reachable",
    ExitCode.MODEL_MISSING: "the model is not pulled, or lacks a capability (vision, audio, tools)",
    ExitCode.CONTEXT_OVERFLOW: "the prompt does not fit the context; the line says what takes "
    "the room and which setting to change",
    ExitCode.TIMEOUT: "Ollama did not answer in time",
    ExitCode.SERVER_ERROR: "Ollama answered with an error (or not with Ollama's JSON)",
    ExitCode.MODEL_OUTPUT: "the model's reply does not match what was asked, even after a repair",
    ExitCode.STOPPED_EARLY: "the agent stopped early (step budget, a loop, repeated invalid "
    "tool calls)",
    ExitCode.REJECTED: "a tool call was rejected",
    ExitCode.NO_DISPLAY: "no display for a screenshot",
    ExitCode.BUSY: "another process holds the session or writes to the memory store (the line "
    "names it; nothing is written)",
    ExitCode.STORE_UNUSABLE: "the memory store cannot be used (unreachable, or embedded with "
    "another embedder: run `gemloom memory reembed`)",
    ExitCode.FINDINGS: "`gemloom review --fail-on`: a finding at or above that severity",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}
"""What each exit code means; the README shows this table (tests/gemloom/test_exit_codes.py)."""


def exit_table() -> str:
    """The exit codes as a Markdown table, as the README shows them."""
    rows = [f"| {int(code)} | `{code.name}` | {EXIT_MEANINGS[code]} |" for code in ExitCode]
    return "\n".join(["| code | name | meaning |", "|---|---|---|", *rows])


SUGGESTED_MODEL = "gemma4:12b"
GEMMA4_CAPABILITIES = frozenset({"completion", "vision", "audio", "tools", "thinking"})
"""What gemma4:12b announces on /api/show (Ollama v0.30.3 and later)."""


class GemloomError(Exception):
    """Base of every error gemloom shows to a user instead of a traceback."""

    exit_code: int = ExitCode.FAILED
    retryable = False


class SettingsError(GemloomError):
    """A setting has an invalid value."""

    exit_code = ExitCode.USAGE


class OllamaUnreachable(GemloomError):
    """Nothing answers at the configured Ollama host."""

    exit_code = ExitCode.OLLAMA_UNREACHABLE

    def __init__(self, host: str):
        super().__init__(
            f"Cannot reach Ollama at {host}: start it with `ollama serve` "
            "(or set OLLAMA_HOST to where it runs)."
        )
        self.host = host


class UntrustedServer(GemloomError):
    """An https Ollama host whose certificate does not verify: retrying will not help."""

    exit_code = ExitCode.OLLAMA_UNREACHABLE

    def __init__(self, host: str, reason: str):
        super().__init__(
            f"Ollama at {host} presented a certificate that does not verify ({reason}): set "
            "SSL_CERT_FILE to the bundle of the authority that signed it, or use http:// on a "
            "trusted network."
        )
        self.host = host


class ModelNotFound(GemloomError):
    """The model is not pulled on the Ollama server."""

    exit_code = ExitCode.MODEL_MISSING

    def __init__(self, model: str):
        super().__init__(f"Model '{model}' is not available in Ollama: run `gemloom pull {model}`.")
        self.model = model


class CapabilityMissing(GemloomError):
    """The model lacks a capability the request needs (vision, audio, tools, ...)."""

    exit_code = ExitCode.MODEL_MISSING

    def __init__(self, model: str, capability: str, alternatives: list[str] | None = None):
        if alternatives:
            hint = f"pulled models that have it: {', '.join(alternatives)}"
        else:
            hint = "none of the pulled models has it"
            if capability in GEMMA4_CAPABILITIES and model != SUGGESTED_MODEL:
                hint += f"; `gemloom pull {SUGGESTED_MODEL}` gets one that does"
        super().__init__(f"Model '{model}' has no '{capability}' capability; {hint}.")
        self.model = model
        self.capability = capability
        self.alternatives = list(alternatives or ())


class ContextOverflow(GemloomError):
    """The prompt cannot fit in the model's context window."""

    exit_code = ExitCode.CONTEXT_OVERFLOW

    def __init__(self, model: str, needed: int, limit: int, parts: dict[str, int] | None = None):
        head = (
            f"The request needs about {needed:,} tokens but '{model}' holds at most {limit:,} "
            f"({needed - limit:,} tokens too many)"
        )
        super().__init__(f"{head}{_room(parts)}" if parts else f"{head}. {OVERFLOW_ADVICE}")
        self.needed = needed
        self.limit = limit
        self.excess = needed - limit
        self.parts = dict(parts or {})


OVERFLOW_ADVICE = "Shorten the input or lower the budget."
ROOM_ADVICE = {
    "the answer reserve": "lower answer_reserve (GEMLOOM_ANSWER_RESERVE)",
    "tool schemas": "offer fewer tools (gemloom run --tools NAME,...)",
    "the messages": "shorten the input or start a new session",
}


def _room(parts: dict[str, int]) -> str:
    """'; the room goes to the answer reserve 4,096, tool schemas 812. To fit, ...'."""
    ranked = sorted(((n, k) for k, n in parts.items() if n > 0), reverse=True)
    takes = ", ".join(f"{k} {n:,}" for n, k in ranked)
    total = sum(n for n, _ in ranked) or 1
    advice = [ROOM_ADVICE[k] for n, k in ranked if k in ROOM_ADVICE and n >= 0.1 * total]
    advice.append("use a model with a larger context")
    return f"; the room goes to {takes}. To fit, {', or '.join(advice)}."


class ServerContextOverflow(ContextOverflow):
    """Ollama itself refused a prompt longer than the num_ctx gemloom sent."""

    def __init__(self, model: str, needed: int, limit: int, estimate: int, counted: bool):
        GemloomError.__init__(
            self,
            f"Ollama refused the prompt for '{model}': "
            + (f"it counted {needed:,} tokens, more than" if counted else "it is longer than")
            + f" num_ctx {limit:,} (gemloom estimated {estimate:,}); try again, the next "
            "request allows for this, or shorten the input.",
        )
        self.needed = needed
        self.limit = limit
        self.excess = max(needed - limit, 0)


class RequestTimeout(GemloomError):
    """Ollama did not answer within the request timeout."""

    exit_code = ExitCode.TIMEOUT

    def __init__(self, seconds: float):
        super().__init__(
            f"Ollama did not answer within {seconds:g} s: raise GEMLOOM_REQUEST_TIMEOUT "
            "or check that the machine is not overloaded."
        )


class ServerError(GemloomError):
    """Ollama answered with an error we cannot recover from."""

    exit_code = ExitCode.SERVER_ERROR


class ModelOutputError(GemloomError):
    """The model's reply did not match what was asked for, even after a repair round."""

    exit_code = ExitCode.MODEL_OUTPUT


class AnswerCut(ModelOutputError):
    """The answer stopped at its token limit (done_reason "length"), so it is incomplete."""

    def __init__(self, what: str, num_predict: int):
        super().__init__(
            f"{what} was cut at the context limit ({num_predict:,} answer tokens, done_reason "
            "length) even after a retry with more room; shorten the input or raise "
            "GEMLOOM_ANSWER_RESERVE."
        )
        self.num_predict = num_predict


class ModelLoadFailed(ServerError):
    """Ollama could not load the model (memory, GPU); retrying does not help."""

    exit_code = ExitCode.SERVER_ERROR
