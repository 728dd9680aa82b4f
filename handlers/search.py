"""The search modal's listeners: a query entered or submitted, a match picked, the form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.services import services_of
from bot.surfaces.access import requester_of
from bot.surfaces.modal import modal_for, redraw, update_modal, usual_provider_of
from bot.surfaces.search import first_view, read_text, show_results
from bot.ui.forms import form_for, form_from_text
from bot.ui.resend_modal import FormState, ModalContext
from bot.ui.search_modal import (
    MANUAL_ACTION,
    PICK_ACTION,
    QUERY_ACTION,
    QUERY_BLOCK,
    SEARCH_CALLBACK_ID,
    read_match_value,
)
from bot.ui.wording import problem_message
from providers.base import InvalidReferenceError
from providers.reading import SearchProblem, ToResend, ToSearch


def _query_of(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return str((values.get(QUERY_BLOCK, {}).get(QUERY_ACTION) or {}).get("value") or "").strip()


async def submit_search(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """ "Buscar": search what the field holds; a reference typed there opens the form."""
    services = services_of(context)
    text = _query_of(view)
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    reading = read_text(text, services.registry)
    if isinstance(reading, SearchProblem):
        await ack(response_action="errors", errors={QUERY_BLOCK: problem_message(reading.problem)})
        return
    if isinstance(reading, ToResend):
        form = form_from_text(reading.text, services.registry)
        await ack(response_action="update", view=modal_for(form, modal_context, services))
        return
    await ack(
        response_action="update", view=first_view(text, reading, modal_context, services.registry)
    )
    # The view was replaced by the ack: its old hash no longer applies.
    await show_results(text, reading, modal_context, {"id": view.get("id")}, services)


async def query_entered(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Enter in the query field: search again (or open the form for a reference)."""
    await ack()
    services = services_of(context)
    view = body["view"]
    text = _query_of(view)
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    reading = read_text(text, services.registry)
    if isinstance(reading, ToResend):
        form = form_from_text(reading.text, services.registry)
        await redraw(
            form, modal_context, view, services.client, services, requester_of(context).user_id
        )
        return
    searching = first_view(text, reading, modal_context, services.registry)
    updated = await update_modal(view, searching, services.client, services, by_the_bot=False)
    if updated is not None and isinstance(reading, ToSearch):
        await show_results(text, reading, modal_context, updated, services)


async def pick_match(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    """A match picked: the re-send form, prefilled with it, and what is known about it."""
    await ack()
    services = services_of(context)
    view = body["view"]
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    picked = read_match_value(str((action.get("selected_option") or {}).get("value") or ""))
    form = FormState()
    if picked is not None and picked[0] in services.registry:
        try:
            form = form_for(services.registry[picked[0]].parse(picked[1]), services.registry)
        except InvalidReferenceError:
            form = FormState(provider=picked[0])
    user_id = requester_of(context).user_id
    await redraw(form, modal_context, view, services.client, services, user_id)


async def write_by_hand(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """ "Escribir el comprobante": the re-send form, on the agent's usual provider."""
    await ack()
    services = services_of(context)
    view = body["view"]
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    user_id = requester_of(context).user_id
    form = FormState(provider=await usual_provider_of(user_id, services))
    await redraw(form, modal_context, view, services.client, services, user_id)


def register(app: AsyncApp) -> None:
    """Wire the search modal."""
    app.view(SEARCH_CALLBACK_ID)(submit_search)
    app.action(QUERY_ACTION)(query_entered)
    app.action(PICK_ACTION)(pick_match)
    app.action(MANUAL_ACTION)(write_by_hand)
