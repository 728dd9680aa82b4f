"""The TusFacturas voucher model and its vocabulary of voucher types."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from providers.tusfacturas.model import (
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    Operacion,
    TusFacturasVoucher,
)
from tests.providers.conftest import voucher


def test_there_are_exactly_the_27_api_voucher_types() -> None:
    assert len(VOUCHER_TYPES) == 27
    assert len(set(VOUCHER_TYPES)) == 27
    for letter in "ABCME":
        assert f"FACTURA {letter}" in VOUCHER_TYPES
        assert f"NOTA DE DEBITO {letter}" in VOUCHER_TYPES
        assert f"NOTA DE CREDITO {letter}" in VOUCHER_TYPES
    for letter in "ABC":
        assert f"FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) {letter}" in VOUCHER_TYPES
        assert f"NOTA DE DEBITO ELECTRONICA MiPyME (FCE) {letter}" in VOUCHER_TYPES
        assert f"NOTA DE CREDITO ELECTRONICA MiPyME (FCE) {letter}" in VOUCHER_TYPES
    assert {"RECIBO C", "FACTURA NO VALIDA EN AFIP", "NOTA DE CREDITO NO VALIDA EN AFIP"} <= set(
        VOUCHER_TYPES
    )
    assert all(tipo.isascii() for tipo in VOUCHER_TYPES)


def test_voucher_model_validates_and_prints_the_reference() -> None:
    v = voucher("FACTURA B", 2, 6)
    assert v.provider == "tusfacturas"
    assert v.operacion is Operacion.VENTA
    assert v.reference == "FACTURA B 0002-00000006"
    assert voucher("FACTURA A", PUNTO_VENTA_MAX, NUMERO_MAX).reference == (
        "FACTURA A 99999-99999999"
    )
    with pytest.raises(ValidationError):
        TusFacturasVoucher(tipo="FACTURA Z", punto_venta=1, numero=1)
    with pytest.raises(ValidationError):
        TusFacturasVoucher(tipo="factura b", punto_venta=1, numero=1)
    for pv, numero in ((0, 1), (PUNTO_VENTA_MAX + 1, 1), (1, 0), (1, NUMERO_MAX + 1)):
        with pytest.raises(ValidationError):
            TusFacturasVoucher(tipo="FACTURA B", punto_venta=pv, numero=numero)
    with pytest.raises(ValidationError):
        TusFacturasVoucher.model_validate(
            {"tipo": "FACTURA B", "punto_venta": 1, "numero": 1, "surprise": True}
        )
    with pytest.raises(ValidationError):
        v.numero = 7  # type: ignore[misc]
