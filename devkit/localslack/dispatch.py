"""``/api/{method}``: how the fake receives a Web API call, before any method runs.

Parameters come as a query string, a form or JSON (JSON-encoded ``blocks``/``view``
in forms are decoded, as Slack does); every call is recorded; injected latency and
failures apply; the token is checked (the bot token, or the app-level token for
``apps.connections.open``; a revoked bot token is refused); then the method answers
``{"ok": true, ...}`` or its refusal ``{"ok": false, "error": ...}``, with the token's
scopes in the ``x-oauth-scopes`` header, as Slack sends them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from devkit.localslack.changes import Changes
from devkit.localslack.faults import Faults
from devkit.localslack.protocol import JsonDict, MethodHandler, SlackApiRefusal
from devkit.localslack.workspace import Workspace

__all__ = ["API_PATH", "SCOPES_HEADER", "ApiCall", "MethodDispatcher"]

#: Where Web API methods are served: ``/api/<method>``.
API_PATH: Final = "/api"
#: Parameters that slack-sdk (and Slack) send as JSON-encoded strings in form bodies.
_JSON_PARAMS: Final = ("blocks", "view", "attachments", "metadata", "outputs")
#: Web API methods authenticated with the app-level token (``xapp-...``), not the bot's.
_APP_TOKEN_METHODS: Final = frozenset({"apps.connections.open"})
#: The header in which Slack lists the scopes of the token a call was made with.
SCOPES_HEADER: Final = "x-oauth-scopes"


@dataclass
class ApiCall:
    """One Web API request received by the fake."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def parse_params(request: web.Request) -> JsonDict:
    """A call's parameters from its query string and its form or JSON body."""
    params: JsonDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise SlackApiRefusal("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackApiRefusal("invalid_json")
            params.update(body)
        else:
            form = await request.post()
            for key, field_value in form.items():
                params[key] = (
                    field_value
                    if isinstance(field_value, str)
                    else getattr(field_value, "filename", "")
                )
    for key in _JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise SlackApiRefusal(f"invalid_{key}_format") from None
    return params


class MethodDispatcher:
    """Routes Web API calls to the registered methods; records every call."""

    def __init__(self, workspace: Workspace, faults: Faults, changes: Changes) -> None:
        self.workspace = workspace
        self.faults = faults
        #: Every call received, oldest first.
        self.calls: list[ApiCall] = []
        self._changes = changes
        self._methods: dict[str, MethodHandler] = {}
        self._extra_methods: dict[str, MethodHandler] = {}

    def register(self, handlers: Mapping[str, MethodHandler]) -> None:
        """Serve the built-in ``handlers`` (method name to handler)."""
        self._methods.update(handlers)

    def add_method(self, method: str, handler: MethodHandler) -> None:
        """Serve an extra method, or replace a built-in one."""
        self._extra_methods[method] = handler

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls to ``method``, in order."""
        return [call for call in self.calls if call.method == method]

    async def handle(self, request: web.Request) -> web.Response:
        """``/api/{method}``: the whole life of one call."""
        method = request.match_info["method"]
        parse_error: SlackApiRefusal | None = None
        try:
            params = await parse_params(request)
        except SlackApiRefusal as exc:
            params, parse_error = {}, exc
        self.calls.append(
            ApiCall(
                method=method,
                params=params,
                headers=dict(request.headers),
                at=self.workspace.clock(),
            )
        )
        await self._changes.notify()

        delay = self.faults.latency(method)
        if delay > 0:
            await asyncio.sleep(delay)

        failure = self.faults.take_failure(method)
        if failure is not None:
            headers: dict[str, str] = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )

        # Once the token is accepted, every answer lists its scopes, as Slack's do.
        scopes: dict[str, str] = {}
        try:
            if parse_error is not None:
                raise parse_error
            if method in _APP_TOKEN_METHODS:
                self._check_app_auth(request)
                scopes[SCOPES_HEADER] = ",".join(self.workspace.app_token_scopes)
            else:
                self._check_auth(request, params)
                scopes[SCOPES_HEADER] = ",".join(self.workspace.bot_scopes)
            handler = self._extra_methods.get(method) or self._methods.get(method)
            if handler is None:
                return web.json_response(
                    {"ok": False, "error": "unknown_method", "req_method": method}, headers=scopes
                )
            result = handler(params)
        except SlackApiRefusal as exc:
            body: JsonDict = {"ok": False, "error": exc.error}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            return web.json_response(body, headers=scopes)
        finally:
            await self._changes.notify()
        return web.json_response({"ok": True, **result}, headers=scopes)

    def _check_auth(self, request: web.Request, params: JsonDict) -> None:
        """Bot methods take the bot token (or a workflow step execution's token) in the
        header or as the ``token`` parameter."""
        token: str | None = None
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            token = _bearer(request)
        elif isinstance(params.get("token"), str):
            token = params["token"]
        if not token:
            raise SlackApiRefusal("not_authed")
        if token in self.workspace.workflow_tokens:
            return  # a workflow step execution's own token acts as the bot
        if not secrets.compare_digest(token, self.workspace.bot_token):
            raise SlackApiRefusal("invalid_auth")
        if self.workspace.bot_token_refusal is not None:
            raise SlackApiRefusal(self.workspace.bot_token_refusal)

    def _check_app_auth(self, request: web.Request) -> None:
        """App-level methods take the ``xapp-`` token in the header only, as Slack requires."""
        token = _bearer(request)
        if not token:
            raise SlackApiRefusal("not_authed")
        if secrets.compare_digest(token, self.workspace.bot_token):
            raise SlackApiRefusal("not_allowed_token_type")
        app_token = self.workspace.app_token
        if app_token is None or not secrets.compare_digest(token, app_token):
            raise SlackApiRefusal("invalid_auth")
