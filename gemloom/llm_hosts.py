"""Several Ollama servers: how busy each is, from its `/api/ps`, and which to use next.

`/api/ps` (server/routes.go PsHandler, api/types.go ProcessModelResponse) lists the runners a
server has loaded, with `size_vram` and `expires_at`; it says nothing of queued requests. So
"least busy" is the server with the least model memory in use, and among equals the one whose
runners expire first: every finished request pushes `expires_at` to now + keep_alive, so that
server has been idle longest.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import ollama

PROBE_TIMEOUT = 3.0  # seconds per /api/ps: a server that takes longer counts as away
_EPOCH = datetime.min.replace(tzinfo=UTC)


class LazyTrust(ssl.SSLContext):
    """A verifying TLS context that reads the trusted certificates at its first handshake.

    httpx builds a default context for every client, loading the whole CA bundle (35 ms of CPU
    here) although a local Ollama speaks plain HTTP and never shakes hands. This one verifies
    exactly as httpx's default does (`httpx.create_ssl_context`: SSL_CERT_FILE, SSL_CERT_DIR,
    else certifi's bundle), but loads the bundle only when a connection (or a redirect) goes
    to https, once per process.
    """

    _lock = threading.Lock()
    _loaded = False

    def _trust(self) -> None:
        with self._lock:
            if not self._loaded:
                if cafile := os.environ.get("SSL_CERT_FILE"):
                    self.load_verify_locations(cafile=cafile)
                elif capath := os.environ.get("SSL_CERT_DIR"):
                    self.load_verify_locations(capath=capath)
                else:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()
        return super().wrap_bio(*args, **kwargs)


_TRUST: LazyTrust | None = None


def trust() -> LazyTrust:
    """The process's one TLS context for Ollama clients (see LazyTrust)."""
    global _TRUST
    if _TRUST is None:
        _TRUST = LazyTrust(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED by default
    return _TRUST


def unverified(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, when that is what `exc` comes from."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


IDLE_KEPT = 90.0
"""Seconds an idle connection to Ollama is kept for the next request, as Ollama's own client
keeps them (api/client.go uses Go's http.DefaultClient: IdleConnTimeout 90 s); httpx's default
of 5 s would close it between most messages a person types. Ollama never closes one itself."""


def ollama_client(host: str, timeout: httpx.Timeout) -> ollama.Client:
    """The official client for `host`, sharing the process's lazily loaded TLS trust."""
    limits = httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=IDLE_KEPT
    )  # httpx's defaults but the expiry
    return ollama.Client(host=host, timeout=timeout, verify=trust(), limits=limits)


@dataclass(frozen=True, order=True)
class Load:
    """How busy one server is; smaller sorts first."""

    vram: int  # bytes of loaded models in memory
    latest: datetime  # the latest expiry among its runners: later means used more recently
    order: int  # its place in ollama_hosts, the last tie-break
    host: str


def load(host: str, order: int = 0, timeout: float = PROBE_TIMEOUT) -> Load | None:
    """The load of one server, or None when it does not answer like Ollama."""
    client = ollama_client(host, httpx.Timeout(timeout))
    try:
        models = client.ps().models
    except (httpx.HTTPError, ollama.ResponseError, ConnectionError, ValueError):
        return None
    vram = sum(m.size_vram or 0 for m in models)
    latest = max((_aware(m.expires_at) for m in models), default=_EPOCH)
    return Load(vram, latest, order, host)


def _aware(when: datetime | None) -> datetime:
    if when is None:
        return _EPOCH
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def least_busy(hosts: Sequence[str], exclude: Sequence[str] = ()) -> str | None:
    """The least busy server that answers (not in `exclude`), or None if none does."""
    candidates = [(i, h) for i, h in enumerate(hosts) if h not in exclude]
    if not candidates:
        return None
    with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        loads = list(pool.map(lambda pair: load(pair[1], pair[0]), candidates))
    answering = sorted(x for x in loads if x is not None)
    return answering[0].host if answering else None


def failover_text(old: str, new: str) -> str:
    """The one line that says a server went away and where the work goes on."""
    return f"Ollama at {old} is not answering; going on at {new}."


def say_on_stderr(old: str, new: str) -> None:
    """The default failover notice: one line on standard error."""
    print(f"gemloom: {failover_text(old, new)}", file=sys.stderr, flush=True)


FailoverHook = Callable[[str, str], None]
