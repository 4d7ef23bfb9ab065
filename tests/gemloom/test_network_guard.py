import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_tests_cannot_reach_other_hosts() -> None:
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_loopback_is_allowed(fake_ollama) -> None:
    host, port = fake_ollama.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2):
        pass
