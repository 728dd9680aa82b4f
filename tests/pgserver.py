"""A private PostgreSQL server for tests that stop and start it: never the shared one.

`PostgresServer` runs ``initdb`` in a temporary directory and ``pg_ctl`` on a free
port of 127.0.0.1 (trust authentication, Unix sockets in the same directory).
PostgreSQL refuses to run as root, so as root every command runs as the
``postgres`` user through ``runuser``. The ``private_postgres`` fixture skips on a
machine without PostgreSQL's binaries, but fails in CI (``CI`` set), where they
are expected.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.localslack.process import HOST, free_port

__all__ = ["PostgresServer", "find_pg_bin", "private_postgres"]

_PG_USER = "postgres"


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb, else initdb on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    """One throwaway cluster: `start`, `stop` (fast: connections are cut), `start` again."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="reenviar-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, user=_PG_USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    @property
    def url(self) -> str:
        """``postgresql://`` URL of its ``postgres`` database."""
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop now: open connections are terminated, new ones refused."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop (if running) and remove every file."""
        subprocess.run(  # noqa: S603 - PostgreSQL's own tool, fixed arguments
            self._argv("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=30,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", _PG_USER, "--", *argv] if self._as_root else argv

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            self._argv(tool, *args), capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}\n{server_log}"
            )


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A started PostgreSQL of this test's own, on a free port; removed afterwards."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb is required in CI (tests stop their own server)")
        pytest.skip("no initdb: install PostgreSQL's server binaries")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.destroy()
