"""The gemloom error hierarchy: every message is one actionable line shown to the user."""

SUGGESTED_MODEL = "gemma4:12b"
GEMMA4_CAPABILITIES = frozenset({"completion", "vision", "audio", "tools", "thinking"})
"""What gemma4:12b announces on /api/show (Ollama v0.30.3 and later)."""


class GemloomError(Exception):
    """Base of every error gemloom shows to a user instead of a traceback."""

    exit_code = 1
    retryable = False


class SettingsError(GemloomError):
    """A setting has an invalid value."""

    exit_code = 2


class OllamaUnreachable(GemloomError):
    """Nothing answers at the configured Ollama host."""

    exit_code = 3

    def __init__(self, host: str):
        super().__init__(
            f"Cannot reach Ollama at {host}: start it with `ollama serve` "
            "(or set OLLAMA_HOST to where it runs)."
        )
        self.host = host


class ModelNotFound(GemloomError):
    """The model is not pulled on the Ollama server."""

    exit_code = 4

    def __init__(self, model: str):
        super().__init__(f"Model '{model}' is not available in Ollama: run `gemloom pull {model}`.")
        self.model = model


class CapabilityMissing(GemloomError):
    """The model lacks a capability the request needs (vision, audio, tools, ...)."""

    exit_code = 4

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

    exit_code = 5

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

    exit_code = 6

    def __init__(self, seconds: float):
        super().__init__(
            f"Ollama did not answer within {seconds:g} s: raise GEMLOOM_REQUEST_TIMEOUT "
            "or check that the machine is not overloaded."
        )


class ServerError(GemloomError):
    """Ollama answered with an error we cannot recover from."""

    exit_code = 7


class ModelOutputError(GemloomError):
    """The model's reply did not match what was asked for, even after a repair round."""

    exit_code = 8


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

    exit_code = 7
