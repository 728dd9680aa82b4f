"""What the clicker of a stale "Reintentar" sees: the invoice was re-sent after the
attempt the button repeats, so the retry waits for a confirmation that names that send.

The confirmation button carries the job, which newer send it was shown (its mark) and
where the outcome message is, so the retry still updates that message when pressed
from this ephemeral prompt, and asks again if an even newer send appeared meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.history.insight import RecentSend
from bot.jobs import ResendJob
from bot.ui import strings
from bot.ui.blocks import Block, SlackMessage, escape, plain_text, section_block
from bot.ui.preview import time_ago
from bot.ui.wording import address_list

#: "Reintentar de todos modos", in the prompt.
RETRY_ANYWAY_ACTION: Final = "retry_resend_anyway"
PROMPT_BLOCK: Final = "retry_anyway"
_SEEN: Final = "seen"
_MESSAGE: Final = "message"


@dataclass(frozen=True)
class PromptChoice:
    """What a pressed button says beyond its job: the newer send the agent confirmed (None
    for the outcome message's own Reintentar) and where the outcome message is."""

    seen: str | None = None
    message: Mapping[str, str] | None = None


def prompt_choice(value: str) -> PromptChoice:
    """Read a retry button's value; a plain job (the outcome's own button) confirms nothing."""
    try:
        data: Any = json.loads(value)
    except ValueError:
        return PromptChoice()
    if not isinstance(data, dict):
        return PromptChoice()
    seen, message = data.get(_SEEN), data.get(_MESSAGE)
    where = (
        {str(k): str(v) for k, v in message.items() if isinstance(v, str)}
        if isinstance(message, dict)
        else None
    )
    return PromptChoice(seen=seen if isinstance(seen, str) else None, message=where or None)


def newer_send_text(newer: RecentSend | None, now: datetime) -> str:
    """The newer send, as the clicker reads it: when, who and to whom."""
    if newer is None:
        return strings.RETRY_NEWER_UNVERIFIED
    ago, user = time_ago(newer.at, now), f"<@{newer.user_id}>"
    if newer.uncertain:
        return strings.RETRY_NEWER_UNCERTAIN.format(ago=ago, user=user)
    if newer.recipients:
        recipients = escape(address_list(newer.recipients))
        return strings.RETRY_NEWER_SEND.format(ago=ago, user=user, recipients=recipients)
    return strings.RETRY_NEWER_SEND_ON_FILE.format(ago=ago, user=user)


def newer_send_prompt(
    job: ResendJob,
    newer: RecentSend | None,
    *,
    mark: str,
    message: Mapping[str, str] | None,
    now: datetime,
) -> SlackMessage:
    """The prompt: the newer send, the risk, and the button that retries all the same."""
    text = newer_send_text(newer, now) + " " + strings.RETRY_NEWER_RISK
    value = json.loads(job.to_button_value())
    value[_SEEN] = mark
    if message:
        value[_MESSAGE] = dict(message)
    button = {
        "type": "button",
        "action_id": RETRY_ANYWAY_ACTION,
        "text": plain_text(strings.RETRY_ANYWAY_BUTTON),
        "style": "danger",
        "value": json.dumps(value, separators=(",", ":"), ensure_ascii=False),
    }
    blocks: list[Block] = [
        section_block(":warning: " + text),
        {"type": "actions", "block_id": PROMPT_BLOCK, "elements": [button]},
    ]
    return SlackMessage(text=text, blocks=blocks)
