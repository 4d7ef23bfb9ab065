"""Configuration: one pydantic model read from GEMLOOM_* variables and a TOML file.

The two sources are read here, not through pydantic-settings: importing that package costs
about 0.2 s of CPU (asyncio, argparse, dotenv and every cloud secret provider come with it),
a third of `gemloom doctor`, for what takes thirty lines. Its rules are kept: arguments beat
the environment, which beats the file, dicts merged key by key; variable names in any case;
dict settings take JSON from the environment; defaults are validated too.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_origin
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from gemloom.errors import SettingsError

DEFAULT_HOST = "http://127.0.0.1:11434"
_PASSWORD = re.compile(r"://([^:/@\s]+):[^@/\s]+@")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_GO_DURATION = re.compile(r"^[+-]?(0|((\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$")
"""What Go's time.ParseDuration accepts: Ollama parses a keep_alive string with it."""

KeepAlive = float | int | str
SECRET_SETTINGS = {"chroma_token", "chroma_headers", "queue_url"}  # may hold credentials


def normalise_keep_alive(value: KeepAlive) -> KeepAlive:
    """keep_alive as Ollama takes it: a number of seconds, or a Go duration with a unit.

    A number in a string ("-1", "300") becomes a JSON number; Ollama answers 400 "missing
    unit in duration" to it as a string (api/types.go Duration.UnmarshalJSON).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("expected seconds (-1 keeps the model loaded) or a duration like 30m")
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() else number
    if not _GO_DURATION.match(text):
        raise ValueError(
            "expected seconds (-1 keeps the model loaded) or a duration with a unit "
            "such as 30m, 1h30m or 300s"
        )
    return text


def config_path() -> Path:
    """Where the TOML config file lives (GEMLOOM_CONFIG overrides)."""
    if explicit := os.environ.get("GEMLOOM_CONFIG"):
        return Path(explicit).expanduser()
    return platformdirs.user_config_path("gemloom") / "config.toml"


def templates_path() -> Path:
    """Where users keep their own meeting-notes templates: `templates/` beside the config file."""
    return config_path().parent / "templates"


class WatchFolder(BaseModel):
    """Settings of one watched folder (`[watch."PATH"]` in the config file)."""

    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(None, description="meeting-notes template for its recordings")


def normalise_host(host: str) -> str:
    """Turn `host`, `host:port` or a URL into a full base URL, as Ollama itself does."""
    host = host.strip().rstrip("/")
    if not host:
        return DEFAULT_HOST
    if "://" not in host:
        host = "http://" + host
    scheme, rest = host.split("://", 1)
    netloc, _, path = rest.partition("/")
    if netloc.startswith(":"):
        netloc = "127.0.0.1" + netloc
    if not re.search(r":\d+$", netloc):
        netloc += ":11434"
    url = f"{scheme}://{netloc}" + (f"/{path}" if path else "")
    _check_url(url)
    return url


def _check_url(url: str) -> None:
    """Refuse a host httpx cannot use, so a bad OLLAMA_HOST is a setting error, not a crash."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = 0
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[\w.\-:%]+", host) or not port:
        raise ValueError(
            "expected an http:// or https:// URL such as http://127.0.0.1:11434 "
            "(port 1-65535; set OLLAMA_HOST or ollama_host)"
        )


class Settings(BaseModel):
    """Every gemloom setting, with the environment variable that overrides it.

    `Settings(**values)` reads GEMLOOM_* variables and the config file under `values`, as a
    pydantic-settings model did; `model_validate` takes only what it is given.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    ollama_host: str = Field(DEFAULT_HOST, description="Ollama base URL (OLLAMA_HOST honoured)")
    chat_model: str = Field("gemma4:12b", min_length=1, description="chat and tool model")
    embed_model: str = Field("embeddinggemma", min_length=1, description="model for embeddings")
    request_timeout: float = Field(
        300.0, gt=0, allow_inf_nan=False, description="seconds to wait for Ollama"
    )
    keep_alive: KeepAlive = Field(
        "30m", description="how long Ollama keeps the model loaded: seconds or a duration"
    )
    think: bool = Field(False, description="let thinking models think before answering")
    answer_reserve: int = Field(4096, ge=256, description="tokens of context kept for the answer")
    whisper_model: str | None = Field(
        None, description="faster-whisper model dir or size for offline speech (default tiny.en)"
    )
    whisper_group: int = Field(
        8, ge=1, le=64, description="30 s chunks offline Whisper hears in one batched call"
    )
    speaker_weights: Path | None = Field(
        None, description="GE2E speaker-encoder weights, .npz or .pt (default: shipped ge2e.npz)"
    )
    speakers: int | None = Field(
        None, ge=1, le=20, description="how many people speak in recordings (default: detect)"
    )
    watch_settle_seconds: float = Field(
        3.0, gt=0, allow_inf_nan=False, description="quiet time before a recording is complete"
    )
    meeting_template: str = Field(
        "general", min_length=1, description="meeting-notes template when none is chosen"
    )
    watch: dict[str, WatchFolder] = Field(
        default_factory=dict, description='per watched folder settings ([watch."PATH"] template)'
    )
    chroma_url: str | None = Field(None, description="a shared Chroma server, instead of local")
    chroma_token: SecretStr | None = Field(
        None, description="token of a Chroma server with token auth (never logged)"
    )
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        "Authorization", description="header the token travels in (Authorization: Bearer)"
    )
    chroma_headers: dict[str, str] = Field(
        default_factory=dict, description="extra headers for the Chroma server (a proxy's auth)"
    )
    chroma_tenant: str = Field("default_tenant", min_length=1, description="Chroma tenant")
    chroma_database: str = Field("default_database", min_length=1, description="Chroma database")
    queue_url: str | None = Field(
        None, description="postgresql:// URL of a meetings queue shared by several watchers"
    )
    queue_lease_seconds: float = Field(
        30.0, ge=1, allow_inf_nan=False, description="how long a dead watcher's claim holds"
    )
    sessions_url: str | None = Field(
        None, description="a PostgreSQL server for sessions (postgresql://...), instead of SQLite"
    )
    ollama_hosts: list[str] = Field(
        default_factory=list,
        description="several Ollama servers; new sessions and jobs go to the least busy one",
    )
    mcp: dict[str, Any] = Field(
        default_factory=dict, description="MCP servers whose tools agents use ([mcp.servers.NAME])"
    )
    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("gemloom"),
        description="where sessions, memory and ledgers live (GEMLOOM_HOME overrides)",
    )

    @field_validator("ollama_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return normalise_host(value)

    @field_validator("queue_url")
    @classmethod
    def _queue_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("expected a PostgreSQL URL such as postgresql://user@host/gemloom")
        return value or None

    @field_validator("ollama_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> list[str]:
        if isinstance(value, str):  # GEMLOOM_OLLAMA_HOSTS: a JSON list or comma-separated
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
            raise ValueError("expected a list of Ollama URLs such as http://gpu1:11434")
        return list(dict.fromkeys(normalise_host(h) for h in value if h.strip()))

    @field_validator("sessions_url")
    @classmethod
    def _sessions_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("expected a postgresql://user:password@host:port/database URL")
        return value

    @field_validator("keep_alive", mode="before")
    @classmethod
    def _keep_alive(cls, value: object) -> KeepAlive:
        return normalise_keep_alive(value)  # type: ignore[arg-type]

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    def __init__(self, **values: Any) -> None:
        super().__init__(**_merged(_file_values(), _env_values(), values))


def _merged(*layers: dict[str, Any]) -> dict[str, Any]:
    """The layers merged left to right, later ones winning; dicts are merged key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                value = _merged(merged[key], value)
            merged[key] = value
    return merged


def _env_values() -> dict[str, Any]:
    """GEMLOOM_<SETTING> variables, in any case; a dict setting's value is JSON."""
    env = {name.lower(): value for name, value in os.environ.items()}
    found: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        if (value := env.get(f"gemloom_{name}")) is None:
            continue
        if get_origin(field.annotation) is dict:
            try:
                value = json.loads(value)
            except ValueError:
                raise _invalid(name, value, "expected a JSON object") from None
        found[name] = value
    return found


def _file_values() -> dict[str, Any]:
    """The config file's top-level keys; none when there is no file."""
    path = config_path()
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)


def _well_known_env() -> dict[str, str]:
    """Variables outside the GEMLOOM_ prefix that users already set for these tools."""
    overrides = {}
    if (home := os.environ.get("GEMLOOM_HOME")) and "GEMLOOM_DATA_DIR" not in os.environ:
        overrides["data_dir"] = home
    if (host := os.environ.get("OLLAMA_HOST")) and "GEMLOOM_OLLAMA_HOST" not in os.environ:
        overrides["ollama_host"] = host
    return overrides


def check_host_variable() -> None:
    """A bad OLLAMA_HOST as a SettingsError (the ollama package fails on it at import)."""
    if (host := os.environ.get("OLLAMA_HOST")) is not None:
        try:
            normalise_host(host)
        except ValueError as exc:
            raise SettingsError(f"Invalid OLLAMA_HOST = {host!r}: {exc}.") from None


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning any invalid value into a one-line SettingsError."""
    try:
        return Settings(**{**_well_known_env(), **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "settings"
        raise _invalid(name, err.get("input"), err["msg"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"Cannot read the config file {config_path()}: {exc}.") from None


def _invalid(name: str, value: object, why: str) -> SettingsError:
    """The one-line error for a bad value, which it shows unless the setting is secret."""
    shown = (
        "(hidden)"
        if name in SECRET_SETTINGS
        else _PASSWORD.sub(r"://\1:***@", repr(value))  # a URL's password
    )
    return SettingsError(
        f"Invalid setting '{name}' = {shown}: {why} "
        f"(set GEMLOOM_{name.upper()} or fix {config_path()})."
    )
