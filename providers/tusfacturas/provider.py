"""The TusFacturas `InvoiceProvider`: its form, and how it reads and prefills vouchers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from providers.base import Choice, FieldKind, FormField, InvoiceProvider, Recognition
from providers.customers import SearchKind
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.model import (
    KEY,
    VOUCHER_TYPES,
    Operacion,
    TusFacturasSettings,
    TusFacturasVoucher,
)
from providers.tusfacturas.parser import (
    build_voucher,
    parse_voucher,
    recognize_voucher,
    split_address,
)

#: Choice groups of the tipo field, by the longest API-spelling prefix of each type.
_TIPO_GROUP_PREFIXES: Final = (
    ("FACTURA DE CREDITO ELECTRONICA", "fce"),
    ("NOTA DE DEBITO ELECTRONICA", "fce"),
    ("NOTA DE CREDITO ELECTRONICA", "fce"),
    ("FACTURA NO VALIDA", "no_validas"),
    ("NOTA DE CREDITO NO VALIDA", "no_validas"),
    ("NOTA DE DEBITO", "notas_de_debito"),
    ("NOTA DE CREDITO", "notas_de_credito"),
    ("FACTURA", "facturas"),
    ("", "recibos"),
)


def _tipo_group(tipo: str) -> str:
    return next(group for prefix, group in _TIPO_GROUP_PREFIXES if tipo.startswith(prefix))


_TIPO_CHOICES: Final = tuple(Choice(tipo, group=_tipo_group(tipo)) for tipo in VOUCHER_TYPES)


class TusFacturas(InvoiceProvider[TusFacturasVoucher, TusFacturasSettings]):
    """TusFacturas.app, Argentina: vouchers by tipo, operacion, punto de venta and numero."""

    key = KEY
    label = "TusFacturas"
    country = "AR"
    aliases = ("tusfacturas", "tusfacturas.app", "tf")
    request_model = TusFacturasVoucher
    settings_model = TusFacturasSettings
    form = (
        FormField("tipo", FieldKind.SELECT, choices=_TIPO_CHOICES, document_type=True),
        FormField(
            "operacion",
            FieldKind.RADIO,
            choices=(Choice(Operacion.VENTA.value), Choice(Operacion.COMPRA.value)),
            default=Operacion.VENTA.value,
        ),
        FormField("punto_venta", example="0002"),
        FormField("numero", example="00000006"),
    )
    reference_field = "numero"
    timezone = "America/Argentina/Buenos_Aires"
    can_look_up = True
    searches = frozenset({SearchKind.CUIT, SearchKind.DATE})
    tax_id = SearchKind.CUIT
    client_class = TusFacturasClient

    def recognizes(self, text: str) -> Recognition:
        """Sure with a voucher type first; maybe with ``0002-00000006``-shaped numbers last."""
        return recognize_voucher(text)

    def parse(self, text: str) -> TusFacturasVoucher:
        """A voucher from its printed form, e.g. ``Factura B N° 0002-00000006``."""
        return parse_voucher(text)

    def address_beside(self, text: str) -> str | None:
        """An e-mail address typed after the voucher: TusFacturas cannot send to it."""
        return split_address(text)[1]

    def build_request(self, values: Mapping[str, str]) -> TusFacturasVoucher:
        """A voucher from the form's fields, checking each one."""
        return build_voucher(
            tipo=values.get("tipo"),
            operacion=values.get("operacion"),
            punto_venta=values.get("punto_venta"),
            numero=values.get("numero"),
        )

    def form_values(self, request: TusFacturasVoucher) -> dict[str, str]:
        """The printed form's parts, zero-padded as on the voucher."""
        return {
            "tipo": request.tipo,
            "operacion": request.operacion.value,
            "punto_venta": f"{request.punto_venta:04d}",
            "numero": f"{request.numero:08d}",
        }


TUSFACTURAS: Final = TusFacturas()
