"""Shared provider vocabulary: the re-send request models and the result.

Everything here is plain data: no I/O, nothing about Slack.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field


class Provider(StrEnum):
    """The invoicing providers the bot can re-send through."""

    TUSFACTURAS = "tusfacturas"
    LUMMY = "lummy"

    @property
    def display_name(self) -> str:
        """The provider's brand name as agents know it."""
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES: Final = {Provider.TUSFACTURAS: "TusFacturas", Provider.LUMMY: "Lummy"}

_FCE_KINDS: Final = ("FACTURA DE CREDITO", "NOTA DE DEBITO", "NOTA DE CREDITO")

#: The 27 voucher types TusFacturas accepts, spelled exactly as its API expects.
VOUCHER_TYPES: Final[tuple[str, ...]] = (
    *(f"FACTURA {letter}" for letter in "ABCME"),
    *(f"NOTA DE DEBITO {letter}" for letter in "ABCME"),
    *(f"NOTA DE CREDITO {letter}" for letter in "ABCME"),
    "RECIBO C",
    "FACTURA NO VALIDA EN AFIP",
    "NOTA DE CREDITO NO VALIDA EN AFIP",
    *(f"{kind} ELECTRONICA MiPyME (FCE) {letter}" for kind in _FCE_KINDS for letter in "ABC"),
)

PUNTO_VENTA_MAX: Final = 99_999
NUMERO_MAX: Final = 99_999_999


class Operacion(StrEnum):
    """Whether the voucher belongs to sales (``V``) or purchases (``C``)."""

    VENTA = "V"
    COMPRA = "C"


def _known_voucher_type(tipo: str) -> str:
    if tipo not in VOUCHER_TYPES:
        raise ValueError(f"unknown voucher type {tipo!r}")
    return tipo


VoucherType = Annotated[str, AfterValidator(_known_voucher_type)]


class TusFacturasVoucher(BaseModel):
    """A TusFacturas voucher, identified the way its API expects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal[Provider.TUSFACTURAS] = Provider.TUSFACTURAS
    tipo: VoucherType
    operacion: Operacion = Operacion.VENTA
    punto_venta: int = Field(ge=1, le=PUNTO_VENTA_MAX)
    numero: int = Field(ge=1, le=NUMERO_MAX)

    @property
    def reference(self) -> str:
        """The printed form agents hold, e.g. ``FACTURA B 0002-00000006``."""
        return f"{self.tipo} {self.punto_venta:04d}-{self.numero:08d}"

    @property
    def invoice_key(self) -> str:
        """A stable identity for history and duplicate checks (operacion included)."""
        parts = (self.tipo, self.operacion.value, self.punto_venta, self.numero)
        return f"{self.provider.value}:" + "|".join(str(part) for part in parts)


class LummyInvoice(BaseModel):
    """A Lummy invoice (CFDI), by Lummy's internal id, with an optional alternative e-mail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal[Provider.LUMMY] = Provider.LUMMY
    invoice_id: UUID
    email: EmailStr | None = None

    @property
    def reference(self) -> str:
        """The invoice id in its canonical lower-case form."""
        return str(self.invoice_id)

    @property
    def invoice_key(self) -> str:
        """A stable identity for history and duplicate checks."""
        return f"{self.provider.value}:{self.invoice_id}"


ResendRequest = Annotated[TusFacturasVoucher | LummyInvoice, Field(discriminator="provider")]
"""What one re-send is about: a voucher or an invoice, told apart by ``provider``."""


class ResendResult(BaseModel):
    """A successful re-send, as the provider reported it."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    reference: str
    #: Who the provider says it went to; empty when the provider does not say
    #: (TusFacturas sends to the e-mails on the customer's file).
    recipients: tuple[str, ...] = ()
    sent_at: AwareDatetime | None = None
    request_id: str | None = None
    provider_message: str | None = None
