"""The re-send modal: what it holds, the ids of its blocks, and how it is drawn.

A field's block id is its name as `providers.parsing` knows it, so a parser error maps
straight onto the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from bot.history.insight import Insight
from bot.ui import strings
from bot.ui.blocks import Block, context_block, escape, option_object, plain_text, section_block
from bot.ui.file_addresses import address_blocks, file_only_note, unsendable
from bot.ui.preview import duplicate_warning, preview_blocks, quota_blocks
from bot.ui.wording import document_type_name, label_of
from providers.base import FieldKind, FormField, InvoiceFacts
from providers.registry import AnyProvider, ProviderRegistry

MODAL_CALLBACK_ID: Final = "reenviar_modal"
PROVIDER_BLOCK: Final = "provider"
PROVIDER_ACTION: Final = "provider_choice"
#: Every input element in the modal uses this action id; the block id names the field.
VALUE_ACTION: Final = "value"
#: The duplicate guard's "yes, send it again" checkbox.
CONFIRM_BLOCK: Final = "confirm_duplicate"
CONFIRMED: Final = "confirmed"
#: Which of the references a message holds the modal shows (a message shortcut's).
REFERENCE_BLOCK: Final = "message_reference"
REFERENCE_ACTION: Final = "reference_choice"

#: The references a message holds, as a modal carries them: (provider key, words as written).
Choices = tuple[tuple[str, str], ...]


class ModalContext(BaseModel):
    """Where the command was typed, carried through the modal in ``private_metadata``."""

    model_config = ConfigDict(frozen=True)

    channel_id: str | None = None
    response_url: str | None = None
    #: The invoice the duplicate warning in this modal is about: a ticked confirmation
    #: counts only for that invoice, not for another one typed afterwards.
    duplicate_of: str | None = None
    #: The thread the outcome goes to (a message shortcut's message).
    thread_ts: str | None = None
    #: The references the message holds, to choose from.
    choices: Choices = ()
    #: The e-mail addresses the message names.
    emails: tuple[str, ...] = ()
    #: An address typed after the reference that the provider may not send to.
    address: str | None = None

    def to_metadata(self) -> str:
        """Serialise for ``private_metadata`` (Slack allows 3000 characters)."""
        return self.model_dump_json(exclude_none=True, exclude_defaults=True)

    @classmethod
    def from_metadata(cls, metadata: str | None) -> ModalContext:
        """Read back ``private_metadata``; an empty or foreign value gives an empty context."""
        if not metadata:
            return cls()
        try:
            return cls.model_validate_json(metadata)
        except ValueError:
            return cls()


class FormState(BaseModel):
    """The modal's contents: a provider key, the typed values, and notes about the prefill:
    each field's problem (shown under it) and a ``notice`` for the rest."""

    provider: str | None = None
    values: dict[str, str] = Field(default_factory=dict)
    notice: str | None = None
    #: What is wrong with a prefilled value, by field name, in words.
    problems: dict[str, str] = Field(default_factory=dict)

    @property
    def duplicate_confirmed(self) -> bool:
        """Whether the agent ticked "send it again" after a duplicate warning."""
        return CONFIRMED in self.values.get(CONFIRM_BLOCK, "").split(",")


def _field_copy(table: Mapping[str, str], provider: AnyProvider, name: str) -> str | None:
    return table.get(f"{provider.key}.{name}", table.get(name))


def _choice_option(field: FormField, value: str) -> dict[str, Any]:
    label = strings.CHOICE_LABELS.get(field.name, {}).get(value)
    if label is None:
        label = document_type_name(value) if field.document_type else value
    return option_object(label, value)


def _choice_element(field: FormField, value: str | None) -> dict[str, Any]:
    options = [_choice_option(field, choice.value) for choice in field.choices]
    chosen = value if any(c.value == value for c in field.choices) else field.default
    element: dict[str, Any] = {"action_id": VALUE_ACTION}
    if field.kind is FieldKind.RADIO:
        element["type"] = "radio_buttons"
        element["options"] = options
    else:
        element["type"] = "static_select"
        element["placeholder"] = plain_text(strings.SELECT_PLACEHOLDER)
        groups: dict[str, list[dict[str, Any]]] = {}
        for choice, option in zip(field.choices, options, strict=True):
            groups.setdefault(choice.group or "", []).append(option)
        if len(groups) > 1:
            ordered = sorted(groups, key=_group_order)
            element["option_groups"] = [
                {"label": plain_text(strings.CHOICE_GROUPS.get(g, g)[:75]), "options": groups[g]}
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


def _field_block(
    provider: AnyProvider, field: FormField, value: str | None, *, dispatch: bool = False
) -> Block:
    """One input block; its block id is the field name, so problems map onto it.

    ``dispatch``: the field that identifies the invoice tells the bot when it is entered
    (Enter), so the modal can show what the provider and the history know about it."""
    if field.choices:
        element = _choice_element(field, value)
    else:
        element = {
            "type": "email_text_input" if field.kind is FieldKind.EMAIL else "plain_text_input",
            "action_id": VALUE_ACTION,
        }
        if field.example:
            element["placeholder"] = plain_text(field.example)
        if value:
            element["initial_value"] = value
    label = _field_copy(strings.FIELD_LABELS, provider, field.name) or field.label or field.name
    block: Block = {
        "type": "input",
        "block_id": field.name,
        "label": plain_text(label),
        "element": element,
        "optional": not field.required,
    }
    if dispatch and element["type"] == "plain_text_input":
        block["dispatch_action"] = True
    hint = _field_copy(strings.FIELD_HINTS, provider, field.name)
    if hint:
        block["hint"] = plain_text(hint)
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


def _insight_blocks(
    insight: Insight,
    now: datetime,
    *,
    require_confirmation: bool,
    provider: AnyProvider,
    agent_tz: str | None,
) -> list[Block]:
    blocks: list[Block] = []
    if insight.quota is not None and insight.quota.exhausted:
        return blocks  # said under the invoice; nothing to confirm, it cannot go
    warning = duplicate_warning(insight, now)
    if warning is not None:
        blocks.append(section_block(":warning: " + warning))
        if require_confirmation:
            blocks.append(
                {
                    "type": "input",
                    "block_id": CONFIRM_BLOCK,
                    "label": plain_text(strings.DUPLICATE_CONFIRM_LABEL),
                    "element": {
                        "type": "checkboxes",
                        "action_id": VALUE_ACTION,
                        "options": [option_object(strings.DUPLICATE_CONFIRM_OPTION, CONFIRMED)],
                    },
                }
            )
    quota = insight.quota
    if quota is not None and quota.used:
        blocks.extend(quota_blocks(quota, provider, agent_tz))
    return blocks


def _message_blocks(
    form: FormState, context: ModalContext, registry: ProviderRegistry
) -> list[Block]:
    """For a message's shortcut: which of the references it holds to re-send (when it
    holds several), and the e-mail addresses it names."""
    blocks: list[Block] = []
    if len(context.choices) > 1:
        options = [
            option_object(
                strings.REFERENCE_OPTION.format(text=text, provider=label_of(key, registry)),
                str(index),
            )
            for index, (key, text) in enumerate(context.choices)
        ]
        chosen = form.values.get(REFERENCE_BLOCK)
        blocks.append(
            {
                "type": "input",
                "block_id": REFERENCE_BLOCK,
                "dispatch_action": True,
                "optional": True,
                "label": plain_text(strings.REFERENCE_LABEL),
                "hint": plain_text(strings.REFERENCE_HINT),
                "element": {
                    "type": "static_select",
                    "action_id": REFERENCE_ACTION,
                    "options": options,
                    "initial_option": next(
                        (o for o in options if o["value"] == chosen), options[0]
                    ),
                },
            }
        )
    if context.emails:
        emails = escape(", ".join(context.emails))
        line = strings.MESSAGE_EMAILS.format(emails=emails)
        provider = registry.get(form.provider or "")
        if provider is not None and provider.alternative_email_field is None:
            line += " " + file_only_note(provider)
        blocks.append(context_block(line))
    return blocks


def resend_modal(
    form: FormState,
    context: ModalContext,
    *,
    registry: ProviderRegistry,
    configured: Mapping[str, bool],
    insight: Insight | None = None,
    preview: InvoiceFacts | None = None,
    now: datetime | None = None,
    agent_tz: str | None = None,
) -> dict[str, Any]:
    """The ``/reenviar`` modal for ``form``'s provider, prefilled with its values, each
    prefilled problem under its field.

    ``preview`` adds what the provider says about the invoice (customer, document, where
    it goes); ``insight`` what the history knows: a recent re-send of the same invoice
    (with a required confirmation checkbox) and the provider's hourly quota, if any.
    """
    provider = registry[chosen_provider(form, configured)]
    options = [
        option_object(
            provider_option_label(registry[key]),
            key,
            None if configured.get(key) else strings.PROVIDER_NOT_CONFIGURED_SHORT,
        )
        for key in configured
    ]
    blocks: list[Block] = []
    if form.notice:
        # The notice quotes what the agent typed: escape it so it is shown, not rendered.
        blocks.append(context_block(escape(form.notice)))
    blocks.extend(_message_blocks(form, context, registry))
    blocks.append(
        {
            "type": "input",
            "block_id": PROVIDER_BLOCK,
            "dispatch_action": True,
            "label": plain_text(strings.PROVIDER_LABEL),
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
            section_block(
                ":no_entry: "
                + strings.PROVIDER_ERRORS["not_configured"].format(provider=provider.label)
            )
        )
    for form_field in provider.form:
        blocks.append(
            _field_block(
                provider,
                form_field,
                form.values.get(form_field.name),
                dispatch=form_field.name == provider.reference_field,
            )
        )
        problem = form.problems.get(form_field.name)
        if problem:
            # It quotes what the agent typed: escape it so it is shown, not rendered.
            blocks.append(context_block(strings.FIELD_PROBLEM.format(problem=escape(problem))))
        quota = insight.quota if insight is not None else None
        if quota is not None and quota.exhausted and form_field.name == provider.reference_field:
            blocks.extend(quota_blocks(quota, provider, agent_tz))
    if preview is not None and preview.provider != provider.key:
        preview = None
    if preview is not None:
        alternative = (
            form.values.get(provider.alternative_email_field)
            if provider.alternative_email_field
            else None
        )
        blocks.extend(preview_blocks(preview, provider, alternative=alternative))
    address = unsendable(context.address, provider)
    if address is not None:
        blocks.extend(address_blocks(address, provider, preview, form.values))
    if insight is not None:
        blocks.extend(
            _insight_blocks(
                insight,
                now or datetime.now(UTC),
                require_confirmation=insight.needs_confirmation,
                provider=provider,
                agent_tz=agent_tz,
            )
        )
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": plain_text(strings.MODAL_TITLE),
        "submit": plain_text(strings.MODAL_SUBMIT),
        "close": plain_text(strings.MODAL_CLOSE),
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }
