"""``python -m bench --profile``: where the bot's CPU goes during the C=50 window.

py-spy (from PyPI, run through ``uv tool run`` so it stays out of the project's
lock) samples the bot process for the measured window and writes folded stacks;
`summarize` turns them into the few lines worth reading: the share of samples by
package and the functions most often on the stack.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Final

PY_SPY_VERSION: Final = "0.4.3"
SAMPLE_RATE: Final = 250
#: Frames from these packages are named by package in the summary.
_PACKAGES: Final = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "httpx",
    "httpcore",
    "pydantic",
    "structlog",
    "prometheus_client",
    "asyncio",
    "sqlite3",
    "json",
    "ssl",
)
_FRAME: Final = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def py_spy_command() -> list[str]:
    """py-spy on PATH, else the pinned release through ``uv tool run``."""
    found = shutil.which("py-spy")
    if found:
        return [found]
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise RuntimeError("--profile needs py-spy on PATH or uv to fetch it")
    return [uv, "tool", "run", f"py-spy@{PY_SPY_VERSION}"]


async def prepare() -> list[str]:
    """Fetch py-spy ahead of the window, so recording starts on time."""
    command = py_spy_command()
    proc = await asyncio.create_subprocess_exec(
        *command,
        "--version",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy is not available: {err.decode(errors='replace')[-300:]}")
    return command


async def record(command: list[str], pid: int, seconds: float, output: Path) -> None:
    """Sample ``pid`` (every thread, idle excluded) for ``seconds`` into folded stacks."""
    proc = await asyncio.create_subprocess_exec(
        *command,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(SAMPLE_RATE),
        "--format",
        "raw",
        "--threads",
        # Pausing the bot for each sample (py-spy's default) stalls it behind its many
        # threads; unpaused samples can be cut short, which the summary tolerates.
        "--nonblocking",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-300:]}")


def _package(frame: str) -> str | None:
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    parts = re.split(r"[/\\]", path)
    for name in reversed(parts[:-1]):
        if name in _PACKAGES:
            return name
    for name in ("bot", "handlers", "providers"):
        if name in parts[:-1]:
            return name
    return None


def _thread(frame: str) -> str:
    """py-spy's ``thread (tid): Thread-7 (target)`` as ``target``; the main thread as is."""
    name = frame.partition(": ")[2] or frame
    match = re.fullmatch(r"Thread-\d+ \((?P<target>.+)\)", name)
    return match.group("target") if match else name


def _function(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match.group("file")
    short = "/".join(file.replace("\\", "/").split("/")[-2:])
    return f"{match.group('func')} ({short})"


def summarize(lines: Iterable[str], *, top: int = 25) -> str:
    """Shares of samples: by the innermost known package (self time) and by function
    anywhere on the stack (inclusive), from py-spy's folded ``raw`` output."""
    by_package: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_thread[_thread(frames[0])] += count
        package = next((p for f in reversed(frames) if (p := _package(f))), "other")
        by_package[package] += count
        for name in {_function(f) for f in frames[1:]}:
            inclusive[name] += count
    if not total:
        return "no samples"
    out = [f"{total} samples"]
    out.append(
        "self time by package: "
        + ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in by_package.most_common())
    )
    out.append(
        "threads: "
        + ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in by_thread.most_common(6))
    )
    out.append("on the stack (inclusive):")
    out.extend(f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top))
    return "\n".join(out)


def summarize_file(path: Path, *, top: int = 25) -> str:
    """`summarize` of a file py-spy wrote."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return summarize(handle, top=top)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.profile FILE [TOP]``: summarize a recorded profile."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m bench.profile FOLDED_FILE [TOP]")
        return 2
    print(summarize_file(Path(args[0]), top=int(args[1]) if len(args) > 1 else 25))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
