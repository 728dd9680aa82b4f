"""Assembling the Bolt app: services in the context, one module per Slack surface."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.logs import new_error_id
from bot.services import CONTEXT_KEY, Services
from bot.ui.outcome import internal_error_message
from handlers import actions, command, home, modal, search, shortcut, usergroups, workflow_step

log = structlog.get_logger(__name__)


class _DropClientTokenNotice(logging.Filter):
    """Bolt notes on every start that the client's token wins over SLACK_BOT_TOKEN: by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(services: Services) -> AsyncApp:
    """The Bolt app wired to ``services``; the same in HTTP and Socket Mode."""
    signing_secret = services.settings.slack_signing_secret
    bolt_logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _DropClientTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_DropClientTokenNotice())
    app = AsyncApp(
        client=services.client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        request_verification_enabled=signing_secret is not None,
        logger=bolt_logger,
        name="reenviar-bot",
    )

    async def provide_services(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        # Bolt injects middleware arguments by name, hence `next`.
        context[CONTEXT_KEY] = services
        await next()

    app.use(provide_services)
    command.register(app)
    modal.register(app)
    search.register(app)
    actions.register(app)
    usergroups.register(app)
    shortcut.register(app)
    home.register(app)
    workflow_step.register(app)
    app.error(_report_unhandled_error)
    return app


async def _report_unhandled_error(
    error: Exception, body: dict[str, Any], client: AsyncWebClient
) -> None:
    """Log a surprise with an id, and tell the agent that id; never a stack trace in Slack."""
    error_id = new_error_id()
    log.error(
        "unhandled_error",
        error_id=error_id,
        request_type=body.get("type") or ("command" if body.get("command") else None),
        exc_info=error,
    )
    message = internal_error_message(error_id)
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    try:
        if body.get("response_url"):
            await AsyncWebhookClient(body["response_url"], timeout=5).send(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        elif user_id:
            await client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)
    except Exception:  # reporting must never raise out of the error handler itself
        log.warning("unhandled_error_not_reported", error_id=error_id)
