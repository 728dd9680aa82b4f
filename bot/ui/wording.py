"""Facts into words: provider errors, input problems, invoices, amounts and times, in Spanish.

The providers report facts (an outcome kind, a field, a limit, a problem code, what
a lookup found); this is the one place that turns them into words, all taken from
`strings`. The results are plain text: views escape them for mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.history.insight import QuotaUsage
from bot.ui import strings
from providers.base import FieldProblem, InvalidReferenceError, InvoiceFacts, ResendRequest
from providers.errors import (
    InvalidRequestError,
    ProviderError,
    ProviderNotConfiguredError,
    RateLimitedError,
    RejectedError,
)
from providers.registry import AnyProvider, ProviderRegistry

#: Thousands and decimal separators by country (ISO 3166-1 alpha-2); others as in Mexico.
_SEPARATORS = {"AR": (".", ","), "MX": (",", ".")}


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


def quota_refusal(quota: QuotaUsage, provider: AnyProvider, agent_tz: str | None) -> str:
    """Why the provider's hourly quota stops a re-send, and from when it can go again: in
    the agent's time (else the provider's), the zone named. The modal and the submit's
    error say it in the same words."""
    if quota.frees_at is None:
        return strings.QUOTA_EXHAUSTED.format(
            limit=quota.limit, provider=provider.label, wait=format_wait(timedelta(hours=1))
        )
    at, zone = clock_time(quota.frees_at, agent_tz if zone_of(agent_tz) else provider.timezone)
    return strings.QUOTA_FULL_UNTIL.format(
        limit=quota.limit, provider=provider.label, time=at, zone=zone
    )


def quota_left(quota: QuotaUsage) -> str:
    """``Queda 1``, ``Quedan 2``."""
    return _count(quota.left, strings.QUOTA_LEFT)


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
    variant = (
        "throttled" if isinstance(error, RateLimitedError) and error.throttled else error.provider
    )
    template = strings.PROVIDER_ERRORS.get(
        f"{error.outcome}.{variant}", strings.PROVIDER_ERRORS[error.outcome]
    )
    message = template.format(provider=provider_label)
    if isinstance(error, RateLimitedError):
        parts = [message]
        if error.limit_per_hour is not None and not error.throttled:
            parts.append(strings.RATE_LIMIT_PER_HOUR.format(limit=error.limit_per_hour))
        if error.retry_after is not None:
            parts.append(strings.RETRY_IN.format(wait=format_wait(error.retry_after)))
        elif error.throttled:
            parts.append(strings.RETRY_SOON)
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


# --- Providers and invoices ------------------------------------------------------


def label_of(provider_key: str, registry: ProviderRegistry) -> str:
    """A provider's brand, or its key when it is no longer offered (old history rows)."""
    provider = registry.get(provider_key)
    return provider.label if provider is not None else provider_key


def default_recipients(provider_key: str) -> str:
    """Who a re-send reached when the provider does not say."""
    return strings.DEFAULT_RECIPIENTS.get(provider_key, strings.DEFAULT_RECIPIENTS_ANY)


def document_type_name(document_type: str) -> str:
    """A provider's type as people read it: ``NOTA DE CREDITO B`` is ``Nota de crédito B``."""
    words = [strings.DOCUMENT_TYPE_WORDS.get(word, word) for word in document_type.split()]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def invoice_title(request: ResendRequest, facts: InvoiceFacts | None = None) -> str:
    """The invoice in the agent's terms: ``Factura B 0002-00000006``, ``Factura A-1234
    (550e8400)`` when the lookup knows the number the customer sees."""
    number = request.short_reference
    if not request.document_type and facts is not None and facts.display_number:
        number = f"{facts.display_number} ({number})"
    title = f"{_kind(request)} {number}"
    for qualifier in request.qualifiers:
        title += " " + strings.QUALIFIERS.get(qualifier, qualifier)
    return title


def invoice_phrase(request: ResendRequest, facts: InvoiceFacts | None = None) -> str:
    """The invoice inside a sentence, with its article: ``la factura B 0002-00000006``."""
    return _with_article(request, invoice_title(request, facts))


def invoice_for_customer(request: ResendRequest, facts: InvoiceFacts | None = None) -> str:
    """The invoice as the customer knows it: its type and number, or ``su factura`` when
    the only number known is the provider's internal id."""
    if request.document_type:
        return _with_article(request, f"{_kind(request)} {request.short_reference}")
    if facts is not None and facts.display_number:
        return _with_article(request, f"{_kind(request)} {facts.display_number}")
    return strings.YOUR_INVOICE


def _kind(request: ResendRequest) -> str:
    """What the document is, capitalized: its type (``Nota de crédito A``) or the
    provider's noun (``Factura``)."""
    if request.document_type:
        return document_type_name(request.document_type)
    return strings.INVOICE_NOUNS.get(request.provider, strings.INVOICE_NOUN_ANY)[1].capitalize()


def _with_article(request: ResendRequest, title: str) -> str:
    if request.document_type:
        first = request.document_type.split()[0]
        article = strings.DOCUMENT_TYPE_ARTICLES.get(first, "la")
    else:
        article = strings.INVOICE_NOUNS.get(request.provider, strings.INVOICE_NOUN_ANY)[0]
    return f"{article} {title[:1].lower()}{title[1:]}"


def address_list(addresses: Sequence[str], *, limit: int = 3) -> str:
    """``a``, ``a y b``, ``a, b y c``, ``a, b, c y 2 más``."""
    shown = list(addresses[:limit])
    if len(addresses) > limit:
        return ", ".join(shown) + " " + strings.AND_MORE.format(count=len(addresses) - limit)
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + strings.LIST_AND + shown[-1]


# --- Amounts, ids and times ------------------------------------------------------


def amount(total: Decimal, currency: str | None, country: str) -> str:
    """``$ 45.230,50`` in Argentina, ``$11,600.00`` in Mexico; other currencies by code."""
    thousands, decimal = _SEPARATORS.get(country, _SEPARATORS["MX"])
    whole, _, cents = f"{total:,.2f}".partition(".")
    number = whole.replace(",", thousands) + decimal + cents
    symbol = strings.CURRENCY_SYMBOLS.get(currency or "", currency or "")
    if not symbol:
        return number
    return f"{symbol} {number}" if country == "AR" or len(symbol) > 1 else f"{symbol}{number}"


def tax_id(kind: str | None, number: str | None) -> str | None:
    """``CUIT 30-71543210-9`` (CUIT and CUIL with their dashes), ``RFC EDE010101AB1``."""
    if not number:
        return None
    kind = (kind or "").strip()
    if kind.upper() in {"CUIT", "CUIL"} and number.isdigit() and len(number) == 11:
        number = f"{number[:2]}-{number[2:10]}-{number[10]}"
    return strings.PREVIEW_TAX_ID.format(kind=kind, number=number).strip()


def zone_name(tz_name: str) -> str:
    """A time zone by its everyday name, to follow "hora" (``de Argentina``), else by
    its IANA name."""
    return strings.ZONE_NAMES.get(tz_name) or strings.ZONE_OTHER.format(zone=tz_name)


def zone_of(tz_name: str | None) -> ZoneInfo | None:
    """The zone, or None when the name is empty or unknown."""
    if not tz_name:
        return None
    try:
        return ZoneInfo(tz_name)
    except (ValueError, KeyError, OSError):
        return None


def clock_time(when: datetime, tz_name: str | None) -> tuple[str, str]:
    """``when`` as ``HH:MM`` in ``tz_name`` (UTC if unknown), and that zone's name."""
    zone = zone_of(tz_name)
    if zone is None:
        return when.astimezone(ZoneInfo("UTC")).strftime("%H:%M"), zone_name("UTC")
    return when.astimezone(zone).strftime("%H:%M"), zone_name(tz_name or "UTC")
