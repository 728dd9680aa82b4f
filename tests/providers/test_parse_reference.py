"""Reading whatever an agent typed, for whichever provider it names or looks like
(`ProviderRegistry.parse_reference`): a leading provider name decides, text that is no
reference says so, and any text at all gives a request or problems in Spanish."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.ui import strings
from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError
from providers.lummy.model import LummyInvoice
from providers.lummy.parser import parse_lummy
from providers.tusfacturas.model import (
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    TusFacturasVoucher,
)
from providers.tusfacturas.parser import parse_voucher
from tests.e2e import says
from tests.providers.conftest import FIELDS, Parser, errors_of, parse_reference, voucher

pytestmark = pytest.mark.timeout(30)

UUID_TEXT = "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"lummy {UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (f"Lummy: {UUID_TEXT} a@b.com", LummyInvoice(invoice_id=UUID(UUID_TEXT), email="a@b.com")),
        (f"LUMMY\t{UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (f"lummy\xa0{UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (f"lummy\n{UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        ("tusfacturas FACTURA B 0002-00000006", voucher()),
        ("TusFacturas: factura b 2-6 compra", voucher(op="C")),
        ("tusfacturas.app FACTURA B 2-6", voucher()),
        ("tf FACTURA B 2-6", voucher()),
    ],
)
def test_provider_name_prefix(text: str, expected: TusFacturasVoucher | LummyInvoice) -> None:
    assert parse_reference(text) == expected


def test_a_provider_word_decides_when_no_other_provider_recognises_the_rest() -> None:
    exc = errors_of("lummy 12345")
    assert exc.provider == "lummy"
    assert "invoice_id" in exc.field_errors

    exc = errors_of("tusfacturas hola")
    assert exc.provider == "tusfacturas"
    assert "tipo" in exc.field_errors

    for text, provider in (("lummy", "lummy"), ("tusfacturas  ", "tusfacturas")):
        exc = errors_of(text)
        assert exc.field_errors == {"text": says("empty")}
        assert exc.provider is provider


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The reference's own shape wins over a provider word that names the other one.
        ("lummy FACTURA B 0002-00000006", voucher()),
        ("lummy FC B 2-6", voucher()),
        (f"tusfacturas {UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (
            f"tf {UUID_TEXT} otro@cliente.com",
            LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com"),
        ),
        # Close misspellings of a provider's name are that provider.
        (f"lumy {UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (f"Lumyy: {UUID_TEXT}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        ("tusfactura FC B 2-6", voucher()),
        ("TusFacturs factura b 2-6", voucher()),
    ],
)
def test_the_reference_decides_over_a_mistyped_or_mismatched_provider_word(
    text: str, expected: TusFacturasVoucher | LummyInvoice
) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "word", "provider"),
    [
        (f"lumy {UUID_TEXT}", "lumy", "lummy"),
        ("lummy FC B 2-6", "lummy", "lummy"),
        ("tusfactura FC B 2-6", "tusfactura", "tusfacturas"),
        ("tf FC B 2-6", "tf", "tusfacturas"),
    ],
)
def test_the_provider_word_as_typed_and_what_it_names(text: str, word: str, provider: str) -> None:
    from providers.registry import builtin_registry

    named = builtin_registry().provider_word(text)
    assert named is not None
    assert (named[0], named[1].key) == (word, provider)


@pytest.mark.parametrize("text", ["fc B 2-6", "lu 2-6", "lummox FC B 2-6", "tff FC B 2-6"])
def test_short_or_distant_words_are_no_provider(text: str) -> None:
    from providers.registry import builtin_registry

    assert builtin_registry().provider_word(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "FCB 0002-00000006",
        "FC-B-0002-00000006",
        "FACTURA-B-0002-00000006",
        "Factura electrónica B 0002-00000006",
        "factura electronica b N° 0002-00000006",
        "Fact.B 0002-00000006",
    ],
)
def test_more_printed_forms_of_a_voucher(text: str) -> None:
    assert parse_reference(text) == voucher()


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\xa0"])
def test_empty_text(text: str) -> None:
    for parse in (parse_reference, parse_voucher, parse_lummy):
        exc = errors_of(text, parse)
        assert exc.field_errors == {"text": says("empty")}
        assert exc.message == says("empty")


def test_not_a_reference_at_all() -> None:
    exc = errors_of("hola, el cliente no recibió nada")
    assert set(exc.field_errors) == {"text"}
    assert "«hola, el cliente no recibió nada»" in exc.field_errors["text"]
    assert exc.provider is None
    # Long input is shortened in the message.
    exc = errors_of("x" * 500)
    assert len(exc.field_errors["text"]) < 300


@pytest.mark.parametrize(
    "text",
    ["9" * 100_000, "FACTURA B 1-" + "1" * 100_000 + " x", "FACTURA Z " + "12 " * 30_000 + "x"],
)
def test_long_input_is_read_in_linear_time(text: str) -> None:
    # A quadratic regex here blocks the event loop for seconds on pasted junk.
    started = time.perf_counter()
    for parse in (parse_reference, parse_voucher):
        with pytest.raises(InvalidReferenceError):
            parse(text)
    assert time.perf_counter() - started < 1.0


# --- Properties -----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_WORDS = (
    *_words("FACTURA factura Factura NOTA nota DE de CREDITO CRÉDITO crédito DEBITO DÉBITO"),
    *_words("ELECTRONICA ELECTRÓNICA MiPyME (FCE) FCE ( ) A B C E M X RECIBO NO VALIDA VÁLIDA"),
    *_words("EN AFIP N° Nº N ° º # Nro. Num NUMERO - -- compra COMPRAS venta V lummy Lummy:"),
    *_words("tusfacturas tf tusfacturas.app <otro@cliente.com> a@b.com mailto:x@y.mx @"),
    *_words("ñ é ´ \u0301 ０ ٣ ² ß ﬁ"),
    UUID_TEXT,
    UUID_TEXT.upper(),
    UUID_TEXT[:-1],
    "{" + UUID_TEXT + "}",
)

_digits = st.one_of(
    st.integers(min_value=0, max_value=10**10).map(str),
    st.integers(min_value=0, max_value=10**9).map(lambda n: f"{n:08d}"),
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.just("9" * 4400),
)

_token = st.one_of(
    st.sampled_from(_WORDS),
    _digits,
    st.tuples(_digits, st.sampled_from(["-", " - ", " ", "--", "‐"]), _digits).map("".join),
    st.text(max_size=4),
)

_separator = st.sampled_from([" ", "  ", "", "\t", "\n", "\xa0", "-", ","])

_typed_tipo = st.sampled_from(VOUCHER_TYPES).flatmap(
    lambda tipo: st.sampled_from(
        [
            tipo,
            tipo.lower(),
            tipo.replace("CREDITO", "CRÉDITO").replace("ELECTRONICA", "electrónica"),
            tipo.replace("DEBITO", "DÉBITO").title(),
            tipo.replace("(FCE) ", "").replace("VALIDA", "VÁLIDA"),
            tipo[:-1],
        ]
    )
)


# Near-misses of real references: most parse, many are off by one detail.
voucher_like = st.tuples(
    st.sampled_from(["", "tusfacturas ", "TF: ", "lummy ", "  "]),
    _typed_tipo,
    st.sampled_from([" ", "  ", " N° ", " Nº", " # ", " Nro. ", "\xa0", "", "\n"]),
    _digits,
    st.sampled_from(["-", " - ", " ", "--", "‐", "", "/"]),
    _digits,
    st.sampled_from(["", " compra", " venta", " C", " COMPRAS", " x", "  "]),
).map("".join)
lummy_like = st.tuples(
    st.sampled_from(["", "lummy ", "Lummy: ", "tusfacturas ", " "]),
    st.uuids()
    .map(str)
    .flatmap(
        lambda u: st.sampled_from([u, u.upper(), u[:-1], u + "0", f"{{{u}}}", u.replace("-", "")])
    ),
    st.sampled_from([" ", "\t", "  "]),
    st.one_of(st.just(""), st.emails(), st.text(max_size=12)),
    st.sampled_from(["", " ", " extra", " a@b.com"]),
).map("".join)
voucherish = st.lists(st.tuples(_token, _separator), max_size=12).map(
    lambda parts: "".join(token + sep for token, sep in parts)
)


def _check_outcome(parse: Parser, text: str, allowed: tuple[type, ...]) -> None:
    try:
        result = parse(text)
    except InvalidReferenceError as exc:
        error = exc
    else:
        assert isinstance(result, allowed)
        # A returned request is a valid model: validating it again changes nothing.
        assert type(result).model_validate(result.model_dump()) == result
        if isinstance(result, TusFacturasVoucher):
            assert result.tipo in VOUCHER_TYPES
            assert 1 <= result.punto_venta <= PUNTO_VENTA_MAX
            assert 1 <= result.numero <= NUMERO_MAX
        return
    assert error.problems
    assert set(error.problems) <= FIELDS
    assert all(problem.code in strings.PROBLEMS for problem in error.problems.values())
    messages = problem_messages(error)
    assert all(isinstance(m, str) and m.strip() for m in messages.values())
    assert all(isinstance(v, str) for v in error.understood.values())
    assert error.provider in (None, "tusfacturas", "lummy")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(st.one_of(st.text(), voucherish, voucher_like, lummy_like))
@example("FACTURA B 1-" + "1" * 5000)
@example("lummy\u2003" + UUID_TEXT)
@example("N°")
@example("FACTURA B N° ٣-٣")
def test_any_text_gives_a_request_or_an_invalid_reference_error(text: str) -> None:
    _check_outcome(parse_reference, text, (TusFacturasVoucher, LummyInvoice))
    _check_outcome(parse_voucher, text, (TusFacturasVoucher,))
    _check_outcome(parse_lummy, text, (LummyInvoice,))
