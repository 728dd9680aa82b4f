"""The Workflow Builder custom step "Reenviar factura" (Bolt's ``app.function``).

Slack sends ``function_executed`` with the step's inputs (provider, reference, an
optional alternative e-mail, optionally the channel for the outcome and the person
running the workflow). The re-send goes through the resend core like any other:
as the person who runs the workflow when Slack says who (a ``user_context``
input), else as the workflow's creator as Slack reports it (the execution's user
authorization), with the same access rules, duplicate guard, history and delivery
(the outcome message goes to the channel, else to that person's DM). The step ends
with ``complete`` and its outputs on success and on a known failure (nothing was
sent: refused, invalid, rejected), and with ``fail`` and a readable Spanish error
when the outcome is unknown.

Slack may deliver the same event twice (a retry after a slow ack): each execution
id is run once, in this process and, through a claim in the history store, across
every process that shares it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.store import HistoryStore
from bot.logs import new_error_id
from bot.resend.admission import ConfirmDuplicate, Refuse
from bot.resend.core import Decision, Origin
from bot.services import Services, services_of
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.ui import strings
from bot.ui.step_outputs import step_duplicate, step_outcome, step_recipients
from bot.ui.wording import problems_paragraph
from providers.base import InvalidReferenceError, ResendRequest
from providers.errors import Outcome
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

#: The step's callback id, as the manifest declares it under ``functions``.
STEP_CALLBACK_ID: Final = "reenviar_factura"
#: Input names, as the manifest declares them.
INPUT_PROVIDER: Final = "provider"
INPUT_REFERENCE: Final = "reference"
INPUT_EMAIL: Final = "alternative_email"
INPUT_CHANNEL: Final = "channel"
INPUT_USER: Final = "requested_by"
#: Output names, as the manifest declares them.
OUTPUTS: Final = ("success", "recipients", "sent_at", "outcome", "request_id")

#: How long an execution id is remembered (Slack retries an event within minutes).
REMEMBERED_FOR: Final = timedelta(hours=24)
_REMEMBERED_HERE: Final = 10_000


class NoAlternativeEmailError(ValueError):
    """An alternative e-mail was given for a provider that always sends to the customer."""


class Executions:
    """Which function executions were already taken, here and (when it answers) in the
    history store shared by every process."""

    def __init__(self) -> None:
        self._taken: OrderedDict[str, None] = OrderedDict()

    async def take(self, execution_id: str, store: HistoryStore, user_id: str) -> bool:
        """True for the first delivery of ``execution_id``; False for any repeat."""
        if execution_id in self._taken:
            return False
        self._taken[execution_id] = None
        while len(self._taken) > _REMEMBERED_HERE:
            self._taken.popitem(last=False)
        try:
            holder = await asyncio.wait_for(
                store.claim(
                    f"function_execution:{execution_id}",
                    attempt_id=execution_id[:36],
                    user_id=user_id,
                    now=datetime.now(UTC),
                    sent_window=REMEMBERED_FOR,
                    pending_timeout=REMEMBERED_FOR,
                ),
                deadlines.STEP_CLAIM,
            )
        except (StoreUnavailableError, TimeoutError) as exc:
            log.error("step_claim_unavailable", execution=execution_id, error=type(exc).__name__)
            return True
        return holder is None


def running_user(body: dict[str, Any], inputs: dict[str, Any]) -> str | None:
    """Who runs the workflow (a ``user_context`` input, or a user id), else the user
    Slack authorized the execution for: the workflow's creator."""
    given = inputs.get(INPUT_USER)
    if isinstance(given, dict) and given.get("id"):
        return str(given["id"])
    if isinstance(given, str) and given:
        return given
    for authorization in body.get("authorizations") or []:
        if not authorization.get("is_bot") and authorization.get("user_id"):
            return str(authorization["user_id"])
    return None


def step_request(inputs: dict[str, Any], registry: ProviderRegistry) -> ResendRequest:
    """The request the inputs describe; `InvalidReferenceError` or `NoAlternativeEmailError`."""
    named = str(inputs.get(INPUT_PROVIDER) or "").strip()
    reference = str(inputs.get(INPUT_REFERENCE) or "").strip()
    provider = registry.get(named)
    if provider is not None:
        request: ResendRequest = provider.parse(reference)
    else:
        # A brand or an alias, or nothing: recognised like typed text.
        request = registry.parse_reference(f"{named} {reference}")
    email = str(inputs.get(INPUT_EMAIL) or "").strip()
    if not email:
        return request
    provider = registry.of(request)
    if provider.alternative_email_field is None:
        raise NoAlternativeEmailError(provider.label)
    values = provider.form_values(request)
    values[str(provider.alternative_email_field)] = email
    with_email: ResendRequest = provider.build_request(values)
    return with_email


async def _outputs_of(
    decision: Decision, request: ResendRequest, registry: ProviderRegistry
) -> dict[str, Any] | str:
    """The step's outputs, or the error to fail it with (the outcome is unknown)."""
    if isinstance(decision, Refuse):
        return _not_sent(strings.STEP_REFUSED.format(reason=decision.message))
    if isinstance(decision, ConfirmDuplicate):  # nobody is there to confirm a second send
        return _not_sent(step_duplicate(decision.insight, datetime.now(UTC)))
    report = await decision.run_to_end()
    result, error = report.result, report.error
    if result is not None:
        outputs: dict[str, Any] = {
            "success": True,
            "recipients": step_recipients(request, result),
            "sent_at": int((result.sent_at or datetime.now(UTC)).timestamp()),
            "outcome": step_outcome(request, registry, result=result),
        }
        request_id = result.request_id
    elif error is None:
        # The bot itself failed mid-way: its message (and log line) carry the error id.
        return strings.STEP_BOT_FAILED
    elif report.outcome is Outcome.UNKNOWN:
        return step_outcome(request, registry, error=error)
    else:
        outputs = _not_sent(step_outcome(request, registry, error=error))
        request_id = error.request_id
    if request_id:
        outputs["request_id"] = request_id
    return outputs


def _not_sent(outcome: str) -> dict[str, Any]:
    return {"success": False, "outcome": outcome}


class Step:
    """Runs each execution of the step once."""

    def __init__(self) -> None:
        self._executions = Executions()

    async def run(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        complete: AsyncComplete,
        fail: AsyncFail,
        context: AsyncBoltContext,
    ) -> None:
        services = services_of(context)
        execution_id = str(event.get("function_execution_id") or "")
        inputs: dict[str, Any] = event.get("inputs") or {}
        user_id = running_user(body, inputs)
        if not await self._executions.take(execution_id, services.store, user_id or ""):
            log.info("step_repeated", execution=execution_id)
            return
        with structlog.contextvars.bound_contextvars(function_execution=execution_id):
            try:
                answer = await self._run(body, inputs, user_id, services)
            except Exception:
                error_id = new_error_id()
                log.exception("internal_error", error_id=error_id)
                answer = strings.STEP_INTERNAL_ERROR.format(error_id=error_id)
            try:
                if isinstance(answer, str):
                    await fail(error=answer)
                else:
                    await complete(outputs=answer)
            except SLACK_FAILURES as exc:
                log.error("slack_step_not_ended", error=slack_error(exc))
            log.info("step_ended", completed=not isinstance(answer, str))

    async def _run(
        self,
        body: dict[str, Any],
        inputs: dict[str, Any],
        user_id: str | None,
        services: Services,
    ) -> dict[str, Any] | str:
        if user_id is None:
            return _not_sent(strings.STEP_NO_USER)
        try:
            request = step_request(inputs, services.registry)
        except InvalidReferenceError as exc:
            return _not_sent(strings.STEP_INVALID.format(problem=problems_paragraph(exc)))
        except NoAlternativeEmailError as exc:
            return _not_sent(strings.STEP_NO_ALTERNATIVE.format(provider=exc))
        channel = inputs.get(INPUT_CHANNEL)
        origin = Origin(
            user_id=user_id,
            team_id=body.get("team_id"),
            channel_id=str(channel) if channel else None,
        )
        decision = await services.core.submit(request, origin)
        return await _outputs_of(decision, request, services.registry)


def register(app: AsyncApp) -> None:
    """Wire the workflow step."""
    app.function(STEP_CALLBACK_ID)(Step().run)
