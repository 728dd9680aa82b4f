"""Workflow steps an app provides: ``function_executed``, and how the app ends each run.

When a workflow reaches one of the app's steps (a function in its manifest), Slack
sends ``function_executed`` with the step's inputs, an execution id and a token
for that execution (``bot_access_token``, which acts as the bot); the app ends the
run with ``functions.completeSuccess`` (its outputs) or ``functions.completeError``
(an error the workflow's user reads). `Functions.start` plays the workflow's side.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from devkit.localslack.events import event_callback
from devkit.localslack.protocol import JsonDict, MethodGroup, SlackApiRefusal, serves
from devkit.localslack.workspace import Workspace

if TYPE_CHECKING:
    from devkit.localslack.webapi import FakeSlackWebAPI

__all__ = ["COMPLETED", "FAILED", "PENDING", "FunctionExecution", "Functions"]

PENDING: Final = "pending"
COMPLETED: Final = "completed"
FAILED: Final = "failed"


@dataclass
class FunctionExecution:
    """One run of an app's step in a workflow, and how the app ended it."""

    id: str
    callback_id: str
    inputs: JsonDict
    workflow_execution_id: str
    bot_access_token: str
    #: The user Slack authorized the execution for (the workflow's creator), if any.
    creator: str | None = None
    state: str = PENDING
    outputs: JsonDict | None = None
    error: str | None = None
    #: Every ``functions.complete*`` call for this execution, in order.
    endings: list[str] = field(default_factory=list)

    def event(self, app_id: str) -> JsonDict:
        """The ``function_executed`` event for this run."""
        return {
            "type": "function_executed",
            "function": {
                "id": f"Fn{self.id[2:]}",
                "callback_id": self.callback_id,
                "title": self.callback_id,
                "type": "app",
                "app_id": app_id,
                "input_parameters": [],
                "output_parameters": [],
            },
            "inputs": copy.deepcopy(self.inputs),
            "function_execution_id": self.id,
            "workflow_execution_id": self.workflow_execution_id,
            "bot_access_token": self.bot_access_token,
        }


class Functions(MethodGroup):
    """The executions of the app's steps, and the methods that end them."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        #: Every execution started, by id.
        self.executions: dict[str, FunctionExecution] = {}

    def start(
        self, callback_id: str, inputs: JsonDict, *, creator: str | None = None
    ) -> FunctionExecution:
        """A workflow reaches the step ``callback_id`` with ``inputs``."""
        workspace = self.workspace
        execution = FunctionExecution(
            id=workspace.new_id("Fx"),
            callback_id=callback_id,
            inputs=copy.deepcopy(inputs),
            workflow_execution_id=workspace.new_id("Wx"),
            bot_access_token=f"xwfp-{secrets.token_hex(16)}",
            creator=creator,
        )
        workspace.workflow_tokens.add(execution.bot_access_token)
        self.executions[execution.id] = execution
        return execution

    def _ending(self, params: JsonDict, method: str) -> FunctionExecution:
        execution = self.executions.get(str(params.get("function_execution_id") or ""))
        if execution is None:
            raise SlackApiRefusal("function_execution_not_found")
        execution.endings.append(method)
        if execution.state != PENDING:
            raise SlackApiRefusal("function_execution_already_ended")
        return execution

    @serves("functions.completeSuccess")
    def complete_success(self, params: JsonDict) -> JsonDict:
        """``functions.completeSuccess``: the run ends with ``outputs``."""
        outputs: Any = params.get("outputs")
        if not isinstance(outputs, dict):
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] outputs: object"])
        execution = self._ending(params, "functions.completeSuccess")
        execution.state, execution.outputs = COMPLETED, outputs
        return {}

    @serves("functions.completeError")
    def complete_error(self, params: JsonDict) -> JsonDict:
        """``functions.completeError``: the run fails with ``error``."""
        error = params.get("error")
        if not isinstance(error, str) or not error:
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] missing error"])
        execution = self._ending(params, "functions.completeError")
        execution.state, execution.error = FAILED, error
        return {}


def function_executed_body(
    fake: FakeSlackWebAPI, execution: FunctionExecution, *, verification_token: str
) -> JsonDict:
    """The Events API body that delivers ``execution``'s ``function_executed`` (the same
    body may be delivered again, as Slack retries)."""
    body = event_callback(fake, execution.event(fake.app_id), verification_token=verification_token)
    if execution.creator is not None:
        body["authorizations"] = [
            {
                "enterprise_id": None,
                "team_id": fake.team_id,
                "user_id": execution.creator,
                "is_bot": False,
                "is_enterprise_install": False,
            }
        ]
    return body
