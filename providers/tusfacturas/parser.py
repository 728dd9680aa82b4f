"""Reading TusFacturas vouchers as agents write them: printed forms, short forms, fields."""

from __future__ import annotations

import re
from typing import Final

from providers.base import WHOLE_INPUT, FieldProblem, InvalidReferenceError, Recognition
from providers.parsing import (
    EMPTY,
    REQUIRED,
    check_number,
    fold,
    is_blank,
    normalise_email,
    quote,
)
from providers.tusfacturas.model import (
    KEY,
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    Operacion,
    TusFacturasVoucher,
)

# Problem codes of this provider's fields (the bot words them).
TIPO_INVALID: Final = "tipo_invalid"
TIPO_UNKNOWN: Final = "tipo_unknown"
TIPO_MISSING: Final = "tipo_missing"
OPERACION_INVALID: Final = "operacion_invalid"
PUNTO_VENTA_INVALID: Final = "punto_venta_invalid"
NUMERO_INVALID: Final = "numero_invalid"
NUMBERS_MISSING: Final = "numbers_missing"
NUMBERS_INVALID: Final = "numbers_invalid"

_OPERACION_WORDS: Final[dict[str, Operacion]] = {
    "V": Operacion.VENTA,
    "VENTA": Operacion.VENTA,
    "VENTAS": Operacion.VENTA,
    "C": Operacion.COMPRA,
    "COMPRA": Operacion.COMPRA,
    "COMPRAS": Operacion.COMPRA,
}
_NUMBERS = re.compile(r"^(\d+)\s*(?:-|\s)\s*(\d+)$")
# Punto de venta and number pasted together into one field: ``0002-00000006``.
_DASHED_NUMBERS = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
# The look-behind keeps `search` linear: a match may only start where a digit run does.
_TRAILING_NUMBERS = re.compile(r"(?<!\d)(\d+)\s*-\s*(\d+)\s*$")

#: Short forms agents write for a voucher's kind, by their first (folded) word.
_KIND_ABBREVIATIONS: Final[dict[str, tuple[str, ...]]] = {
    "FC": ("FACTURA",),
    "FAC": ("FACTURA",),
    "FACT": ("FACTURA",),
    "NC": ("NOTA", "DE", "CREDITO"),
    "ND": ("NOTA", "DE", "DEBITO"),
    "FCE": ("FACTURA", "DE", "CREDITO", "ELECTRONICA", "MIPYME", "FCE"),
}
#: The words of an FCE type after its kind (``NC FCE A`` is a MiPyME credit note).
_FCE_WORDS: Final = ("ELECTRONICA", "MIPYME", "FCE")
_LETTERS: Final = frozenset("ABCME")

_LETTER_DASH = re.compile(r"(?<=[^\W\d_])-|-(?=[^\W\d_])")
_LED_BY_KIND = re.compile(r"^[^\W\d_]{2,}\.?-")
_GLUED_KIND = re.compile(r"^(FACTURA|FACT|FAC|FCE|FC|NC|ND)([ABCME])$")
#: Words printed between a kind and its letter that name no type of their own
#: (``Factura electrónica B``: every voucher is electronic; MiPyME ones say so).
_FILLER_BEFORE_LETTER: Final = frozenset({"ELECTRONICA", "ELECTRONICO"})

#: A folded token with the index of the whitespace-separated chunk of the agent's text
#: it came from, so problems can quote the agent's own words.
_Token = tuple[str, int]


def _chunk_tokens(chunk: str) -> list[str]:
    # In a chunk led by a kind (``FC-B-0002-00000006``), a dash next to a letter
    # separates words; between digits it stays: it joins punto de venta and number.
    # (``A-1234`` is no voucher: it is a CFDI's serie-folio.)
    chunk = chunk.replace("(", " ").replace(")", " ")
    spaced = _LETTER_DASH.sub(" ", chunk) if _LED_BY_KIND.match(chunk) else chunk
    words = fold(spaced).split()
    # "Fact." and "N.C." are "FACT" and "NC"; numbers keep their punctuation.
    tokens = [w.replace(".", "") if any(c.isalpha() for c in w) else w for w in words if w != "."]
    return [part for token in tokens for part in _unglued(token)]


def _unglued(token: str) -> tuple[str, ...]:
    """A kind glued to its letter (``FCB``, ``Fact.B``, ``NCA``) as two words."""
    if token in _KIND_ABBREVIATIONS:
        return (token,)
    glued = _GLUED_KIND.match(token)
    return (glued[1], glued[2]) if glued else (token,)


def _expand_kind(tokens: list[_Token]) -> list[_Token]:
    """Short forms (``FC B``, ``NC FCE A``, a bare ``B`` before numbers) in full."""
    if not tokens:
        return tokens
    (first, chunk), rest = tokens[0], tokens[1:]
    if first in _LETTERS and rest and rest[0][0][:1].isdigit():
        return [("FACTURA", chunk), *tokens]
    kind = _KIND_ABBREVIATIONS.get(first)
    if kind is None:
        return tokens
    if rest and rest[0][0] == "FCE" and first != "FCE":
        noun = kind if first in ("NC", "ND") else ("FACTURA", "DE", "CREDITO")
        return [(word, chunk) for word in (*noun, *_FCE_WORDS)] + rest[1:]
    return [(word, chunk) for word in kind] + rest


def _source_tokens(text: str) -> list[_Token]:
    """The text's folded words, short forms expanded, each with the chunk it came from."""
    tokens = [
        (word, index) for index, chunk in enumerate(text.split()) for word in _chunk_tokens(chunk)
    ]
    return _without_filler(_expand_kind(tokens))


def _without_filler(tokens: list[_Token]) -> list[_Token]:
    """``FACTURA ELECTRONICA B`` is ``FACTURA B`` (not a MiPyME type, which says MIPYME)."""
    return [
        token
        for position, token in enumerate(tokens)
        if not (
            token[0] in _FILLER_BEFORE_LETTER
            and position > 0
            and position + 1 < len(tokens)
            and tokens[position + 1][0] in _LETTERS
        )
    ]


def _tipo_tokens(text: str) -> tuple[str, ...]:
    return tuple(word for word, _ in _source_tokens(text))


def _as_typed(text: str, tokens: list[_Token]) -> str:
    """The agent's own words behind ``tokens`` (case and accents as typed)."""
    chunks = text.split()
    indexes = dict.fromkeys(index for _, index in tokens)
    return quote(" ".join(chunks[index] for index in indexes))


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


def build_voucher(
    *,
    tipo: str | None,
    punto_venta: str | int | None,
    numero: str | int | None,
    operacion: str | None = None,
) -> TusFacturasVoucher:
    """A voucher from separate fields (a form), checking each one."""
    errors: dict[str, FieldProblem] = {}
    # What could be read, and what could not as the agent typed it: a form shows both.
    understood: dict[str, str] = {}

    canonical_tipo = normalise_tipo(tipo) if tipo else None
    if not tipo or not tipo.strip():
        errors["tipo"] = FieldProblem(REQUIRED)
    elif canonical_tipo is None:
        errors["tipo"] = FieldProblem(TIPO_INVALID, text=quote(tipo))
    else:
        understood["tipo"] = canonical_tipo

    chosen_operacion = Operacion.VENTA
    if operacion is not None and operacion.strip():
        folded = _OPERACION_WORDS.get(fold(operacion))
        if folded is None:
            errors["operacion"] = FieldProblem(OPERACION_INVALID, text=quote(operacion))
        else:
            chosen_operacion = folded
    understood["operacion"] = chosen_operacion.value

    punto_venta, numero = _split_pasted_numbers(punto_venta, numero)
    numbers: dict[str, int] = {}
    for name, raw, maximum, invalid in (
        ("punto_venta", punto_venta, PUNTO_VENTA_MAX, PUNTO_VENTA_INVALID),
        ("numero", numero, NUMERO_MAX, NUMERO_INVALID),
    ):
        checked = check_number(raw, maximum=maximum, invalid=invalid)
        if isinstance(checked, FieldProblem):
            errors[name] = (
                checked
                if checked.code == REQUIRED
                else FieldProblem(checked.code, text=quote(str(raw)), limit=checked.limit)
            )
            if raw is not None and str(raw).strip():
                understood[name] = str(raw).strip()
        else:
            numbers[name] = checked
            understood[name] = str(checked)

    if errors or canonical_tipo is None:
        raise InvalidReferenceError(errors, provider=KEY, understood=understood)
    return TusFacturasVoucher(
        tipo=canonical_tipo,
        operacion=chosen_operacion,
        punto_venta=numbers["punto_venta"],
        numero=numbers["numero"],
    )


def _split_pasted_numbers(
    punto_venta: str | int | None, numero: str | int | None
) -> tuple[str | int | None, str | int | None]:
    """``0002-00000006`` pasted into either number field fills both (when the other field
    is empty or already agrees)."""
    for pasted, other, first in ((punto_venta, numero, True), (numero, punto_venta, False)):
        match = _DASHED_NUMBERS.match(pasted) if isinstance(pasted, str) else None
        if match is None:
            continue
        pv, nro = match[1], match[2]
        expected = nro if first else pv
        if is_blank(None if other is None else str(other)) or _same_number(other, expected):
            return pv, nro
    return punto_venta, numero


def _same_number(value: str | int | None, digits: str) -> bool:
    text = str(value).strip() if value is not None else ""
    return text.isdigit() and int(text) == int(digits)


def split_address(text: str) -> tuple[str, str | None]:
    """``text`` without the e-mail address typed after the voucher, and that address
    (normalised when valid, else as typed). TusFacturas sends only to the e-mails on the
    customer's file, so the address is a fact to report, never a problem of the voucher."""
    chunks = text.split()
    at = [index for index, chunk in enumerate(chunks) if index > 0 and "@" in chunk]
    if not at:
        return text, None
    typed = chunks[at[0]].rstrip(".,;:")
    address = normalise_email(typed) or typed.strip("<>").removeprefix("mailto:")
    rest = " ".join(chunk for index, chunk in enumerate(chunks) if index not in at)
    return rest, address


def parse_voucher(text: str) -> TusFacturasVoucher:
    """A voucher from its printed form, e.g. ``Factura B N° 0002-00000006``; short forms
    (``FC B``, ``Fact. B``, ``NC B``, ``ND A``, ``B 0002-00000006``) are understood, and
    an e-mail address after it is left aside (see `split_address`).
    Problems quote the agent's words as typed."""
    text, _ = split_address(text)
    source = _source_tokens(text)
    if not source:
        raise InvalidReferenceError({WHOLE_INPUT: FieldProblem(EMPTY)}, provider=KEY)
    tokens = tuple(word for word, _ in source)

    operacion: str | None = None
    if tokens[-1] in _OPERACION_WORDS and len(tokens[-1]) > 1:
        operacion, tokens, source = tokens[-1], tokens[:-1], source[:-1]

    tipo, rest = _split_tipo(tokens)
    if tipo is None:
        understood: dict[str, str] = {}
        head = source
        trailing = _TRAILING_NUMBERS.search(" ".join(tokens))
        if trailing:
            understood = {"punto_venta": trailing[1], "numero": trailing[2]}
            head = source[: len(" ".join(tokens)[: trailing.start()].split())]
        problem = (
            FieldProblem(TIPO_UNKNOWN, text=_as_typed(text, head))
            if head
            else FieldProblem(TIPO_MISSING)
        )
        raise InvalidReferenceError(
            {"tipo": problem},
            provider=KEY,
            understood=understood,
        )
    rest_source = source[len(tokens) - len(rest) :]
    if rest and rest[0] in _OPERACION_WORDS and len(rest[0]) > 1 and operacion is None:
        operacion, rest, rest_source = rest[0], rest[1:], rest_source[1:]
    if not rest:
        raise InvalidReferenceError(
            {"numero": FieldProblem(NUMBERS_MISSING)},
            provider=KEY,
            understood={"tipo": tipo},
        )
    numbers = _NUMBERS.match(" ".join(rest))
    if numbers is None:
        raise InvalidReferenceError(
            {"numero": FieldProblem(NUMBERS_INVALID, text=_as_typed(text, rest_source))},
            provider=KEY,
            understood={"tipo": tipo},
        )
    return build_voucher(tipo=tipo, operacion=operacion, punto_venta=numbers[1], numero=numbers[2])


def recognize_voucher(text: str) -> Recognition:
    """Sure with a voucher type first; maybe with ``0002-00000006``-shaped numbers last
    (an e-mail address after them aside)."""
    text, _ = split_address(text)
    tipo, _ = _split_tipo(_tipo_tokens(text))
    if tipo is not None:
        return Recognition.SURE
    return Recognition.MAYBE if _TRAILING_NUMBERS.search(text) else Recognition.NO
