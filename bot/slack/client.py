"""The Slack Web API client and the failures any call of it can end in."""

from __future__ import annotations

from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import deadlines

#: Everything a Web API call can fail with once slack-sdk's own retries are spent:
#: Slack's error answers, and the network (aiohttp) or a timeout underneath them.
SLACK_FAILURES: Final = (SlackClientError, aiohttp.ClientError, TimeoutError, OSError)


def slack_client(token: str | None, base_url: str) -> AsyncWebClient:
    """The Web API client: Slack's URL from settings, 429s and dropped connections retried."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=int(deadlines.SLACK_CALL),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def shared_slack_session() -> aiohttp.ClientSession:
    """The HTTP session every Slack call shares (open it in the running event loop)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=deadlines.SLACK_CALL))


def slack_error(exc: BaseException) -> str:
    """Slack's error code for a failed call (``not_in_channel``), else the exception's type."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__
