"""Benchmark `gemloom pack` on the standard library and this project, beside a plain read and peers.

Run: .venv/bin/python bench/pack.py [--no-peers]. Peers (repomix via npx, gitingest in a venv
under /tmp) are used only if they install; they never become project dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from gemloom.settings import load_settings
from gemloom.tokens import CLASS_WEIGHTS, CLASSES, class_counts, estimate_bytes
from gemloom.tools.codebase.tools import pack

TOKENIZER = Path(__file__).resolve().parents[2] / "shared" / "data" / "gemma3_tokenizer.json"
PROJECT = Path(__file__).resolve().parents[1]
IGNORE = "__pycache__/\n*.pyc\n*.so\n*.a\n*.o\n*.whl\nlib-dynload/\nconfig-3*/\nsite-packages/\n"


def stdlib_repo(where: Path) -> Path:
    """A copy of this interpreter's standard library in a fresh git repository."""
    root = where / "stdlib"
    shutil.copytree(sysconfig.get_paths()["stdlib"], root, symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "__pycache__"))  # fmt: skip
    (root / ".gitignore").write_text(IGNORE)
    who = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env = {**os.environ, **who, "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "stdlib"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return root


def floor(root: Path) -> float:
    """Seconds for a plain os.walk that reads every file."""
    start = time.perf_counter()
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    handle.read()
            except OSError:
                pass
    return time.perf_counter() - start


def timed(command: list[str], cwd: Path) -> float | None:
    """Seconds a peer tool takes, or None if it fails."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return time.perf_counter() - start if done.returncode == 0 else None


def peers(root: Path, out: Path) -> dict[str, float | None]:
    """repomix and gitingest timings on `root`, when they can be installed outside the venv."""
    found: dict[str, float | None] = {}
    if shutil.which("npx") and timed(["npx", "--yes", "repomix", "--version"], out) is not None:
        found["repomix"] = timed(["npx", "--yes", "repomix", str(root), "-o", str(out / "r.xml"),
                                  "--quiet"], out)  # fmt: skip
    else:
        print("repomix: not available (npx missing or offline); skipped")
    venv = Path("/tmp/gemloom-bench-gitingest")
    if not (venv / "bin" / "gitingest").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, check=False)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gitingest"],
                       capture_output=True, timeout=600, check=False)  # fmt: skip
    if (venv / "bin" / "gitingest").exists():
        found["gitingest"] = timed([str(venv / "bin" / "gitingest"), str(root), "-o",
                                    str(out / "g.txt")], out)  # fmt: skip
    else:
        print("gitingest: could not be installed; skipped")
    return found


def packs(root: Path, data: Path, edit: str) -> dict[str, float]:
    """Cold pack, warm re-pack, and re-pack after a one-file edit, with a fresh cache."""
    settings = load_settings(data_dir=data)
    shutil.rmtree(data, ignore_errors=True)
    start = time.perf_counter()
    cold = pack(root, settings=settings)
    figures = {"cold": time.perf_counter() - start}
    start = time.perf_counter()
    again = pack(root, settings=settings)
    figures["warm"] = time.perf_counter() - start
    assert again.text == cold.text
    target = root / edit
    target.write_text(target.read_text() + "\n# one edit\n")
    start = time.perf_counter()
    pack(root, settings=settings)
    figures["edit"] = time.perf_counter() - start
    start = time.perf_counter()
    pack(root, settings=settings, budget=250_000, question="how are json documents decoded?")
    figures["budget"] = time.perf_counter() - start
    s = cold.stats
    print(f"  {s.files} files: {s.full} full, {s.skipped} skipped, {s.redacted} redacted; "
          f"{len(cold.text) / 1e6:.1f} M chars, about {s.tokens:,} tokens")  # fmt: skip
    return figures


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


def main() -> None:
    """Run every measurement and print the figures side by side."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stdlib = stdlib_repo(work)
        for name, root, edit in (("stdlib", stdlib, "json/__init__.py"),
                                 ("project", PROJECT, "")):  # fmt: skip
            print(f"{name}: {root}")
            if not edit:  # never edit the project: pack a copy
                root = Path(
                    shutil.copytree(
                        PROJECT, work / "project", ignore=shutil.ignore_patterns(".venv")
                    )
                )
                edit = "gemloom/errors.py"
            floor(root)  # warm the page cache for everyone
            base = min(floor(root) for _ in range(3))
            ours = packs(root, work / f"home-{name}", edit)
            print(f"  floor (os.walk read) {base:.3f} s")
            print(f"  gemloom cold {ours['cold']:.3f} s = {ours['cold'] / base:.1f}x floor; warm "
                  f"{ours['warm']:.3f} s; after one edit {ours['edit']:.3f} s = "
                  f"{100 * ours['edit'] / ours['cold']:.0f}% of cold; budgeted 250K, question "
                  f"{ours['budget']:.3f} s")  # fmt: skip
            if "--no-peers" not in sys.argv:
                for peer, seconds in peers(root, work).items():
                    if seconds is None:
                        print(f"  {peer}: failed")
                    else:
                        ratio = seconds / ours["cold"]
                        print(f"  {peer} {seconds:.3f} s: gemloom cold is {ratio:.1f}x faster")
        print("token estimate vs Gemma 3 tokenizer:")
        calibrate([stdlib, PROJECT])


if __name__ == "__main__":
    main()
