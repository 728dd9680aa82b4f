"""The vouchers the TusFacturas emulator has on file, and the customers they belong to.

Every customer carries a valid tax id (a CUIT's check digit is right). Ferretería
Industrial Norte (CUIT 30-71234567-1) has an account of several vouchers on
different dates, paid, partly paid and not, on puntos de venta 2 and 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

#: (tipo, operacion, punto_venta, numero)
VoucherKey = tuple[str, str, int, int]


@dataclass(frozen=True, slots=True)
class VoucherRecord:
    """A voucher on file: the customer's e-mails and whether e-mail sending was on, and
    what the lookup tells about it."""

    customer_emails: tuple[str, ...]
    email_enabled: bool = True
    customer_name: str = "Consumidor Final"
    document_type: str = "CUIT"
    document_number: str = "30712345689"
    address: str = "Av. Corrientes 1234, CABA"
    issued_on: date = date(2026, 11, 3)
    total: str = "12100.00"
    currency: str = "PES"
    status: str = "EMITIDO"
    cae: str = "76123456789012"
    ctacte_status: str = "IMPAGA"
    #: What the customer paid of it so far (the account's ``resta_abonar`` is the rest).
    paid: str = "0.00"


def _on_file(
    customer: tuple[str, str],
    emails: tuple[str, ...],
    issued_on: date,
    total: str,
    **extra: Any,
) -> VoucherRecord:
    """A voucher of ``customer`` (name, CUIT unless ``document_type`` says otherwise)."""
    name, number = customer
    return VoucherRecord(
        emails,
        customer_name=name,
        document_number=number,
        issued_on=issued_on,
        total=total,
        **extra,
    )


def _paid(total: str, paid: str) -> dict[str, str]:
    """``paid`` of ``total`` paid so far, and the account status the lookup shows for it."""
    if Decimal(paid) <= 0:
        status = "IMPAGA"
    elif Decimal(paid) >= Decimal(total):
        status = "PAGADA"
    else:
        status = "PAGO PARCIAL"
    return {"paid": paid, "ctacte_status": status}


_PANADERIA: Final = ("Panadería La Espiga S.R.L.", "30715432109")
_PANADERIA_EMAILS: Final = ("compras@panaderialaespiga.com.ar",)
_DISTRIBUIDORA: Final = ("Distribuidora Sur S.A.", "30698765433")
#: A customer with an account of several vouchers, paid, partly paid and not.
_FERRETERIA: Final = ("Ferretería Industrial Norte S.A.", "30712345671")
_FERRETERIA_EMAILS: Final = ("pagos@ferreterianorte.com.ar",)

#: Vouchers the emulator knows when none are given.
DEFAULT_TUSFACTURAS_VOUCHERS: Final[Mapping[VoucherKey, VoucherRecord]] = MappingProxyType(
    {
        ("FACTURA B", "V", 2, 6): _on_file(
            _PANADERIA, _PANADERIA_EMAILS, date(2026, 11, 14), "45230.50"
        ),
        ("NOTA DE DEBITO B", "V", 2, 6): _on_file(
            _PANADERIA, _PANADERIA_EMAILS, date(2026, 11, 18), "1850.00"
        ),
        ("FACTURA A", "V", 1, 1534): _on_file(
            _DISTRIBUIDORA,
            ("administracion@distribuidorasur.com.ar", "pagos@distribuidorasur.com.ar"),
            date(2026, 10, 31),
            "1289990.00",
        ),
        ("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", "V", 3, 87): _on_file(
            ("Metalúrgica del Plata S.A.", "30601122339"),
            ("cuentasapagar@metalurgicadelplata.com.ar",),
            date(2026, 10, 20),
            "8450000.00",
        ),
        ("FACTURA C", "V", 2, 41): _on_file(
            ("María López", "28456789"),
            ("mlopez.estudio@gmail.com",),
            date(2026, 11, 10),
            "35000.00",
            email_enabled=False,
            document_type="DNI",
        ),
        ("FACTURA B", "V", 2, 52): _on_file(
            ("Kiosco El Trébol", "20301234563"),
            (),
            date(2026, 11, 12),
            "8200.00",
            email_enabled=False,
        ),
        ("FACTURA A", "V", 1, 1540): _on_file(
            _DISTRIBUIDORA,
            ("administracion@distribuidorasur.com.ar",),
            date(2026, 11, 19),
            "243100.00",
            status="EN COLA, ESPERANDO APROBACION",
        ),
        ("FACTURA A", "V", 2, 101): _on_file(
            _FERRETERIA,
            _FERRETERIA_EMAILS,
            date(2026, 9, 5),
            "150000.00",
            **_paid("150000.00", "150000.00"),
        ),
        ("FACTURA A", "V", 2, 118): _on_file(
            _FERRETERIA,
            _FERRETERIA_EMAILS,
            date(2026, 10, 7),
            "98500.00",
            **_paid("98500.00", "50000.00"),
        ),
        ("NOTA DE CREDITO A", "V", 2, 9): _on_file(
            _FERRETERIA, _FERRETERIA_EMAILS, date(2026, 10, 15), "12000.00"
        ),
        ("FACTURA A", "V", 3, 45): _on_file(
            _FERRETERIA, _FERRETERIA_EMAILS, date(2026, 11, 3), "210000.00"
        ),
        ("FACTURA A", "V", 2, 131): _on_file(
            _FERRETERIA, _FERRETERIA_EMAILS, date(2026, 11, 14), "76300.00"
        ),
    }
)
