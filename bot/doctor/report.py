"""The checklist for people (✓, ✗ with the fix, – with the note) or for scripts (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from typing import Final

from bot.doctor.checks import CheckResult, Status
from bot.logs import SecretRedactor

MARKS: Final = {Status.PASSED: "✓", Status.FAILED: "✗", Status.SKIPPED: "–"}


def redacted(results: Iterable[CheckResult], secrets: Iterable[str]) -> list[CheckResult]:
    """The results with every configured secret (and token shape) blanked: a last guard,
    since no check puts one in on purpose."""
    redactor = SecretRedactor(secrets)
    return [
        replace(
            result,
            summary=redactor.redact_text(result.summary),
            fix=redactor.redact_text(result.fix) if result.fix is not None else None,
            details=tuple(redactor.redact_text(line) for line in result.details),
        )
        for result in results
    ]


def all_passed(results: Sequence[CheckResult]) -> bool:
    """Whether nothing failed (skipped checks do not count against)."""
    return all(result.status is not Status.FAILED for result in results)


def as_text(results: Sequence[CheckResult]) -> str:
    """The checklist as people read it, ending with a one-line verdict."""
    lines: list[str] = []
    for result in results:
        title = f"{result.title} (skipped)" if result.status is Status.SKIPPED else result.title
        lines.append(f"{MARKS[result.status]} {title}: {result.summary}")
        lines.extend(f"    {detail}" for detail in result.details)
        if result.fix is not None:
            lines.append(f"    Fix: {result.fix}")
    failures = sum(result.status is Status.FAILED for result in results)
    skips = sum(result.status is Status.SKIPPED for result in results)
    if failures:
        verdict = f"{failures} of {len(results)} checks failed."
    else:
        verdict = f"All {len(results) - skips} checks passed ({skips} skipped)."
    return "\n".join([*lines, "", verdict]) + "\n"


def as_json(results: Sequence[CheckResult]) -> str:
    """``{"ok": ..., "checks": [{"key", "title", "status", "summary", "fix", "details"}]}``."""
    checks = [{**asdict(result), "details": list(result.details)} for result in results]
    return json.dumps({"ok": all_passed(results), "checks": checks}, ensure_ascii=False, indent=2)
