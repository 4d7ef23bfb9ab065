"""Every ```python block of README.md runs, in a fresh subprocess, against the fake Ollama.

The convention (for anyone adding a block): an HTML comment right before the fence, with a JSON
object after `readme-test:`, tells this test how to run the block. GitHub does not show it.

    <!-- readme-test: {"replies": [...], "files": {...}, "stdout": [...]} -->
    <!-- readme-test: {"skip": "because the block needs a real display"} -->

Other HTML comments (such as tests/test_readme_plugin.py's `<!-- file: PATH -->`) may stand
between it and the fence.

- `replies`: the fake Ollama's scripted /api/chat answers, in order; each is the keyword
  arguments of tests/fake_ollama.py's `Turn` (`content`, `tool_calls` as
  `[{"name": ..., "arguments": {...}}]`, `thinking`, ...). Every reply must be used up.
- `files`: files (relative path -> text) made in the program's working folder first.
- `stdout`: strings the program must print.
- `args`: command-line arguments for the program.
- `skip`: a reason; the block is reported skipped with it (say why in the README's review).

A block without a comment must run with no scripted replies and exit 0. The program runs with
`python FILE` in a fresh folder, with OLLAMA_HOST at the fake server and gemloom's data
directory in the test's temporary folder; it must exit 0 within 120 seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_ollama import FakeOllama, Turn

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(
    r"(?:<!--\s*readme-test:(?P<spec>[^\n]*?)-->\s*\n(?:<!--[^\n]*-->\s*\n)*)?"
    r"^```python\n(?P<code>.*?)^```",
    re.M | re.S,
)


@dataclass
class Block:
    """One ```python block of the README and how to run it."""

    line: int
    code: str
    spec: dict[str, Any] = field(default_factory=dict)


def blocks(text: str) -> list[Block]:
    """The README's python blocks, each with its readme-test instructions."""
    found = []
    for match in BLOCK.finditer(text):
        spec = json.loads(match["spec"]) if match["spec"] else {}
        line = text.count("\n", 0, match.start("code"))
        found.append(Block(line, match["code"], spec))
    return found


ALL = blocks(README.read_text())


def test_the_build_your_own_agent_section_has_its_programs() -> None:
    section = README.read_text().split("## Build your own agent", 1)[1].split("\n## ", 1)[0]
    assert len(blocks(section)) >= 2
    assert all(b.spec.get("replies") for b in blocks(section)[:2])  # they talk to the model


def test_a_bad_instruction_comment_is_found() -> None:
    text = '<!-- readme-test: {"skip": "because"} -->\n```python\nprint(1)\n```\n'
    assert blocks(text) == [Block(2, "print(1)\n", {"skip": "because"})]
    other = '<!-- readme-test: {"skip": "why"} -->\n<!-- file: a.py -->\n```python\nx\n```\n'
    assert blocks(other)[0].spec == {"skip": "why"}
    with pytest.raises(json.JSONDecodeError):
        blocks("<!-- readme-test: {not json} -->\n```python\nx\n```\n")


@pytest.mark.parametrize("block", ALL, ids=[f"README.md:{b.line}" for b in ALL])
def test_readme_block_runs(block: Block, fake_ollama: FakeOllama, tmp_path: Path) -> None:
    if reason := block.spec.get("skip"):
        pytest.skip(f"README.md:{block.line}: {reason}")
    program = tmp_path / "program.py"
    program.write_text(block.code)
    cwd = tmp_path / "work"
    cwd.mkdir()
    for name, text in block.spec.get("files", {}).items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(text)
    fake_ollama.script(*(Turn(**reply) for reply in block.spec.get("replies", [])))
    done = subprocess.run(
        [sys.executable, str(program), *block.spec.get("args", [])],
        cwd=cwd, env={**os.environ, "OLLAMA_HOST": fake_ollama.url},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"README.md:{block.line} failed:\n{done.stderr}"
    for expected in block.spec.get("stdout", []):
        assert expected in done.stdout, f"README.md:{block.line}: {expected!r} not printed"
    assert not fake_ollama.turns, f"README.md:{block.line} left scripted replies unused"
