"""An address the provider cannot send to: a provider without an alternative e-mail field
(TusFacturas) sends only to the e-mails on the customer's file.

The modal says so in one line, offers the PDF link to forward to that address when a
lookup gave one, and asks the agent to confirm sending to the file instead; the message
shortcut adds the same line beside the addresses a message names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bot.ui import strings
from bot.ui.blocks import Block, button_element, escape, option_object, plain_text, section_block
from bot.ui.outcome import PDF_ACTION
from providers.base import InvoiceFacts
from providers.registry import AnyProvider

#: The "send it to the file's addresses" checkbox.
FILE_CONFIRM_BLOCK: Final = "confirm_file_addresses"
FILE_CONFIRMED: Final = "file_addresses"
_CONFIRM_ACTION: Final = "file_addresses_choice"
#: Slack allows 3000 characters in a button's url.
_URL_MAX: Final = 3000


def unsendable(address: str | None, provider: AnyProvider) -> str | None:
    """``address`` when ``provider`` cannot send to it (it has no alternative e-mail)."""
    return address if address and provider.alternative_email_field is None else None


def file_only_note(provider: AnyProvider) -> str:
    """The one line that says where this provider sends."""
    return strings.FILE_ONLY_NOTE.format(provider=provider.label)


def pdf_link(facts: InvoiceFacts | None) -> str | None:
    """The PDF link a lookup gave, when a button can carry it."""
    url = facts.pdf_url if facts is not None else None
    return url if url and len(url) <= _URL_MAX else None


def file_confirmed(values: Mapping[str, str]) -> bool:
    """Whether the agent ticked "send to the file's addresses"."""
    return FILE_CONFIRMED in values.get(FILE_CONFIRM_BLOCK, "").split(",")


def confirmation_errors(
    values: Mapping[str, str], address: str | None, provider: AnyProvider
) -> dict[str, str]:
    """The inline error of a submit that asked for an address the provider cannot send to
    and was not confirmed; empty when it may go ahead."""
    if unsendable(address, provider) is None or file_confirmed(values):
        return {}
    return {FILE_CONFIRM_BLOCK: strings.FILE_CONFIRM_REQUIRED}


def address_blocks(
    address: str, provider: AnyProvider, facts: InvoiceFacts | None, values: Mapping[str, str]
) -> list[Block]:
    """For the modal: the note, the PDF to forward to ``address``, and the confirmation."""
    url = pdf_link(facts)
    shown = escape(address)
    forward = (
        strings.FILE_ONLY_PDF.format(address=shown)
        if url
        else strings.FILE_ONLY_NO_PDF.format(address=shown, provider=provider.label)
    )
    note = section_block(":information_source: " + file_only_note(provider) + " " + forward)
    if url:
        note["accessory"] = {**button_element(PDF_ACTION, strings.PDF_BUTTON, "pdf"), "url": url}
    option = option_object(strings.FILE_CONFIRM_OPTION, FILE_CONFIRMED)
    element: Block = {"type": "checkboxes", "action_id": _CONFIRM_ACTION, "options": [option]}
    if file_confirmed(values):
        element["initial_options"] = [option]
    confirm: Block = {
        "type": "input",
        "block_id": FILE_CONFIRM_BLOCK,
        "label": plain_text(strings.FILE_CONFIRM_LABEL),
        "element": element,
        "optional": False,
    }
    return [note, confirm]
