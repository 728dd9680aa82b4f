"""What one check found: passed, failed (with the fix) or skipped (with why)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """How a check ended; the value is what ``--json`` reports."""

    PASSED = "passed"
    FAILED = "failed"
    #: Not run: nothing to check, or it would need what an earlier check found broken,
    #: or a scope the app does not ask for.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    """One line of the checklist. Never holds a secret."""

    #: A stable identifier for scripts (``slack_token``, ``provider.lummy``).
    key: str
    title: str
    status: Status
    #: What was found, in one sentence.
    summary: str
    #: For a failure: what to do about it.
    fix: str | None = None
    #: Further lines (each problem of the settings, each unknown id).
    details: tuple[str, ...] = ()


def passed(key: str, title: str, summary: str, *, details: tuple[str, ...] = ()) -> CheckResult:
    """A check that found nothing wrong."""
    return CheckResult(key, title, Status.PASSED, summary, details=details)


def failed(
    key: str, title: str, summary: str, *, fix: str, details: tuple[str, ...] = ()
) -> CheckResult:
    """A check that found a problem, and how to fix it."""
    return CheckResult(key, title, Status.FAILED, summary, fix=fix, details=details)


def skipped(key: str, title: str, note: str) -> CheckResult:
    """A check not run, and why."""
    return CheckResult(key, title, Status.SKIPPED, note)


async def bounded(
    check: Awaitable[CheckResult],
    *,
    key: str,
    title: str,
    timeout: float,  # noqa: ASYNC109 - bounding the check is the point
    fix: str,
) -> CheckResult:
    """``check``'s result, or a failure once ``timeout`` seconds have passed without one."""
    try:
        async with asyncio.timeout(timeout):
            return await check
    except TimeoutError:
        return failed(key, title, f"no answer within {timeout:g} s", fix=fix)
