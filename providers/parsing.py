"""Turning what agents type or paste into typed re-send requests.

Agents hold the printed form of a voucher (``FACTURA B 0002-00000006``) or a
Lummy invoice id, typed with accents, odd spacing and ``N°`` prefixes. Every
entry point here returns a typed request or raises `InvalidReferenceError`
naming, in Spanish, each field that is wrong; nothing else escapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from bot import strings
from providers.base import (
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    LummyInvoice,
    Operacion,
    Provider,
    TusFacturasVoucher,
)


class InvalidReferenceError(ValueError):
    """Input that does not make a valid request.

    ``field_errors`` maps a field name (``tipo``, ``punto_venta``, ``numero``,
    ``operacion``, ``invoice_id``, ``email`` or ``text`` for the whole input) to a
    Spanish message. ``understood`` holds the values that could be read, as
    strings, so a form can be prefilled with them.
    """

    def __init__(
        self,
        field_errors: Mapping[str, str],
        *,
        provider: Provider | None = None,
        understood: Mapping[str, str] | None = None,
    ) -> None:
        self.field_errors = dict(field_errors)
        self.provider = provider
        self.understood = dict(understood or {})
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """All problems in one Spanish paragraph."""
        return " ".join(self.field_errors.values())


_PROVIDER_ALIASES: Final[dict[str, Provider]] = {
    "tusfacturas": Provider.TUSFACTURAS,
    "tusfacturas.app": Provider.TUSFACTURAS,
    "tf": Provider.TUSFACTURAS,
    "lummy": Provider.LUMMY,
}
_OPERACION_WORDS: Final[dict[str, Operacion]] = {
    "V": Operacion.VENTA,
    "VENTA": Operacion.VENTA,
    "VENTAS": Operacion.VENTA,
    "C": Operacion.COMPRA,
    "COMPRA": Operacion.COMPRA,
    "COMPRAS": Operacion.COMPRA,
}
# "N°", "Nº", "Nro.", "Num." and "#" before the numbers carry no meaning.
_NUMBER_SIGN = re.compile(r"(?i)(?:\bN\s*[°º]|#|\bNRO\b\.?|\bNUM\b\.?|\bNUMERO\b\.?)")
_NUMBERS = re.compile(r"^(\d+)\s*(?:-|\s)\s*(\d+)$")
# The look-behind keeps `search` linear: a match may only start where a digit run does.
_TRAILING_NUMBERS = re.compile(r"(?<!\d)(\d+)\s*-\s*(\d+)\s*$")


def strip_accents(text: str) -> str:
    """The text without accents (and with compatibility forms such as full-width digits
    folded), as agents and providers write the same words both ways."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """Upper-case, strip accents and number signs, collapse spaces."""
    return " ".join(strip_accents(_NUMBER_SIGN.sub(" ", text)).upper().split())


def _tipo_tokens(text: str) -> tuple[str, ...]:
    return tuple(_fold(text).replace("(", " ").replace(")", " ").split())


# Longest first, so "NOTA DE CREDITO NO VALIDA EN AFIP" wins over a shorter prefix.
_TIPO_BY_TOKENS: Final = sorted(
    ((_tipo_tokens(tipo), tipo) for tipo in VOUCHER_TYPES), key=lambda item: -len(item[0])
)


def normalise_tipo(text: str) -> str | None:
    """The API spelling of a voucher type typed any which way, or None."""
    tokens = _tipo_tokens(text)
    return next((tipo for key, tipo in _TIPO_BY_TOKENS if key == tokens), None)


def _split_tipo(tokens: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    for key, tipo in _TIPO_BY_TOKENS:
        if tokens[: len(key)] == key:
            return tipo, tokens[len(key) :]
    return None, tokens


def _check_number(raw: str | int | None, *, maximum: int, invalid: str) -> int | str:
    """The number, or the Spanish error for it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return strings.FIELD_REQUIRED
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit():
        return invalid
    # Bound the length before int(): Python refuses to convert over 4300 digits.
    if len(text.lstrip("0")) > len(str(maximum)):
        return invalid
    value = int(text)
    return value if 1 <= value <= maximum else invalid


def build_voucher(
    *,
    tipo: str | None,
    punto_venta: str | int | None,
    numero: str | int | None,
    operacion: str | None = None,
) -> TusFacturasVoucher:
    """A voucher from separate fields (a form), checking each one."""
    errors: dict[str, str] = {}
    understood: dict[str, str] = {}

    canonical_tipo = normalise_tipo(tipo) if tipo else None
    if not tipo or not tipo.strip():
        errors["tipo"] = strings.FIELD_REQUIRED
    elif canonical_tipo is None:
        errors["tipo"] = strings.TIPO_INVALID
    else:
        understood["tipo"] = canonical_tipo

    chosen_operacion = Operacion.VENTA
    if operacion is not None and operacion.strip():
        folded = _OPERACION_WORDS.get(_fold(operacion))
        if folded is None:
            errors["operacion"] = strings.OPERACION_INVALID
        else:
            chosen_operacion = folded
    understood["operacion"] = chosen_operacion.value

    numbers: dict[str, int] = {}
    for name, raw, maximum, invalid in (
        ("punto_venta", punto_venta, PUNTO_VENTA_MAX, strings.PUNTO_VENTA_INVALID),
        ("numero", numero, NUMERO_MAX, strings.NUMERO_INVALID),
    ):
        checked = _check_number(raw, maximum=maximum, invalid=invalid)
        if isinstance(checked, str):
            errors[name] = checked
        else:
            numbers[name] = checked
            understood[name] = str(checked)

    if errors or canonical_tipo is None:
        raise InvalidReferenceError(errors, provider=Provider.TUSFACTURAS, understood=understood)
    return TusFacturasVoucher(
        tipo=canonical_tipo,
        operacion=chosen_operacion,
        punto_venta=numbers["punto_venta"],
        numero=numbers["numero"],
    )


def parse_voucher(text: str) -> TusFacturasVoucher:
    """A voucher from its printed form, e.g. ``Factura B N° 0002-00000006``."""
    tokens = _tipo_tokens(text)
    if not tokens:
        raise InvalidReferenceError({"text": strings.PARSE_EMPTY}, provider=Provider.TUSFACTURAS)

    operacion: str | None = None
    if tokens[-1] in _OPERACION_WORDS and len(tokens[-1]) > 1:
        operacion, tokens = tokens[-1], tokens[:-1]

    tipo, rest = _split_tipo(tokens)
    if tipo is None:
        understood: dict[str, str] = {}
        trailing = _TRAILING_NUMBERS.search(" ".join(tokens))
        if trailing:
            understood = {"punto_venta": trailing[1], "numero": trailing[2]}
            shown = " ".join(tokens)[: trailing.start()].strip()
        else:
            shown = " ".join(tokens)
        message = (
            strings.PARSE_UNKNOWN_TIPO.format(text=shown[:60]) if shown else strings.TIPO_MISSING
        )
        raise InvalidReferenceError(
            {"tipo": message},
            provider=Provider.TUSFACTURAS,
            understood=understood,
        )
    if rest and rest[0] in _OPERACION_WORDS and len(rest[0]) > 1 and operacion is None:
        operacion, rest = rest[0], rest[1:]
    if not rest:
        raise InvalidReferenceError(
            {"numero": strings.PARSE_MISSING_NUMBERS},
            provider=Provider.TUSFACTURAS,
            understood={"tipo": tipo},
        )
    numbers = _NUMBERS.match(" ".join(rest))
    if numbers is None:
        raise InvalidReferenceError(
            {"numero": strings.PARSE_BAD_NUMBERS.format(text=" ".join(rest)[:60])},
            provider=Provider.TUSFACTURAS,
            understood={"tipo": tipo},
        )
    return build_voucher(tipo=tipo, operacion=operacion, punto_venta=numbers[1], numero=numbers[2])


def _parse_uuid(text: str) -> UUID | None:
    try:
        return UUID(text.strip().strip("<>"))
    except ValueError:
        return None


def _normalise_email(text: str) -> str | None:
    candidate = text.strip().strip("<>")
    candidate = candidate.removeprefix("mailto:")
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def build_lummy_invoice(*, invoice_id: str | None, email: str | None = None) -> LummyInvoice:
    """A Lummy invoice from separate fields (a form), checking each one."""
    errors: dict[str, str] = {}
    understood: dict[str, str] = {}
    parsed_id = _parse_uuid(invoice_id) if invoice_id and invoice_id.strip() else None
    if not invoice_id or not invoice_id.strip():
        errors["invoice_id"] = strings.FIELD_REQUIRED
    elif parsed_id is None:
        errors["invoice_id"] = strings.INVOICE_ID_INVALID
    else:
        understood["invoice_id"] = str(parsed_id)

    normalised_email: str | None = None
    if email is not None and email.strip():
        normalised_email = _normalise_email(email)
        if normalised_email is None:
            errors["email"] = strings.EMAIL_INVALID.format(text=email.strip()[:80])
        else:
            understood["email"] = normalised_email

    if errors or parsed_id is None:
        raise InvalidReferenceError(errors, provider=Provider.LUMMY, understood=understood)
    return LummyInvoice(invoice_id=parsed_id, email=normalised_email)


def parse_lummy(text: str) -> LummyInvoice:
    """A Lummy invoice from ``<uuid> [alternative e-mail]``."""
    tokens = text.split()
    if not tokens:
        raise InvalidReferenceError({"text": strings.PARSE_EMPTY}, provider=Provider.LUMMY)
    invoice_id, *rest = tokens
    email = rest[0] if rest else None
    try:
        invoice = build_lummy_invoice(invoice_id=invoice_id, email=email)
    except InvalidReferenceError as exc:
        if len(rest) > 1:
            exc.field_errors["text"] = strings.PARSE_EXTRA_TEXT.format(text=" ".join(rest[1:])[:60])
        raise
    if len(rest) > 1:
        raise InvalidReferenceError(
            {"text": strings.PARSE_EXTRA_TEXT.format(text=" ".join(rest[1:])[:60])},
            provider=Provider.LUMMY,
            understood={"invoice_id": invoice.reference, "email": invoice.email or ""},
        )
    return invoice


_UUID_LIKE = re.compile(r"^[<{]?[0-9a-zA-Z]{8}-[0-9a-zA-Z]{4}-")


def parse_reference(text: str) -> TusFacturasVoucher | LummyInvoice:
    """Whatever an agent typed after ``/reenviar``: a voucher or a Lummy invoice.

    An optional leading provider name (``tusfacturas``, ``lummy``) decides; without
    it a UUID means Lummy and anything starting with a voucher type means TusFacturas.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidReferenceError({"text": strings.PARSE_EMPTY})
    first, *remainder = stripped.split(maxsplit=1)
    rest = remainder[0] if remainder else ""
    forced = _PROVIDER_ALIASES.get(first.lower().rstrip(":,"))
    if forced is Provider.LUMMY:
        return parse_lummy(rest)
    if forced is Provider.TUSFACTURAS:
        return parse_voucher(rest)
    if _parse_uuid(first) is not None or _UUID_LIKE.match(first):
        return parse_lummy(stripped)
    tipo, _ = _split_tipo(_tipo_tokens(stripped))
    if tipo is not None or _TRAILING_NUMBERS.search(stripped):
        return parse_voucher(stripped)
    raise InvalidReferenceError({"text": strings.PARSE_NOT_A_REFERENCE.format(text=stripped[:60])})
