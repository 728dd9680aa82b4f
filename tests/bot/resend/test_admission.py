"""`Gatekeeper.review`, rule by rule, against a real SQLite history: access, the
alternative e-mail, the provider's hourly quota, the duplicate guard, and a store
that cannot answer. Each row states the exact decision and what it audits."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from bot import deadlines
from bot.history.insight import Insight, QuotaUsage, RecentSend
from bot.resend.access import Refusal
from bot.resend.admission import (
    WHOLE_REQUEST,
    ConfirmDuplicate,
    Decision,
    Proceed,
    Refuse,
    Requester,
)
from bot.resend.duplicates import QUOTA_WINDOW
from bot.ui import strings
from providers.lummy.model import RESENDS_PER_HOUR
from tests.bot.resend.conftest import (
    GROUP,
    OTHER_CHANNEL,
    TEAM,
    Decider,
    SlackStandIn,
    Wire,
    assert_left_behind,
    audit_rows,
    eventually,
    job_of,
    lummy,
    pending_timeout,
    seed_running,
    seed_send,
    seed_sends,
    tusfacturas,
    write_lock,
)
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT

RECIPIENTS = ("cliente@example.com",)
#: The duplicate window of the default settings.
WINDOW = timedelta(minutes=15)
#: Lummy's hourly quota, nothing used yet.
UNUSED = QuotaUsage(used=0, limit=RESENDS_PER_HOUR, frees_at=None)
CONFIRMED = [
    pytest.param(False, id="unconfirmed"),
    pytest.param(True, id="confirmed"),
]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def requester(channel: str | None = CHANNEL, user: str = AGENT) -> Requester:
    return Requester(user_id=user, channel_id=channel, team_id=TEAM)


# --- access ------------------------------------------------------------------------

REFUSED_USER = Refuse(field=WHOLE_REQUEST, message=strings.REFUSED_USER, code="user_not_allowed")
REFUSED_CHANNEL = Refuse(
    field=WHOLE_REQUEST, message=strings.REFUSED_CHANNEL, code="channel_not_allowed"
)
ACCESS_TIMEOUT = Refuse(
    field=WHOLE_REQUEST, message=strings.ACCESS_CHECK_TIMEOUT, code="access_check_timeout"
)
GO = Proceed(claimed=True, quota=UNUSED)


@pytest.mark.parametrize("confirmed", CONFIRMED)
@pytest.mark.parametrize(
    ("overrides", "members", "lookup", "channel", "email", "expected"),
    [
        pytest.param({}, {}, "ok", CHANNEL, None, GO, id="open-to-everyone"),
        pytest.param({"allowed_user_ids": [AGENT]}, {}, "ok", CHANNEL, None, GO, id="user-listed"),
        pytest.param(
            {"allowed_usergroup_ids": [GROUP]},
            {GROUP: [OTHER_AGENT, AGENT]},
            "ok",
            CHANNEL,
            None,
            GO,
            id="user-in-allowed-group",
        ),
        pytest.param(
            {"allowed_channel_ids": [CHANNEL]}, {}, "ok", CHANNEL, None, GO, id="channel-listed"
        ),
        pytest.param(
            {"allowed_user_ids": [OTHER_AGENT]},
            {},
            "ok",
            CHANNEL,
            None,
            REFUSED_USER,
            id="user-not-allowed",
        ),
        pytest.param(
            {"allowed_usergroup_ids": [GROUP]},
            {GROUP: [OTHER_AGENT]},
            "ok",
            CHANNEL,
            None,
            REFUSED_USER,
            id="user-not-in-group",
        ),
        pytest.param(
            {"allowed_user_ids": [AGENT], "allowed_channel_ids": [OTHER_CHANNEL]},
            {},
            "ok",
            CHANNEL,
            None,
            REFUSED_CHANNEL,
            id="channel-not-allowed-for-a-listed-user",
        ),
        pytest.param(
            {"allowed_channel_ids": [CHANNEL]},
            {},
            "ok",
            None,
            None,
            REFUSED_CHANNEL,
            id="no-channel-where-channels-are-listed",
        ),
        pytest.param(
            {"allowed_usergroup_ids": [GROUP]},
            {GROUP: [AGENT]},
            "slow",
            CHANNEL,
            None,
            ACCESS_TIMEOUT,
            id="group-lookup-slow",
        ),
        pytest.param(
            {"allowed_usergroup_ids": [GROUP]},
            {GROUP: [AGENT]},
            "unreachable",
            CHANNEL,
            None,
            REFUSED_USER,
            id="group-lookup-fails",
        ),
        pytest.param(
            {"alternative_email_policy": "off"},
            {},
            "ok",
            CHANNEL,
            "otro@cliente.com",
            Refuse(
                field="email", message=strings.REFUSED_ALT_EMAIL_OFF, code="alternative_email_off"
            ),
            id="alternative-email-off",
        ),
        pytest.param(
            {"alternative_email_policy": "listed", "alternative_email_user_ids": [OTHER_AGENT]},
            {},
            "ok",
            CHANNEL,
            "otro@cliente.com",
            Refuse(
                field="email",
                message=strings.REFUSED_ALT_EMAIL_USER,
                code="alternative_email_not_allowed",
            ),
            id="alternative-email-user-not-listed",
        ),
        pytest.param(
            {"alternative_email_domains": ["cliente.com"]},
            {},
            "ok",
            CHANNEL,
            "alguien@gmail.com",
            Refuse(
                field="email",
                message=strings.REFUSED_ALT_EMAIL_DOMAIN.format(domain="gmail.com"),
                code="alternative_email_domain",
            ),
            id="alternative-email-domain-not-allowed",
        ),
        pytest.param(
            {
                "alternative_email_policy": "listed",
                "alternative_email_usergroup_ids": [GROUP],
                "alternative_email_domains": ["cliente.com"],
            },
            {GROUP: [AGENT]},
            "ok",
            CHANNEL,
            "otro@Cliente.com",
            GO,
            id="alternative-email-allowed",
        ),
    ],
)
async def test_access_decides_first(
    wire: Wire,
    slack: SlackStandIn,
    overrides: dict[str, Any],
    members: dict[str, list[str]],
    lookup: str,
    channel: str | None,
    email: str | None,
    expected: Decision,
    confirmed: bool,
) -> None:
    """Who, where and to which address; a confirmation never lifts a refusal."""
    slack.groups = members
    slack.stalled = lookup == "slow"
    slack.unreachable = lookup == "unreachable"
    decider = await wire(**overrides)
    job = job_of(lummy(email), channel=channel)

    started = time.monotonic()
    decision = await decider.gatekeeper.review(job, requester(channel), confirmed=confirmed)
    elapsed = time.monotonic() - started

    assert decision == expected
    assert elapsed < (1.5 if lookup == "slow" else 1.0)
    if members:
        # At submit, group membership is asked of Slack, not taken from a cache.
        group_lookups = [p["usergroup"] for m, p in slack.calls if m == "usergroups.users.list"]
        assert group_lookups == [GROUP]
    await assert_left_behind(decider, decision, job, claims_before=[], channel=channel)


@pytest.mark.parametrize(
    ("overrides", "lookup", "expected"),
    [
        pytest.param({}, "ok", None, id="open-to-everyone"),
        pytest.param(
            {"allowed_usergroup_ids": [GROUP]},
            "ok",
            Refusal("user_not_allowed", strings.REFUSED_USER),
            id="user-not-in-group",
        ),
        pytest.param(
            {"allowed_channel_ids": [OTHER_CHANNEL]},
            "ok",
            Refusal("channel_not_allowed", strings.REFUSED_CHANNEL),
            id="channel-not-allowed",
        ),
        # The modal opens; the submit checks again.
        pytest.param({"allowed_usergroup_ids": [GROUP]}, "slow", None, id="group-lookup-slow"),
    ],
)
async def test_command_time_access(
    wire: Wire,
    slack: SlackStandIn,
    overrides: dict[str, Any],
    lookup: str,
    expected: Refusal | None,
) -> None:
    """`check_access` before the modal opens; a refusal there is audited without an invoice."""
    slack.groups = {GROUP: [OTHER_AGENT]}
    slack.stalled = lookup == "slow"
    decider = await wire(**overrides)

    started = time.monotonic()
    refusal = await decider.gatekeeper.check_access(requester())
    assert time.monotonic() - started < 1.5
    assert refusal == expected

    if refusal is not None:
        decider.gatekeeper.refuse_command(requester(), refusal, "lummy " + "x" * 300)
    rows = await decider.audited("")
    if refusal is None:
        assert rows == []
        return
    (row,) = rows
    assert (row.outcome, row.detail, row.user_id, row.channel_id, row.team_id) == (
        "refused",
        refusal.code,
        AGENT,
        CHANNEL,
        TEAM,
    )
    assert (row.provider, row.invoice_key, row.idempotency_key) == ("", "", None)
    assert row.reference == ("lummy " + "x" * 300)[:200]


async def test_submit_asks_slack_again_for_group_members(wire: Wire, slack: SlackStandIn) -> None:
    """A member removed from the allowed group after the modal opened is refused at submit,
    though the list the command cached has not expired."""
    ticks = [1000.0]
    slack.groups = {GROUP: [AGENT]}
    decider = await wire(allowed_usergroup_ids=[GROUP], group_clock=lambda: ticks[0])
    assert await decider.gatekeeper.check_access(requester()) is None
    slack.groups = {GROUP: [OTHER_AGENT]}
    # Past the refresh floor, well inside the cache's lifetime.
    ticks[0] += 10
    assert await decider.gatekeeper.check_access(requester()) is None, "the command uses the cache"
    job = job_of(lummy())

    decision = await decider.gatekeeper.review(job, requester(), confirmed=True)

    assert decision == REFUSED_USER
    assert [p["usergroup"] for _, p in slack.calls] == [GROUP, GROUP]
    await assert_left_behind(decider, decision, job, claims_before=[])


# --- duplicates ----------------------------------------------------------------------


def recent(at: datetime, user: str, **flags: bool) -> RecentSend:
    return RecentSend(at=at, user_id=user, recipients=() if flags else RECIPIENTS, **flags)


Expect = Callable[[datetime], Decision]


async def nothing(decider: Decider) -> str | None:
    return None


async def sent_by_other_5_min_ago(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=minutes(5))
    return OTHER_AGENT


async def sent_by_self_5_min_ago(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=AGENT, ago=minutes(5))
    return AGENT


async def sent_by_other_history_only(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=minutes(5), keep_claim=False)
    return OTHER_AGENT


async def sent_20_min_ago(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=minutes(20))
    return None


async def uncertain_5_min_ago(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=minutes(5), outcome="unknown")
    return OTHER_AGENT


async def failed_5_min_ago(decider: Decider) -> str | None:
    await seed_send(decider, lummy(), user=OTHER_AGENT, ago=minutes(5), outcome="unavailable")
    return None


async def running_by_other(decider: Decider) -> str | None:
    await seed_running(decider, lummy(), user=OTHER_AGENT, ago=timedelta(seconds=10))
    return OTHER_AGENT


async def running_but_expired(decider: Decider) -> str | None:
    ago = pending_timeout(decider.settings) + timedelta(seconds=1)
    await seed_running(decider, lummy(), user=OTHER_AGENT, ago=ago)
    return None


def five_min_ago(now: datetime) -> datetime:
    return now - minutes(5)


def used_once(at: datetime) -> QuotaUsage:
    return QuotaUsage(used=1, limit=RESENDS_PER_HOUR, frees_at=at + QUOTA_WINDOW)


@pytest.mark.parametrize(
    ("seed", "confirmed", "expect"),
    [
        pytest.param(nothing, False, lambda now: GO, id="none-unconfirmed"),
        pytest.param(nothing, True, lambda now: GO, id="none-confirmed"),
        pytest.param(
            sent_by_other_5_min_ago,
            False,
            lambda now: ConfirmDuplicate(
                Insight(
                    recent=recent(five_min_ago(now), OTHER_AGENT),
                    quota=used_once(five_min_ago(now)),
                )
            ),
            id="recent-send-by-someone-else-unconfirmed",
        ),
        pytest.param(
            sent_by_other_5_min_ago,
            True,
            lambda now: Proceed(claimed=True, quota=used_once(five_min_ago(now))),
            id="recent-send-by-someone-else-confirmed",
        ),
        pytest.param(
            sent_by_self_5_min_ago,
            False,
            lambda now: ConfirmDuplicate(
                Insight(recent=recent(five_min_ago(now), AGENT), quota=used_once(five_min_ago(now)))
            ),
            id="recent-send-by-the-same-agent-unconfirmed",
        ),
        pytest.param(
            sent_by_other_history_only,
            False,
            lambda now: ConfirmDuplicate(
                Insight(
                    recent=recent(five_min_ago(now), OTHER_AGENT),
                    quota=used_once(five_min_ago(now)),
                )
            ),
            id="recent-send-whose-claim-was-lost-unconfirmed",
        ),
        pytest.param(
            sent_by_other_history_only,
            True,
            lambda now: Proceed(claimed=True, quota=used_once(five_min_ago(now))),
            id="recent-send-whose-claim-was-lost-confirmed",
        ),
        pytest.param(
            sent_20_min_ago,
            False,
            lambda now: Proceed(claimed=True, quota=used_once(now - minutes(20))),
            id="send-before-the-window-unconfirmed",
        ),
        pytest.param(
            uncertain_5_min_ago,
            False,
            lambda now: ConfirmDuplicate(
                Insight(recent=recent(five_min_ago(now), OTHER_AGENT, uncertain=True), quota=UNUSED)
            ),
            id="recent-uncertain-outcome-unconfirmed",
        ),
        pytest.param(uncertain_5_min_ago, True, lambda now: GO, id="recent-uncertain-confirmed"),
        pytest.param(failed_5_min_ago, False, lambda now: GO, id="recent-failure-unconfirmed"),
        pytest.param(
            running_by_other,
            False,
            lambda now: ConfirmDuplicate(
                Insight(
                    recent=recent(now - timedelta(seconds=10), OTHER_AGENT, in_progress=True),
                    quota=UNUSED,
                )
            ),
            id="claim-in-flight-unconfirmed",
        ),
        # A confirmation takes over another agent's running claim: only a run of the
        # same attempt is never overridden (`Claims.claim`).
        pytest.param(running_by_other, True, lambda now: GO, id="claim-in-flight-confirmed"),
        pytest.param(
            running_but_expired, False, lambda now: GO, id="claim-in-flight-expired-unconfirmed"
        ),
    ],
)
async def test_duplicate_guard(
    wire: Wire,
    seed: Callable[[Decider], Any],
    confirmed: bool,
    expect: Expect,
) -> None:
    """A recent send (or one running) must be confirmed; a confirmed one proceeds."""
    decider = await wire()
    holder = await seed(decider)
    claims_before = decider.claims()
    job = job_of(lummy())

    decision = await decider.gatekeeper.review(job, requester(), confirmed=confirmed)

    assert decision == expect(decider.now)
    await assert_left_behind(decider, decision, job, claims_before=claims_before, holder=holder)


# --- the provider's hourly quota -----------------------------------------------------

#: Nine sends between 20 and 55 minutes ago: outside the duplicate window, inside the hour.
NINE_IN_THE_HOUR = [minutes(55 - 4 * i) for i in range(9)]


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


@pytest.mark.parametrize("confirmed", CONFIRMED)
@pytest.mark.parametrize(
    ("provider", "ages", "expect"),
    [
        pytest.param(
            "lummy",
            NINE_IN_THE_HOUR,
            lambda now: Proceed(
                claimed=True, quota=QuotaUsage(used=9, limit=10, frees_at=now + minutes(5))
            ),
            id="lummy-under-the-limit",
        ),
        pytest.param(
            "lummy",
            [*NINE_IN_THE_HOUR, minutes(16)],
            exhausted,
            id="lummy-at-the-limit",
        ),
        # The quota is checked before the duplicate guard (a confirmation cannot lift it).
        pytest.param(
            "lummy",
            [*NINE_IN_THE_HOUR, minutes(5)],
            exhausted,
            id="lummy-at-the-limit-with-a-recent-send",
        ),
        pytest.param(
            "lummy",
            [minutes(61 + i) for i in range(10)],
            lambda now: GO,
            id="lummy-limit-reached-over-an-hour-ago",
        ),
        pytest.param(
            "tusfacturas",
            [*NINE_IN_THE_HOUR, minutes(16)],
            lambda now: Proceed(claimed=True, quota=None),
            id="tusfacturas-has-no-quota",
        ),
    ],
)
async def test_hourly_quota(
    wire: Wire, provider: str, ages: list[timedelta], expect: Expect, confirmed: bool
) -> None:
    """Lummy's ten re-sends per invoice and hour, counted from the history's successes."""
    decider = await wire()
    request = lummy() if provider == "lummy" else tusfacturas()
    await seed_sends(decider, request, OTHER_AGENT, ages)
    job = job_of(request)

    decision = await decider.gatekeeper.review(job, requester(), confirmed=confirmed)

    assert decision == expect(decider.now)
    await assert_left_behind(decider, decision, job, claims_before=[])


# --- a store that cannot answer ----------------------------------------------------


@pytest.mark.parametrize("confirmed", CONFIRMED)
@pytest.mark.parametrize("fault", ["unusable", "locked", "slow"])
async def test_store_that_cannot_answer(
    wire: Wire,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    confirmed: bool,
) -> None:
    """Down (a path that cannot hold a database), locked by another process past SQLite's
    busy timeout, or slower than the pre-ack budget: a duplicate cannot be ruled out, so
    an unconfirmed submit is warned and a confirmed one proceeds without a claim."""
    if fault == "unusable":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        decider = await wire(store_dir=blocker)
    elif fault == "locked":
        decider = await wire()
    else:
        # Deadlines shorter than SQLite's busy timeout: the deadline ends the wait.
        monkeypatch.setattr(deadlines, "PRE_ACK_BUDGET", 0.3)
        decider = await wire(store_timeout=0.3)
    job = job_of(lummy())
    expected: Decision = (
        Proceed(claimed=False) if confirmed else ConfirmDuplicate(Insight(unverified=True))
    )

    with capture_logs() as logs:
        started = time.monotonic()
        if fault == "unusable":
            decision = await decider.gatekeeper.review(job, requester(), confirmed=confirmed)
        else:
            with write_lock(decider.history_file):
                decision = await decider.gatekeeper.review(job, requester(), confirmed=confirmed)
        elapsed = time.monotonic() - started

        assert decision == expected
        assert elapsed < {"unusable": 0.5, "locked": deadlines.PRE_ACK_BUDGET, "slow": 0.6}[fault]
        assert decider.guard_bypasses() == (1 if confirmed else 0)
        (unavailable,) = [e for e in logs if e["event"] == "duplicate_guard_unavailable"]
        assert unavailable["error"] == (
            "TimeoutError" if fault == "slow" else "StoreUnavailableError"
        )
        if fault == "slow":
            # The claim given up on lands once the lock is gone, and is released at once.
            assert await eventually(
                lambda: any(e["event"] == "history_claim_abandoned" for e in logs)
            )
            assert await eventually(lambda: decider.claims() == [])

    warned = [("duplicate_warning", "duplicate_warning")] if not confirmed else []
    if fault == "unusable":
        queued = audit_rows(await decider.queued(), job, user=AGENT, channel=CHANNEL)
        assert queued == warned
    else:
        assert await decider.queued() == []
        await assert_left_behind(decider, decision, job, claims_before=[])
