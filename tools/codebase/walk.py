"""Which files a pack considers: git's own view, or .gitignore rules applied with pathspec."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

IGNORE_FILES = (".gitignore", ".gemloomignore")  # later files win within one folder
GIT_TIMEOUT = 60


@dataclass
class Listing:
    """Candidate files (relative POSIX paths, sorted) and paths skipped with a reason."""

    files: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    git: bool = False


class IgnoreRules:
    """Nested ignore files evaluated as git does: the deepest matching rule decides."""

    def __init__(self, root: Path, names: Iterable[str], base: pathspec.GitIgnoreSpec | None):
        self.root = root
        self.names = tuple(names)
        self.base = base  # .git/info/exclude: lowest precedence
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._dirs: dict[str, bool] = {"": False}

    def _spec(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._specs:
            lines: list[str] = []
            where = os.path.join(self.root, folder)  # strings: a re-pack asks every folder
            for name in self.names:
                lines += _read_lines(os.path.join(where, name))
            self._specs[folder] = _spec(lines) if lines else None
        return self._specs[folder]

    def _matches(self, rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            spec = self._spec("/".join(parts[:depth]))
            if spec is not None:
                result = spec.check_file("/".join(parts[depth:]) + ("/" if is_dir else ""))
                if result.include is not None:
                    return result.include
        if self.base is not None:
            result = self.base.check_file(rel + ("/" if is_dir else ""))
            return bool(result.include)
        return False

    def filter(self, paths: Iterable[str]) -> list[str]:
        """The paths these rules keep, sorted; without an ignore file above any, all of them."""
        paths = list(paths)
        folders = {""}
        for folder in {p.rpartition("/")[0] for p in paths}:
            while folder not in folders:
                folders.add(folder)
                folder = folder.rpartition("/")[0]
        if self.base is None and all(self._spec(f) is None for f in folders):
            return sorted(paths)
        return sorted(p for p in paths if not self.ignored(p))

    def dir_ignored(self, rel: str) -> bool:
        """Whether folder `rel` or any folder above it is ignored."""
        if rel not in self._dirs:
            parent = rel.rpartition("/")[0]
            self._dirs[rel] = self.dir_ignored(parent) or self._matches(rel, True)
        return self._dirs[rel]

    def ignored(self, rel: str) -> bool:
        """Whether file `rel` is ignored, by itself or through a folder above it."""
        return self.dir_ignored(rel.rpartition("/")[0]) or self._matches(rel, False)


def _read_lines(path: Path | str) -> list[str]:
    if not os.access(path, os.F_OK):  # most folders have none: said without an exception
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    return [line for line in lines if _valid(line)]


def _spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """Ignore rules compiled (pathspec is imported only for trees that have any)."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _valid(line: str) -> bool:
    """Whether pathspec can compile the pattern (git, too, never matches a broken one)."""
    try:
        _spec([line])
    except ValueError:
        return False
    return True


def list_files(root: Path, use_git: bool | None = None) -> Listing:
    """The files under `root` that the ignore rules keep; git's view inside a work tree."""
    return StartedListing(root, use_git).result()


class StartedListing:
    """`list_files` begun: git lists the tree in its own process while the caller does other
    work (a re-pack reads its last pack meanwhile), and `result()` waits for it."""

    def __init__(self, root: Path, use_git: bool | None = None):
        self.root = root
        self.git = _git_started(root) if use_git is not False else None

    def result(self) -> Listing:
        """The listing; git's (`Listing.git`) if git listed the tree, else a walk's."""
        listed = _git_files(self.git) if self.git is not None else None
        if listed is not None:
            rules = IgnoreRules(self.root, (".gemloomignore",), None)
            return Listing(rules.filter(listed), git=True)
        exclude = _read_lines(self.root / ".git" / "info" / "exclude")
        base = _spec(exclude) if exclude else None
        return _walk(self.root, IgnoreRules(self.root, IGNORE_FILES, base))


def _git_started(root: Path) -> subprocess.Popen[bytes] | None:
    """git listing tracked and untracked-but-not-ignored files, or None without git."""
    git = shutil.which("git")
    if git is None:
        return None
    command = [git, "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard"]
    try:
        return subprocess.Popen([*command, "-z"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def _git_files(running: subprocess.Popen[bytes]) -> list[str] | None:
    """What the git process listed, or None when it failed (outside a git work tree)."""
    try:
        out, _ = running.communicate(timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        running.kill()
        running.communicate()
        return None
    if running.returncode != 0:
        return None
    names = out.decode("utf-8", "surrogateescape").split("\0")
    return list(dict.fromkeys(n for n in names if n))  # a conflicted file is listed per stage


def _walk(root: Path, rules: IgnoreRules) -> Listing:
    files: list[str] = []
    skipped: dict[str, str] = {}

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename or root).relative_to(root).as_posix()
        skipped[where + "/"] = f"unreadable folder ({exc.strerror or exc})"

    for folder, dirs, names in os.walk(root, onerror=unreadable, followlinks=False):
        rel_dir = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for name in dirs:
            rel = prefix + name
            if os.path.islink(os.path.join(folder, name)):
                if not rules.ignored(rel):
                    files.append(rel)  # to git a symlink is a file entry; the loader judges it
            elif name != ".git" and not rules.dir_ignored(rel):
                kept.append(name)
        dirs[:] = kept
        files += [prefix + n for n in names if not rules.ignored(prefix + n)]
    return Listing(sorted(files), skipped)
