"""A real PostgreSQL server for tests: an initdb cluster in a temporary folder on a loopback port.

Debian's `postgresql` package (installed by .ci/run) puts initdb, pg_ctl and postgres under
/usr/lib/postgresql/NN/bin. PostgreSQL refuses to run as root, so under root (as in CI) the cluster
belongs to the package's `postgres` user and its commands run through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin() -> Path:
    """The folder with initdb and pg_ctl: Debian's versioned folder, or whatever is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable("no initdb: install Debian's postgresql package (.ci/run does)")


def _version(path: str) -> int:
    try:
        return int(Path(path).parents[1].name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throwaway cluster: `start()`, use `url`, `stop()` removes everything."""

    def __init__(self, fsync: bool = False) -> None:
        self.fsync = fsync  # off for tests (speed); on for benchmarks that compare durability
        self.bin = server_bin()
        self.root = Path(tempfile.mkdtemp(prefix="gemloom-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "gemloom"
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/gemloom"
        self._as_root = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def start(self) -> PostgresServer:
        if self._as_root:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8")
        self.resume()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "gemloom")
        return self

    def database(self, name: str) -> str:
        """A new, empty database on this server, and its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def pause(self) -> None:
        """Stop the server but keep its data, as a restart or an outage would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server (again) on the same port and data."""
        fsync = "on" if self.fsync else "off"
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync={fsync}"
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
