"""Injected failures and latency, as slack-sdk's client and its retry handlers see them."""

from __future__ import annotations

import time

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import TOKEN, slack_error


async def test_failure_injection_times(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", "internal_error", times=2)
    for _ in range(2):
        err = await slack_error(client.chat_postMessage(channel="C0GENERAL", text="x"))
        assert err.response["error"] == "internal_error"
    await client.chat_postMessage(channel="C0GENERAL", text="x")
    assert len(fake.messages_in("C0GENERAL")) == 1

    fake.fail("users.info", "fatal_error", status=500)
    fake.clear_failures()
    assert (await client.users_info(user="U0AGENT"))["ok"]


async def test_ratelimited_is_http_429_and_retried(
    fake: FakeSlackWebAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.fail("chat.postMessage", "ratelimited")
    plain = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    err = await slack_error(plain.chat_postMessage(channel="C0GENERAL", text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response["error"] == "ratelimited"

    # slack-sdk sleeps Retry-After + random(); keep the test fast.
    monkeypatch.setattr("slack_sdk.http_retry.builtin_async_handlers.random.random", lambda: 0.0)
    fake.fail("chat.postMessage", "ratelimited", retry_after=0)
    retrying = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    resp = await retrying.chat_postMessage(channel="C0GENERAL", text="y")
    assert resp["ok"]
    assert len(fake.calls_to("chat.postMessage")) == 3  # 1 plain + 1 limited + 1 retry
    assert [m.text for m in fake.messages_in("C0GENERAL")] == ["y"]


async def test_latency(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.set_latency("auth.test", 0.2)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.2
    fake.set_latency("auth.test", 0)
