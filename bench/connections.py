"""Chats over one kept connection vs a new connection each, to a fake Ollama over HTTP and TLS.

Ollama keeps connections alive (Go's net/http defaults), and gemloom's client reads each chat
stream to its end so the connection goes back to the pool for the next request. This times
`LLM.chat` that way against the same client with no idle connection kept (every chat opens a
new TCP connection, and over TLS makes a new handshake: what gemloom did before it read the
end of the stream), and against the floor, the raw ollama client on a kept connection. Plain
HTTP is a local Ollama; TLS stands for a shared server behind a TLS proxy (on loopback here,
so without a network's round trips, which each new connection pays once or twice more).

The fake server (tests/fake_ollama.py) runs in a process of its own, answers at once, and is
behind a certificate of a throwaway authority for the TLS rows. Rounds are interleaved.

    .venv/bin/python bench/connections.py [--chats 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import ollama
import trustme
from tool_loop import fake_server

from gemloom import messages as msg
from gemloom.llm import LLM
from gemloom.llm_hosts import ollama_client, trust
from gemloom.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_ollama import FakeOllama, Turn


def serve(pem: str | None) -> None:
    """Run the fake server in this process (behind TLS with `pem`) until stdin closes."""
    server = FakeOllama(tls=Path(pem) if pem else None).start()
    server.default = Turn("an answer")
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def per_chat(chat: Callable[[], object], count: int) -> float:
    """Median seconds of `count` chats."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        chat()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def loops(url: str) -> dict[str, Callable[[], object]]:
    """The three ways to chat with the server at `url`, each with its client made once."""
    settings = load_settings(ollama_host=url)
    timeout = httpx.Timeout(settings.request_timeout, connect=5.0)
    kept = LLM(settings, retries=0)
    fresh = LLM(settings, retries=0, client=ollama.Client(
        host=url, timeout=timeout, verify=trust(),
        limits=httpx.Limits(max_keepalive_connections=0),  # every chat on a new connection
    ))  # fmt: skip
    raw = ollama_client(url, timeout)  # the official client as gemloom makes it
    question = [msg.user("hi")]

    def raw_chat() -> None:
        for _ in raw.chat("gemma4:12b", question, stream=True):
            pass

    return {
        "gemloom, one kept connection": lambda: kept.chat(question),
        "gemloom, a new connection each": lambda: fresh.chat(question),
        "floor: raw ollama client, kept": raw_chat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=40, help="chats per loop and round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--serve", nargs="?", const="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve or None)
        return
    with tempfile.TemporaryDirectory() as tmp:
        authority = trustme.CA()
        pem = Path(tmp) / "server.pem"
        authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
        bundle = Path(tmp) / "ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        os.environ.update(SSL_CERT_FILE=str(bundle), GEMLOOM_HOME=str(Path(tmp) / "home"))
        load = os.getloadavg()[0]
        print(f"median ms a chat over {args.chats} chats, best of {args.rounds} interleaved "
              f"rounds; load {load:.2f} on {os.cpu_count()} cores")  # fmt: skip
        for label, extra in (("plain HTTP", ()), ("TLS", (str(pem),))):
            with fake_server(__file__, "--serve", *extra) as url:
                ways = loops(url)
                for chat in ways.values():
                    chat()  # connect, and learn the model's capabilities
                best = dict.fromkeys(ways, float("inf"))
                for _ in range(args.rounds):
                    for name, chat in ways.items():
                        best[name] = min(best[name], per_chat(chat, args.chats))
            floor = best["floor: raw ollama client, kept"]
            print(f"{label} ({url.split(':')[0]})")
            for name, seconds in best.items():
                print(f"  {name:32} {seconds * 1000:6.2f} ms   {seconds / floor:4.2f}x the floor")
            saved = best["gemloom, a new connection each"] - best["gemloom, one kept connection"]
            print(f"  a kept connection saves {saved * 1000:.2f} ms a chat")


if __name__ == "__main__":
    main()
