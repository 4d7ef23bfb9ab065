"""Small file trees for tests: written from a mapping of relative paths to contents."""

from __future__ import annotations

import subprocess
from pathlib import Path


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Write each file under `root`, making its folders; bytes as they are, text as UTF-8."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def git(root: Path, *args: str) -> None:
    """Run git in `root` (quietly; a failure fails the test)."""
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
