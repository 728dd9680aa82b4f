"""Child processes (the bot, the trivial responder), CPU pinning, and /proc readings."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import aiohttp

ROOT: Final = Path(__file__).resolve().parent.parent
HOST: Final = "127.0.0.1"
_TICK: Final = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Pinning:
    """Which CPU the app under test and the load side run on (None: not pinned)."""

    app_cpu: int | None
    load_cpu: int | None

    @classmethod
    def choose(cls) -> Pinning:
        """The app on the first usable CPU and the load side on the second, if there are two."""
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < 2:
            return cls(None, None)
        return cls(usable[0], usable[1])

    def pin_self(self) -> None:
        if self.load_cpu is not None:
            os.sched_setaffinity(0, {self.load_cpu})


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), from /proc/<pid>/stat."""
    return sum(process_cpu_split(pid))


def process_cpu_split(pid: int) -> tuple[float, float]:
    """(utime, stime) of ``pid`` (all its threads): user space vs the kernel's work for it."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the command name: state is field 3, utime field 14, stime field 15.
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def cpu_jiffies() -> dict[str, tuple[int, int]]:
    """Per CPU (``cpu0``, ``cpu1``...): (busy, total) jiffies since boot, from /proc/stat."""
    found: dict[str, tuple[int, int]] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                numbers = [int(value) for value in values[:8]]
                idle = numbers[3] + numbers[4]  # idle + iowait
                found[name] = (sum(numbers) - idle, sum(numbers))
    return found


def busy_percent(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, float]:
    """How busy each CPU was between two `cpu_jiffies` readings, whoever used it."""
    busy: dict[str, float] = {}
    for name, (busy_after, total_after) in after.items():
        busy_before, total_before = before.get(name, (busy_after, total_after))
        elapsed = total_after - total_before
        if elapsed > 0:
            busy[name] = round(100 * (busy_after - busy_before) / elapsed, 1)
    return busy


def own_cpu_seconds() -> float:
    """This process' user + system CPU time (every thread; children excluded)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set size) of ``pid`` in MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def thread_cpus(pid: int) -> list[str]:
    """The distinct ``Cpus_allowed_list`` of ``pid``'s threads (to check the pinning)."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("Cpus_allowed_list:"):
                        found.add(line.split(":", 1)[1].strip())
    return sorted(found)


def machine() -> dict[str, Any]:
    """What the figures came from."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_gib: float | None = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    commit = _git("rev-parse", "--short", "HEAD")
    changes = _git(
        "status", "--porcelain", "--untracked-files=no", "--", "bot", "handlers", "providers"
    )
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit,
        #: Whether the bot's code differed from that commit (uncommitted changes).
        "uncommitted_changes": None if changes is None else bool(changes),
    }


def _git(*args: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(  # noqa: S603 - fixed git commands
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    return None


@dataclass(eq=False)
class Child:
    """A server child process on 127.0.0.1, its output in a file; always killed at the end.

    ``cpu``: the one CPU it is pinned to (None: any).
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    cpu: int | None
    proc: asyncio.subprocess.Process | None = field(default=None, init=False)
    spawned_at: float = field(default=0.0, init=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        """Where its stdout and stderr go."""
        return self.cwd / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} not started")
        return self.proc.pid

    async def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.spawned_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.cpu is not None:
            # Before the interpreter is even up: every thread it starts inherits this.
            os.sched_setaffinity(self.proc.pid, {self.cpu})

    def output_tail(self, limit: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-limit:]
        return ""

    async def wait_ready(self, url: str, within: float) -> float:
        """Poll ``url`` until it answers 200; seconds since spawn. Fails fast if the child dies."""
        deadline = time.monotonic() + within
        last = "no answer"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.proc.returncode}:\n{self.output_tail()}"
                    )
                try:
                    async with http.get(url) as response:
                        if response.status == 200:
                            return time.perf_counter() - self.spawned_at
                        last = f"{response.status} {(await response.text())[:200]}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    last = type(exc).__name__
                await asyncio.sleep(0.01)
        raise RuntimeError(
            f"{self.name} not ready after {within:.0f} s (last: {last}):\n{self.output_tail()}"
        )

    async def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
        proc = self.proc
        try:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), grace)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await asyncio.wait_for(proc.wait(), 10)
            return None if proc is None else proc.returncode
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def kill_now(self) -> None:
        """Last resort (interpreter exit): SIGKILL our own child by its handle."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
