"""`gemloom doctor`: what works on this machine, as a table or JSON."""

from __future__ import annotations

import importlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gemloom.errors import ExitCode, GemloomError, OllamaUnreachable
from gemloom.settings import Settings, load_settings

if TYPE_CHECKING:  # the client, rich and the optional checks load only when they are needed
    from rich.console import Console

    from gemloom.llm import LLM

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    required: bool = True
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """All checks; `ok` when every required check passed."""

    checks: list[Check]
    error: GemloomError | None = None

    @property
    def ok(self) -> bool:
        """Whether gemloom can chat on this machine."""
        return self.error is None and all(c.ok for c in self.checks if c.required)

    @property
    def exit_code(self) -> int:
        """Non-zero when something required is missing."""
        return self.error.exit_code if self.error else (ExitCode.OK if self.ok else ExitCode.FAILED)


Version = tuple[int, int, int, int]
MIN_VERSION: Version = (0, 12, 6, 1)  # the first with `shift`/`truncate`; older ones cut silently
GEMMA4_VERSION: Version = (0, 30, 3, 1)  # the first release that runs gemma4:12b


def parse_version(text: str) -> Version | None:
    """(major, minor, patch, 1) for a release such as 0.30.3, (..., 0) for a pre-release
    such as 0.31.0-rc1, so it sorts before its release; None for a dev build or no version."""
    found = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-\S+)?", text.strip())
    if not found:
        return None
    major, minor, patch = (int(found.group(i)) for i in (1, 2, 3))
    if (major, minor, patch) == (0, 0, 0):  # what a source build of Ollama reports
        return None
    return (major, minor, patch, 0 if found.group(4) else 1)


def _dotted(version: Version) -> str:
    return ".".join(map(str, version[:3]))


def _ollama(llm: LLM) -> Check:
    version = llm.version()
    parsed = parse_version(version)
    data = {"version": version}
    where = f"{llm.host}, version {version}"
    if parsed is None:
        return Check("ollama", True, f"{where} (not a release number: cannot check it)", data=data)
    if parsed < MIN_VERSION:
        return Check(
            "ollama",
            False,
            f"{where} is older than {_dotted(MIN_VERSION)}: it has no `shift`/`truncate` and "
            "would cut long prompts silently; upgrade Ollama",
            data=data,
        )
    if parsed < GEMMA4_VERSION:
        return Check(
            "ollama",
            True,
            f"{where}; warning: gemma4:12b needs {_dotted(GEMMA4_VERSION)} or later, upgrade",
            data=data | {"warning": "older than the first release with gemma4:12b"},
        )
    return Check("ollama", True, where, data=data)


def _model(llm: LLM, name: str, role: str, required: bool) -> Check:
    try:
        info = llm.model_info(name)
    except GemloomError as exc:
        return Check(role, False, str(exc), required)
    caps = sorted(info.capabilities)
    detail = f"{name}: {', '.join(caps) or 'no capabilities'}; context {info.context_length:,}"
    data = {"model": name, "capabilities": caps, "context_length": info.context_length}
    return Check(role, True, detail, required, data)


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        return Check("data directory", False, f"{path} is not writable: {exc.strerror or exc}")
    return Check("data directory", True, str(path), data={"path": str(path)})


def _floor(llm: LLM, model: str) -> Check:
    floor = llm.floor.get(model)
    if not floor:
        return Check("context size", True, f"{model}: sized per request", False)
    detail = (
        f"{model}: at least {floor:,} tokens, shared by every gemloom process so Ollama does "
        f"not reload it (delete {llm.floor.path} to start small again)"
    )
    return Check("context size", True, detail, False, {"num_ctx": floor})


def _waits(settings: Settings) -> Check:
    from gemloom.locks import MODE

    settle = settings.watch_settle_seconds
    detail = f"watcher settle time {settle:g} s (watch_settle_seconds); session lock: {MODE}"
    data = {"watch_settle_seconds": settle, "session_lock": MODE}
    return Check("settle and locks", True, detail, required=False, data=data)


OptionalCheck = Callable[[Settings, "LLM"], Check]


def refuses(host: str, timeout: float = 2.0) -> bool:
    """Whether nothing accepts a TCP connection at the host's address (no proxy in between).

    A closed port answers at once, so doctor can say so without loading the HTTP client; any
    other outcome (a proxy is set, the name does not resolve, a slow network) is left to it.
    """
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return False
    parts = urlsplit(host)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port), timeout):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):
        return False


def _resolve(check: OptionalCheck | str) -> OptionalCheck:
    """A check, or its "module:function" path imported now that the report needs it."""
    if not isinstance(check, str):
        return check
    module, _, name = check.partition(":")
    return getattr(importlib.import_module(module), name)


def run_checks(
    settings: Settings | None = None, optional: Sequence[OptionalCheck | str] = ()
) -> Report:
    """Run every check; an unreachable Ollama ends the report early with its error.

    `optional` checks (speech, display) come from the layers above; the shell does not import
    them, the command line passes them in, as functions or "module:function" paths.
    """
    settings = settings or load_settings()
    if refuses(settings.ollama_host):
        exc = OllamaUnreachable(settings.ollama_host)
        return Report([Check("ollama", False, str(exc))], error=exc)
    from gemloom.llm import LLM

    llm = LLM(settings, retries=0)
    try:
        checks = [_ollama(llm)]
    except OllamaUnreachable as exc:
        return Report([Check("ollama", False, str(exc))], error=exc)
    checks.append(_model(llm, settings.chat_model, "chat model", True))
    checks.append(_model(llm, settings.embed_model, "embedding model", False))
    checks.append(_data_dir(settings))
    checks.append(_floor(llm, settings.chat_model))
    checks.append(_waits(settings))
    checks += [_resolve(check)(settings, llm) for check in optional]
    return Report(checks)


def render(report: Report, as_json: bool, console: Console) -> None:
    """Print the report; an early error prints as the one line that says what to do."""
    if as_json:
        payload = {"ok": report.ok, "checks": [asdict(c) for c in report.checks]}
        if report.error:
            payload["error"] = str(report.error)
        console.print_json(json.dumps(payload))
        return
    if report.error:
        raise report.error
    from rich.table import Table

    table = Table("check", "status", "detail", title="gemloom doctor")
    for check in report.checks:
        status = "ok" if check.ok else ("FAIL" if check.required else "missing")
        table.add_row(check.name, status, check.detail)
    console.print(table)
