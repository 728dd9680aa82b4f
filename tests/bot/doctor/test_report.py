"""The checklist as text and JSON: marks, fixes, the verdict, and no secret ever."""

from __future__ import annotations

import json

from bot.doctor.checks import failed, passed, skipped
from bot.doctor.report import all_passed, as_json, as_text, redacted

RESULTS = [
    passed("settings", "Settings", "read from the environment; HTTP mode"),
    failed(
        "slack_token",
        "Slack bot token",
        "Slack refused SLACK_BOT_TOKEN (token_revoked)",
        fix="Install the app again.",
        details=("first detail",),
    ),
    skipped("slack_scopes", "Slack scopes", "needs a working bot token"),
]


def test_text_marks_each_check_and_ends_with_the_verdict() -> None:
    assert as_text(RESULTS) == (
        "✓ Settings: read from the environment; HTTP mode\n"
        "✗ Slack bot token: Slack refused SLACK_BOT_TOKEN (token_revoked)\n"
        "    first detail\n"
        "    Fix: Install the app again.\n"
        "– Slack scopes (skipped): needs a working bot token\n"
        "\n"
        "1 of 3 checks failed.\n"
    )
    assert as_text([RESULTS[0], RESULTS[2]]).endswith("\nAll 1 checks passed (1 skipped).\n")


def test_json_has_every_field_and_the_verdict() -> None:
    report = json.loads(as_json(RESULTS))

    assert report["ok"] is False
    assert report["checks"][1] == {
        "key": "slack_token",
        "title": "Slack bot token",
        "status": "failed",
        "summary": "Slack refused SLACK_BOT_TOKEN (token_revoked)",
        "fix": "Install the app again.",
        "details": ["first detail"],
    }
    assert [check["status"] for check in report["checks"]] == ["passed", "failed", "skipped"]


def test_skipped_checks_do_not_fail_the_run() -> None:
    assert all_passed([RESULTS[0], RESULTS[2]])
    assert not all_passed(RESULTS)


def test_secrets_and_token_shapes_are_blanked() -> None:
    leaky = failed(
        "history_store",
        "History store",
        "postgresql://bot:hunter22@db cannot be used",
        fix="not xoxb-1234-abcd",
        details=("hunter22 again",),
    )

    (clean,) = redacted([leaky], ["hunter22"])

    assert clean.summary == "postgresql://bot:[REDACTED]@db cannot be used"
    assert clean.fix == "not [REDACTED]"
    assert clean.details == ("[REDACTED] again",)
