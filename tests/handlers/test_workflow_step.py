"""The Workflow Builder step "Reenviar factura", end to end through signed HTTP.

The local Slack starts an execution of the step (``function_executed`` with its
inputs and a token for the execution), the bot re-sends through the resend core,
and ends the execution with ``functions.completeSuccess`` and the outputs, or
``functions.completeError`` when the outcome is unknown.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.ui import strings
from devkit.emulators import Fault, FaultKind
from devkit.localslack.functions import COMPLETED, FAILED, FunctionExecution
from handlers.workflow_step import STEP_CALLBACK_ID
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot, is_progress
from tests.e2e import SEED_VOUCHER, eventually, history_rows

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


# --- helpers -------------------------------------------------------------------------


def runner(user: str = AGENT) -> dict[str, str]:
    """A ``user_context`` input, as Workflow Builder fills it with the person running it."""
    return {"id": user, "secret": "c2VjcmV0"}


async def run_step(
    bot: Bot, inputs: dict[str, Any], *, creator: str | None = None, deliveries: int = 1
) -> FunctionExecution:
    """Run the step with ``inputs``; Slack delivers the event ``deliveries`` times at once."""
    execution, body = bot.slack.function_executed(STEP_CALLBACK_ID, inputs, creator=creator)
    responses = await asyncio.gather(*(bot.sender.post_json(body) for _ in range(deliveries)))
    for response in responses:
        assert response.status == 200, response.body
        assert response.elapsed_seconds < 3
    await bot.slack.wait_until(
        lambda: execution.state != "pending", timeout=10, description="the step to end"
    )
    assert await bot.services.inflight.drain(5)
    return execution


def completion_calls(bot: Bot) -> list[Any]:
    return bot.slack.calls_to("functions.completeSuccess") + bot.slack.calls_to(
        "functions.completeError"
    )


# --- success -------------------------------------------------------------------------------


async def test_step_resends_and_completes_with_its_outputs(bot: Bot) -> None:
    before = int(datetime.now(UTC).timestamp())
    execution = await run_step(
        bot,
        {
            "provider": "lummy",
            "reference": SEED_LUMMY_ID,
            "channel": CHANNEL,
            "requested_by": runner(),
        },
    )

    assert execution.state == COMPLETED
    outputs = execution.outputs
    assert outputs is not None
    assert outputs["success"] is True
    assert outputs["recipients"] == "cliente@empresa.com"
    assert before <= outputs["sent_at"] <= int(datetime.now(UTC).timestamp()) + 1
    assert outputs["outcome"].startswith("Reenviada ")
    assert "cliente@empresa.com" in outputs["outcome"]
    assert outputs["request_id"]
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]
    # Ended with the execution's own token, as Bolt does.
    (call,) = bot.slack.calls_to("functions.completeSuccess")
    assert call.headers["Authorization"] == f"Bearer {execution.bot_access_token}"
    # The outcome message is where the step said, and the history has the runner's attempt.
    (message,) = bot.slack.messages_in(CHANNEL)
    assert not is_progress(message)
    assert "cliente@empresa.com" in message.text
    (row,) = await eventually(lambda: history_rows(bot), what="the history row")
    assert (row.user_id, row.outcome, row.channel_id) == (AGENT, "success", CHANNEL)


async def test_without_a_person_it_runs_as_the_workflows_creator(bot: Bot) -> None:
    execution = await run_step(
        bot, {"reference": SEED_VOUCHER}, creator=OTHER_AGENT
    )  # no provider: recognised from the reference

    assert execution.state == COMPLETED
    assert execution.outputs is not None
    assert execution.outputs["success"] is True
    assert len(bot.tusfacturas.sends) == 1
    (row,) = await eventually(lambda: history_rows(bot), what="the history row")
    assert row.user_id == OTHER_AGENT
    # No channel given: the outcome is the creator's DM, with nothing about a failed post.
    dm = bot.slack.dm_channel_id(OTHER_AGENT)
    assert dm is not None
    (message,) = bot.slack.messages_in(dm)
    assert "No se pudo publicar" not in str(message.blocks)


# --- exactly once ----------------------------------------------------------------------------


async def test_the_same_event_delivered_twice_sends_once(bot: Bot) -> None:
    execution = await run_step(
        bot,
        {"provider": "lummy", "reference": SEED_LUMMY_ID, "requested_by": runner()},
        deliveries=2,
    )
    assert execution.state == COMPLETED
    assert len(bot.lummy.sends) == 1
    assert len([r for r in bot.lummy.requests if r.method == "POST"]) == 1
    assert execution.endings == ["functions.completeSuccess"]


async def test_two_processes_sharing_the_history_send_once(start_bot: Any) -> None:
    first: Bot = await start_bot()
    second: Bot = await start_bot()  # the same DATA_DIR: one SQLite history for both
    inputs = {"provider": "lummy", "reference": SEED_LUMMY_ID, "requested_by": runner()}
    execution, body = first.slack.function_executed(STEP_CALLBACK_ID, inputs)

    await asyncio.gather(first.sender.post_json(body), second.sender.post_json(body))
    await first.slack.wait_until(lambda: execution.state != "pending", timeout=10)
    assert await first.services.inflight.drain(5)
    assert await second.services.inflight.drain(5)

    assert len(first.lummy.sends) == 1
    assert execution.endings == ["functions.completeSuccess"]


# --- failures ---------------------------------------------------------------------------------


async def test_unknown_outcome_fails_the_step_with_a_readable_error(start_bot: Any) -> None:
    bot: Bot = await start_bot(provider_read_timeout=0.5)
    bot.lummy.inject(Fault(FaultKind.HANG, times=1))

    execution = await run_step(
        bot, {"provider": "lummy", "reference": SEED_LUMMY_ID, "requested_by": runner()}
    )

    assert execution.state == FAILED
    assert execution.error is not None
    assert execution.error.startswith("Resultado incierto")
    assert "pudo haber salido" in execution.error
    assert "Traceback" not in execution.error
    assert "{" not in execution.error
    assert bot.slack.calls_to("functions.completeSuccess") == []


async def test_a_known_failure_completes_with_the_outcome(bot: Bot) -> None:
    execution = await run_step(
        bot, {"provider": "lummy", "reference": UNKNOWN_UUID, "requested_by": runner()}
    )

    assert execution.state == COMPLETED
    assert execution.outputs is not None
    assert execution.outputs["success"] is False
    outcome = execution.outputs["outcome"]
    assert outcome.startswith("No se reenvió")
    assert "(Lummy)" in outcome
    # What happened, in the words of the outcome message (in the runner's DM).
    dm = bot.slack.dm_channel_id(AGENT)
    assert dm is not None
    (message,) = bot.slack.messages_in(dm)
    assert outcome.split(": ", 1)[1] in message.text
    assert "sent_at" not in execution.outputs


async def test_invalid_inputs_complete_with_what_is_wrong(bot: Bot) -> None:
    unreadable = await run_step(
        bot, {"provider": "lummy", "reference": "hola", "requested_by": runner()}
    )
    alternative = await run_step(
        bot,
        {
            "provider": "tusfacturas",
            "reference": SEED_VOUCHER,
            "alternative_email": "otro@cliente.com",
            "requested_by": runner(),
        },
    )
    nobody = await run_step(bot, {"provider": "lummy", "reference": SEED_LUMMY_ID})

    for execution in (unreadable, alternative, nobody):
        assert execution.state == COMPLETED
        assert execution.outputs is not None
        assert execution.outputs["success"] is False
    assert unreadable.outputs is not None
    assert "UUID" in unreadable.outputs["outcome"]
    assert alternative.outputs is not None
    assert "TusFacturas no permite enviar a otra dirección" in alternative.outputs["outcome"]
    assert nobody.outputs is not None
    assert nobody.outputs["outcome"] == strings.STEP_NO_USER
    assert bot.lummy.sends == []
    assert bot.tusfacturas.sends == []


async def test_lummy_to_an_alternative_address(bot: Bot) -> None:
    execution = await run_step(
        bot,
        {
            "provider": "Lummy",
            "reference": SEED_LUMMY_ID,
            "alternative_email": "otro@cliente.com",
            "requested_by": runner(),
        },
    )
    assert execution.outputs is not None
    assert execution.outputs["success"] is True
    (send,) = bot.lummy.sends
    assert send.to == "otro@cliente.com"
    assert "otro@cliente.com" in execution.outputs["recipients"]


# --- access -----------------------------------------------------------------------------------


async def test_a_runner_without_access_is_refused(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_user_ids=[OTHER_AGENT])

    execution = await run_step(
        bot, {"provider": "lummy", "reference": SEED_LUMMY_ID, "requested_by": runner(AGENT)}
    )

    assert execution.state == COMPLETED
    assert execution.outputs is not None
    assert execution.outputs["success"] is False
    assert strings.REFUSED_USER in execution.outputs["outcome"]
    assert bot.lummy.sends == []
    assert bot.slack.calls_to("chat.postMessage") == []

    async def refused() -> Any:
        return [r for r in await history_rows(bot) if r.outcome == "refused"]

    (row,) = await eventually(refused, what="the refusal in the history")
    assert (row.user_id, row.detail) == (AGENT, "user_not_allowed")
    assert len(completion_calls(bot)) == 1
