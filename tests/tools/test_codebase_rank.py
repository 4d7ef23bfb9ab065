"""The ranking a budgeted pack uses: named files first, question words, the reference graph."""

from __future__ import annotations

import random
import re
from pathlib import PurePosixPath

from gemloom.tokens import estimate
from gemloom.tools.codebase.budget import fit, frame_tokens, section_tokens
from gemloom.tools.codebase.grammars import file_name, stem, suffix
from gemloom.tools.codebase.outline import outline
from gemloom.tools.codebase.rank import named, rank, score
from gemloom.tools.codebase.render import Entry
from gemloom.tools.codebase.symbols import _OTHER_DEFS, declared, pagerank, symbols

FILLER = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n" for i in range(30))


def _tree() -> dict[str, str]:
    files = {f"pkg/mod_{i}.py": FILLER for i in range(10)}
    files["pkg/config.py"] = (
        "def parse_config(text):\n    return dict(x.split('=') for x in text)\n"
    )
    files["pkg/store.py"] = "class KeyStore:\n    def save(self, key, value):\n        pass\n"
    files["pkg/users.py"] = (
        "from pkg.store import KeyStore\n\nstore = KeyStore()\nstore.save(1, 2)\n"
    )
    return files


def test_file_defining_a_named_identifier_comes_first() -> None:
    assert rank(_tree(), "why does parse_config drop empty lines?", [])[0] == "pkg/config.py"
    assert rank(_tree(), "where is KeyStore kept?", [])[0] == "pkg/store.py"


def test_file_named_by_path_comes_first() -> None:
    order = rank(_tree(), "what does pkg/mod_7.py do with helpers?", [])
    assert order[0] == "pkg/mod_7.py"


def test_question_words_in_the_text_rank_a_file_up() -> None:
    files = _tree()
    files["pkg/mod_3.py"] = FILLER + "# retry the upload with backoff when the upload fails\n"
    assert rank(files, "how is a failed upload retried?", [])[0] == "pkg/mod_3.py"


def test_files_that_many_others_use_rank_higher_in_the_graph() -> None:
    files = {
        "a.py": "from core import Engine\nEngine()\n",
        "b.py": "from core import Engine\nEngine()\n",
        "c.py": "from core import Engine\nEngine()\n",
        "core.py": "class Engine:\n    pass\n",
        "lonely.py": "class Lonely:\n    pass\n",
    }
    index = {p: symbols(p, t) for p, t in files.items()}
    graph = pagerank(index, {}, set())
    assert max(graph, key=graph.get) == "core.py"
    assert graph["core.py"] > 2 * graph["lonely.py"]
    assert abs(sum(graph.values()) - 1) < 1e-9


def test_the_graph_brings_in_what_a_matching_file_depends_on() -> None:
    files = {f"pkg/mod_{i}.py": FILLER for i in range(6)}
    files["pkg/upload.py"] = (
        "from pkg.wire import Transport\n\ndef upload(data):\n    Transport().send(data)\n"
    )
    files["pkg/wire.py"] = "class Transport:\n    def send(self, data):\n        pass\n"
    order = rank(files, "how does upload work?", [])
    assert order[:2] == ["pkg/upload.py", "pkg/wire.py"]


def test_symbols_of_other_languages_and_empty_trees() -> None:
    go = symbols("s.go", "func (s *Server) Start() error {\n}\ntype Config struct {}\n")
    assert {"Start", "Config"} <= go.defines
    assert pagerank({}, {}, set()) == {}
    assert rank({}, "anything", []) == []


def test_identifiers_named_in_a_question() -> None:
    assert named("Does Session.flush call _flush or flush_all in IntRange?") == {
        "_flush", "flush_all", "IntRange",
    }  # fmt: skip


def test_recent_files_rank_up_when_nothing_else_differs() -> None:
    files = {f"m{i}.py": "x = 1\n" for i in range(5)}
    assert rank(files, "", ["m3.py"])[0] == "m3.py"


def test_the_top_files_are_shown_whole_before_the_tails_outlines() -> None:
    body = "".join(
        f"def step_{i}(value):\n    doubled = value * 2\n    total = doubled + {i}\n"
        f"    return total * {i}\n\n"
        for i in range(40)
    )
    entries = [Entry(f"m{i:02d}.py", "full", body, estimate(body)) for i in range(12)]

    def outline_of(entry: Entry) -> tuple[str, float]:
        text = outline(entry.path, entry.text)
        return text, estimate(text)

    one = section_tokens(entries[0], "full", body, entries[0].tokens, "xml")
    text, tokens = outline_of(entries[0])
    brief = section_tokens(entries[0], "outline", text, tokens, "xml")
    assert brief < 0.55 * one  # so that 70% of the room holds only one file whole
    budget = int(frame_tokens("t", entries, "xml") + 2 * one + 1.5 * brief)  # 70%: one whole
    fit("t", entries, entries, budget, "xml", outline_of)
    status = [e.status for e in entries]
    assert status[:2] == ["full", "full"]
    assert "outline" in status and status[-1] == "omitted"  # the tail's outlines made room


def test_prose_and_markup_declare_no_names() -> None:
    text = 'The class KeyStore keeps keys; <span class="type KeyStore">.\n'
    assert symbols("docs/store.rst", text).defines == frozenset()
    assert symbols("docs/store.html", text).defines == frozenset()
    assert "KeyStore" in symbols("tools/store.pyx", "cdef class KeyStore:\n").defines
    files = _tree() | {"docs/store.rst": text * 3}
    assert rank(files, "where is KeyStore kept?", [])[0] == "pkg/store.py"


def test_a_declared_name_holding_a_question_word_ranks_a_file_up() -> None:
    counts = {"deck": 1}
    assert score("m.py", "shuffle_deck\ncards", counts, {}) > score("m.py", "cards", counts, {})
    assert score("m.py", "shuffle_deck", {"deck": 0}, {}) == score("m.py", "", {"deck": 0}, {})


def test_name_suffix_and_stem_match_pathlib() -> None:
    for path in ("a/b.py", "a/.bashrc", "a.b/c", "x.", "...", "a/b.tar.gz", "d/.env.local"):
        assert (suffix(path), stem(path)) == (PurePosixPath(path).suffix, PurePosixPath(path).stem)
        assert file_name(path) == PurePosixPath(path).name


def test_other_languages_declare_what_a_word_bounded_findall_finds() -> None:
    bounded = re.compile(r"\b" + _OTHER_DEFS.pattern)  # the pattern as it was, boundary first
    cases = [
        "subclass type Bar", "éclass Foo", "_fn x", "x.type Foo", "function* gen() {}",
        "func (s *Server) Start() error", "deftype fn Baz", "fn fn fn", "ñfunc a; func b",
        "class\u00a0Wide", "9struct S", "class", "",
    ]  # fmt: skip
    pieces = ["class ", "type ", "fn", "def", "sub", "é", "_", "x", " ", "\n", "(a) ", "Name", "*"]
    rng = random.Random(7)
    cases += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30))) for _ in range(2000)]
    for text in cases:
        assert declared("a.js", text) == frozenset(bounded.findall(text)), text
    assert declared("a.go", "func (s *Server) Start() error {}\ntype Config struct {}\n") == {
        "Start", "Config"
    }  # fmt: skip
