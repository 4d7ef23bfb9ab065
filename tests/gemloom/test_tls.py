"""TLS to Ollama: https hosts are verified as httpx verifies; plain HTTP reads no certificates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from fake_ollama import FakeOllama, Turn

from gemloom import llm_hosts
from gemloom.cli import main
from gemloom.errors import GemloomError
from gemloom.llm import LLM
from gemloom.settings import load_settings


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def behind_tls(authority: trustme.CA, tmp_path: Path) -> Iterator[FakeOllama]:
    """The fake Ollama behind a TLS proxy whose certificate `authority` signed."""
    pem = tmp_path / "server.pem"
    authority.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    fake = FakeOllama(tls=pem).start()
    assert fake.url.startswith("https://")
    yield fake
    fake.stop()


@pytest.fixture
def fresh_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process-wide trust that has not read any certificates yet."""
    monkeypatch.setattr(llm_hosts, "_TRUST", None)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def test_an_https_server_signed_by_a_trusted_authority_answers(
    behind_tls, authority, fresh_trust, tmp_path, monkeypatch
) -> None:
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    behind_tls.script(Turn("over TLS"))
    llm = LLM(load_settings(ollama_host=behind_tls.url), retries=0)
    assert llm.chat([{"role": "user", "content": "hi"}]).content == "over TLS"
    assert llm_hosts.trust().cert_store_stats()["x509_ca"] == 1  # read at the handshake


def test_an_https_server_with_an_untrusted_certificate_is_refused_in_one_line(
    behind_tls, fresh_trust, monkeypatch, capsys, tmp_path
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # certifi's bundle: the test CA is not in it
    llm = LLM(load_settings(ollama_host=behind_tls.url), retries=0)
    with pytest.raises(GemloomError) as caught:
        llm.chat([{"role": "user", "content": "hi"}])
    assert "\n" not in str(caught.value) and "SSL_CERT_FILE" in str(caught.value)
    assert not behind_tls.chat_bodies()  # nothing was sent past the failed handshake
    assert llm_hosts.trust().cert_store_stats()["x509_ca"] > 1  # certifi's bundle was read

    monkeypatch.setenv("OLLAMA_HOST", behind_tls.url)
    assert main(["ask", str(tmp_path), "hello?"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "certificate that does not verify" in err


def test_plain_http_reads_no_certificates(fake_ollama, fresh_trust) -> None:
    fake_ollama.script(Turn("plain"))
    for _ in range(3):  # every client shares the one context
        llm = LLM(load_settings(ollama_host=fake_ollama.url), retries=0)
        assert llm.chat([{"role": "user", "content": "hi"}]).content == "plain"
        fake_ollama.script(Turn("plain"))
    assert llm_hosts.load(fake_ollama.url) is not None  # the busy-ness probe's client too
    assert llm_hosts.trust().cert_store_stats()["x509_ca"] == 0
    assert llm_hosts.trust().verify_mode.name == "CERT_REQUIRED"
    assert llm_hosts.trust().check_hostname
