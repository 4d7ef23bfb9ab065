"""The gemloom error hierarchy: every message is one actionable line shown to the user."""


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
        hint = (
            f"models here that have it: {', '.join(alternatives)}"
            if alternatives
            else "pull one that has it, for example gemma4:12b"
        )
        super().__init__(f"Model '{model}' has no '{capability}' capability; {hint}.")
        self.model = model
        self.capability = capability


class ContextOverflow(GemloomError):
    """The prompt cannot fit in the model's context window."""

    exit_code = 5

    def __init__(self, model: str, needed: int, limit: int):
        super().__init__(
            f"The prompt needs about {needed:,} tokens but '{model}' holds at most {limit:,}: "
            f"{needed - limit:,} tokens too many. Shorten the input or lower the budget."
        )
        self.needed = needed
        self.limit = limit
        self.excess = needed - limit


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
