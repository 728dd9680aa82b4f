"""The Block Kit rules the fake Web API enforces, as Slack words its refusals."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.localslack import SlackApiRefusal
from devkit.localslack.validation import message_content, validate_blocks, validate_view

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hola"}}


def modal(**changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Reenviar"},
        "blocks": [SECTION],
    }
    view.update(changes)
    return view


def test_blocks_limits_types_and_duplicate_ids() -> None:
    assert validate_blocks([SECTION], limit=1, pointer="/blocks") == []
    assert validate_blocks([SECTION, SECTION], limit=1, pointer="/blocks") == [
        "[ERROR] no more than 1 items allowed [json-pointer:/blocks]"
    ]
    assert validate_blocks([{"text": "x"}], limit=50, pointer="/blocks") == [
        "[ERROR] missing required field: type [json-pointer:/blocks/0]"
    ]
    twice = [{**SECTION, "block_id": "a"}, {**SECTION, "block_id": "a"}]
    assert validate_blocks(twice, limit=50, pointer="/view/blocks") == [
        "[ERROR] duplicate block_id 'a' [json-pointer:/view/blocks/1]"
    ]


def test_a_valid_modal_is_returned_as_is() -> None:
    view = modal(submit={"type": "plain_text", "text": "x" * 24})
    assert validate_view(view) is view


@pytest.mark.parametrize(
    ("view", "message"),
    [
        ("modal", "[ERROR] view must be an object"),
        (modal(type="home"), "[ERROR] must be 'modal' [json-pointer:/view/type]"),
        (
            modal(title={"type": "plain_text", "text": "x" * 25}),
            "[ERROR] must be less than 25 characters [json-pointer:/view/title]",
        ),
        (
            modal(private_metadata="x" * 3001),
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (
            modal(blocks=[{"type": "input", "label": {}, "element": {}}]),
            "[ERROR] submit is required when an input block is present [json-pointer:/view]",
        ),
        (modal(blocks=None), "[ERROR] missing required field: blocks [json-pointer:/view]"),
    ],
)
def test_invalid_modals_are_refused_with_slacks_message(view: Any, message: str) -> None:
    with pytest.raises(SlackApiRefusal) as refusal:
        validate_view(view)
    assert refusal.value.error == "invalid_arguments"
    assert message in refusal.value.messages


def test_message_content() -> None:
    assert message_content({}) == (None, None, None)
    assert message_content({"text": 7, "blocks": [SECTION]}) == ("7", [SECTION], None)
    with pytest.raises(SlackApiRefusal, match="msg_too_long"):
        message_content({"text": "x" * 40_001})
    with pytest.raises(SlackApiRefusal, match="invalid_blocks") as refusal:
        message_content({"blocks": [SECTION] * 51})
    assert refusal.value.messages == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    with pytest.raises(SlackApiRefusal, match="invalid_blocks_format"):
        message_content({"blocks": "not a list"})
