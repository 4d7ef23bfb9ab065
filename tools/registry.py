"""The tool registry: typed functions with Google-style docstrings become Ollama tools."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import threading
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from gemloom.errors import GemloomError
from gemloom.plugins import Group, Plugin, load_group, require_builtins, warn_skipped

if TYPE_CHECKING:
    from gemloom.llm import LLM
    from gemloom.memory.store import MemoryStore
    from gemloom.settings import Settings

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = Group.TOOLS.value
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


class Risk(StrEnum):
    """How much harm a call can do; the approval policy keys on it."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"


class ToolError(GemloomError):
    """A tool could not do what was asked; the message goes back to the model."""


class ToolArgumentError(ToolError):
    """The model's arguments do not fit the tool's parameters."""


class DuplicateToolError(GemloomError):
    """Two tools claim one name; the first one keeps it."""


@dataclass
class ToolContext:
    """What a tool gets besides its arguments; declare `ctx: ToolContext` to receive it."""

    workspace: Path
    """The folder the agent works in; file tools stay inside it."""
    session_id: str | None = None
    """The session the call belongs to (provenance for memories)."""
    memory: MemoryStore | None = None
    """The shared memory store, opened on first use by the memory tools."""
    codebase_root: Path | None = None
    """The root of the codebase loaded last; reading tools work there once it is set."""
    settings: Settings | None = None
    """gemloom's settings, for tools that need limits or paths from them."""
    llm: LLM | None = None
    """The model client, for tools that ask the model themselves."""
    codebase_budget: int | None = None
    """Tokens a load_codebase result may take (its default when None)."""
    memory_namespace: str | None = None
    """The memory namespace for this workspace (the workspace folder's name when None)."""


@dataclass
class ToolResult:
    """What a tool returns when it has more than text: the text plus images (or audio) to show."""

    text: str
    images: list[bytes] = field(default_factory=list)
    """PNG/JPEG images or WAV/MP3 audio; they go to the model with the result."""

    @classmethod
    def of(cls, value: Any) -> ToolResult:
        """Any tool return value as a ToolResult: text as is, anything else as JSON."""
        if isinstance(value, ToolResult):
            return value
        text = value if isinstance(value, str) else json.dumps(value, default=str, indent=1)
        return cls(text)


@dataclass
class Tool:
    """A callable tool: its schema for the model, its risk, and argument validation.

    Calling it calls the decorated function, so `@tool` functions stay plain functions.
    """

    name: str
    func: Callable[..., Any]
    risk: Risk
    description: str
    params: type[BaseModel]
    schema: dict[str, Any]
    wants_context: bool
    source: str = ""
    """Where the tool comes from: "" for gemloom's own and plugins, else its MCP server's name."""
    origin: str = field(default="", kw_only=True)
    """Who provides it, for messages: "built-in MODULE" or "plugin DIST (entry point ...)"."""

    def __post_init__(self) -> None:
        functools.update_wrapper(self, self.func, updated=())  # name, docstring, __wrapped__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def provider(self) -> str:
        """Where the tool comes from, in words."""
        return self.origin or (f"MCP server {self.source}" if self.source else "gemloom")

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Validated, coerced arguments, or ToolArgumentError with a message for the model."""
        if isinstance(arguments, str):
            arguments = _loads(arguments, {})
        if not isinstance(arguments, dict):
            raise ToolArgumentError(f"arguments for {self.name} must be a JSON object")
        cleaned = {k: _unstring(v) for k, v in arguments.items() if v is not None}
        try:
            return self.params.model_validate(cleaned).model_dump()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolArgumentError(f"invalid arguments for {self.name}: {problems}") from None

    def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Call the tool with validated arguments; its result as text plus any images."""
        extra = {"ctx": ctx} if self.wants_context else {}
        return ToolResult.of(self.func(**arguments, **extra))


def _loads(text: str, fallback: Any) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return fallback


def _unstring(value: Any) -> Any:
    """Local models send lists and objects as JSON strings; unwrap those."""
    if isinstance(value, str) and value[:1] in "[{":
        return _loads(value, value)
    return value


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _json_type(inner[0]) if inner else {"type": "string"}
    if origin is Literal:
        values = list(get_args(annotation))
        return {"type": _JSON_TYPES.get(type(values[0]), "string"), "enum": values}
    if origin in (list, tuple, set) or annotation in (list, tuple, set):
        items = get_args(annotation)
        return {"type": "array", "items": _json_type(items[0]) if items else {"type": "string"}}
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return {"type": "string", "enum": [m.value for m in annotation]}
    if origin is dict or annotation is dict:
        return {"type": "object"}
    return {"type": _JSON_TYPES.get(annotation, "string")}


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary and the per-argument descriptions of a Google-style docstring."""
    doc = inspect.cleandoc(doc or "")
    summary = doc.split("\n\n")[0].replace("\n", " ").strip()
    args: dict[str, str] = {}
    match = re.search(r"^Args:\n((?:[ \t]+.*\n?|\n)+)", doc, re.MULTILINE)
    current = None
    for line in (match.group(1) if match else "").splitlines():
        if m := re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line):
            current = m.group(1)
            args[current] = m.group(2).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return summary, args


def tool(
    func: Callable[..., Any] | None = None, *, risk: Risk = Risk.READ, name: str | None = None
) -> Any:
    """Make a typed function with a Google-style docstring a tool; it stays callable as before."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        hints = get_type_hints(fn)
        summary, arg_docs = parse_docstring(fn.__doc__ or "")
        properties: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        required = []
        for param in inspect.signature(fn).parameters.values():
            if param.name == "ctx":
                continue
            annotation = hints.get(param.name, str)
            properties[param.name] = {
                **_json_type(annotation),
                "description": arg_docs.get(param.name, ""),
            }
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (annotation, default)
            if default is ...:
                required.append(param.name)
        tool_name = name or fn.__name__
        params = create_model(f"{tool_name}_args", __config__=ConfigDict(extra="ignore"), **fields)
        schema = {
            "type": "function",
            "function": {
                "name": tool_name,
                "description": summary,
                "parameters": {"type": "object", "properties": properties, "required": required},
            },
        }
        wants_ctx = "ctx" in inspect.signature(fn).parameters
        origin = f"built-in {fn.__module__}"
        return Tool(tool_name, fn, Risk(risk), summary, params, schema, wants_ctx, origin=origin)

    return wrap(func) if func is not None else wrap


Provider = Callable[[], Iterable[Tool]]
"""Gives more tools when first needed (MCP servers start only when a model wants tools)."""


class Registry:
    """The tools an agent may call, by name."""

    def __init__(self, tools: Iterable[Tool] = (), providers: Iterable[Provider] = ()):
        self._tools: dict[str, Tool] = {}
        self._providers = list(providers)
        self._expanding = threading.Lock()
        for t in tools:
            self.add(t)

    def _expand(self) -> None:
        """Add the lazy providers' tools; a name already taken keeps its first tool."""
        with self._expanding:
            while self._providers:
                for item in self._providers.pop(0)():
                    if (held := self._tools.setdefault(item.name, item)) is not item:
                        log.warning("tool %r from %s left out: the name is already taken by %s",
                                    item.name, item.provider(), held.provider())  # fmt: skip

    def add(self, item: Tool) -> None:
        """Register a tool; a name that is taken raises DuplicateToolError and keeps the first."""
        if (held := self._tools.get(item.name)) is not None:
            raise DuplicateToolError(
                f"tool {item.name!r} from {item.provider()} refused: "
                f"the name is already taken by {held.provider()}"
            )
        self._tools[item.name] = item

    def get(self, name: str) -> Tool | None:
        """The tool of that name, if any."""
        if name not in self._tools:
            self._expand()
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Every tool name, sorted."""
        self._expand()
        return sorted(self._tools)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        self._expand()
        return len(self._tools)

    def __bool__(self) -> bool:
        return bool(self._tools or self._providers)  # `registry or ...` must not start servers

    def select(self, names: Iterable[str]) -> Registry:
        """A registry with only these tools; unknown names raise a GemloomError."""
        wanted = list(names)
        unknown = [n for n in wanted if n not in self]
        if unknown:
            raise GemloomError(
                f"Unknown tool(s): {', '.join(unknown)}. Available: {', '.join(self.names())}."
            )
        return Registry(self._tools[n] for n in wanted)

    def schemas(self) -> list[dict[str, Any]]:
        """The schemas Ollama expects in `tools`, in name order."""
        return [self._tools[n].schema for n in self.names()]


def as_registry(tools: Registry | Iterable[Tool | Callable[..., Any]]) -> Registry:
    """A Registry from a registry or a list of tools (plain functions become READ tools)."""
    if isinstance(tools, Registry):
        return tools
    return Registry(t if isinstance(t, Tool) else tool(t) for t in tools)


def _as_tools(obj: Any) -> list[Tool]:
    """Tools from a plugin's entry point; a bare function's risk is unknown, so it asks first."""
    if isinstance(obj, Tool):
        return [obj]
    if callable(obj) and not isinstance(obj, type):
        return [tool(obj, risk=Risk.EXECUTE)]
    return [t for item in obj for t in _as_tools(item)]


def load_entry_point_tools(group: str = ENTRY_POINT_GROUP) -> list[Tool]:
    """Third-party tools from installed packages; one that fails to load is logged and skipped."""
    return [t for plugin, tools in _loaded(Group(group)) if not plugin.builtin for t in tools]


def _loaded(group: Group) -> list[tuple[Plugin, list[Tool]]]:
    """Each plugin's tools (gemloom's own first); a plugin that fails is one warning, skipped."""
    found = []
    for plugin, obj in load_group(group):
        try:
            tools = _as_tools(obj)
        except Exception as exc:  # not a tool, nor a list of them
            warn_skipped(plugin, exc)
            continue
        origin = "" if plugin.builtin else plugin.origin
        found.append((plugin, [replace(t, origin=origin) if origin else t for t in tools]))
    return found


def default_registry() -> Registry:
    """The built-in tools plus every tool plugin that loads and claims a name of its own."""
    from gemloom.tools.mcp.tools import configured_tools

    plugins = _loaded(Group.TOOLS)
    require_builtins(Group.TOOLS, [plugin for plugin, _ in plugins])
    builtins = [t for plugin, tools in plugins if plugin.builtin for t in tools]
    registry = Registry(builtins, providers=[configured_tools()])
    for plugin_tool in (t for plugin, tools in plugins if not plugin.builtin for t in tools):
        try:
            registry.add(plugin_tool)
        except DuplicateToolError as exc:
            log.warning("%s", exc)
    return registry
