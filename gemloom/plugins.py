"""Every extension point of gemloom in one place: entry-point groups, read and loaded one way.

In the spirit of simonw/llm's `hookspecs.py`, but with plain entry points instead of pluggy
hooks: llm imports every plugin to ask its hooks, while `gemloom --help` must list commands
without importing them. Entry-point metadata is cheap; loading (importing) happens only when a
plugin is used. gemloom's own pyproject.toml declares its built-ins in these same groups, so a
built-in and a third-party plugin go through the same code. A plugin that fails to load is
logged with one warning line naming it and the fix, and skipped.
"""

from __future__ import annotations

import json
import os
import sys
import time
import zlib
from dataclasses import astuple, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from gemloom.errors import GemloomError

OWN_DISTRIBUTION = "gemloom"
CACHE_FORMAT = 1
RACY_SECONDS = 2.0
"""A folder changed this recently may change again within its mtime's resolution: not cached."""


class Group(StrEnum):
    """The entry-point groups a package can add to, and what each entry point names."""

    TOOLS = "gemloom.tools"
    """A `@tool` function, a list of them, or a plain function (then it asks before running)."""
    EMBEDDERS = "gemloom.embedders"
    """A callable `(settings, argument) -> embedder`; the key `NAME` or `NAME:argument` picks it."""
    COMMANDS = "gemloom.commands"
    """A `typer.Typer` app or a function; the entry point's name is the `gemloom` command."""
    WORKFLOWS = "gemloom.workflows"
    """A callable that builds the workflow's LangGraph graph (or another runnable program)."""


class PluginError(GemloomError):
    """gemloom's own built-ins are missing from the installed metadata."""


@dataclass(frozen=True)
class Plugin:
    """One entry point of one group: known from metadata alone, imported only by `load()`."""

    group: Group
    name: str
    value: str
    distribution: str
    version: str
    summary: str = ""
    """The package's one-line description."""

    @property
    def builtin(self) -> bool:
        """Whether gemloom itself declares it."""
        return self.distribution == OWN_DISTRIBUTION

    @property
    def origin(self) -> str:
        """'plugin gemloom-hello 0.1 (entry point hello = hello:app)', for messages."""
        kind = "built-in" if self.builtin else "plugin"
        return f"{kind} {self.distribution} {self.version} (entry point {self.name} = {self.value})"

    def load(self) -> Any:
        """Import the object the entry point names (errors propagate: see `load_group`)."""
        from importlib.metadata import EntryPoint

        return EntryPoint(self.name, self.value, self.group.value).load()


def discover(group: Group) -> list[Plugin]:
    """The group's plugins from installed metadata, gemloom's own first; nothing is imported."""
    return [plugin for plugin in installed_plugins() if plugin.group is group]


_seen: dict[str, list[Plugin]] = {}


def installed_plugins(refresh: bool = False) -> list[Plugin]:
    """Every group's plugins, read from the metadata once per set of installed distributions.

    Reading entry points means importing importlib.metadata and parsing every installed
    distribution's files: a third of `gemloom --help`. The result is kept in the user's cache
    folder under a key of the import path's folders and their mtimes (installing or removing a
    distribution adds or removes an entry there; importlib.metadata keys its own lookups the
    same way), so the next process with the same distributions reads one small file instead.
    An entry_points.txt edited by hand in place changes no folder: `refresh` (what `gemloom
    plugins` does) reads the metadata again and replaces the cached copy.
    """
    key = _installed_key()
    token = json.dumps(key)
    if refresh or token not in _seen:
        cache = _cache_file(key)
        plugins = None if refresh else _read_cache(cache, key)
        if plugins is None:
            plugins = _scan()
            if not _racy(key):
                _write_cache(cache, key, plugins)
        _seen[token] = plugins
    return _seen[token]


def _installed_key() -> list[Any]:
    """[format, [folder, mtime_ns or None] for each import path entry]."""
    entries = []
    for entry in sys.path:
        try:
            mtime: int | None = os.stat(entry or ".").st_mtime_ns
        except OSError:
            mtime = None
        entries.append([os.path.abspath(entry or "."), mtime])
    return [CACHE_FORMAT, entries]


def _racy(key: list[Any]) -> bool:
    """Whether a folder of the key changed too recently for its mtime to be trusted."""
    newest = max((mtime or 0 for _, mtime in key[1]), default=0)
    return newest / 1e9 > time.time() - RACY_SECONDS


def _cache_file(key: list[Any]) -> Path:
    """One file per import path, so two environments do not overwrite each other's."""
    from platformdirs import user_cache_path

    paths = "\n".join(folder for folder, _ in key[1])
    return user_cache_path("gemloom") / f"entry-points-{zlib.crc32(paths.encode()):08x}.json"


def _read_cache(path: Path, key: list[Any]) -> list[Plugin] | None:
    """The cached plugins, or None when the file is missing, stale or unreadable."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved["key"] != key:
            return None
        return [Plugin(Group(row[0]), *row[1:]) for row in saved["plugins"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # a cache costs only time: a bad one is read again from the metadata


def _write_cache(path: Path, key: list[Any], plugins: list[Plugin]) -> None:
    """Keep the scan for the next process; a folder that cannot be written just goes unused."""
    from gemloom.atomic import write_atomic

    rows = [[p.group.value, *astuple(p)[1:]] for p in plugins]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"key": key, "plugins": rows}), durable=False)
    except OSError:
        pass


def _scan() -> list[Plugin]:
    """Every group's plugins from the installed metadata, gemloom's own first."""
    from importlib.metadata import entry_points  # here: a cached `--help` never needs it

    names: dict[int, tuple[str, str, str]] = {}  # one metadata parse per distribution
    installed = entry_points()  # every group in one pass over the distributions
    found = []
    for group in Group:
        for ep in installed.select(group=group.value):
            if ep.dist is None:
                about = ("an unknown distribution", "?", "")
            else:
                if id(ep.dist) not in names:
                    meta = ep.dist.metadata
                    summary = (meta.get_all("Summary") or [""])[0]
                    names[id(ep.dist)] = (meta["Name"], meta["Version"], summary)
                about = names[id(ep.dist)]
            found.append(Plugin(group, ep.name, ep.value, *about))
    order = list(Group)
    return sorted(
        found, key=lambda p: (order.index(p.group), not p.builtin, p.distribution, p.name)
    )


def fix_for(plugin: Plugin) -> str:
    """What the user can do about a plugin that does not load."""
    if plugin.builtin:
        return "reinstall gemloom (pip install --force-reinstall gemloom, or pip install -e .)"
    return f"upgrade or fix it, or remove it with `pip uninstall {plugin.distribution}`"


def load_group(group: Group) -> list[tuple[Plugin, Any]]:
    """Every plugin of the group that loads; each one that fails is one warning, then skipped."""
    loaded = []
    for plugin in discover(group):
        try:
            loaded.append((plugin, plugin.load()))
        except Exception as exc:  # a broken plugin must not break gemloom
            warn_skipped(plugin, exc)
    return loaded


def load_named(group: Group, name: str) -> Any | None:
    """The first plugin of that name that loads (gemloom's own first), or None; others warn."""
    for plugin in discover(group):
        if plugin.name != name:
            continue
        try:
            return plugin.load()
        except Exception as exc:  # a broken plugin must not break gemloom
            warn_skipped(plugin, exc)
    return None


def warn_skipped(plugin: Plugin, exc: BaseException) -> None:
    """The one warning line for a plugin that failed: which, why, and the fix."""
    import logging  # here: listing plugins needs no logging set-up

    why = " ".join(f"{type(exc).__name__}: {exc}".split())
    logging.getLogger(__name__).warning(
        "skipping %s %s: %s; %s", plugin.group.value, plugin.origin, why, fix_for(plugin)
    )


def require_builtins(group: Group, plugins: list[Plugin]) -> None:
    """Raise when gemloom's own entry points are missing: the installed metadata is stale."""
    if not any(p.builtin for p in plugins):
        raise PluginError(
            f"gemloom's own {group.value} entry points are missing from its installed metadata: "
            "reinstall gemloom (pip install -e . in a checkout, or pip install --force-reinstall "
            "gemloom)."
        )
