"""The search modal's life: shown at once with "buscando…", then filled with the matches.

Whatever the surface (the command, the message shortcut, the search modal itself),
what the agent typed is read once (`providers.reading`): a reference goes to the
re-send form, a customer identifier to a search, an identifier that cannot be
right to an inline problem. The search runs only once the modal is on screen, and
its answer replaces the modal only if the agent has not changed it meanwhile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from slack_bolt.async_app import AsyncBoltContext

from bot.services import Services, services_of
from bot.surfaces.modal import open_view, update_modal
from bot.ui import strings
from bot.ui.resend_modal import ModalContext
from bot.ui.search_modal import search_modal, searched_what
from bot.ui.wording import label_of, problem_message
from providers.base import FieldProblem
from providers.customers import (
    NOTHING_TO_SEARCH,
    CustomerQuery,
    SearchKind,
    format_cuit,
    read_customer_query,
)
from providers.reading import AgentText, SearchProblem, ToSearch, read_agent_text
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

Searchable = ToSearch | SearchProblem


def read_text(text: str, registry: ProviderRegistry) -> AgentText:
    """What ``text`` asks for (see `providers.reading`), as of today."""
    return read_agent_text(text, registry, today=datetime.now(UTC).date())


def first_view(
    text: str, reading: Searchable, modal_context: ModalContext, registry: ProviderRegistry
) -> dict[str, Any]:
    """The search modal before any answer: "buscando…", or the problem with the query."""
    if isinstance(reading, SearchProblem):
        return search_modal(
            text, modal_context, registry=registry, problem=problem_message(reading.problem)
        )
    return search_modal(
        text,
        modal_context,
        registry=registry,
        searching=_searching(reading, registry),
        note=_overruled(reading, registry),
    )


async def open_search(
    text: str,
    reading: Searchable,
    modal_context: ModalContext,
    *,
    trigger_id: str,
    context: AsyncBoltContext,
) -> bool:
    """Open the search modal before anything slow, then search; False when Slack would
    not open it (the agent is told why)."""
    services = services_of(context)
    view = first_view(text, reading, modal_context, services.registry)
    opened = await open_view(view, trigger_id, context)
    if opened is None:
        return False
    if isinstance(reading, ToSearch):
        await show_results(text, reading, modal_context, opened, services)
    return True


async def show_results(
    text: str,
    reading: ToSearch,
    modal_context: ModalContext,
    view: dict[str, Any],
    services: Services,
) -> None:
    """Search (bounded), then put the answer in ``view`` unless the agent changed it."""
    outcome = await services.search.search(reading.query, provider=reading.provider)
    modal = search_modal(
        text,
        modal_context,
        registry=services.registry,
        outcome=outcome,
        note=_overruled(reading, services.registry),
    )
    await update_modal(view, modal, services.client, services, by_the_bot=True)


def searchable_in_message(text: str, registry: ProviderRegistry) -> tuple[str, Searchable] | None:
    """What a message quotes to search by (a ticket that names a CUIT, a serie-folio…),
    as a query the agent can edit and its reading; None when it quotes nothing."""
    found = read_customer_query(text, today=datetime.now(UTC).date())
    if isinstance(found, FieldProblem):
        if found.code == NOTHING_TO_SEARCH:
            return None
        return found.text or "", SearchProblem(found)
    typed = query_text(found)
    reading = read_text(typed, registry)
    return (typed, reading) if isinstance(reading, ToSearch | SearchProblem) else None


def query_text(query: CustomerQuery) -> str:
    """A query as an agent would type it (a message shortcut's, to show and edit)."""
    if query.kind is SearchKind.CUIT:
        words = [format_cuit(query.value)]
    elif query.kind is SearchKind.NAME:
        words = ["buscar", query.value]
    elif query.searched_date is not None:
        words = [query.searched_date.strftime("%d/%m/%Y")]
    else:
        words = [query.value]
    if query.month is not None:
        month = strings.MONTH_NAMES[query.month.month - 1]
        words.append(f"{month} {query.month.year}" if query.month.year else month)
    if query.amount is not None:
        words.append(f"{query.amount}")
    return " ".join(words)


def _searching(reading: ToSearch, registry: ProviderRegistry) -> str:
    if reading.provider is not None:
        where = strings.SEARCH_WHERE_ONE.format(provider=label_of(reading.provider, registry))
    else:
        where = strings.SEARCH_WHERE_ALL
    return strings.SEARCHING.format(
        what=searched_what(reading.query, registry, reading.provider), where=where
    )


def _overruled(reading: ToSearch, registry: ProviderRegistry) -> str | None:
    if reading.overruled is None or reading.provider is None:
        return None
    return strings.SEARCH_OVERRULED.format(
        named=label_of(reading.overruled, registry),
        kind=strings.SEARCH_KIND_NAMES[reading.query.kind.value],
        provider=label_of(reading.provider, registry),
    )
