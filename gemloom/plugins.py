"""Every extension point of gemloom in one place: entry-point groups, read and loaded one way.

In the spirit of simonw/llm's `hookspecs.py`, but with plain entry points instead of pluggy
hooks: llm imports every plugin to ask its hooks, while `gemloom --help` must list commands
without importing them. Entry-point metadata is cheap; loading (importing) happens only when a
plugin is used. gemloom's own pyproject.toml declares its built-ins in these same groups, so a
built-in and a third-party plugin go through the same code. A plugin that fails to load is
logged with one warning line naming it and the fix, and skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gemloom.errors import GemloomError

log = logging.getLogger(__name__)
OWN_DISTRIBUTION = "gemloom"


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

    @property
    def builtin(self) -> bool:
        """Whether gemloom itself declares it."""
        return self.distribution == OWN_DISTRIBUTION

    @property
    def origin(self) -> str:
        """'plugin gemloom-hello 0.1 (entry point hello = hello:app)', for messages."""
        kind = "built-in" if self.builtin else "plugin"
        return f"{kind} {self.distribution} {self.version} (entry point {self.name} = {self.value})"

    @property
    def summary(self) -> str:
        """The package's one-line description (read from its metadata on first use)."""
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            return (distribution(self.distribution).metadata.get_all("Summary") or [""])[0]
        except PackageNotFoundError:
            return ""

    def load(self) -> Any:
        """Import the object the entry point names (errors propagate: see `load_group`)."""
        from importlib.metadata import EntryPoint

        return EntryPoint(self.name, self.value, self.group.value).load()


def discover(group: Group) -> list[Plugin]:
    """The group's plugins from installed metadata, gemloom's own first; nothing is imported."""
    from importlib.metadata import entry_points  # here: `gemloom --version` never needs it

    names: dict[int, tuple[str, str]] = {}  # one metadata parse per distribution, not per entry
    found = []
    for ep in entry_points(group=group.value):
        if ep.dist is None:
            name, version = "an unknown distribution", "?"
        else:
            if id(ep.dist) not in names:
                meta = ep.dist.metadata
                names[id(ep.dist)] = (meta["Name"], meta["Version"])
            name, version = names[id(ep.dist)]
        found.append(Plugin(group, ep.name, ep.value, name, version))
    return sorted(found, key=lambda p: (not p.builtin, p.distribution, p.name))


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
    why = " ".join(f"{type(exc).__name__}: {exc}".split())
    log.warning("skipping %s %s: %s; %s", plugin.group.value, plugin.origin, why, fix_for(plugin))


def require_builtins(group: Group, plugins: list[Plugin]) -> None:
    """Raise when gemloom's own entry points are missing: the installed metadata is stale."""
    if not any(p.builtin for p in plugins):
        raise PluginError(
            f"gemloom's own {group.value} entry points are missing from its installed metadata: "
            "reinstall gemloom (pip install -e . in a checkout, or pip install --force-reinstall "
            "gemloom)."
        )
