"""Recall on a shared Chroma server beside the embedded store, one run, same records and queries.

Three stores hold the same docstring sentences (bench/corpus.py, embedded once by the offline
embedder): the embedded store (the baseline), `chroma run` on a loopback port (chromadb 1.x's
Rust server, which has no auth), and chromadb's Python server with its token auth on, reached
with GEMLOOM_CHROMA_TOKEN's header. Each answers the same held-out queries, by vector
(the store alone) and by text (with the query's embedding, as `gemloom memory recall` does);
the queries go to the three stores in turn, so a busy machine slows all of them alike.

Run: .venv/bin/python bench/shared_memory.py [--records 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from corpus import embedded, sentences

from gemloom.memory.embedders import OfflineEmbedder
from gemloom.memory.records import Kind, Record
from gemloom.memory.store import MemoryStore
from gemloom.settings import load_settings

K = 5
TOKEN = "bench-token"
SERVE = (
    "import sys, uvicorn, gemloom.memory.embedders; "
    "uvicorn.run('chromadb.app:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _server(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """A Chroma server process on `port`, until the block ends."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {proc.returncode}")
            time.sleep(0.2)
        yield url
    finally:
        proc.kill()
        proc.wait(10)


def rust_server(folder: Path) -> contextlib.AbstractContextManager[str]:
    """`chroma run`, as a team would start it."""
    port = _port()
    chroma = str(Path(sys.executable).with_name("chroma"))
    args = ["run", "--path", str(folder / "rust"), "--host", "127.0.0.1", "--port", str(port)]
    return _server([chroma, *args], port)


def token_server(folder: Path) -> contextlib.AbstractContextManager[str]:
    """chromadb's Python server with token auth on."""
    port = _port()
    env = {
        **os.environ, "IS_PERSISTENT": "TRUE", "PERSIST_DIRECTORY": str(folder / "python"),
        "CHROMA_SERVER_AUTHN_PROVIDER":
            "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        "CHROMA_SERVER_AUTHN_CREDENTIALS": TOKEN, "ANONYMIZED_TELEMETRY": "FALSE",
    }  # fmt: skip
    return _server([sys.executable, "-c", SERVE, str(port)], port, env)


def p50(samples: list[float]) -> float:
    """The median in milliseconds."""
    return float(np.percentile(np.asarray(samples) * 1000, 50))


def timed(stores: dict[str, MemoryStore], vectors: np.ndarray, texts: list[str]) -> dict:
    """p50 of recall by vector and by text, in ms, per store; each query goes to all in turn."""
    for store in stores.values():
        store.recall_vector(vectors[0], K)  # first query loads the index
    by_vector: dict[str, list[float]] = {label: [] for label in stores}
    by_text: dict[str, list[float]] = {label: [] for label in stores}
    for vector, text in zip(vectors, texts, strict=True):
        for label, store in stores.items():  # interleaved: the machine's load hits all alike
            start = time.perf_counter()
            store.recall_vector(vector, K)
            by_vector[label].append(time.perf_counter() - start)
            start = time.perf_counter()
            store.recall(text, K)
            by_text[label].append(time.perf_counter() - start)
    return {label: (p50(by_vector[label]), p50(by_text[label])) for label in stores}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    total = args.records + args.queries
    embedder = OfflineEmbedder()
    vectors = embedded(total, embedder, "minilm-int8")
    texts = sentences(total)
    records = [Record(text=t, kind=Kind.NOTE) for t in texts[: args.records]]
    queries, query_texts = vectors[args.records :], texts[args.records :]
    print(f"{args.records:,} docstring sentences, {args.queries} held-out queries, k={K}")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        stores = {"embedded (baseline)": MemoryStore.open(folder / "embedded", embedder=embedder)}
        for label, start, settings in (
            ("chroma run (no auth)", rust_server, load_settings()),
            ("Python server, token", token_server, load_settings(chroma_token=TOKEN)),
        ):
            url = stack.enter_context(start(folder))
            stores[label] = MemoryStore.open(url=url, embedder=embedder, settings=settings)
        for store in stores.values():
            stack.callback(store.close)
            store.put(records, vectors[: args.records])
        results = timed(stores, queries, query_texts)
    base_vector, base_text = results["embedded (baseline)"]
    for label, (by_vector, by_text) in results.items():
        print(
            f"{label:22} recall by vector p50 {by_vector:6.2f} ms ({by_vector / base_vector:4.1f}x)"
            f"   by text p50 {by_text:6.2f} ms ({by_text / base_text:4.1f}x)"
        )


if __name__ == "__main__":
    main()
