"""Errors of the memory store; each message is one line telling the user what to do."""

from gemloom.errors import ExitCode, GemloomError


class MemoryStoreError(GemloomError):
    """The memory store cannot do what was asked."""

    exit_code = ExitCode.STORE_UNUSABLE


class BadMemoryInput(MemoryStoreError):
    """A text, id, kind or file given to the store cannot be used."""

    exit_code = ExitCode.USAGE


class UnknownMemory(BadMemoryInput):
    """No memory has that id."""

    def __init__(self, memory_id: str):
        super().__init__(f"No memory has the id '{memory_id}': `gemloom memory list` shows them.")
        self.memory_id = memory_id


class StoreLocked(MemoryStoreError):
    """Another process is writing to the embedded store."""

    exit_code = ExitCode.BUSY


class StoreUnavailable(MemoryStoreError):
    """The store's directory or server cannot be used."""


class EmbedderMismatch(MemoryStoreError):
    """The store was built with another embedder than the one in use."""

    def __init__(self, where: str, recorded: str, current: str):
        super().__init__(
            f"The memory store at {where} was embedded with '{recorded}' but the embedder now is "
            f"'{current}': run `gemloom memory reembed` to migrate it, or use '{recorded}' again."
        )
        self.recorded = recorded
        self.current = current


class EmbedderRetired(MemoryStoreError):
    """The store was embedded by an embedder gemloom no longer ships."""

    def __init__(self, recorded: str):
        super().__init__(
            f"The memory store was embedded with '{recorded}', which gemloom no longer ships: "
            "run `gemloom memory reembed` to migrate it (its memories are kept)."
        )
        self.recorded = recorded
