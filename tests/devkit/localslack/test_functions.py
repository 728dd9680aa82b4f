"""Workflow steps: function_executed as Slack delivers it, and functions.complete* ending it."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from devkit.localslack.functions import COMPLETED, FAILED, PENDING
from tests.devkit.localslack.conftest import slack_error

INPUTS = {"reference": "FACTURA B 0002-00000006", "requested_by": {"id": "U0AGENT"}}


async def test_function_executed_body(fake: FakeSlackWebAPI) -> None:
    execution, body = fake.function_executed("reenviar_factura", INPUTS, creator="U0AGENT")

    assert body["type"] == "event_callback"
    event = body["event"]
    assert event["type"] == "function_executed"
    assert event["function"]["callback_id"] == "reenviar_factura"
    assert event["inputs"] == INPUTS
    assert event["function_execution_id"] == execution.id
    assert event["bot_access_token"] == execution.bot_access_token
    assert execution.bot_access_token.startswith("xwfp-")
    # The workflow's creator, as the user the execution is authorized for.
    (authorization,) = body["authorizations"]
    assert (authorization["user_id"], authorization["is_bot"]) == ("U0AGENT", False)
    assert fake.executions == {execution.id: execution}
    assert execution.state == PENDING

    _, without_creator = fake.function_executed("reenviar_factura", INPUTS)
    (bot,) = without_creator["authorizations"]
    assert bot["is_bot"] is True


async def test_the_executions_token_completes_it_once(fake: FakeSlackWebAPI) -> None:
    execution, _ = fake.function_executed("reenviar_factura", INPUTS)
    client = AsyncWebClient(token=execution.bot_access_token, base_url=fake.api_url)

    await client.functions_completeSuccess(
        function_execution_id=execution.id, outputs={"success": True, "outcome": "Reenviada"}
    )

    assert execution.state == COMPLETED
    assert execution.outputs == {"success": True, "outcome": "Reenviada"}
    again = await slack_error(
        client.functions_completeError(function_execution_id=execution.id, error="otra vez")
    )
    assert again.response["error"] == "function_execution_already_ended"
    assert execution.endings == ["functions.completeSuccess", "functions.completeError"]
    assert execution.state == COMPLETED


async def test_complete_error_and_unknown_executions(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    execution, _ = fake.function_executed("reenviar_factura", INPUTS)
    await client.functions_completeError(function_execution_id=execution.id, error="No se pudo")
    assert (execution.state, execution.error) == (FAILED, "No se pudo")

    unknown = await slack_error(
        client.functions_completeSuccess(function_execution_id="Fx0NOPE", outputs={})
    )
    assert unknown.response["error"] == "function_execution_not_found"
    forged = AsyncWebClient(token="xwfp-forged", base_url=fake.api_url)
    refused = await slack_error(
        forged.functions_completeSuccess(function_execution_id=execution.id, outputs={})
    )
    assert refused.response["error"] == "invalid_auth"
