"""What the TusFacturas emulator answers to searches: ``POST /clientes/cuenta-corriente``
and ``POST /facturacion/consulta_avanzada``.

Both take the credentials in the body and refuse them like the other routes (429,
400, 401 without JSON). Bad input is HTTP 200 ``error: "S"`` with ``errores`` and
``error_details``:

=========  ===================================================================
Code       Meaning
=========  ===================================================================
TFC-1002   ``tipo`` missing or not one of the 27 voucher types (TN)
TFC-1003   ``operacion`` not ``V`` or ``C``
TFC-1004   ``punto_venta`` not an integer in 1..99999 (TN)
TFC-1005   ``numero_desde``/``numero_hasta`` not a range in 1..99999999 (TN)
TFC-1101   ``busqueda_tipo`` not ``F``, ``TN`` or ``EXT_REF``
TFC-1102   ``pagina`` not an integer from 0
TFC-1103   ``limite`` not an integer in 1..1000
TFC-1104   ``comprobante`` missing, or its ``fecha`` not a dd/mm/aaaa date (F)
TFC-1105   ``external_reference`` missing (EXT_REF)
TFC-1201   ``cliente`` missing or not an object
TFC-1202   ``documento_tipo`` not ``CUIT``, ``CUIL`` or ``DNI``
TFC-1203   ``documento_nro`` not digits only, or a CUIT whose check digit is wrong
TFC-8020   no customer with that document has sales vouchers
=========  ===================================================================

The account (``cuenta-corriente``) is the company's, whatever punto de venta the
credentials belong to: every sales voucher of the customer, oldest first as a
statement is, each with ``debe`` (invoices, debit notes) or ``haber`` (credit notes),
what is left to pay of it and the running ``saldo``; a payment received is a line of
its own (``COBRANZA (razón social)``, in ``haber``).

The advanced search (``consulta_avanzada``) answers ``{error: "N", errores: [], total,
comprobantes}``, each item shaped like a ``consulta`` answer (``cliente``,
``comprobante``), newest first, ``limite`` items from ``pagina`` (0 first), only for
the credentials' punto de venta (every one for a set valid for all). ``F`` takes
``comprobante: {fecha, operacion}``; ``TN`` takes ``comprobante: {tipo, operacion,
punto_venta, numero_desde, numero_hasta}``; ``EXT_REF`` finds nothing (the emulated
vouchers carry no external reference). Nothing found is ``total: 0``, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from devkit.emulators.tusfacturas_vouchers import VoucherKey, VoucherRecord
from providers.customers import cuit_check_digit
from providers.tusfacturas.model import VOUCHER_TYPES

#: Routes of the searches, for faults (`devkit.emulators.common`'s routes are the others).
CUENTA_CORRIENTE_ROUTE: Final = "cuenta_corriente"
CONSULTA_AVANZADA_ROUTE: Final = "consulta_avanzada"

MAX_LIMITE: Final = 1000
DEFAULT_LIMITE: Final = 100
BUSQUEDA_TIPOS: Final = ("F", "TN", "EXT_REF")
DOCUMENT_TYPES: Final = ("CUIT", "CUIL", "DNI")
#: How long after the voucher the emulated customer pays (what there is of it).
PAYMENT_AFTER: Final = timedelta(days=7)

#: (code, message) of one problem in an ``error: "S"`` answer.
Problem = tuple[str, str]
#: The link to a voucher's PDF, as the lookup gives it.
PdfLink = Callable[[VoucherKey], str]


def page_key(busqueda_tipo: str, pagina: int) -> str:
    """The fault key of one page of an advanced search, e.g. ``"F|1"``."""
    return f"{busqueda_tipo}|{pagina}"


def error_body(problems: Sequence[Problem]) -> dict[str, Any]:
    """An ``error: "S"`` answer, one entry per problem."""
    return {
        "error": "S",
        "errores": [text for _, text in problems],
        "error_details": [{"code": code, "text": text} for code, text in problems],
    }


def voucher_body(voucher: VoucherKey, record: VoucherRecord, pdf_url: str) -> dict[str, Any]:
    """``cliente`` and ``comprobante`` of a voucher, as ``consulta`` answers them."""
    tipo, _, punto_venta, numero = voucher
    return {
        "cliente": {
            "documento_tipo": record.document_type,
            "documento_nro": record.document_number,
            "razon_social": record.customer_name,
            "email": ", ".join(record.customer_emails),
            "domicilio": record.address,
        },
        "comprobante": {
            "fecha": _ddmmyyyy(record.issued_on),
            "tipo": tipo,
            "punto_venta": str(punto_venta),
            "numero": str(numero),
            "moneda": record.currency,
            "total": record.total,
            # TusFacturas sends the CAE with a trailing space.
            "cae": record.cae + " ",
            "status": record.status,
            "comprobante_pdf_url": pdf_url,
            "vencimiento_pago": _ddmmyyyy(record.issued_on + timedelta(days=30)),
            "ctacte_status": record.ctacte_status,
        },
    }


# -- cuenta corriente ---------------------------------------------------------------


def account_statement(vouchers: Mapping[VoucherKey, VoucherRecord], cliente: Any) -> dict[str, Any]:
    """The answer of ``clientes/cuenta-corriente`` for the ``cliente`` asked about."""
    if not isinstance(cliente, dict):
        return error_body(
            [("TFC-1201", "El campo cliente es obligatorio (documento_tipo y documento_nro).")]
        )
    kind, number = cliente.get("documento_tipo"), cliente.get("documento_nro")
    problems: list[Problem] = []
    if kind not in DOCUMENT_TYPES:
        problems.append(("TFC-1202", "El documento_tipo debe ser CUIT, CUIL o DNI."))
    if not isinstance(number, str) or not number.isdigit():
        problems.append(("TFC-1203", "El documento_nro debe contener solo digitos."))
    elif kind in ("CUIT", "CUIL") and not _valid_cuit(number):
        problems.append(("TFC-1203", f"El {kind} {number} no es valido."))
    if problems:
        return error_body(problems)
    own = sorted(
        (
            (key, record)
            for key, record in vouchers.items()
            if key[1] == "V" and (record.document_type, record.document_number) == (kind, number)
        ),
        key=lambda item: (item[1].issued_on, item[0][2], item[0][3], item[0][0]),
    )
    if not own:
        return error_body([("TFC-8020", f"No existe un cliente con documento {kind} {number}.")])
    return {
        "error": "N",
        "errores": [],
        "rta": f"Cuenta corriente de {own[0][1].customer_name}",
        "resultados": _statement_lines(own),
    }


def _statement_lines(own: Sequence[tuple[VoucherKey, VoucherRecord]]) -> list[dict[str, str]]:
    lines: list[tuple[date, str, Decimal, Decimal, Decimal]] = []
    for (tipo, _, punto_venta, numero), record in own:
        total, paid = Decimal(record.total), Decimal(record.paid)
        concepto = f"{tipo} {punto_venta:04d}-{numero:08d} ({record.customer_name})"
        if tipo.startswith("NOTA DE CREDITO"):
            lines.append((record.issued_on, concepto, Decimal(0), total, Decimal(0)))
            continue
        lines.append((record.issued_on, concepto, total, Decimal(0), total - paid))
        if paid:
            cobranza = f"COBRANZA ({record.customer_name})"
            lines.append((record.issued_on + PAYMENT_AFTER, cobranza, Decimal(0), paid, Decimal(0)))
    saldo = Decimal(0)
    answer: list[dict[str, str]] = []
    for day, concepto, debe, haber, resta in sorted(lines, key=lambda line: line[0]):
        saldo += debe - haber
        answer.append(
            {
                "fecha": _ddmmyyyy(day),
                "concepto": concepto,
                "debe": f"{debe:.2f}",
                "haber": f"{haber:.2f}",
                "resta_abonar_de_este_comprobante": f"{resta:.2f}",
                "saldo": f"{saldo:.2f}",
            }
        )
    return answer


# -- consulta avanzada --------------------------------------------------------------


def advanced_search(
    vouchers: Mapping[VoucherKey, VoucherRecord],
    payload: Mapping[str, Any],
    puntos_de_venta: Collection[int] | None,
    pdf_link: PdfLink,
) -> dict[str, Any]:
    """The answer of ``facturacion/consulta_avanzada``; ``puntos_de_venta`` are the ones
    the credentials cover (None: every one)."""
    problems: list[Problem] = []
    busqueda_tipo = payload.get("busqueda_tipo")
    if busqueda_tipo not in BUSQUEDA_TIPOS:
        problems.append(("TFC-1101", "El campo busqueda_tipo debe ser F, TN o EXT_REF."))
    pagina = _integer(payload.get("pagina", 0))
    if pagina is None or pagina < 0:
        problems.append(("TFC-1102", "La pagina debe ser un numero desde 0."))
    limite = _integer(payload.get("limite", DEFAULT_LIMITE))
    if limite is None or not 1 <= limite <= MAX_LIMITE:
        problems.append(("TFC-1103", f"El limite debe ser un numero entre 1 y {MAX_LIMITE}."))
    matches: Callable[[VoucherKey, VoucherRecord], bool] | None = None
    if busqueda_tipo == "F":
        matches = _by_date(payload.get("comprobante"), problems)
    elif busqueda_tipo == "TN":
        matches = _by_numbers(payload.get("comprobante"), problems)
    elif busqueda_tipo == "EXT_REF" and not payload.get("external_reference"):
        problems.append(("TFC-1105", "El campo external_reference es obligatorio."))
    if problems or pagina is None or limite is None:
        return error_body(problems)
    found = sorted(
        (
            (key, record)
            for key, record in vouchers.items()
            if matches is not None
            and (puntos_de_venta is None or key[2] in puntos_de_venta)
            and matches(key, record)
        ),
        key=lambda item: (item[1].issued_on, item[0][2], item[0][3], item[0][0]),
        reverse=True,
    )
    page = found[pagina * limite : (pagina + 1) * limite]
    return {
        "error": "N",
        "errores": [],
        "total": len(found),
        "comprobantes": [voucher_body(key, record, pdf_link(key)) for key, record in page],
    }


def _by_date(
    comprobante: Any, problems: list[Problem]
) -> Callable[[VoucherKey, VoucherRecord], bool] | None:
    fecha = comprobante.get("fecha") if isinstance(comprobante, dict) else None
    day = _parse_ddmmyyyy(fecha)
    if day is None:
        problems.append(("TFC-1104", "El campo comprobante.fecha debe ser una fecha dd/mm/aaaa."))
    operacion = _operacion(comprobante, problems)
    if day is None or operacion is None:
        return None
    return lambda key, record: key[1] == operacion and record.issued_on == day


def _by_numbers(
    comprobante: Any, problems: list[Problem]
) -> Callable[[VoucherKey, VoucherRecord], bool] | None:
    fields: Mapping[str, Any] = comprobante if isinstance(comprobante, dict) else {}
    tipo = fields.get("tipo")
    if tipo not in VOUCHER_TYPES:
        problems.append(("TFC-1002", "El campo tipo de comprobante no es valido."))
    operacion = _operacion(fields, problems)
    punto_venta = _integer(fields.get("punto_venta"))
    if punto_venta is None or not 1 <= punto_venta <= 99_999:
        problems.append(("TFC-1004", "El punto de venta debe ser un numero entre 1 y 99999."))
    desde, hasta = _integer(fields.get("numero_desde")), _integer(fields.get("numero_hasta"))
    if desde is None or hasta is None or not 1 <= desde <= hasta <= 99_999_999:
        problems.append(("TFC-1005", "numero_desde y numero_hasta deben ser un rango valido."))
    if operacion is None or punto_venta is None or desde is None or hasta is None:
        return None
    return lambda key, _: key[:3] == (tipo, operacion, punto_venta) and desde <= key[3] <= hasta


def _operacion(comprobante: Any, problems: list[Problem]) -> str | None:
    operacion = comprobante.get("operacion") if isinstance(comprobante, Mapping) else None
    if operacion in ("V", "C"):
        return str(operacion)
    problems.append(("TFC-1003", "El campo operacion debe ser V (ventas) o C (compras)."))
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _valid_cuit(digits: str) -> bool:
    return len(digits) == 11 and cuit_check_digit(digits[:10]) == int(digits[10])


def _ddmmyyyy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _parse_ddmmyyyy(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        return None
