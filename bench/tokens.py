"""Token estimate against Gemma's real tokenizer, per kind of text, and a refit of the weights.

Run: .venv/bin/python bench/tokens.py [TOKENIZER_JSON] [--fit]. The tokenizer defaults to
../shared/data/gemma3_tokenizer.json (Gemma 3's; the project never reads it at run time).
Prints estimate/real per kind on the fixed samples in tests/fixtures/tokens (the counts the
tests pin) and on larger corpora from this machine: the standard library's code, the license
texts in /usr/share/common-licenses, translations in /usr/share/locale, generated base64, hex,
JSON and lockfiles, and any *.min.js found under /usr/share and the virtualenv.
"""

from __future__ import annotations

import base64
import gettext
import hashlib
import json
import random
import sys
import sysconfig
import textwrap
from collections import defaultdict
from pathlib import Path

import numpy as np

from gemloom import messages
from gemloom.tokens import CLASS_WEIGHTS, CLASSES, class_counts, estimate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOKENIZER = Path("../shared/data/gemma3_tokenizer.json")  # from the project root
SAMPLES = ROOT / "tests" / "fixtures" / "tokens"
LOCALES = {
    "de": "prose_latin", "fr": "prose_latin", "es": "prose_latin", "tr": "prose_latin",
    "vi": "prose_vi", "ru": "prose_ru", "uk": "prose_ru", "el": "prose_el", "he": "prose_he",
    "ar": "prose_ar", "fa": "prose_ar", "hi": "prose_indic", "bn": "prose_indic",
    "ta": "prose_indic", "th": "prose_th", "zh_CN": "prose_zh", "ja": "prose_ja", "ko": "prose_ko",
    "ka": "prose_ka", "km": "prose_ka", "hy": "prose_he", "am": "prose_am",
}  # fmt: skip
CHUNK = 3000  # characters per fitted piece
UNDER_PENALTY = 20.0  # an estimate short by x costs as much as one 4.5x further over
DENSE = ("base64", "hex", "json", "lock", "min", "symbols")
MARGIN = 1.03  # dense kinds aim this far above their real count: they must never run short


def kind_of(name: str) -> str:
    """The kind of text a sample file holds, from its name."""
    stem = name.split(".")[0]
    return stem if stem.startswith("prose") else next(k for k in (*DENSE, "code") if k in stem)


def samples() -> dict[str, str]:
    """The fixed samples the tests pin, by file name."""
    return {p.name: p.read_text() for p in sorted(SAMPLES.iterdir())}


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK) if text[i : i + CHUNK].strip()]


def code_corpus(limit: int = 1_500_000) -> list[str]:
    """Python sources of the standard library, every third file, up to `limit` characters."""
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))[::3]
    texts, size = [], 0
    for path in files:
        if "site-packages" in path.parts or size > limit:
            continue
        text = path.read_text(errors="replace")
        texts.append(text)
        size += len(text)
    return texts


def prose_corpus() -> list[str]:
    """English license texts."""
    licenses = sorted(Path("/usr/share/common-licenses").glob("*"))
    return [p.read_text(errors="replace") for p in licenses if p.is_file()]


def translations(locale: str) -> list[str]:
    """Translated messages of the Debian packages on this machine, in one language."""
    found = []
    for path in sorted(Path(f"/usr/share/locale/{locale}/LC_MESSAGES").glob("*.mo")):
        if path.name.startswith("iso_"):  # lists of names, not prose
            continue
        try:
            catalog = gettext.GNUTranslations(path.open("rb"))
        except (OSError, ValueError):  # not a catalogue this Python can read
            continue
        strings = [v for k, v in catalog._catalog.items() if k and isinstance(v, str)]
        found.append("\n".join(s for s in strings if len(s) > 20))
    return [t for t in found if t]


def generated(seed: int) -> dict[str, list[str]]:
    """Base64, hex, JSON and lockfile texts made from a seeded generator."""
    rng = random.Random(seed)
    blobs = [bytes(rng.randrange(256) for _ in range(rng.randrange(500, 4000))) for _ in range(20)]
    b64 = [base64.b64encode(b).decode() for b in blobs]
    b64 = [("\n".join(textwrap.wrap(t, 76)) if i % 2 else t) for i, t in enumerate(b64)]
    hexes = [b.hex() for b in blobs[:10]]
    digests = [hashlib.sha256(f"{seed}{i}".encode()).hexdigest() for i in range(300)]
    hexes += ["\n".join(digests[i : i + 60]) for i in range(0, 300, 60)]
    words = ["id", "name", "value", "enabled", "created", "owner", "items", "count", "url"]
    docs = []
    for i in range(20):
        doc = [{w: _value(rng, words) for w in rng.sample(words, 6)} for _ in range(25)]
        docs.append(json.dumps(doc, indent=2 if i % 2 else None))
    locks = []
    for i in range(8):
        entries = {
            f"node_modules/p{i}-{j}": _npm_entry(f"p{j}", f"{j}.{i}.0", seed) for j in range(30)
        }
        locks.append(json.dumps({"lockfileVersion": 3, "packages": entries}, indent=2))
    return {"base64": b64, "hex": hexes, "json": docs, "lock": locks, "symbols": symbols(rng)}


def _value(rng: random.Random, words: list[str]) -> object:
    choices = [rng.randrange(10**6), rng.random(), f"{rng.choice(words)}{rng.randrange(99)}", True]
    return rng.choice([*choices, None])


def _npm_entry(name: str, version: str, seed: int) -> dict[str, str]:
    digest = hashlib.sha512(f"{seed}{name}{version}".encode()).digest()
    return {
        "version": version,
        "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
        "integrity": "sha512-" + base64.b64encode(digest).decode(),
    }


def symbols(rng: random.Random) -> list[str]:
    """Emoji, arrows, box drawing and full-width forms among ASCII words (chat, TUI output)."""
    ranges = [(0x1F300, 0x1F64F), (0x2190, 0x21FF), (0x2500, 0x257F), (0xFF01, 0xFF5E)]
    texts = []
    for _ in range(12):
        low, high = rng.choice(ranges)
        parts = [
            chr(rng.randrange(low, high)) * rng.choice([1, 1, 3])
            if rng.random() < 0.6
            else rng.choice(["ok", "done", "→ next", "build"])
            for _ in range(400)
        ]
        texts.append(" ".join(parts))
    return texts


def minified() -> list[str]:
    """Minified JavaScript found on this machine."""
    places = [Path("/usr/share"), Path(sys.prefix), Path.home() / ".rustup"]
    found = {p.name: p for base in places if base.exists() for p in base.rglob("*.min.js")}
    return [p.read_text(errors="replace") for _, p in sorted(found.items())][:20]


def corpora() -> dict[str, list[str]]:
    """Every kind of text with what this machine has of it."""
    kinds: dict[str, list[str]] = defaultdict(list)
    kinds["code"] += code_corpus()
    kinds["prose_en"] += prose_corpus()
    for locale, kind in LOCALES.items():
        kinds[kind] += translations(locale)
    for kind, texts in generated(7).items():
        kinds[kind] += texts
    kinds["min"] += minified()
    return dict(kinds)


def count(tokenizer, texts: list[str]) -> list[int]:
    """Real Gemma token counts."""
    return [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def nnls(a: np.ndarray, b: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Least squares with non-negative weights (Lawson and Hanson's active-set method)."""
    n = a.shape[1]
    active, x = np.zeros(n, dtype=bool), np.zeros(n)
    gradient = a.T @ b
    while (~active).any() and gradient[~active].max() > tol:
        active[np.argmax(np.where(active, -np.inf, gradient))] = True
        while True:
            z = np.zeros(n)
            z[active] = np.linalg.lstsq(a[:, active], b, rcond=None)[0]
            if (z[active] > tol).all():
                break
            bad = active & (z <= tol)
            step = np.min(x[bad] / (x[bad] - z[bad]))
            x = x + step * (z - x)
            active &= x > tol
        x = z
        gradient = a.T @ (b - a @ x)
    return x


def fit(rows: np.ndarray, real: np.ndarray, kinds: list[str]) -> np.ndarray:
    """Non-negative weights minimising relative error, under-estimates weighed UNDER_PENALTY.

    Each kind weighs the same; a fixed sample ("prose_ja*") is a kind of its own, so one page
    of real prose counts as much as all the translated messages of that language.
    """
    names = sorted(set(kinds))
    groups = np.array([names.index(k) for k in kinds])
    target = np.array([MARGIN if k.rstrip("*") in DENSE else 1.0 for k in kinds])
    scaled = rows / real[:, None]  # relative error: every piece counts alike
    per_kind = 1.0 / np.bincount(groups)[groups]  # every kind counts alike
    ridge = np.sqrt(1e-4) * np.eye(rows.shape[1])
    weights = nnls(scaled * np.sqrt(per_kind)[:, None], target * np.sqrt(per_kind))
    for _ in range(20):  # asymmetric loss by reweighting (an expectile regression)
        under = scaled @ weights < target
        w = np.sqrt(per_kind * np.where(under, UNDER_PENALTY, 1.0))
        a = np.vstack([scaled * w[:, None], ridge])
        weights = nnls(a, np.concatenate([target * w, np.zeros(rows.shape[1])]))
    return weights


def report(title: str, kinds: dict[str, list[str]], tokenizer, weights=None) -> None:
    """estimate/real per kind, for the shipped weights (and refitted ones when given)."""
    print(title)
    head = f"  {'kind':12} {'texts':>6} {'chars/token':>12} {'estimate/real':>14}"
    print(head + f" {'text_tokens/real':>17}" + ("  refit/real" if weights is not None else ""))
    for kind, texts in kinds.items():
        real = count(tokenizer, texts)
        chars = sum(map(len, texts))
        ours = sum(estimate(t) for t in texts)
        floor = sum(messages.text_tokens(t) for t in texts)
        line = f"  {kind:12} {len(texts):6} {chars / sum(real):12.2f} {ours / sum(real):14.3f}"
        line += f" {floor / sum(real):17.3f}"
        if weights is not None:
            refit = sum(float(class_counts(t.encode()) @ weights) for t in texts)
            line += f"  {refit / sum(real):10.3f}"
        print(line)


def main() -> None:
    """Measure, and with --fit print refitted weights for gemloom/tokens.py."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = Path(args[0]) if args else DEFAULT_TOKENIZER
    if not path.exists():
        sys.exit(f"no tokenizer at {path}: pass the path of a tokenizer.json")
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    fixed = samples()
    weights = None
    kinds = corpora()
    if "--fit" in sys.argv:
        pieces = [(k, c) for k, texts in kinds.items() for t in texts for c in _chunks(t)]
        pieces += [(kind_of(n) + "*", c) for n, t in fixed.items() for c in _chunks(t)]
        rows = np.array([class_counts(c.encode()) for _, c in pieces])
        real = np.array(count(tokenizer, [c for _, c in pieces]), dtype=float)
        weights = fit(rows, real, [k for k, _ in pieces])
        fitted = {c: round(float(w), 4) for c, w in zip(CLASSES, weights, strict=True) if w}
        print("refitted CLASS_WEIGHTS:", fitted)
    report("corpora on this machine:", kinds, tokenizer, weights)
    print("fixed samples (tests/fixtures/tokens; the tests pin these real counts):")
    print(f"  {'sample':20} {'real':>6} {'estimate':>9} {'ratio':>6}")
    for name, text in fixed.items():
        real = count(tokenizer, [text])[0]
        print(f"  {name:20} {real:6} {estimate(text):9.1f} {estimate(text) / real:6.3f}")
    print("  shipped:", {k: v for k, v in CLASS_WEIGHTS.items() if v})


if __name__ == "__main__":
    main()
