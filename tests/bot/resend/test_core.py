"""`ResendCore.submit` and `ResendCore.retry`: the answer every Slack surface acts on,
against a real SQLite history. An `Accepted` is checked, never run (no provider call)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.history.insight import Insight, QuotaUsage, RecentSend
from bot.resend.admission import WHOLE_REQUEST, ConfirmDuplicate, ConfirmRetry, Refuse
from bot.resend.core import Accepted, Origin, RetryDecision
from bot.slack.delivery import ChannelMessageRef
from bot.ui import strings
from providers.lummy.model import RESENDS_PER_HOUR
from tests.bot.resend.conftest import (
    OTHER_CHANNEL,
    TEAM,
    Decider,
    Wire,
    assert_left_behind,
    job_of,
    lummy,
    seed_running,
    seed_send,
    seed_sends,
    tusfacturas,
)
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT

RECIPIENTS = ("cliente@example.com",)
UNUSED = QuotaUsage(used=0, limit=RESENDS_PER_HOUR, frees_at=None)
#: Ten Lummy re-sends in the last hour, the oldest 55 minutes ago.
FULL_HOUR = [timedelta(minutes=55 - 5 * i) for i in range(10)]


def exhausted(now: datetime) -> Refuse:
    """The quota refusal when the oldest of the hour's ten sends leaves it in 5 minutes:
    at that time in the provider's zone, named (these tests know no agent's zone)."""
    at = (now + timedelta(minutes=5)).astimezone(ZoneInfo("America/Mexico_City"))
    return Refuse(
        field="invoice_id",
        message=strings.QUOTA_FULL_UNTIL.format(
            limit=10, provider="Lummy", time=f"{at:%H:%M}", zone="del centro de México"
        ),
        code="quota_exhausted",
    )


REFUSED_USER = Refuse(field=WHOLE_REQUEST, message=strings.REFUSED_USER, code="user_not_allowed")
REFUSED_CHANNEL = Refuse(
    field=WHOLE_REQUEST, message=strings.REFUSED_CHANNEL, code="channel_not_allowed"
)
FIVE_MINUTES = timedelta(minutes=5)


def used_once(at: datetime) -> QuotaUsage:
    return QuotaUsage(used=1, limit=RESENDS_PER_HOUR, frees_at=at + timedelta(hours=1))


def accepted(claimed: bool, quota: QuotaUsage | None) -> dict[str, Any]:
    """What an `Accepted` must say beyond its job, origin and pipeline."""
    return {"claimed": claimed, "quota_before": quota}


async def store_down(decider: Decider) -> str | None:
    """Never called: the row's store is built unusable."""
    raise AssertionError


async def nothing(decider: Decider) -> str | None:
    return None


async def sent_by_other(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=FIVE_MINUTES)
    return OTHER_AGENT


async def running_by_other(decider: Decider) -> str | None:
    await seed_running(decider, lummy(), user=OTHER_AGENT, ago=timedelta(seconds=10))
    return OTHER_AGENT


async def hour_used_up(decider: Decider) -> str | None:
    await seed_sends(decider, lummy(), OTHER_AGENT, FULL_HOUR)
    return None


Seed = Callable[[Decider], Any]
#: An expected decision: an `Accepted`'s fields (as from `accepted`), or the decision itself.
Expect = Callable[[datetime], dict[str, Any] | RetryDecision]


def in_progress(at: datetime, user: str) -> ConfirmDuplicate:
    return ConfirmDuplicate(
        Insight(recent=RecentSend(at=at, user_id=user, in_progress=True), quota=UNUSED)
    )


async def build(wire: Wire, tmp_path: Path, seed: Seed, overrides: dict[str, Any]) -> Decider:
    """The row's decider, its history seeded (or its store unusable)."""
    if seed is store_down:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        return await wire(store_dir=blocker, **overrides)
    decider = await wire(**overrides)
    await seed(decider)
    return decider


def assert_decision(
    decision: RetryDecision,
    expected: dict[str, Any] | RetryDecision,
    decider: Decider,
    **accepted_as: Any,
) -> None:
    """``decision`` is ``expected``; an `Accepted` also carries ``accepted_as`` (job and
    so on) and the pipeline it would run with."""
    if isinstance(expected, dict):
        assert isinstance(decision, Accepted), decision
        assert decision == Accepted(**expected, **accepted_as, _pipeline=decider.pipeline)
    else:
        assert decision == expected


# --- submit --------------------------------------------------------------------------

ORIGIN = Origin(
    user_id=AGENT,
    team_id=TEAM,
    channel_id=CHANNEL,
    response_url="https://hooks.slack.com/actions/T0TEAM/1/abc",
    thread_ts="1700000000.000100",
)


@pytest.mark.parametrize(
    ("provider", "overrides", "seed", "confirmed", "expect"),
    [
        pytest.param(
            "lummy", {}, nothing, False, lambda now: accepted(True, UNUSED), id="lummy-proceeds"
        ),
        pytest.param(
            "tusfacturas",
            {},
            nothing,
            False,
            lambda now: accepted(True, None),
            id="tusfacturas-proceeds-without-quota",
        ),
        pytest.param(
            "lummy",
            {"allowed_user_ids": [OTHER_AGENT]},
            nothing,
            False,
            lambda now: REFUSED_USER,
            id="user-not-allowed",
        ),
        pytest.param(
            "lummy",
            {"allowed_channel_ids": [OTHER_CHANNEL]},
            nothing,
            True,
            lambda now: REFUSED_CHANNEL,
            id="channel-not-allowed-confirmed",
        ),
        pytest.param(
            "lummy",
            {},
            sent_by_other,
            False,
            lambda now: ConfirmDuplicate(
                Insight(
                    recent=RecentSend(
                        at=now - FIVE_MINUTES, user_id=OTHER_AGENT, recipients=RECIPIENTS
                    ),
                    quota=used_once(now - FIVE_MINUTES),
                )
            ),
            id="recent-send-unconfirmed",
        ),
        pytest.param(
            "lummy",
            {},
            sent_by_other,
            True,
            lambda now: accepted(True, used_once(now - FIVE_MINUTES)),
            id="recent-send-confirmed",
        ),
        pytest.param(
            "lummy",
            {},
            running_by_other,
            False,
            lambda now: in_progress(now - timedelta(seconds=10), OTHER_AGENT),
            id="claim-in-flight-unconfirmed",
        ),
        pytest.param("lummy", {}, hour_used_up, True, exhausted, id="quota-at-limit-confirmed"),
        pytest.param(
            "lummy",
            {},
            store_down,
            False,
            lambda now: ConfirmDuplicate(Insight(unverified=True)),
            id="store-down-unconfirmed",
        ),
        pytest.param(
            "lummy",
            {},
            store_down,
            True,
            lambda now: accepted(False, None),
            id="store-down-confirmed",
        ),
    ],
)
async def test_submit(
    wire: Wire,
    tmp_path: Path,
    provider: str,
    overrides: dict[str, Any],
    seed: Seed,
    confirmed: bool,
    expect: Expect,
) -> None:
    """A new re-send: the gatekeeper's decision, and for `Accepted` the job it made."""
    decider = await build(wire, tmp_path, seed, overrides)
    claims_before = [] if seed is store_down else decider.claims()
    request = lummy() if provider == "lummy" else tusfacturas()

    decision = await decider.core.submit(request, ORIGIN, confirmed=confirmed)

    if isinstance(decision, Accepted):
        job = decision.job
        assert (job.request, job.requested_by, job.attempt, job.retried_by) == (
            request,
            AGENT,
            1,
            None,
        )
        assert (job.origin_channel_id, job.origin_thread_ts) == (CHANNEL, ORIGIN.thread_ts)
        assert_decision(
            decision, expect(decider.now), decider, job=job, origin=ORIGIN, existing=None
        )
    else:
        assert_decision(decision, expect(decider.now), decider)
        # The job the core made is not in a refusal or warning: its audit row names it.
        rows = await (
            decider.queued() if seed is store_down else decider.audited(request.invoice_key)
        )
        assert len(rows) == 1
        assert rows[0].idempotency_key is not None
        job = job_of(request).model_copy(update={"idempotency_key": rows[0].idempotency_key})
    if seed is store_down:
        queued = [(r.outcome, r.detail) for r in await decider.queued()]
        assert queued == ([] if confirmed else [("duplicate_warning", "duplicate_warning")])
        assert decider.guard_bypasses() == (1 if confirmed else 0)
        return
    holder = OTHER_AGENT if seed in (sent_by_other, running_by_other) else None
    await assert_left_behind(decider, decision, job, claims_before=claims_before, holder=holder)


async def test_submit_of_a_provider_without_credentials(wire: Wire) -> None:
    """Refused before any access check or history read, with the provider's own message."""
    decider = await wire(lummy_api_key=None, allowed_usergroup_ids=["S0SUPPORT"])

    decision = await decider.core.submit(lummy(), ORIGIN, confirmed=False)

    assert decision == Refuse(
        field=WHOLE_REQUEST,
        message=strings.PROVIDER_ERRORS["not_configured"].format(provider="Lummy"),
        code="not_configured",
    )
    assert decider.slack.calls == []
    assert decider.claims() == []


# --- retry ---------------------------------------------------------------------------

#: The message with the outcome the "Reintentar" button was pressed on.
EXISTING = ChannelMessageRef(channel_id=CHANNEL, ts="1700000000.000200")
#: The job as the first attempt's button carries it: its second attempt, made 10 minutes ago.
FIRST = job_of(lummy()).next_attempt()
MADE_AGO = timedelta(minutes=10)
#: Another agent presses "Reintentar" on the first attempt's message.
RETRIER = Origin(user_id=OTHER_AGENT, team_id=TEAM, channel_id=CHANNEL)


async def first_attempt_sent(decider: Decider) -> str | None:
    """The attempt the button repeats went out: that is no newer send."""
    await seed_send(decider, lummy(), user=AGENT, ago=FIVE_MINUTES, key=FIRST.idempotency_key)
    return AGENT


async def same_retry_running(decider: Decider) -> str | None:
    await seed_running(
        decider,
        lummy(),
        user=AGENT,
        ago=timedelta(seconds=3),
        attempt_id=FIRST.idempotency_key,
    )
    return AGENT


@pytest.mark.parametrize(
    ("overrides", "seed", "expect"),
    [
        pytest.param({}, nothing, lambda now: accepted(True, UNUSED), id="proceeds"),
        pytest.param(
            {"allowed_user_ids": [AGENT]},
            nothing,
            lambda now: REFUSED_USER,
            id="retrier-not-allowed",
        ),
        pytest.param(
            {"allowed_channel_ids": [OTHER_CHANNEL]},
            nothing,
            lambda now: REFUSED_CHANNEL,
            id="channel-not-allowed",
        ),
        # The button's own confirmation: the attempt it repeats does not stop it.
        pytest.param(
            {},
            first_attempt_sent,
            lambda now: accepted(True, used_once(now - FIVE_MINUTES)),
            id="recent-send-proceeds",
        ),
        pytest.param(
            {},
            same_retry_running,
            lambda now: in_progress(now - timedelta(seconds=3), AGENT),
            id="same-job-already-running",
        ),
        # Another attempt at the same invoice running does not stop it either.
        pytest.param(
            {}, running_by_other, lambda now: accepted(True, UNUSED), id="other-attempt-running"
        ),
        pytest.param({}, hour_used_up, exhausted, id="quota-at-limit"),
        # No history to rule out a newer send: the clicker must confirm.
        pytest.param({}, store_down, lambda now: ConfirmRetry(None), id="store-down"),
    ],
)
async def test_retry(
    wire: Wire, tmp_path: Path, overrides: dict[str, Any], seed: Seed, expect: Expect
) -> None:
    """Another attempt of the same job, shown in the same message, asked by whoever pressed
    the button: same request and key, confirmed by the button itself."""
    decider = await build(wire, tmp_path, seed, overrides)
    claims_before = [] if seed is store_down else decider.claims()

    first = FIRST.model_copy(update={"made_at": decider.now - MADE_AGO})
    decision = await decider.core.retry(first, RETRIER, existing=EXISTING)

    retried = first.model_copy(update={"retried_by": OTHER_AGENT})
    assert_decision(
        decision, expect(decider.now), decider, job=retried, origin=RETRIER, existing=EXISTING
    )
    if seed is store_down:
        assert decider.guard_bypasses() == 0
        return
    holder = AGENT if seed is same_retry_running else None
    await assert_left_behind(
        decider, decision, retried, claims_before=claims_before, holder=holder, user=OTHER_AGENT
    )


async def test_retry_after_a_newer_send_asks_and_a_confirmation_holds_for_that_send_only(
    wire: Wire,
) -> None:
    decider = await wire()
    first = FIRST.model_copy(update={"made_at": decider.now - MADE_AGO})
    await seed_send(
        decider,
        lummy(),
        user=AGENT,
        ago=timedelta(minutes=9),
        outcome="unknown",
        key=first.idempotency_key,
    )
    newer = await seed_send(decider, lummy(), user=AGENT, ago=FIVE_MINUTES)

    asked = await decider.core.retry(first, RETRIER, existing=EXISTING)

    assert asked == ConfirmRetry(
        RecentSend(
            at=newer.created_at,
            user_id=AGENT,
            recipients=RECIPIENTS,
            attempt_id=newer.attempt_id,
        )
    )
    assert isinstance(asked, ConfirmRetry)
    assert asked.mark == newer.attempt_id
    # An even newer send before the confirmation is pressed: it asks again, naming it.
    newest = await seed_send(decider, lummy(), user=OTHER_AGENT, ago=timedelta(minutes=1))
    again = await decider.core.retry(first, RETRIER, existing=EXISTING, seen=asked.mark)
    assert isinstance(again, ConfirmRetry)
    assert again.mark == newest.attempt_id
    assert again.newer is not None
    assert again.newer.user_id == OTHER_AGENT

    confirmed = await decider.core.retry(first, RETRIER, existing=EXISTING, seen=again.mark)

    assert isinstance(confirmed, Accepted)
    assert confirmed.job.idempotency_key == first.idempotency_key


async def test_retry_after_a_newer_uncertain_attempt_asks(wire: Wire) -> None:
    decider = await wire()
    first = FIRST.model_copy(update={"made_at": decider.now - MADE_AGO})
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=FIVE_MINUTES, outcome="unknown")

    asked = await decider.core.retry(first, RETRIER, existing=EXISTING)

    assert isinstance(asked, ConfirmRetry)
    assert asked.newer is not None
    assert asked.newer.uncertain


async def test_retry_after_a_newer_failure_that_sent_nothing_goes_ahead(wire: Wire) -> None:
    decider = await wire()
    first = FIRST.model_copy(update={"made_at": decider.now - MADE_AGO})
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=FIVE_MINUTES, outcome="unavailable")

    assert isinstance(await decider.core.retry(first, RETRIER, existing=EXISTING), Accepted)


async def test_a_retry_already_confirmed_goes_ahead_when_the_history_is_down(
    wire: Wire, tmp_path: Path
) -> None:
    decider = await build(wire, tmp_path, store_down, {})

    decision = await decider.core.retry(FIRST, RETRIER, existing=EXISTING, seen="unverified")

    assert isinstance(decision, Accepted)
    assert decider.guard_bypasses() == 1
