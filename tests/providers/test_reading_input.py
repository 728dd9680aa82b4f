"""What agents paste, read generously and never dropped: short forms of voucher types,
numbers pasted into one field, links to a Lummy invoice, and problems quoting the
agent's own words."""

from __future__ import annotations

from uuid import UUID

import pytest

from providers.base import InvalidReferenceError
from providers.lummy.model import LummyInvoice
from providers.lummy.parser import build_lummy_invoice, invoice_id_in_link
from providers.lummy.provider import LUMMY
from providers.registry import builtin_registry
from providers.tusfacturas.model import TusFacturasVoucher
from providers.tusfacturas.parser import build_voucher
from providers.tusfacturas.provider import TUSFACTURAS
from tests.e2e import says

REGISTRY = builtin_registry()
INVOICE_ID = "550e8400-e29b-41d4-a716-446655440000"
ORG_ID = "7b0c5a2e-1111-4c3d-9e8f-000000000001"


def voucher(tipo: str, punto_venta: int = 2, numero: int = 6) -> TusFacturasVoucher:
    return TusFacturasVoucher(tipo=tipo, punto_venta=punto_venta, numero=numero)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("FC B 0002-00000006", voucher("FACTURA B")),
        ("Fact. B 0002-00000006", voucher("FACTURA B")),
        ("fac b 2-6", voucher("FACTURA B")),
        ("NC B 0002-00000006", voucher("NOTA DE CREDITO B")),
        ("N.C. A 0002-00000006", voucher("NOTA DE CREDITO A")),
        ("ND A 0002-00000006", voucher("NOTA DE DEBITO A")),
        ("nc fce a 3-87", voucher("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A", 3, 87)),
        ("FCE A 3-87", voucher("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", 3, 87)),
        ("tusfacturas B 0002-00000006", voucher("FACTURA B")),
        ("B 0002-00000006", voucher("FACTURA B")),
    ],
)
def test_common_abbreviations_are_understood(typed: str, expected: TusFacturasVoucher) -> None:
    assert REGISTRY.parse_reference(typed) == expected


@pytest.mark.parametrize(
    ("punto_venta", "numero"),
    [
        ("0002-00000006", ""),
        ("0002-00000006", None),
        ("2 - 6", "6"),
        ("", "0002-00000006"),
        ("0002", "0002-00000006"),
    ],
)
def test_numbers_pasted_into_one_field_fill_both(punto_venta: str, numero: str | None) -> None:
    values = {"tipo": "FACTURA B", "punto_venta": punto_venta}
    if numero is not None:
        values["numero"] = numero

    assert TUSFACTURAS.build_request(values) == voucher("FACTURA B")


def test_numbers_pasted_into_one_field_that_disagree_with_the_other_are_not_guessed() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        build_voucher(tipo="FACTURA B", punto_venta="0002-00000006", numero="7")
    assert set(info.value.problems) == {"punto_venta"}
    assert info.value.understood["punto_venta"] == "0002-00000006"


@pytest.mark.parametrize(
    "link",
    [
        f"https://app.lummy.io/invoices/{INVOICE_ID}",
        f"https://app.lummy.io/invoices/{INVOICE_ID.upper()}?tab=pdf",
        f"<https://app.lummy.io/organizations/{ORG_ID}/invoices/{INVOICE_ID}>",
        f"<https://sandbox.lummy.io/facturas/{INVOICE_ID}|Factura A-1234>",
        f"https://app.lummy.mx/facturas/{INVOICE_ID}/detalle",
    ],
)
def test_a_pasted_link_to_a_lummy_invoice_yields_its_id(link: str) -> None:
    expected = LummyInvoice(invoice_id=UUID(INVOICE_ID))

    assert invoice_id_in_link(link) == INVOICE_ID
    assert REGISTRY.parse_reference(link) == expected
    assert REGISTRY.parse_reference(f"{link} otro@cliente.com") == expected.model_copy(
        update={"email": "otro@cliente.com"}
    )
    assert LUMMY.build_request({"invoice_id": link}) == expected


def test_a_link_elsewhere_is_not_taken_for_a_lummy_invoice() -> None:
    # The SAT's verification page carries the folio fiscal, which Lummy's re-send does not take.
    sat = f"https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={INVOICE_ID}"
    assert invoice_id_in_link(sat) is None
    with pytest.raises(InvalidReferenceError):
        build_lummy_invoice(invoice_id=sat)


def test_a_broken_address_is_kept_as_typed_with_its_problem() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        REGISTRY.parse_reference(f"lummy {INVOICE_ID} nombre@")

    assert info.value.problems["email"].code == "email_invalid"
    assert info.value.understood == {"invoice_id": INVOICE_ID, "email": "nombre@"}


@pytest.mark.parametrize(
    ("typed", "field", "code", "quoted"),
    [
        ("Factura Z 0002-00000006", "tipo", "tipo_unknown", "Factura Z"),
        ("Fáctura Ñ 0002-00000006", "tipo", "tipo_unknown", "Fáctura Ñ"),
        ("factura b 0002-0000x6", "numero", "numbers_invalid", "0002-0000x6"),
        ("Factura B 2-6 urgente", "numero", "numbers_invalid", "2-6 urgente"),
    ],
)
def test_problems_quote_the_agent_as_typed(typed: str, field: str, code: str, quoted: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        REGISTRY.parse_reference(typed)

    assert info.value.problems[field].code == code
    assert info.value.problems[field].text == quoted
    assert quoted in says(code, text=quoted)
