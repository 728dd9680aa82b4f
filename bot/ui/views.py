"""Block Kit builders: pure functions from typed data to Slack payloads.

Nothing here does I/O. Every string a person reads comes from `bot.ui.strings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.history.store import AttemptRecord
from bot.resend.insight import Insight, QuotaUsage
from bot.resend.jobs import ResendJob
from bot.ui import strings
from bot.ui.forms import (
    CONFIRM_BLOCK,
    CONFIRMED,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    VALUE_ACTION,
    FormState,
    ModalContext,
)
from bot.ui.wording import error_message, format_wait
from providers.base import FieldKind, FormField, ResendRequest, ResendResult
from providers.errors import OutcomeUnknownError, ProviderError, RejectedError
from providers.registry import AnyProvider, ProviderRegistry

Block = dict[str, Any]

MODAL_CALLBACK_ID: Final = "reenviar_modal"
RETRY_ACTION: Final = "retry_resend"
#: Marks the "re-sending…" message, so tools can tell it from an outcome.
PROGRESS_BLOCK: Final = "resend_progress"
_SECTION_LIMIT: Final = 2900
_FIELD_LIMIT: Final = 1900
_RECIPIENTS_SHOWN: Final = 10


@dataclass(frozen=True)
class SlackMessage:
    """A message: the notification ``text`` plus its blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str, limit: int = _SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text, limit)}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts[:10]]}


def _option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    option: dict[str, Any] = {"text": _plain(text[:75]), "value": value}
    if description:
        option["description"] = _plain(description[:75])
    return option


# --- The modal -----------------------------------------------------------------


def _field_copy(table: Mapping[str, str], provider: AnyProvider, name: str) -> str | None:
    return table.get(f"{provider.key}.{name}", table.get(name))


def _choice_option(field: FormField, value: str) -> dict[str, Any]:
    return _option(strings.CHOICE_LABELS.get(field.name, {}).get(value, value), value)


def _choice_element(field: FormField, value: str | None) -> dict[str, Any]:
    options = [_choice_option(field, choice.value) for choice in field.choices]
    chosen = value if any(c.value == value for c in field.choices) else field.default
    element: dict[str, Any] = {"action_id": VALUE_ACTION}
    if field.kind is FieldKind.RADIO:
        element["type"] = "radio_buttons"
        element["options"] = options
    else:
        element["type"] = "static_select"
        element["placeholder"] = _plain(strings.SELECT_PLACEHOLDER)
        groups: dict[str, list[dict[str, Any]]] = {}
        for choice, option in zip(field.choices, options, strict=True):
            groups.setdefault(choice.group or "", []).append(option)
        if len(groups) > 1:
            ordered = sorted(groups, key=_group_order)
            element["option_groups"] = [
                {"label": _plain(strings.CHOICE_GROUPS.get(g, g)[:75]), "options": groups[g]}
                for g in ordered
            ]
        else:
            element["options"] = options
    if chosen is not None:
        element["initial_option"] = _choice_option(field, chosen)
    return element


def _group_order(group: str) -> int:
    order = list(strings.CHOICE_GROUPS)
    return order.index(group) if group in order else len(order)


def _field_block(provider: AnyProvider, field: FormField, value: str | None) -> Block:
    """One input block; its block id is the field name, so problems map onto it."""
    if field.choices:
        element = _choice_element(field, value)
    else:
        element = {
            "type": "email_text_input" if field.kind is FieldKind.EMAIL else "plain_text_input",
            "action_id": VALUE_ACTION,
        }
        if field.example:
            element["placeholder"] = _plain(field.example)
        if value:
            element["initial_value"] = value
    label = _field_copy(strings.FIELD_LABELS, provider, field.name) or field.label or field.name
    block: Block = {
        "type": "input",
        "block_id": field.name,
        "label": _plain(label),
        "element": element,
        "optional": not field.required,
    }
    hint = _field_copy(strings.FIELD_HINTS, provider, field.name)
    if hint:
        block["hint"] = _plain(hint)
    return block


def chosen_provider(form: FormState, configured: Mapping[str, bool]) -> str:
    """The provider the modal shows: the form's, else the first configured one, else the
    first offered (``configured`` lists every offered provider in display order)."""
    if form.provider is not None and form.provider in configured:
        return form.provider
    return next((key for key, ok in configured.items() if ok), next(iter(configured)))


def provider_option_label(provider: AnyProvider) -> str:
    """The provider as the choice shows it: brand and country."""
    country = strings.COUNTRY_NAMES.get(provider.country, provider.country)
    return strings.PROVIDER_OPTION.format(label=provider.label, country=country)


def _ago(at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    return strings.JUST_NOW if minutes == 0 else strings.MINUTES_AGO.format(minutes=minutes)


def _recent_warning(insight: Insight, now: datetime) -> str | None:
    """Why sending again needs a second thought, if it does."""
    recent = insight.recent
    if insight.unverified:
        return strings.HISTORY_UNVERIFIED
    if recent is None:
        return None
    if recent.in_progress:
        return strings.DUPLICATE_IN_PROGRESS.format(user=f"<@{recent.user_id}>")
    if recent.uncertain:
        return strings.DUPLICATE_UNCERTAIN.format(
            ago=_ago(recent.at, now), user=f"<@{recent.user_id}>"
        )
    to = ", ".join(escape(r) for r in recent.recipients[:3])
    template = strings.DUPLICATE_RECENT if to else strings.DUPLICATE_RECENT_TO_CUSTOMER
    return template.format(ago=_ago(recent.at, now), user=f"<@{recent.user_id}>", recipients=to)


def _insight_blocks(insight: Insight, now: datetime, *, require_confirmation: bool) -> list[Block]:
    blocks: list[Block] = []
    warning = _recent_warning(insight, now)
    if warning is not None:
        blocks.append(_section(":warning: " + warning))
        if require_confirmation:
            blocks.append(
                {
                    "type": "input",
                    "block_id": CONFIRM_BLOCK,
                    "label": _plain(strings.DUPLICATE_CONFIRM_LABEL),
                    "element": {
                        "type": "checkboxes",
                        "action_id": VALUE_ACTION,
                        "options": [_option(strings.DUPLICATE_CONFIRM_OPTION, CONFIRMED)],
                    },
                }
            )
    quota = insight.quota
    if quota is not None and quota.used:
        text = strings.QUOTA_USED.format(used=quota.used, limit=quota.limit)
        if quota.exhausted and quota.frees_at:
            text += " " + strings.QUOTA_FREES_IN.format(wait=format_wait(quota.frees_at - now))
        blocks.append(_context(text))
    return blocks


def resend_modal(
    form: FormState,
    context: ModalContext,
    *,
    registry: ProviderRegistry,
    configured: Mapping[str, bool],
    insight: Insight | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``/reenviar`` modal for ``form``'s provider, prefilled with its values.

    ``insight`` adds what the history knows: a recent re-send of the same invoice
    (with a required confirmation checkbox) and the provider's hourly quota, if any.
    """
    provider = registry[chosen_provider(form, configured)]
    options = [
        _option(
            provider_option_label(registry[key]),
            key,
            None if configured.get(key) else strings.PROVIDER_NOT_CONFIGURED_SHORT,
        )
        for key in configured
    ]
    blocks: list[Block] = []
    if form.notice:
        # The notice quotes what the agent typed: escape it so it is shown, not rendered.
        blocks.append(_context(escape(form.notice)))
    blocks.append(
        {
            "type": "input",
            "block_id": PROVIDER_BLOCK,
            "dispatch_action": True,
            "label": _plain(strings.PROVIDER_LABEL),
            "element": {
                "type": "radio_buttons",
                "action_id": PROVIDER_ACTION,
                "options": options,
                "initial_option": next(o for o in options if o["value"] == provider.key),
            },
        }
    )
    if not configured.get(provider.key):
        blocks.append(
            _section(
                ":no_entry: "
                + strings.PROVIDER_ERRORS["not_configured"].format(provider=provider.label)
            )
        )
    blocks.extend(_field_block(provider, f, form.values.get(f.name)) for f in provider.form)
    if insight is not None:
        blocks.extend(
            _insight_blocks(
                insight, now or datetime.now(UTC), require_confirmation=insight.needs_confirmation
            )
        )
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": _plain(strings.MODAL_TITLE),
        "submit": _plain(strings.MODAL_SUBMIT),
        "close": _plain(strings.MODAL_CLOSE),
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }


# --- Messages ------------------------------------------------------------------


def help_message() -> SlackMessage:
    """Usage with examples, shown only to the caller."""
    return SlackMessage(text=strings.HELP_TEXT, blocks=[_section(strings.HELP_TEXT)])


def label_of(provider_key: str, registry: ProviderRegistry) -> str:
    """A provider's brand, or its key when it is no longer offered (old history rows)."""
    provider = registry.get(provider_key)
    return provider.label if provider is not None else provider_key


def _subject(request: ResendRequest, registry: ProviderRegistry) -> str:
    """The invoice in the agent's terms, with the provider."""
    reference = f"`{escape(request.reference)}`"
    for qualifier in request.qualifiers:
        reference += " " + strings.QUALIFIERS.get(qualifier, qualifier)
    return strings.SUBJECT.format(
        reference=reference, provider=label_of(request.provider, registry)
    )


def default_recipients(provider_key: str) -> str:
    """Who a re-send reached when the provider does not say."""
    return strings.DEFAULT_RECIPIENTS.get(provider_key, strings.DEFAULT_RECIPIENTS_ANY)


def _attempt_note(job: ResendJob) -> str | None:
    """For a retry: which attempt this is and who pressed the button."""
    if job.attempt == 1:
        return None
    note = strings.ATTEMPT.format(attempt=job.attempt)
    if job.retried_by and job.retried_by != job.requested_by:
        note += " " + strings.RETRIED_BY.format(user=f"<@{job.retried_by}>")
    return note


def progress_message(job: ResendJob, registry: ProviderRegistry) -> SlackMessage:
    """The message shown while the provider is working."""
    subject = _subject(job.request, registry)
    text = strings.PROGRESS.format(subject=subject, user=f"<@{job.requested_by}>")
    attempt = _attempt_note(job)
    if attempt:
        text += " " + attempt
    progress = {**_section(":hourglass_flowing_sand: " + text), "block_id": PROGRESS_BLOCK}
    return SlackMessage(text=text, blocks=[progress])


def _local_time(sent_at: datetime, tz_name: str | None) -> str | None:
    if not tz_name:
        return None
    try:
        zone = ZoneInfo(tz_name)
    except (ValueError, KeyError, OSError):
        return None
    local = sent_at.astimezone(zone)
    return strings.LOCAL_TIME.format(time=local.strftime("%d/%m/%Y %H:%M"), zone=tz_name)


def _when(sent_at: datetime, tz_name: str | None) -> str:
    lines = [sent_at.astimezone(ZoneInfo("UTC")).strftime("%d/%m/%Y %H:%M:%S UTC")]
    local = _local_time(sent_at, tz_name)
    if local:
        lines.append(local)
    return "\n".join(lines)


def success_message(
    job: ResendJob,
    result: ResendResult,
    *,
    registry: ProviderRegistry,
    now: datetime,
    agent_tz: str | None,
    quota: QuotaUsage | None = None,
) -> SlackMessage:
    """The outcome message for a successful re-send."""
    if result.recipients:
        shown = result.recipients[:_RECIPIENTS_SHOWN]
        recipients = ", ".join(escape(r) for r in shown)
        if len(result.recipients) > len(shown):
            recipients += " " + strings.AND_MORE.format(count=len(result.recipients) - len(shown))
    else:
        recipients = default_recipients(job.request.provider)
    label = label_of(result.provider, registry)
    when_label = strings.FIELD_SENT_AT if result.sent_at else strings.FIELD_CONFIRMED_AT
    fields = [
        f"*{strings.FIELD_PROVIDER}*\n{label}",
        f"*{strings.FIELD_REFERENCE}*\n`{escape(job.request.reference)}`",
        f"*{strings.FIELD_RECIPIENTS}*\n{recipients}",
        f"*{when_label}*\n{_when(result.sent_at or now, agent_tz)}",
        f"*{strings.FIELD_REQUESTED_BY}*\n<@{job.requested_by}>",
    ]
    notes = []
    if result.provider_message:
        notes.append(
            strings.PROVIDER_SAYS.format(
                provider=label,
                message=escape(_clip(result.provider_message, 500)),
            )
        )
    if result.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(result.request_id)))
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    if quota is not None:
        notes.append(strings.QUOTA_USED.format(used=quota.used, limit=quota.limit))
    blocks: list[Block] = [
        {"type": "header", "text": _plain(strings.SUCCESS_HEADER)},
        {"type": "section", "fields": [_mrkdwn(f, _FIELD_LIMIT) for f in fields]},
    ]
    if notes:
        blocks.append(_context(*notes))
    text = strings.SUCCESS_TEXT.format(
        subject=_subject(job.request, registry), recipients=recipients
    )
    return SlackMessage(text=text, blocks=blocks)


def _retry_button(job: ResendJob, error: ProviderError) -> Block:
    confirm_text = (
        strings.RETRY_CONFIRM_UNKNOWN
        if isinstance(error, OutcomeUnknownError)
        else strings.RETRY_CONFIRM_SAFE
    )
    return {
        "type": "actions",
        "block_id": "retry",
        "elements": [
            {
                "type": "button",
                "action_id": RETRY_ACTION,
                "text": _plain(strings.RETRY_BUTTON),
                "value": job.next_attempt().to_button_value(),
                "confirm": {
                    "title": _plain(strings.RETRY_CONFIRM_TITLE),
                    "text": _plain(confirm_text),
                    "confirm": _plain(strings.RETRY_CONFIRM_YES),
                    "deny": _plain(strings.RETRY_CONFIRM_NO),
                },
            }
        ],
    }


def failure_message(
    job: ResendJob, error: ProviderError, registry: ProviderRegistry
) -> SlackMessage:
    """The outcome message for a failed (or uncertain) re-send."""
    subject = _subject(job.request, registry)
    label = label_of(error.provider, registry)
    explanation = error_message(error, label)
    header = strings.UNKNOWN_HEADER if error.may_have_sent else strings.FAILURE_HEADER
    blocks: list[Block] = [
        {"type": "header", "text": _plain(header)},
        _section(
            strings.FAILURE_SUBJECT.format(subject=subject, user=f"<@{job.requested_by}>")
            + "\n"
            + escape(explanation)
        ),
    ]
    if error.provider_message:
        says = strings.PROVIDER_SAYS.format(
            provider=label,
            message=escape(_clip(error.provider_message, 1000)),
        )
        if isinstance(error, RejectedError) and error.codes:
            says += " (" + ", ".join(escape(c) for c in error.codes) + ")"
        blocks.append(_section(says))
    notes = []
    if error.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(error.request_id)))
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    if notes:
        blocks.append(_context(*notes))
    if error.offers_retry:
        blocks.append(_retry_button(job, error))
    text = f"{header}: {subject}. {explanation}"
    return SlackMessage(text=text, blocks=blocks)


def internal_error_message(
    error_id: str, job: ResendJob | None = None, registry: ProviderRegistry | None = None
) -> SlackMessage:
    """What the agent sees when the bot itself failed; the id matches the log line.

    With a ``job`` the re-send had started and may have gone out; without one it had not.
    """
    if job is None or registry is None:
        text = strings.INTERNAL_ERROR_NOTHING_SENT.format(error_id=error_id)
    else:
        text = (
            _subject(job.request, registry)
            + ". "
            + strings.INTERNAL_ERROR.format(error_id=error_id)
        )
    return SlackMessage(text=text, blocks=[_section(":warning: " + text)])


def with_dm_notice(message: SlackMessage, channel_id: str | None) -> SlackMessage:
    """The message as sent by DM, saying why it did not go to the channel."""
    channel = f"<#{channel_id}>" if channel_id else strings.THE_CHANNEL
    notice = strings.DM_FALLBACK_NOTICE.format(channel=channel)
    return SlackMessage(text=message.text, blocks=[_context(notice), *message.blocks])


def audit_line(
    record: AttemptRecord, *, link: str | None, registry: ProviderRegistry
) -> SlackMessage:
    """The compact audit-channel line for one attempt."""
    # Outcomes without their own icon are failures ("unknown" has its own).
    icon = strings.AUDIT_ICONS.get(record.outcome, ":x:")
    subject = f"`{escape(record.reference)}`" if record.reference else strings.NO_REFERENCE
    provider = label_of(record.provider, registry) if record.provider else ""
    outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
    text = strings.AUDIT_LINE.format(
        icon=icon,
        user=f"<@{record.user_id}>",
        subject=subject,
        provider=f" ({provider})" if provider else "",
        channel=f" {strings.IN_CHANNEL.format(channel=f'<#{record.channel_id}>')}"
        if record.channel_id
        else "",
        outcome=outcome,
    )
    if record.outcome == "refused" and record.detail:
        text += " · " + strings.REFUSAL_LABELS.get(record.detail, escape(record.detail))
    elif record.outcome == "duplicate_warning" and record.detail:
        text += " · " + strings.DUPLICATE_AUDIT.format(user=f"<@{escape(record.detail)}>")
    if link:
        text += f" · <{link}|{strings.SEE_MESSAGE}>"
    return SlackMessage(text=text, blocks=[_context(text)])


def history_message(
    reference: str, records: Sequence[AttemptRecord], *, agent_tz: str | None
) -> SlackMessage:
    """The last attempts for one invoice, shown only to the caller."""
    if not records:
        text = strings.HISTORY_EMPTY.format(reference=escape(reference))
        return SlackMessage(text=text, blocks=[_section(text)])
    zone = _zone(agent_tz)
    lines = []
    for record in records:
        when = record.created_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
        line = f"• {when} · <@{record.user_id}> · {outcome}"
        if record.recipients:
            line += " · " + ", ".join(escape(r) for r in record.recipients[:3])
        elif record.alternative_email:
            line += " · " + escape(record.alternative_email)
        elif record.outcome == "success":
            # The provider did not say who: it went to the addresses on file.
            line += " · " + default_recipients(record.provider)
        lines.append(line)
    header = strings.HISTORY_HEADER.format(reference=escape(reference), count=len(records))
    zone_note = strings.HISTORY_ZONE.format(zone=agent_tz or "UTC")
    text = header + "\n" + "\n".join(lines)
    return SlackMessage(text=text, blocks=[_section(text), _context(zone_note)])


def _zone(tz_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name) if tz_name else ZoneInfo("UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def notice_message(text: str) -> SlackMessage:
    """A one-line message (a refusal, a hint) for the caller."""
    return SlackMessage(text=text, blocks=[_section(text)])
