"""The search modal: what the customer gave, the invoices found, and the way to the form.

The agent types what the customer quoted (a CUIT, an RFC, a date…); the bot shows
"buscando…" at once, then the matches, newest first, one per option: its name, date
and total in the option's text, the customer and its status in the description.
Picking one opens the re-send form prefilled with it; "Escribir el comprobante"
opens the form empty, so a failing or slow search never blocks the agent.
"""

from __future__ import annotations

from typing import Any, Final

from bot.search_results import Match, ProviderFailure, SearchOutcome
from bot.ui import strings
from bot.ui.blocks import (
    Block,
    button_element,
    context_block,
    escape,
    option_object,
    plain_text,
    section_block,
)
from bot.ui.resend_modal import ModalContext
from bot.ui.wording import amount, invoice_title, label_of, tax_id
from providers.base import InvalidReferenceError, InvoiceFacts
from providers.customers import CustomerQuery, SearchKind
from providers.errors import AuthenticationError, RateLimitedError
from providers.registry import ProviderRegistry
from providers.search import SearchResult

SEARCH_CALLBACK_ID: Final = "reenviar_buscar"
QUERY_BLOCK: Final = "search_query"
QUERY_ACTION: Final = "search_query_entered"
PICK_BLOCK: Final = "search_results"
PICK_ACTION: Final = "search_pick"
MANUAL_ACTION: Final = "search_manual"
#: The currency a customer means by "$", by country.
_LOCAL_CURRENCY: Final = {"AR": "ARS", "MX": "MXN"}
#: Between a match's provider and its reference in an option's value.
_SEPARATOR: Final = "|"


def match_value(match: Match) -> str:
    """An option's value: the provider and the reference (Slack allows 150 characters)."""
    return f"{match.provider}{_SEPARATOR}{match.reference}"[:150]


def read_match_value(value: str) -> tuple[str, str] | None:
    """(provider, reference) from an option's value; None when it is not one."""
    provider, separator, reference = value.partition(_SEPARATOR)
    return (provider, reference) if separator and provider and reference else None


def searched_what(
    query: CustomerQuery, registry: ProviderRegistry, provider: str | None = None
) -> str:
    """What was searched, inside a sentence: ``el CUIT 30-71543210-9 en noviembre de 2026``;
    an amount written the way ``provider``'s country writes it (Argentina's by default)."""
    value = query.value
    if query.kind is SearchKind.CUIT:
        value = tax_id("CUIT", value) or value
        value = value.removeprefix("CUIT ")
    elif query.searched_date is not None:
        value = query.searched_date.strftime("%d/%m/%Y")
    what = strings.SEARCH_WHAT[query.kind.value].format(value=escape(value))
    if query.month is not None and query.month.year is not None:
        what += strings.SEARCH_IN_MONTH.format(
            month=strings.MONTH_NAMES[query.month.month - 1], year=query.month.year
        )
    elif query.month is not None:
        what += " en " + strings.MONTH_NAMES[query.month.month - 1]
    if query.amount is not None:
        known = registry.get(provider) if provider is not None else None
        country = known.country if known is not None else "AR"
        total = amount(query.amount, _LOCAL_CURRENCY.get(country), country)
        what += strings.SEARCH_OF_AMOUNT.format(amount=total)
    return what


def match_option(match: Match, registry: ProviderRegistry) -> dict[str, Any]:
    """One match as an option: ``Factura B 0002-00000006 · 15/11/2026 · $ 138.900,00``,
    described by its customer and status."""
    provider = registry.get(match.provider)
    title = match.reference
    if provider is not None:
        try:
            request = provider.parse(match.reference)
        except InvalidReferenceError:
            pass
        else:
            facts = InvoiceFacts(
                provider=match.provider,
                reference=match.reference,
                display_number=match.display_number,
            )
            title = invoice_title(request, facts)
    parts = [title]
    if match.issued_on is not None:
        parts.append(match.issued_on.strftime("%d/%m/%Y"))
    if match.total is not None:
        country = provider.country if provider is not None else "MX"
        # An account statement states no currency: it is the country's own.
        currency = match.currency or _LOCAL_CURRENCY.get(country)
        parts.append(amount(match.total, currency, country))
    described = [match.customer_name or ""]
    if match.status is not None and match.status.value in strings.STATUS_SHORT:
        described.append(strings.STATUS_SHORT[match.status.value])
    if match.payment is not None:
        described.append(strings.PAYMENT_LABELS[match.payment.value])
    if match.last_sent_at is not None:
        described.append(
            strings.SEARCH_OPTION_SENT.format(when=match.last_sent_at.strftime("%d/%m"))
        )
    description = " · ".join(part for part in described if part) or None
    return option_object(" · ".join(parts), match_value(match), description)


def search_modal(
    text: str,
    context: ModalContext,
    *,
    registry: ProviderRegistry,
    outcome: SearchOutcome | None = None,
    searching: str | None = None,
    problem: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The search modal for the query ``text``: ``searching`` (what is being searched,
    in words) while the search runs, ``outcome`` once it answered, ``problem`` under
    the query when it cannot be searched, ``note`` above it (a provider overruled)."""
    blocks: list[Block] = []
    if note:
        blocks.append(context_block(escape(note)))
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": QUERY_ACTION,
        "placeholder": plain_text(strings.SEARCH_QUERY_PLACEHOLDER),
    }
    if text:
        element["initial_value"] = text[:3000]
    blocks.append(
        {
            "type": "input",
            "block_id": QUERY_BLOCK,
            "dispatch_action": True,
            "label": plain_text(strings.SEARCH_QUERY_LABEL),
            "hint": plain_text(strings.SEARCH_QUERY_HINT),
            "element": element,
        }
    )
    if problem:
        blocks.append(context_block(strings.FIELD_PROBLEM.format(problem=escape(problem))))
    if searching:
        blocks.append(context_block(searching))
    elif outcome is not None:
        blocks.extend(_outcome_blocks(outcome, registry))
    blocks.append(
        {
            "type": "actions",
            "elements": [button_element(MANUAL_ACTION, strings.SEARCH_MANUAL, "manual")],
        }
    )
    return {
        "type": "modal",
        "callback_id": SEARCH_CALLBACK_ID,
        "title": plain_text(strings.SEARCH_TITLE),
        "submit": plain_text(strings.SEARCH_SUBMIT),
        "close": plain_text(strings.MODAL_CLOSE),
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }


def _outcome_blocks(outcome: SearchOutcome, registry: ProviderRegistry) -> list[Block]:
    what = searched_what(outcome.query, registry, outcome.provider)
    blocks: list[Block] = []
    for customer_line in _customer_lines(outcome, registry):
        blocks.append(context_block(customer_line))
    if outcome.matches:
        count = strings.SEARCH_COUNT[0] if len(outcome.matches) == 1 else None
        count = count or strings.SEARCH_COUNT[1].format(n=len(outcome.matches))
        blocks.append(section_block(strings.SEARCH_FOUND.format(count=count, what=what)))
        blocks.append(
            {
                "type": "input",
                "block_id": PICK_BLOCK,
                # Picking one opens the re-send form at once, as the provider choice does.
                "dispatch_action": True,
                "optional": True,
                "label": plain_text(strings.SEARCH_PICK_LABEL),
                "element": {
                    "type": "radio_buttons",
                    "action_id": PICK_ACTION,
                    "options": [match_option(m, registry) for m in outcome.matches],
                },
            }
        )
        if outcome.more:
            blocks.append(context_block(strings.SEARCH_MORE))
    else:
        where = _places(outcome.searched, outcome, registry)
        nothing = strings.SEARCH_NOTHING.format(what=what, where=where)
        blocks.append(section_block(nothing + " " + strings.SEARCH_NOTHING_NEXT))
    for provider in outcome.without_invoice_lists:
        sentence = strings.SEARCH_NO_INVOICE_LIST.get(provider)
        blocks.append(
            context_block(
                sentence
                or strings.SEARCH_NO_INVOICE_LIST_ANY.format(provider=label_of(provider, registry))
            )
        )
    for failure in outcome.failures:
        blocks.append(context_block(_failure_line(failure, registry)))
    if outcome.history_unavailable:
        blocks.append(context_block(strings.SEARCH_HISTORY_DOWN))
    return blocks


def _customer_lines(outcome: SearchOutcome, registry: ProviderRegistry) -> list[str]:
    by_provider: dict[str, list[str]] = {}
    for customer in outcome.customers:
        name = customer.name or customer.tax_id
        if not name:
            continue
        shown = escape(name)
        if customer.tax_id and customer.name:
            shown += f" ({escape(tax_id(customer.tax_id_type, customer.tax_id) or '')})"
        by_provider.setdefault(customer.provider, []).append(shown)
    return [
        strings.SEARCH_CUSTOMERS.format(
            provider=label_of(key, registry), names=", ".join(dict.fromkeys(names[:5]))
        )
        for key, names in by_provider.items()
    ]


def _places(
    searched: tuple[SearchResult, ...], outcome: SearchOutcome, registry: ProviderRegistry
) -> str:
    """`` en TusFacturas (el punto de venta 2) y el historial del bot``."""
    places = []
    for result in searched:
        points = ""
        if result.searched_in:
            forms = strings.SEARCH_POINTS
            form = forms[0] if len(result.searched_in) == 1 else forms[1]
            points = " (" + form.format(points=", ".join(result.searched_in)) + ")"
        label = label_of(result.provider, registry)
        places.append(strings.SEARCH_NOTHING_PROVIDER.format(provider=label, points=points))
    if not outcome.history_unavailable:
        places.append(strings.SEARCH_NOTHING_HISTORY)
    if not places:
        return ""
    joined = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " ni en " + places[-1]
    return strings.SEARCH_NOTHING_IN.format(places=joined)


def _failure_line(failure: ProviderFailure, registry: ProviderRegistry) -> str:
    if failure.timed_out:
        reason = "timeout"
    elif isinstance(failure.error, RateLimitedError):
        reason = "rate_limited"
    elif isinstance(failure.error, AuthenticationError):
        reason = "authentication"
    else:
        reason = "other"
    return strings.SEARCH_PROVIDER_FAILED.format(
        provider=label_of(failure.provider, registry),
        reason=strings.SEARCH_FAILURE_REASONS[reason],
    )
