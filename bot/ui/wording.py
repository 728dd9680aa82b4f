"""Facts into words: provider errors, input problems and durations, in Spanish.

The providers report facts (an outcome kind, a field, a limit, a problem code);
this is the one place that turns them into sentences, all taken from `strings`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.ui import strings
from providers.base import FieldProblem, InvalidReferenceError
from providers.errors import (
    InvalidRequestError,
    ProviderError,
    ProviderNotConfiguredError,
    RateLimitedError,
    RejectedError,
)


def format_wait(wait: timedelta) -> str:
    """A short Spanish duration, rounded up to whole minutes past the first minute."""
    seconds = max(0, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return _count(seconds, strings.SECONDS)
    minutes = -(-seconds // 60)
    if minutes < 60:
        return _count(minutes, strings.MINUTES)
    hours, rest = divmod(minutes, 60)
    text = _count(hours, strings.HOURS)
    return strings.HOURS_AND_MINUTES.format(hours=text, minutes=rest) if rest else text


def _count(n: int, forms: tuple[str, str]) -> str:
    one, many = forms
    return one if n == 1 else many.format(n=n)


def error_message(error: ProviderError, provider_label: str) -> str:
    """What happened and what to do next, for the agent."""
    if isinstance(error, ProviderNotConfiguredError) and error.field_value is not None:
        template = strings.NOT_CONFIGURED_FOR_FIELD.get(
            error.field or "", strings.NOT_CONFIGURED_FOR_VALUE
        )
        return template.format(provider=provider_label, value=error.field_value)
    if isinstance(error, InvalidRequestError) and error.field in strings.INVALID_FIELD:
        return strings.INVALID_FIELD[error.field]
    if isinstance(error, RejectedError) and error.reason in strings.REJECTION_REASONS:
        return strings.REJECTION_REASONS[error.reason].format(provider=provider_label)
    message = strings.PROVIDER_ERRORS[error.outcome].format(provider=provider_label)
    if isinstance(error, RateLimitedError):
        parts = [message]
        if error.limit_per_hour is not None:
            parts.append(strings.RATE_LIMIT_PER_HOUR.format(limit=error.limit_per_hour))
        if error.retry_after is not None:
            parts.append(strings.RETRY_IN.format(wait=format_wait(error.retry_after)))
        message = " ".join(parts)
    return message


def problem_message(problem: FieldProblem) -> str:
    """One input problem in a sentence, quoting what the agent typed."""
    template = strings.PROBLEMS.get(problem.code, strings.PROBLEM_UNKNOWN)
    return template.format(text=problem.text or "", limit=problem.limit or "")


def problem_messages(error: InvalidReferenceError) -> dict[str, str]:
    """Each field's problem in a sentence, by field name."""
    return {name: problem_message(problem) for name, problem in error.problems.items()}


def problems_paragraph(error: InvalidReferenceError) -> str:
    """All the problems of an input in one paragraph."""
    return " ".join(problem_messages(error).values())
