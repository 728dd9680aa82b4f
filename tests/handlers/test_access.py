"""Who may re-send, from where, and to which address: every rule at both check points.

The command is checked before the modal opens; the submit is checked again (a modal
can stay open while permissions change). Everything goes through signed HTTP to the
production bot; refusals are audited (canonical log line + history row).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.history.records import AttemptRecord
from bot.resend.access import AccessRules, AlternativeEmailPolicy
from bot.ui import strings
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    SEED_VOUCHER,
    Clock,
    ack_text,
    eventually,
    history_rows,
    lummy_values,
    resend,
    resends,
    submit,
    tf_values,
)

THIRD_AGENT = "U0AGENT03"
GROUP = "S0SUPPORT"
ALT_GROUP = "S0ALTMAIL"
ELSEWHERE = "C0RANDOM"
#: Seeded Lummy invoices (emulator defaults) besides SEED_LUMMY_ID, so that successive
#: sends in one test do not trip the duplicate guard.
OTHER_LUMMY_IDS = (
    "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13",
    "9d7e6c5b-1a2f-4b3c-8d4e-5f6a7b8c9d0e",
    "c1a9e2f4-6b3d-4c8e-a7f5-0e1d2c3b4a59",
)


# --- helpers -------------------------------------------------------------------------


async def refused_rows(bot: Bot, count: int = 1) -> list[AttemptRecord]:
    async def fetch() -> list[AttemptRecord]:
        rows = [
            r for r in await history_rows(bot, within=timedelta(hours=1)) if r.outcome == "refused"
        ]
        return rows if len(rows) >= count else []

    return await eventually(fetch, what=f"{count} refused row(s) in the history")


def refusal_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "resend_attempt" and e["outcome"] == "refused"]


def nothing_sent(bot: Bot) -> None:
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []
    assert bot.slack.calls_to("chat.postMessage") == []


def set_rules(bot: Bot, rules: AccessRules) -> None:
    """Permissions change while a modal is open (as after a redeploy with new settings)."""
    bot.services.gatekeeper._access.rules = rules


# --- open to everyone ----------------------------------------------------------------


async def test_without_lists_everyone_may_resend_and_startup_warns(start_bot: Any) -> None:
    with capture_logs() as logs:
        bot: Bot = await start_bot()
    (warning,) = [e for e in logs if e["event"] == "access_open_to_everyone"]
    assert warning["log_level"] == "warning"
    assert "ALLOWED_USER_IDS" in warning["hint"]

    text = (await resend(bot, SEED_VOUCHER, tf_values(), user=OTHER_AGENT)).text

    assert "Se reenvió la factura B 0002-00000006" in text
    assert len(bot.tusfacturas.sends) == 1


async def test_no_open_access_warning_when_a_list_is_set(start_bot: Any) -> None:
    with capture_logs() as logs:
        await start_bot(allowed_channel_ids=[CHANNEL])
    assert not [e for e in logs if e["event"] == "access_open_to_everyone"]


# --- ALLOWED_USER_IDS ----------------------------------------------------------------


async def test_listed_user_opens_the_modal_and_unlisted_user_is_refused(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_user_ids=[AGENT, THIRD_AGENT])

    await bot.open_modal(SEED_VOUCHER, user=AGENT, empty_ack=True)
    with capture_logs() as logs:
        refused = await bot.command(SEED_VOUCHER, user=OTHER_AGENT)
        (row,) = await refused_rows(bot)

    assert ack_text(refused) == strings.REFUSED_PREFIX + strings.REFUSED_USER
    assert "no tiene permiso" in refused.body
    for allowed in (AGENT, THIRD_AGENT):  # never says who is allowed
        assert allowed not in refused.body
    assert len(bot.slack.calls_to("views.open")) == 1  # only the allowed agent's
    assert bot.slack.current_view(OTHER_AGENT) is None
    assert bot.slack.messages_in(CHANNEL) == []

    (line,) = refusal_lines(logs)
    assert line["log_level"] == "warning"
    assert line["user_id"] == OTHER_AGENT
    assert line["channel_id"] == CHANNEL
    assert line["team_id"] == "T0001"
    assert line["detail"] == "user_not_allowed"
    assert line["reference"] == SEED_VOUCHER
    assert (row.user_id, row.channel_id, row.detail) == (OTHER_AGENT, CHANNEL, "user_not_allowed")
    assert row.attempt_id == line["attempt_id"]
    assert row.reference == SEED_VOUCHER

    # The history is refused too, without leaking anything.
    history = await bot.command(f"historial {SEED_VOUCHER}", user=OTHER_AGENT)
    assert ack_text(history) == strings.REFUSED_PREFIX + strings.REFUSED_USER
    await refused_rows(bot, count=2)
    assert bot.slack.response_url_messages == []


# --- ALLOWED_USERGROUP_IDS -----------------------------------------------------------


async def test_usergroup_members_allowed_cached_and_refreshed_on_a_miss(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_usergroup_ids=[GROUP])
    bot.slack.add_usergroup(GROUP, [AGENT])
    clock = Clock()
    bot.services.gatekeeper._access._groups._clock = clock

    # A member: allowed; the second command is answered from the cache.
    await bot.open_modal(user=AGENT, empty_ack=True)
    await bot.open_modal(user=AGENT, empty_ack=True)
    assert len(bot.slack.calls_to("usergroups.users.list")) == 1
    assert bot.slack.calls_to("usergroups.users.list")[0].params["usergroup"] == GROUP

    # A non-member: refused (the lookup just happened: no new call).
    refused = await bot.command(user=OTHER_AGENT)
    assert ack_text(refused) == strings.REFUSED_PREFIX + strings.REFUSED_USER
    assert GROUP not in refused.body
    assert AGENT not in refused.body
    (row,) = await refused_rows(bot)
    assert row.detail == "user_not_allowed"

    # Added to the group: once the cached list is older than the refresh floor
    # (3 s, moved forward rather than slept), the miss refreshes it and they get in.
    bot.slack.add_usergroup(GROUP, [AGENT, OTHER_AGENT])
    clock.offset += 4
    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    assert len(bot.slack.calls_to("usergroups.users.list")) == 2

    # And the submit re-check is answered from the refreshed cache.
    view = bot.slack.current_view(OTHER_AGENT)
    assert view is not None
    response = await submit(bot, view, tf_values(), user=OTHER_AGENT)
    assert response.body == ""
    await bot.wait_for_outcome()
    assert len(bot.tusfacturas.sends) == 1
    assert len(bot.slack.calls_to("usergroups.users.list")) == 2


async def test_a_miss_within_the_refresh_floor_does_not_hammer_slack(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_usergroup_ids=[GROUP])
    bot.slack.add_usergroup(GROUP, [AGENT])

    await bot.open_modal(user=AGENT, empty_ack=True)
    for _ in range(3):
        refused = await bot.command(user=OTHER_AGENT)
        assert ack_text(refused) == strings.REFUSED_PREFIX + strings.REFUSED_USER

    assert len(bot.slack.calls_to("usergroups.users.list")) == 1


# --- ALLOWED_CHANNEL_IDS -------------------------------------------------------------


async def test_command_from_another_channel_is_refused(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_channel_ids=[CHANNEL])
    bot.slack.add_channel(ELSEWHERE, "random")

    refused = await bot.command(SEED_VOUCHER, channel=ELSEWHERE)

    assert ack_text(refused) == strings.REFUSED_PREFIX + strings.REFUSED_CHANNEL
    assert "canal" in refused.body
    assert CHANNEL not in refused.body  # does not say which channels are allowed
    assert bot.slack.calls_to("views.open") == []
    (row,) = await refused_rows(bot)
    assert (row.channel_id, row.detail) == (ELSEWHERE, "channel_not_allowed")

    await bot.open_modal(SEED_VOUCHER, channel=CHANNEL, empty_ack=True)


# --- the submit re-check -------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "message", "code"),
    [
        (AccessRules(user_ids=frozenset({OTHER_AGENT})), strings.REFUSED_USER, "user_not_allowed"),
        (
            AccessRules(usergroup_ids=frozenset({GROUP})),
            strings.REFUSED_USER,
            "user_not_allowed",
        ),
        (
            AccessRules(channel_ids=frozenset({ELSEWHERE})),
            strings.REFUSED_CHANNEL,
            "channel_not_allowed",
        ),
    ],
    ids=["user", "usergroup", "channel"],
)
async def test_permissions_changed_while_the_modal_was_open(
    start_bot: Any, rules: AccessRules, message: str, code: str
) -> None:
    bot: Bot = await start_bot()
    bot.slack.add_usergroup(GROUP, [OTHER_AGENT])
    view = await bot.open_modal(SEED_VOUCHER, empty_ack=True)

    set_rules(bot, rules)
    with capture_logs() as logs:
        response = await submit(bot, view, tf_values(), user=AGENT)

    assert response.json == {"response_action": "errors", "errors": {"provider": message}}
    assert view["id"] in bot.slack.views  # the modal stays open with the error
    nothing_sent(bot)
    (line,) = refusal_lines(logs)
    assert line["detail"] == code
    assert line["provider"] == "tusfacturas"
    assert line["reference"] == SEED_VOUCHER
    (row,) = await refused_rows(bot)
    assert row.attempt_id == line["attempt_id"]
    assert row.invoice_key == "tusfacturas:FACTURA B|V|2|6"
    assert row.idempotency_key is not None

    # Permissions restored: the same modal goes through.
    set_rules(bot, AccessRules())
    accepted = await submit(bot, view, tf_values(), user=AGENT)
    assert accepted.body == ""
    await bot.wait_for_outcome()
    assert len(bot.tusfacturas.sends) == 1


# --- alternative e-mail --------------------------------------------------------------


async def test_alternative_email_off_is_refused_but_an_empty_email_is_fine(
    start_bot: Any,
) -> None:
    bot: Bot = await start_bot(alternative_email_policy="off")
    assert bot.services.settings.alternative_email_policy is AlternativeEmailPolicy.OFF
    view = await bot.open_modal(f"{SEED_LUMMY_ID} otro@cliente.com", empty_ack=True)

    response = await submit(bot, view, lummy_values(SEED_LUMMY_ID, "otro@cliente.com"), user=AGENT)

    assert response.json == {
        "response_action": "errors",
        "errors": {"email": strings.REFUSED_ALT_EMAIL_OFF},
    }
    nothing_sent(bot)
    (row,) = await refused_rows(bot)
    assert (row.detail, row.alternative_email) == ("alternative_email_off", "otro@cliente.com")

    accepted = await submit(bot, view, lummy_values(SEED_LUMMY_ID), user=AGENT)
    assert accepted.body == ""
    await bot.wait_for_outcome()
    assert [s.to for s in bot.lummy.sends] == ["cliente@empresa.com"]


async def test_alternative_email_for_listed_users_and_groups_only(start_bot: Any) -> None:
    bot: Bot = await start_bot(
        alternative_email_policy="listed",
        alternative_email_user_ids=[AGENT],
        alternative_email_usergroup_ids=[ALT_GROUP],
    )
    bot.slack.add_user(THIRD_AGENT, "carla", "Carla Gómez")
    bot.slack.add_usergroup(ALT_GROUP, [THIRD_AGENT])

    # Not listed: refused under the e-mail field, nothing sent.
    view = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    refused = await submit(
        bot, view, lummy_values(SEED_LUMMY_ID, "otro@cliente.com"), user=OTHER_AGENT
    )
    assert refused.json == {
        "response_action": "errors",
        "errors": {"email": strings.REFUSED_ALT_EMAIL_USER},
    }
    assert AGENT not in refused.body
    assert ALT_GROUP not in refused.body
    nothing_sent(bot)
    (row,) = await refused_rows(bot)
    assert row.detail == "alternative_email_not_allowed"

    # The same agent without an alternative address: fine.
    accepted = await submit(bot, view, lummy_values(SEED_LUMMY_ID), user=OTHER_AGENT)
    assert accepted.body == ""
    await bot.wait_for_outcome(count=1)

    # Listed by id, and listed through the user group: sent to the address they typed.
    await resend(
        bot,
        "",
        lummy_values(OTHER_LUMMY_IDS[0], "listado@cliente.com"),
        user=AGENT,
    )
    await resend(
        bot,
        "",
        lummy_values(OTHER_LUMMY_IDS[1], "grupo@cliente.com"),
        user=THIRD_AGENT,
    )
    assert [s.to for s in bot.lummy.sends] == [
        "cliente@empresa.com",
        "listado@cliente.com",
        "grupo@cliente.com",
    ]
    messages = bot.slack.messages_in(CHANNEL)
    assert "listado@cliente.com" in messages[1].text
    assert "grupo@cliente.com" in messages[2].text


async def test_alternative_email_domains(start_bot: Any) -> None:
    bot: Bot = await start_bot(alternative_email_domains=["Empresa.com"])
    view = await bot.open_modal(empty_ack=True)

    refused = await submit(bot, view, lummy_values(SEED_LUMMY_ID, "alguien@otro.com"), user=AGENT)

    assert refused.json == {
        "response_action": "errors",
        "errors": {"email": strings.REFUSED_ALT_EMAIL_DOMAIN.format(domain="otro.com")},
    }
    assert "empresa.com" not in refused.body.lower()  # allowed domains are not listed
    nothing_sent(bot)
    (row,) = await refused_rows(bot)
    assert row.detail == "alternative_email_domain"

    accepted = await submit(
        bot, view, lummy_values(SEED_LUMMY_ID, "cobranza@empresa.com"), user=AGENT
    )
    assert accepted.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert [s.to for s in bot.lummy.sends] == ["cobranza@empresa.com"]
    assert "cobranza@empresa.com" in outcome.text

    # No alternative address: the domain rule does not apply.
    await resend(bot, "", lummy_values(OTHER_LUMMY_IDS[2]), user=AGENT)
    assert bot.lummy.sends[-1].to == "contabilidad@cafeteriaelportal.com.mx"
