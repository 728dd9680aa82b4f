"""The re-send form: what the modal holds, where it comes from, what it becomes.

Pure functions between Slack's shapes (command text, ``view.state.values``) and
typed requests. The modal's block ids are the field names used by
`providers.parsing`, so a parser error maps straight onto the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from bot import strings
from providers.base import LummyInvoice, Provider, TusFacturasVoucher
from providers.parsing import (
    InvalidReferenceError,
    build_lummy_invoice,
    build_voucher,
    parse_reference,
)

PROVIDER_BLOCK: Final = "provider"
TUSFACTURAS_FIELDS: Final = ("tipo", "operacion", "punto_venta", "numero")
LUMMY_FIELDS: Final = ("invoice_id", "email")
#: Every input element in the modal uses this action id; the block id names the field.
VALUE_ACTION: Final = "value"
PROVIDER_ACTION: Final = "provider_choice"
#: The duplicate guard's "yes, send it again" checkbox.
CONFIRM_BLOCK: Final = "confirm_duplicate"
CONFIRMED: Final = "confirmed"


class ModalContext(BaseModel):
    """Where the command was typed, carried through the modal in ``private_metadata``."""

    model_config = ConfigDict(frozen=True)

    channel_id: str | None = None
    response_url: str | None = None
    #: The invoice the duplicate warning in this modal is about: a ticked confirmation
    #: counts only for that invoice, not for another one typed afterwards.
    duplicate_of: str | None = None

    def to_metadata(self) -> str:
        """Serialise for ``private_metadata`` (Slack allows 3000 characters)."""
        return self.model_dump_json(exclude_none=True)

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
    """The modal's contents: a provider, the typed values, and a note about the prefill."""

    provider: Provider | None = None
    values: dict[str, str] = Field(default_factory=dict)
    notice: str | None = None

    @property
    def duplicate_confirmed(self) -> bool:
        """Whether the agent ticked "send it again" after a duplicate warning."""
        return CONFIRMED in self.values.get(CONFIRM_BLOCK, "").split(",")


def form_from_text(text: str) -> FormState:
    """Prefill from what followed ``/reenviar``: as much as could be understood, plus a note."""
    if not text.strip():
        return FormState()
    try:
        request = parse_reference(text)
    except InvalidReferenceError as exc:
        return FormState(
            provider=exc.provider,
            values={k: v for k, v in exc.understood.items() if v},
            notice=strings.PREFILL_NOTICE.format(problem=exc.message),
        )
    return FormState(provider=request.provider, values=_values_of(request))


def _values_of(request: TusFacturasVoucher | LummyInvoice) -> dict[str, str]:
    if isinstance(request, LummyInvoice):
        values = {"invoice_id": request.reference}
        if request.email:
            values["email"] = request.email
        return values
    return {
        "tipo": request.tipo,
        "operacion": request.operacion.value,
        "punto_venta": f"{request.punto_venta:04d}",
        "numero": f"{request.numero:08d}",
    }


def _element_value(element: Mapping[str, Any]) -> str | None:
    """The value of one element in ``state.values``, whatever its type."""
    if element.get("selected_option"):
        value = element["selected_option"].get("value")
        return str(value) if value is not None else None
    if element.get("selected_options"):
        return ",".join(str(option.get("value")) for option in element["selected_options"])
    for key in ("value", "email"):
        if element.get(key) is not None:
            return str(element[key])
    return None


def form_from_view_state(
    state_values: Mapping[str, Mapping[str, Any]], *, default_provider: Provider | None = None
) -> FormState:
    """Read the submitted (or in-progress) modal back into a `FormState`."""
    values: dict[str, str] = {}
    provider: Provider | None = default_provider
    for block_id, actions in state_values.items():
        for element in actions.values():
            value = _element_value(element)
            if value is None:
                continue
            if block_id == PROVIDER_BLOCK:
                try:
                    provider = Provider(value)
                except ValueError:
                    continue
            else:
                values[block_id] = value
    return FormState(provider=provider, values=values)


def request_from_form(form: FormState) -> TusFacturasVoucher | LummyInvoice:
    """The typed request, or `InvalidReferenceError` whose fields are the modal's block ids."""
    if form.provider is None:
        raise InvalidReferenceError({PROVIDER_BLOCK: strings.PROVIDER_REQUIRED})
    if form.provider is Provider.LUMMY:
        return build_lummy_invoice(
            invoice_id=form.values.get("invoice_id"), email=form.values.get("email")
        )
    return build_voucher(
        tipo=form.values.get("tipo"),
        operacion=form.values.get("operacion"),
        punto_venta=form.values.get("punto_venta"),
        numero=form.values.get("numero"),
    )
