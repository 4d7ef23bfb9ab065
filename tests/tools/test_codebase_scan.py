"""A budgeted pack that cannot fit whole scans files for secrets on demand: what it shows is
redacted (full text and outlines), the cache never keeps raw text, and warm equals cold."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest
from trees import write

from gemloom.settings import load_settings
from gemloom.tokens import FLOOR_WEIGHT, estimate_bytes, floor_bytes
from gemloom.tools.codebase import pack as packing
from gemloom.tools.codebase.cache import decode, encode
from gemloom.tools.codebase.files import Skip, _read_fd, load, read_bytes, resolve
from gemloom.tools.codebase.render import UNREAD_NOTE
from gemloom.tools.codebase.tools import pack

QUESTION = "how is the config parsed and the database url loaded?"
SHOWN = "postgres://u:hunter22@h/db"  # in a file shown in full
OUTLINED = "postgres://u:hunter33@h/db"  # in a signature's default, in an outlined file
HIDDEN = "postgres://u:hunter44@h/db"  # in a file the pack omits


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    body = "".join(
        f"def helper_{j}(value):\n    doubled = value * 2\n    return doubled * {j}\n\n"
        for j in range(1000)
    )
    files = {f"pkg/mod_{i:02d}.py": f'"""Module {i}."""\n\n{body}' for i in range(40)}
    files["pkg/mod_07.py"] += f'\nFALLBACK = "{HIDDEN}"\n'
    files["pkg/parser.py"] = (
        '"""Parse the config file and load the database url."""\n\n'
        f'DEFAULT_URL = "{SHOWN}"\n\n\ndef parse_config(text):\n'
        "    return dict(line.split('=') for line in text.splitlines())\n"
    )
    loader = (
        '"""Load the config: parse the database url of the config."""\n\n\n'
        f'def load_database_url(config, url="{OUTLINED}"):\n'
        '    """Parse the database url from the config."""\n'
    )
    files["pkg/loader.py"] = loader + "    config = parse(config)  # config parsed\n" * 3000
    files[".env"] = "DATABASE_TOKEN=abc123\n"  # secret by its path
    files["pkg/tags.py"] = f'"""Config: </file> <file path="x">"""\nURL = "{HIDDEN}"\n'
    write(folder, files)
    return folder


def budgeted(root: Path, **options) -> packing.Pack:
    return pack(root, budget=6_000, question=QUESTION, use_git=False, **options)


def sections(packed: packing.Pack) -> dict[str, str]:
    return {e.path: e.text for e in packed.entries if e.status in ("full", "outline")}


def shown_text(packed: packing.Pack, path: str) -> str:
    return sections(packed)[path]


@pytest.mark.parametrize("fmt", ["xml", "markdown"])
def test_what_a_budgeted_pack_shows_is_redacted_whole_or_outlined(root: Path, fmt: str) -> None:
    packed = budgeted(root, fmt=fmt)
    status = {e.path: e.status for e in packed.entries}
    assert status["pkg/parser.py"] == "full" and status["pkg/loader.py"] == "outline"
    assert status["pkg/mod_07.py"] == "omitted"
    assert status[".env"] == status["pkg/tags.py"] == "full"  # small: shown once scanned
    assert UNREAD_NOTE in packed.text  # files were left unscanned: the legend says so
    assert packed.stats.tokens <= 6_000
    for secret in ("hunter22", "hunter33", "hunter44", "abc123"):
        assert secret not in packed.text
    if fmt == "xml":  # escaped as well as redacted
        assert '"""Config: &lt;/file> &lt;file path="x">"""' in shown_text(packed, "pkg/tags.py")
    shown = sections(packed)
    assert 'DEFAULT_URL = "postgres://u:[REDACTED:password_in_url]@h/db"' in shown["pkg/parser.py"]
    assert 'url="postgres://u:[REDACTED:password_in_url]@h/db"' in shown["pkg/loader.py"]
    assert "pkg/parser.py: 1 (password_in_url) on lines 3" in packed.text
    assert "pkg/loader.py: 1 (password_in_url) on lines 4" in packed.text
    assert "pkg/mod_07.py:" not in packed.text  # not shown: its redactions are not listed
    assert packed.stats.redacted == 4  # parser, loader, .env and tags


def test_files_ruled_out_by_their_floor_are_never_scanned(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[str] = []
    scan = packing.scan_record

    def counted(record, rel):
        scanned.append(rel)
        return scan(record, rel)

    monkeypatch.setattr(packing, "scan_record", counted)
    packed = budgeted(root)
    shown = {e.path for e in packed.entries if e.status in ("full", "outline")}
    assert shown <= set(scanned) and len(scanned) < len(packed.entries) - 5


def test_packs_after_a_budgeted_one_still_redact_and_warm_equals_cold(
    root: Path, tmp_path: Path
) -> None:
    cold = budgeted(root)
    warm = budgeted(root)  # the cache now holds the records of the files scanned
    assert warm.data == cold.data
    roomier = pack(root, budget=40_000, question=QUESTION, use_git=False)
    whole = pack(root, use_git=False)
    for packed in (roomier, whole):
        for secret in ("hunter22", "hunter33", "hunter44", "abc123"):
            assert secret not in packed.text
    assert whole.stats.redacted == 5
    again = budgeted(root)  # after a whole pack (spliceable) and every file scanned
    assert again.data == cold.data
    fresh = budgeted(root, settings=load_settings(data_dir=tmp_path / "fresh"))
    assert fresh.data == cold.data


def test_an_unscanned_record_is_cached_without_its_text_and_scanned_when_read_back(
    root: Path, tmp_path: Path
) -> None:
    full, st = resolve(root, "pkg/parser.py")
    raw, _ = load(full, "pkg/parser.py", st, None, scan=False)
    assert not raw.scanned and b"hunter22" in (raw.body or b"")
    (back,) = decode(encode({"pkg/parser.py": raw})).values()
    assert not back.scanned and back.body is None  # the file keeps the text, not the cache
    for cached in (raw, back):  # in memory (raw text) or read back from disk
        record, changed = load(full, "pkg/parser.py", st, cached)
        assert record.scanned and changed and record.redactions
        assert b"hunter22" not in (record.body or b"")
    raw.outline = "def f(url='postgres://u:hunter22@h/db'): ..."
    with pytest.raises(ValueError, match="unscanned"):
        encode({"pkg/parser.py": raw})


def _samples() -> list[bytes]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py"))[:150]
    return [p.read_bytes() for p in files] + [os.urandom(5000), b"\n" * 300, b"A" * 999, b""]


def test_the_token_floor_never_exceeds_the_estimate() -> None:
    for data in _samples():
        assert floor_bytes(data) <= estimate_bytes(data)
    ratio = sum(map(floor_bytes, _samples())) / sum(map(estimate_bytes, _samples()))
    assert ratio > 0.2  # a floor that rules files out, not zero


def test_a_budget_the_sizes_fit_packs_whole_without_a_floor_pass(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    roomy = int(size * FLOOR_WEIGHT) + 1  # floors count at most FLOOR_WEIGHT a byte
    floors: list[int] = []
    floor = packing.floor_bytes
    monkeypatch.setattr(packing, "floor_bytes", lambda data: floors.append(1) or floor(data))

    def cold(budget: int) -> packing.Pack:
        home = tmp_path / f"home-{len(list(tmp_path.iterdir()))}"
        return packing.pack(root, budget=budget, use_git=False,
                            settings=load_settings(data_dir=home))  # fmt: skip

    shortcut = cold(roomy)
    assert floors == []
    monkeypatch.setattr(packing, "_size_floor", lambda *_: float("inf"))
    assert cold(roomy).data == shortcut.data and floors  # the floor pass decides the same
    monkeypatch.undo()
    floors.clear()
    monkeypatch.setattr(packing, "floor_bytes", lambda data: floors.append(1) or floor(data))
    cold(roomy - 2)
    assert floors  # over the budget by size: the files' own floors decide


def test_a_file_longer_than_its_stat_said_is_read_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "grown.txt"
    path.write_bytes(b"x" * 200_000)
    full, st = resolve(tmp_path, "grown.txt")
    fd = os.open(full, os.O_RDONLY)
    try:
        assert _read_fd(fd, 10, -1) == b"x" * 200_000  # the stat was older than the file
        os.lseek(fd, 0, os.SEEK_SET)
        assert _read_fd(fd, 200_000, 4096) == b"x" * 4096
    finally:
        os.close(fd)
    assert read_bytes(full, st) == b"x" * 200_000 and read_bytes(full, st, 5) == b"xxxxx"
    (tmp_path / "other.txt").write_bytes(b"other")
    (tmp_path / "other.txt").replace(path)  # another file by the same name
    with pytest.raises(Skip, match="changed while being read"):
        read_bytes(full, st)


def test_generated_and_minified_are_told_in_text_that_is_not_ascii(tmp_path: Path) -> None:
    write(tmp_path, {
        "gen.py": "# caf\u00e9 \u2014 Code generated by a tool\nX = 1\n",
        "min.js": "var s='\u00e9';" + "a=1;" * 2000,
        "prose.md": ("\u00e9l\u00e8ve " * 10 + "\n") * 100,
    })  # fmt: skip
    reasons = {e.path: e.reason for e in pack(tmp_path, use_git=False).entries}
    assert reasons["gen.py"].startswith("generated") and reasons["min.js"].startswith("minified")
    assert reasons["prose.md"] == ""
