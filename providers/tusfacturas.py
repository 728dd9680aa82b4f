"""TusFacturas.app (Argentina, ARCA ex AFIP): re-send a voucher by e-mail.

Contract: ``POST {base}/facturacion/reenviar`` with the credentials in the body.
Business and validation errors come as HTTP 200 with ``error: "S"``; transport
and access errors as 4xx, possibly without JSON. There is no request id and no
idempotency: a 5xx (a gateway timing out, say) may come after the e-mail went out,
so it is never retried automatically and its outcome is reported as unknown.
A 429 is a per-second throttle: nothing was sent, and trying again shortly works.

Lookup: ``POST {base}/facturacion/consulta`` takes the same body and answers the
customer (name, tax id, e-mails on file) and the voucher (date, total, currency,
status, a PDF link valid for the day); it is not billed as a request.

Everything the bot knows about TusFacturas is here: the voucher model, how
agents write vouchers, the form, the settings (``TUSFACTURAS_*``) and the client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.base import (
    WHOLE_INPUT,
    Choice,
    FieldKind,
    FieldProblem,
    FormField,
    InvalidReferenceError,
    InvoiceFacts,
    InvoiceProvider,
    InvoiceStatus,
    ProviderSettings,
    Recognition,
    ResendRequest,
    ResendResult,
    blank_is_unset,
)
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    RejectedError,
)
from providers.http import HttpProviderClient, error_for_status, json_object
from providers.parsing import (
    EMPTY,
    REQUIRED,
    amount,
    check_number,
    email_list,
    emails_in,
    fold,
    is_blank,
    quote,
    strip_accents,
    text_value,
    web_link,
)

KEY: Final = "tusfacturas"
RESEND_PATH: Final = "facturacion/reenviar"
LOOKUP_PATH: Final = "facturacion/consulta"

# --- The voucher -----------------------------------------------------------------

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

# Problem codes of this provider's fields (the bot words them).
TIPO_INVALID: Final = "tipo_invalid"
TIPO_UNKNOWN: Final = "tipo_unknown"
TIPO_MISSING: Final = "tipo_missing"
OPERACION_INVALID: Final = "operacion_invalid"
PUNTO_VENTA_INVALID: Final = "punto_venta_invalid"
NUMERO_INVALID: Final = "numero_invalid"
NUMBERS_MISSING: Final = "numbers_missing"
NUMBERS_INVALID: Final = "numbers_invalid"


class Operacion(StrEnum):
    """Whether the voucher belongs to sales (``V``) or purchases (``C``)."""

    VENTA = "V"
    COMPRA = "C"


def _known_voucher_type(tipo: str) -> str:
    if tipo not in VOUCHER_TYPES:
        raise ValueError(f"unknown voucher type {tipo!r}")
    return tipo


class TusFacturasVoucher(ResendRequest):
    """A TusFacturas voucher, identified the way its API expects."""

    provider = KEY

    tipo: str
    operacion: Operacion = Operacion.VENTA
    punto_venta: int = Field(ge=1, le=PUNTO_VENTA_MAX)
    numero: int = Field(ge=1, le=NUMERO_MAX)

    _tipo_known = field_validator("tipo")(_known_voucher_type)

    @property
    def reference(self) -> str:
        """The printed form agents hold, e.g. ``FACTURA B 0002-00000006``."""
        return f"{self.tipo} {self.punto_venta:04d}-{self.numero:08d}"

    @property
    def invoice_key(self) -> str:
        """A stable identity for history and duplicate checks (operacion included)."""
        parts = (self.tipo, self.operacion.value, self.punto_venta, self.numero)
        return f"{self.provider}:" + "|".join(str(part) for part in parts)

    @property
    def qualifiers(self) -> tuple[str, ...]:
        """``compra`` for a purchase voucher (sales are the default, left unsaid)."""
        return ("compra",) if self.operacion is Operacion.COMPRA else ()

    @property
    def document_type(self) -> str:
        """The voucher type, as the API spells it (``FACTURA B``)."""
        return self.tipo

    @property
    def short_reference(self) -> str:
        """Punto de venta and number, as printed: ``0002-00000006``."""
        return f"{self.punto_venta:04d}-{self.numero:08d}"


# --- Reading what agents write ----------------------------------------------------

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

#: A folded token with the index of the whitespace-separated chunk of the agent's text
#: it came from, so problems can quote the agent's own words.
_Token = tuple[str, int]


def _chunk_tokens(chunk: str) -> list[str]:
    words = fold(chunk.replace("(", " ").replace(")", " ")).split()
    # "Fact." and "N.C." are "FACT" and "NC"; numbers keep their punctuation.
    return [w.replace(".", "") if any(c.isalpha() for c in w) else w for w in words if w != "."]


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
    return _expand_kind(tokens)


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


def parse_voucher(text: str) -> TusFacturasVoucher:
    """A voucher from its printed form, e.g. ``Factura B N° 0002-00000006``; short forms
    (``FC B``, ``Fact. B``, ``NC B``, ``ND A``, ``B 0002-00000006``) are understood.
    Problems quote the agent's words as typed."""
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


# --- Settings ---------------------------------------------------------------------


class TusFacturasCredentials(BaseModel):
    """One credential set; TusFacturas issues one per punto de venta."""

    # A validation error must not print the secrets it was given.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    apikey: SecretStr
    apitoken: SecretStr
    usertoken: SecretStr


class TusFacturasSettings(ProviderSettings):
    """``TUSFACTURAS_*``: a default credential set, plus optional sets per punto de venta."""

    model_config = SettingsConfigDict(env_prefix="TUSFACTURAS_")

    apikey: SecretStr | None = None
    apitoken: SecretStr | None = None
    usertoken: SecretStr | None = None
    credentials: dict[int, TusFacturasCredentials] = Field(
        default_factory=dict,
        description='JSON map of punto de venta to credentials: {"2": {"apikey": ...}}',
    )
    base_url: HttpUrl = HttpUrl("https://www.tusfacturas.app/app/api/v2")

    _blank_is_unset = field_validator("apikey", "apitoken", "usertoken", mode="before")(
        blank_is_unset
    )

    @field_validator("credentials")
    @classmethod
    def _puntos_de_venta_in_range(
        cls, value: dict[int, TusFacturasCredentials]
    ) -> dict[int, TusFacturasCredentials]:
        bad = [pv for pv in value if not 1 <= pv <= PUNTO_VENTA_MAX]
        if bad:
            raise ValueError(f"TUSFACTURAS_CREDENTIALS has puntos de venta out of range: {bad}")
        return value

    def config(self) -> TusFacturasConfig | None:
        """Endpoint and credentials, or None when there are none."""
        default: TusFacturasCredentials | None = None
        if self.apikey and self.apitoken and self.usertoken:
            default = TusFacturasCredentials(
                apikey=self.apikey, apitoken=self.apitoken, usertoken=self.usertoken
            )
        if default is None and not self.credentials:
            return None
        return TusFacturasConfig(
            base_url=str(self.base_url),
            default_credentials=default,
            credentials_by_punto_venta=dict(self.credentials),
        )


@dataclass(frozen=True)
class TusFacturasConfig:
    """Endpoint and credentials: a default set and optional per-punto-de-venta sets."""

    base_url: str
    default_credentials: TusFacturasCredentials | None = None
    credentials_by_punto_venta: Mapping[int, TusFacturasCredentials] = field(default_factory=dict)

    def credentials_for(self, punto_venta: int) -> TusFacturasCredentials | None:
        """The set for this punto de venta, else the default set, else None."""
        return self.credentials_by_punto_venta.get(punto_venta, self.default_credentials)


# --- The client -------------------------------------------------------------------

# How TusFacturas words the failures the bot treats specially (accents folded).
_AUTH_WORDS = re.compile(r"api ?key|api ?token|user ?token|credencial")
_NOT_FOUND_WORDS = re.compile(r"no existe|inexistente|no se encontr|no encontrad")
# "… no tenía configurado el envío del comprobante por e-mail": sending, e-mail, and
# a setting that was off, all three; an invalid address alone is not this precondition.
_EMAIL_SENDING = re.compile(r"envi[oa]r?\b.*\b(e-?mail|correo)|(e-?mail|correo).*\benvi[oa]r?\b")
_SETTING_OFF = re.compile(r"habilitad|configurad|activad|perfil")


def _fold_message(text: str) -> str:
    return strip_accents(text).lower()


def _provider_messages(body: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The human messages and codes of an ``error: "S"`` answer, de-duplicated."""
    messages: list[str] = []
    codes: list[str] = []
    errores = body.get("errores")
    if isinstance(errores, list):
        messages.extend(str(item).strip() for item in errores if str(item).strip())
    elif isinstance(errores, str) and errores.strip():
        messages.append(errores.strip())
    details = body.get("error_details")
    if isinstance(details, list):
        for detail in details:
            if not isinstance(detail, Mapping):
                continue
            code, text = detail.get("code"), detail.get("text")
            if isinstance(code, str | int) and str(code).strip():
                codes.append(str(code).strip())
            if isinstance(text, str) and text.strip():
                messages.append(text.strip())
    return tuple(dict.fromkeys(messages)), tuple(dict.fromkeys(codes))


class TusFacturasClient(HttpProviderClient[TusFacturasConfig]):
    """Re-sends TusFacturas vouchers."""

    provider = KEY

    def not_configured_for(self, voucher: TusFacturasVoucher) -> ProviderNotConfiguredError | None:
        """The error when no credential set covers the voucher's punto de venta, else None."""
        if self._config.credentials_for(voucher.punto_venta) is not None:
            return None
        return ProviderNotConfiguredError(
            f"no credentials for punto de venta {voucher.punto_venta} and no default set",
            provider=self.provider,
            field="punto_venta",
            field_value=str(voucher.punto_venta),
        )

    async def resend(self, voucher: TusFacturasVoucher, *, idempotency_key: str) -> ResendResult:
        """Ask TusFacturas to e-mail the voucher again to the addresses on file.

        TusFacturas has no idempotency: ``idempotency_key`` only identifies the attempt
        in our logs, and nothing is retried once it may have reached the provider.
        """
        response = await self._post(RESEND_PATH, json=self._body(voucher))
        body = self._answer(response)
        rta = body.get("rta")
        message = rta.strip() if isinstance(rta, str) and rta.strip() else None
        return ResendResult(
            provider=self.provider,
            reference=voucher.reference,
            # The answer names the addresses only in its free text, when it does at all.
            recipients=emails_in(message),
            provider_message=message,
        )

    async def lookup(self, voucher: TusFacturasVoucher) -> InvoiceFacts:
        """The customer and the voucher as TusFacturas has them (``facturacion/consulta``).

        Sends nothing to anyone and is not billed; unknown vouchers are `NotFoundError`.
        """
        response = await self._post(LOOKUP_PATH, json=self._body(voucher))
        return _facts(voucher, self._answer(response))

    def _body(self, voucher: TusFacturasVoucher) -> dict[str, Any]:
        """Credentials for the voucher's punto de venta, and the voucher itself."""
        credentials = self._config.credentials_for(voucher.punto_venta)
        if credentials is None:
            raise self.not_configured_for(voucher) or ProviderNotConfiguredError(
                "no credentials", provider=self.provider
            )
        return {
            "apikey": credentials.apikey.get_secret_value(),
            "apitoken": credentials.apitoken.get_secret_value(),
            "usertoken": credentials.usertoken.get_secret_value(),
            "comprobante": {
                "tipo": voucher.tipo,
                "operacion": voucher.operacion.value,
                "punto_venta": str(voucher.punto_venta),
                "numero": str(voucher.numero),
            },
        }

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The body of an ``error: "N"`` answer; anything else raises its provider error."""
        body = json_object(response)
        if response.status_code != 200:
            raise self._status_error(response, body)
        if body is None:
            raise OutcomeUnknownError(
                f"HTTP 200 with a body that is not a JSON object: {response.text[:200]!r}",
                provider=self.provider,
                status_code=200,
            )
        flag = str(body.get("error", "")).strip().upper()
        if flag == "N":
            return body
        if flag == "S":
            raise self._business_error(body)
        raise OutcomeUnknownError(
            f"HTTP 200 without error N or S: {str(body)[:200]}",
            provider=self.provider,
            status_code=200,
        )

    def _business_error(self, body: Mapping[str, Any]) -> ProviderError:
        """Classify an ``error: "S"`` answer by what its messages say."""
        messages, codes = _provider_messages(body)
        detail = "error S: " + ("; ".join(f"{c}" for c in codes) or "no codes")
        folded = _fold_message(" ".join(messages))
        provider_message = " ".join(messages) or None
        if _AUTH_WORDS.search(folded):
            return AuthenticationError(
                detail, provider=self.provider, status_code=200, provider_message=provider_message
            )
        if _NOT_FOUND_WORDS.search(folded):
            return NotFoundError(
                detail, provider=self.provider, status_code=200, provider_message=provider_message
            )
        return RejectedError(
            detail,
            provider=self.provider,
            messages=messages,
            codes=codes,
            reason=REJECTION_EMAIL_SENDING_OFF
            if _EMAIL_SENDING.search(folded) and _SETTING_OFF.search(folded)
            else None,
            status_code=200,
        )

    def _status_error(
        self, response: httpx.Response, body: Mapping[str, Any] | None
    ) -> ProviderError:
        messages, codes = _provider_messages(body) if body else ((), ())
        message = " ".join(messages) or None
        if response.status_code >= 500:
            return OutcomeUnknownError(
                f"HTTP {response.status_code} from TusFacturas; the e-mail may have gone out",
                provider=self.provider,
                status_code=response.status_code,
                provider_message=message,
            )
        return error_for_status(
            self.provider,
            response,
            message=message,
            code=codes[0] if codes else None,
            # A 429 is TusFacturas' per-second throttle: nothing was sent.
            throttled=True,
            # A missing voucher is an ``error: "S"`` answer: a 404 or 405 is the endpoint's.
            wrong_endpoint=response.status_code in (404, 405),
        )


#: TusFacturas' currency codes, as ISO 4217 where they map to one.
_CURRENCIES: Final[dict[str, str]] = {"PES": "ARS", "DOL": "USD", "EUR": "EUR"}


def _status(text: str) -> InvoiceStatus:
    folded = fold(text)
    if folded == "EMITIDO":
        return InvoiceStatus.ISSUED
    if folded.startswith("APROBADO"):
        return InvoiceStatus.QUEUED
    if folded.startswith("EN COLA"):
        return InvoiceStatus.AWAITING_APPROVAL
    if "ERROR" in folded:
        return InvoiceStatus.FAILED
    if "ANULAD" in folded:
        return InvoiceStatus.CANCELLED
    return InvoiceStatus.OTHER


def _date(value: object) -> date | None:
    """``dd/mm/aaaa``, as TusFacturas writes dates."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def _facts(voucher: TusFacturasVoucher, body: Mapping[str, Any]) -> InvoiceFacts:
    """The facts of a ``consulta`` answer; fields missing or in another shape stay empty."""
    cliente = body.get("cliente")
    customer: Mapping[str, Any] = cliente if isinstance(cliente, Mapping) else {}
    comprobante = body.get("comprobante")
    document: Mapping[str, Any] = comprobante if isinstance(comprobante, Mapping) else {}
    status_text = text_value(document.get("status"))
    currency = text_value(document.get("moneda"))
    return InvoiceFacts(
        provider=KEY,
        reference=voucher.reference,
        customer_name=text_value(customer.get("razon_social")),
        customer_id_type=text_value(customer.get("documento_tipo")),
        customer_id=text_value(customer.get("documento_nro")),
        recipients=email_list(customer.get("email")) if "email" in customer else None,
        issued_on=_date(document.get("fecha")),
        total=amount(document.get("total")),
        currency=_CURRENCIES.get(currency.upper(), currency) if currency else None,
        status=_status(status_text) if status_text else None,
        status_text=status_text,
        pdf_url=web_link(document.get("comprobante_pdf_url")),
    )


# --- The provider -----------------------------------------------------------------

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
    client_class = TusFacturasClient

    def recognizes(self, text: str) -> Recognition:
        """Sure with a voucher type first; maybe with ``0002-00000006``-shaped numbers last."""
        tipo, _ = _split_tipo(_tipo_tokens(text))
        if tipo is not None:
            return Recognition.SURE
        return Recognition.MAYBE if _TRAILING_NUMBERS.search(text) else Recognition.NO

    def parse(self, text: str) -> TusFacturasVoucher:
        """A voucher from its printed form, e.g. ``Factura B N° 0002-00000006``."""
        return parse_voucher(text)

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
