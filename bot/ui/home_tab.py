"""The App Home tab: the button that opens the modal, the agent's latest attempts, the help."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.history.records import AttemptRecord
from bot.ui import strings
from bot.ui.blocks import Block, button_element, context_block, escape, plain_text, section_block
from bot.ui.history_message import (
    QUOTA_REFUSAL,
    recorded_outcome,
    recorded_recipients,
    recorded_reference,
)
from bot.ui.wording import label_of, zone_name, zone_of
from providers.registry import ProviderRegistry

#: The Home tab's "Reenviar una factura" button: opens the modal.
HOME_OPEN_ACTION: Final = "home_open_modal"


def _home_line(
    record: AttemptRecord, zone: ZoneInfo, link: str | None, registry: ProviderRegistry
) -> str:
    when = record.created_at.astimezone(zone).strftime("%d/%m %H:%M")
    subject = recorded_reference(record, registry)
    if record.provider:
        subject += f" ({label_of(record.provider, registry)})"
    outcome = recorded_outcome(record, label_of(record.provider, registry))
    if record.outcome == "refused" and record.detail and record.detail != QUOTA_REFUSAL:
        outcome += " · " + strings.REFUSAL_LABELS.get(record.detail, escape(record.detail))
    line = strings.HOME_LINE.format(when=when, subject=subject, outcome=outcome)
    recipients = recorded_recipients(record)
    if recipients:
        line += " · " + recipients
    if link:
        line += f" · <{link}|{strings.SEE_MESSAGE}>"
    return line


def home_view(
    records: Sequence[AttemptRecord] | None,
    *,
    registry: ProviderRegistry,
    links: Mapping[str, str] | None = None,
    agent_tz: str | None = None,
    refusal: str | None = None,
) -> dict[str, Any]:
    """The App Home: the button that opens the modal (or why it is not offered), the
    agent's own latest attempts newest first, each with its outcome and a link to its
    message (``links`` by attempt id), or a one-line notice when ``records`` is None
    (the history is unavailable); then the help."""
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(strings.HOME_HEADER)},
        section_block(strings.HOME_INTRO),
    ]
    if refusal is not None:
        blocks.append(section_block(strings.REFUSED_PREFIX + escape(refusal)))
    else:
        button = button_element(HOME_OPEN_ACTION, strings.HOME_BUTTON, "open")
        blocks.append({"type": "actions", "block_id": "home_actions", "elements": [button]})
    blocks.append({"type": "divider"})
    if records is None:
        blocks.append(context_block(strings.HOME_UNAVAILABLE))
    elif not records:
        blocks.append(context_block(strings.HOME_EMPTY))
    else:
        zone = zone_of(agent_tz) or ZoneInfo("UTC")
        blocks.append(section_block(strings.HOME_RECENT.format(count=len(records))))
        found = links or {}
        blocks.extend(
            section_block(_home_line(record, zone, found.get(record.attempt_id), registry))
            for record in records
        )
        blocks.append(context_block(strings.HISTORY_ZONE.format(zone=zone_name(agent_tz or "UTC"))))
    blocks += [
        {"type": "divider"},
        section_block(strings.HELP_TEXT),
        section_block(strings.HOME_HELP),
    ]
    return {"type": "home", "blocks": blocks}
