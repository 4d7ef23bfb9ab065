"""Benchmark packing beside its floors: a plain read of the same files, in process and as a process.

Run: .venv/bin/python bench/pack.py [--no-peers] [--runs N]. Every figure is the best of N runs
(default 3), as wall time and CPU time (user+sys, child processes such as git included), each
printed beside its floor from the same run with the ratio. Corpora: this interpreter's standard
library and this project as git tracks it (copied into fresh git repositories), and SQLAlchemy
from the venv when it is installed (a tree the packer was not tuned on). Peers (repomix via npx,
gitingest in a venv under /tmp) are used only if they install; they never become project
dependencies.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gemloom.settings import load_settings
from gemloom.tokens import CLASS_WEIGHTS, CLASSES, class_counts, estimate_bytes
from gemloom.tools.codebase.files import _SUSPECT as SUSPECT
from gemloom.tools.codebase.pack import Pack, pack

TOKENIZER = Path(__file__).resolve().parents[2] / "shared" / "data" / "gemma3_tokenizer.json"
PROJECT = Path(__file__).resolve().parents[1]
IGNORE = "__pycache__/\n*.pyc\n*.so\n*.a\n*.o\n*.whl\nlib-dynload/\nconfig-3*/\nsite-packages/\n"
HUGE = str(10**9)  # a budget every tree fits: the command packs everything, as repomix does
READER = """import sys
for name in open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read().split("\\0"):
    try:
        with open(name, "rb") as handle:
            handle.read()
    except OSError:
        pass
"""
Timing = tuple[float, float]  # wall seconds, CPU seconds


def _cpu() -> float:
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def best(run: Callable[[], object], runs: int, before: Callable[[], object] = lambda: None
         ) -> Timing:  # fmt: skip
    """The lowest wall and the lowest CPU time of `runs` calls (`before` runs untimed)."""
    walls, cpus = [], []
    for _ in range(runs):
        before()
        wall, cpu = time.perf_counter(), _cpu()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu() - cpu)
    return min(walls), min(cpus)


def repo(source: Path, where: Path, ignore: str = IGNORE, tracked: bool = False) -> Path:
    """A copy of `source` in a fresh git repository; with `tracked`, of the files git tracks
    in it only (the project as committed: not its caches, nor the sdists bench/ keeps)."""
    root = where / source.name
    if tracked:
        listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z"], check=True,
                                capture_output=True).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, listed):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, root / name, follow_symlinks=False)
    else:
        skipped = shutil.ignore_patterns("site-packages", "__pycache__", ".venv", ".git", "build")
        shutil.copytree(source, root, symlinks=True, ignore=skipped)
    (root / ".gitignore").write_text(ignore)
    who = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env = {**os.environ, **who, "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "corpus"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return root


def read_all(paths: list[str]) -> None:
    """The floor: open and read every file the pack considers, nothing else."""
    for name in paths:
        try:
            with open(name, "rb") as handle:
                handle.read()
        except OSError:
            pass


def plain_walk(root: Path, wanted: set[str], then: Callable[[bytes], object] | None = None
               ) -> None:  # fmt: skip
    """A plain os.walk (skipping .git) that reads the same files the pack reads (and hands
    each file's bytes to `then`)."""
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            full = os.path.join(folder, name)
            if full in wanted:
                with open(full, "rb") as handle:
                    data = handle.read()
                if then is not None:
                    then(data)


def scanned(data: bytes) -> None:
    """The two passes over every byte that no cold pack can skip: the secret scan's RE2
    search (`files._SUSPECT`) and the token estimate."""
    SUSPECT.ascii.search(data)
    estimate_bytes(data)


def command(args: list[str], env: dict[str, str] | None = None) -> Callable[[], None]:
    """A whole process as a callable that fails loudly."""

    def run() -> None:
        done = subprocess.run(args, capture_output=True, env=env, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[:3]} failed: {done.stderr.decode()[-300:]}")

    return run


def ratio(label: str, ours: Timing, floor: Timing, floor_label: str) -> None:
    """One line: our wall and CPU, the floor's, and the ratios (wall / CPU)."""
    print(f"  {label}: {ours[0]:.3f} s wall, {ours[1]:.3f} s CPU = {ours[0] / floor[0]:.1f}x / "
          f"{ours[1] / max(floor[1], 1e-9):.1f}x {floor_label} ({floor[0]:.3f} s, "
          f"{floor[1]:.3f} s CPU)")  # fmt: skip


def share(label: str, ours: Timing, cold: Timing) -> None:
    """One line: a re-pack's wall and CPU as a share of the cold pack's."""
    print(f"  {label}: {ours[0]:.3f} s wall, {ours[1]:.3f} s CPU = {100 * ours[0] / cold[0]:.1f}%"
          f" / {100 * ours[1] / cold[1]:.1f}% of cold")  # fmt: skip


def joined(packed: Pack) -> bytes:
    """The pack's bytes (a gemloom from before Pack.data kept only its text: for before/after
    runs of this script against an older checkout)."""
    return packed.data if hasattr(packed, "data") else packed.text.encode("utf-8")


def in_process(root: Path, data: Path, edit: str, runs: int) -> Timing:
    """Cold, warm and spliced packs beside the plain walk; returns the cold timing."""
    settings = load_settings(data_dir=data)
    cold_pack = pack(root, settings=settings)
    files = [str(root / e.path) for e in cold_pack.entries]
    s = cold_pack.stats
    print(f"  {s.files} files: {s.full} full, {s.skipped} skipped, {s.redacted} redacted; "
          f"{len(joined(cold_pack)) / 1e6:.1f} MB, about {s.tokens:,} tokens")  # fmt: skip
    read_all(files)  # the page cache is warm for everyone
    wanted = set(files)
    walk = best(lambda: plain_walk(root, wanted), runs)
    cold = best(lambda: pack(root, settings=settings), runs,
                lambda: shutil.rmtree(data, ignore_errors=True))  # fmt: skip
    ratio("cold pack", cold, walk, "the plain walk")
    scanning = best(lambda: plain_walk(root, wanted, scanned), runs)
    ratio("the plain walk + secret search + token estimate", scanning, walk, "the plain walk")
    ratio("cold pack", cold, scanning, "that walk")
    whole = best(lambda: joined(pack(root, settings=settings)), runs,
                 lambda: shutil.rmtree(data, ignore_errors=True))  # fmt: skip
    ratio("cold pack joined into one bytes object (.data)", whole, walk, "the plain walk")
    warm = best(lambda: pack(root, settings=settings), runs)
    share("warm re-pack (nothing changed)", warm, cold)
    target = root / edit
    original = target.read_bytes()
    edits = iter(range(10**6))

    def edit_once() -> None:
        target.write_bytes(original + f"\n# edit {next(edits)}\n".encode())

    spliced = best(lambda: pack(root, settings=settings), runs, edit_once)
    share(f"re-pack after editing {edit}", spliced, cold)
    spliced_whole = best(lambda: joined(pack(root, settings=settings)), runs, edit_once)
    share("the same, joined into one bytes object (.data)", spliced_whole, whole)
    fresh = pack(root, settings=load_settings(data_dir=data.with_name(data.name + "-check")))
    assert joined(pack(root, settings=settings)) == joined(fresh), "spliced differs from cold"
    target.write_bytes(original)
    new_file = root / "bench_added.py"
    added = best(lambda: pack(root, settings=settings), runs,
                 lambda: new_file.write_text(f"ADDED = {time.time_ns()}\n"))  # fmt: skip
    new_file.unlink()
    share("re-pack after adding a file", added, cold)
    budgeted = best(
        lambda: pack(root, settings=settings, budget=250_000, question="how is json decoded?"),
        runs, lambda: shutil.rmtree(data, ignore_errors=True),
    )  # fmt: skip
    ratio("budgeted 250K with a question, cold (the budget helper's)", budgeted, walk, "walk")
    return cold


def as_commands(root: Path, work: Path, runs: int, peers: bool) -> None:
    """`gemloom pack` as a whole process beside a plain read process and repomix."""
    files = [str(root / e.path) for e in pack(root, use_git=True).entries]
    listing = work / f"{root.name}.files"
    listing.write_text("\0".join(files), encoding="utf-8", errors="surrogateescape")
    data = work / f"cli-{root.name}"
    env = {**os.environ, "GEMLOOM_DATA_DIR": str(data), "OLLAMA_HOST": "http://127.0.0.1:9"}
    out = work / "out.xml"
    plain = best(command([sys.executable, "-c", READER, str(listing)]), runs)
    ours = [sys.executable, "-m", "gemloom", "pack", str(root), "-b", HUGE, "-o", str(out)]
    cold = best(command(ours, env), runs, lambda: shutil.rmtree(data, ignore_errors=True))
    ratio("`gemloom pack` cold", cold, plain, "a python process reading the files")
    warm = best(command(ours, env), runs)
    ratio("`gemloom pack` warm", warm, plain, "a python process reading the files")
    default = [sys.executable, "-m", "gemloom", "pack", str(root), "-o", str(out)]
    budget = best(command(default, env), 1, lambda: shutil.rmtree(data, ignore_errors=True))
    ratio("`gemloom pack` default budget, Ollama down, cold", budget, plain, "the read")
    if not peers:
        return
    for name, peer in peer_commands(root, work).items():
        try:
            theirs = best(command(peer), runs)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"  {name}: failed ({exc})")
            continue
        faster = f"{theirs[0] / cold[0]:.1f}x faster (wall), {theirs[1] / cold[1]:.1f}x (CPU)"
        print(f"  {name}: {theirs[0]:.3f} s wall, {theirs[1]:.3f} s CPU; gemloom cold is {faster}")


def peer_commands(root: Path, work: Path) -> dict[str, list[str]]:
    """repomix and gitingest commands on `root`, when they can be installed outside the venv."""
    found: dict[str, list[str]] = {}
    npx = shutil.which("npx")
    probe = [npx or "npx", "--yes", "repomix", "--version"]
    if npx and subprocess.run(probe, capture_output=True, timeout=600, check=False).returncode == 0:
        found["repomix"] = [
            npx,
            "--yes",
            "repomix",
            str(root),
            "-o",
            str(work / "r.xml"),
            "--quiet",
        ]
    else:
        print("  repomix: not available (npx missing or offline); skipped")
    venv = Path("/tmp/gemloom-bench-gitingest")
    if not (venv / "bin" / "gitingest").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, check=False)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gitingest"],
                       capture_output=True, timeout=600, check=False)  # fmt: skip
    if (venv / "bin" / "gitingest").exists():
        found["gitingest"] = [str(venv / "bin" / "gitingest"), str(root), "-o", str(work / "g.txt")]
    else:
        print("  gitingest: could not be installed; skipped")
    return found


def calibrate(roots: list[Path]) -> None:
    """Estimator error against Gemma 3's tokenizer on real code, and freshly fitted weights."""
    if not TOKENIZER.exists():
        print(f"calibration skipped: {TOKENIZER} is missing")
        return
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    rows, truth = [], []
    for root in roots:
        texts = [e.text for e in pack(root, use_git=True).entries if e.status == "full"]
        real = [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
        guess = sum(estimate_bytes(t.encode()) for t in texts)
        chars = sum(map(len, texts))
        error = 100 * (guess - sum(real)) / sum(real)
        print(f"  {root.name}: {sum(real):,} Gemma tokens, estimate {guess:,.0f} ({error:+.1f}%), "
              f"{chars / sum(real):.2f} chars/token")  # fmt: skip
        rows += [class_counts(t.encode()) for t in texts]
        truth += real
    weights = np.linalg.lstsq(np.array(rows), np.array(truth, float), rcond=None)[0]
    print("  refitted:", {c: round(float(w), 3) for c, w in zip(CLASSES, weights, strict=True)})
    print("  shipped: ", CLASS_WEIGHTS)


def corpora(work: Path) -> list[tuple[Path, str]]:
    """(root, file to edit) for each corpus; SQLAlchemy only when it is installed."""
    project = repo(PROJECT, work, ".venv/\n__pycache__/\n", tracked=True)
    found = [(repo(Path(sysconfig.get_paths()["stdlib"]), work), "json/__init__.py"),
             (project, "gemloom/errors.py")]  # fmt: skip
    try:
        import sqlalchemy
    except ImportError:
        print("sqlalchemy: not installed; skipped")
    else:
        found.append((repo(Path(sqlalchemy.__file__).parent, work), "engine/url.py"))
    return found


def main() -> None:
    """Run every measurement and print the figures side by side."""
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
          f"best of {runs} runs")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        roots = corpora(work)
        for root, edit in roots:
            print(f"{root.name}: {root}")
            in_process(root, work / f"home-{root.name}", edit, runs)
            as_commands(root, work, runs, "--no-peers" not in sys.argv)
        print("token estimate vs Gemma 3 tokenizer:")
        calibrate([root for root, _ in roots[:2]])
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
