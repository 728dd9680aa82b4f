"""Reading TusFacturas vouchers as agents type them: printed forms, short forms, the form's
fields, numbers pasted into one field, and problems quoting the agent's own words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError
from providers.tusfacturas.model import (
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    Operacion,
    TusFacturasVoucher,
)
from providers.tusfacturas.parser import build_voucher, normalise_tipo, parse_voucher, split_address
from providers.tusfacturas.provider import TUSFACTURAS
from tests.e2e import says
from tests.providers.conftest import errors_of, parse_reference, voucher

pytestmark = pytest.mark.timeout(30)


# --- normalise_tipo -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("FACTURA B", "FACTURA B"),
        ("factura b", "FACTURA B"),
        ("  Factura   b ", "FACTURA B"),
        ("NOTA DE CRÉDITO B", "NOTA DE CREDITO B"),
        ("nota de débito e", "NOTA DE DEBITO E"),
        ("Factura no válida en AFIP", "FACTURA NO VALIDA EN AFIP"),
        (
            "nota de credito electrónica mipyme (fce) a",
            "NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A",
        ),
        (
            "FACTURA DE CREDITO ELECTRONICA MIPYME FCE C",
            "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) C",
        ),
        ("recibo c", "RECIBO C"),
        ("FACTURA Z", None),
        ("FACTURA", None),
        ("NOTA DE CREDITO", None),
        ("RECIBO A", None),
        ("FACTURA B 0002", None),
        ("", None),
    ],
)
def test_normalise_tipo(typed: str, expected: str | None) -> None:
    assert normalise_tipo(typed) == expected


@pytest.mark.parametrize("tipo", VOUCHER_TYPES)
def test_normalise_tipo_is_identity_on_api_spellings(tipo: str) -> None:
    assert normalise_tipo(tipo) == tipo
    assert normalise_tipo(tipo.lower()) == tipo


# --- parse_voucher / parse_reference: the forms agents type ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FACTURA B 0002-00000006", voucher()),
        ("factura b 2-6", voucher()),
        ("Factura B N° 0002-00000006", voucher()),
        ("Factura B Nº 0002-00000006", voucher()),
        ("Factura B N°0002-00000006", voucher()),
        ("FACTURA B Nro. 0002-00000006", voucher()),
        ("FACTURA B # 0002-00000006", voucher()),
        ("   FACTURA    B    0002 - 00000006   ", voucher()),
        ("FACTURA\tB\xa00002-00000006", voucher()),
        ("FACTURA B 0002 00000006", voucher()),
        (
            "NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A 00005-00000123",
            voucher("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A", 5, 123),
        ),
        (
            "nota de crédito electrónica mipyme fce a 5-123",
            voucher("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A", 5, 123),
        ),
        ("NOTA DE CRÉDITO B 0003-00000042", voucher("NOTA DE CREDITO B", 3, 42)),
        ("Nota de Débito A 1-1", voucher("NOTA DE DEBITO A", 1, 1)),
        ("FACTURA NO VÁLIDA EN AFIP 7-8", voucher("FACTURA NO VALIDA EN AFIP", 7, 8)),
        (
            "NOTA DE CREDITO NO VALIDA EN AFIP 7-8",
            voucher("NOTA DE CREDITO NO VALIDA EN AFIP", 7, 8),
        ),
        ("RECIBO C 0001-00000001", voucher("RECIBO C", 1, 1)),
        ("FACTURA B 0002-00000006 compra", voucher(op="C")),
        ("FACTURA B 0002-00000006 COMPRAS", voucher(op="C")),
        ("FACTURA B compra 0002-00000006", voucher(op="C")),
        ("FACTURA B 0002-00000006 venta", voucher()),
    ],
)
def test_voucher_forms(text: str, expected: TusFacturasVoucher) -> None:
    assert parse_voucher(text) == expected
    assert parse_reference(text) == expected


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
    assert parse_reference(typed) == expected


@pytest.mark.parametrize(
    ("pv", "numero", "bad_field"),
    [
        ("0", "1", "punto_venta"),
        ("1", "1", None),
        ("99999", "1", None),
        ("100000", "1", "punto_venta"),
        ("1", "0", "numero"),
        ("1", "99999999", None),
        ("1", "100000000", "numero"),
        ("00000", "00000000", "both"),
        ("0000000000000000000001", "1", None),  # leading zeros do not make it bigger
        ("1", "1" + "0" * 5000, "numero"),  # beyond int()'s digit limit: still a field error
    ],
)
def test_number_range_limits(pv: str, numero: str, bad_field: str | None) -> None:
    text = f"FACTURA C {pv}-{numero}"
    if bad_field is None:
        parsed = parse_voucher(text)
        assert (parsed.punto_venta, parsed.numero) == (int(pv), int(numero))
        return
    exc = errors_of(text, parse_voucher)
    expected = {"punto_venta", "numero"} if bad_field == "both" else {bad_field}
    assert set(exc.field_errors) == expected
    if "punto_venta" in expected:
        assert exc.field_errors["punto_venta"] == says("punto_venta_invalid", text=pv, limit=99_999)
        assert "99999" in exc.field_errors["punto_venta"]
    if "numero" in expected:
        typed = numero[:60]  # problems quote at most 60 characters
        assert exc.field_errors["numero"] == says("numero_invalid", text=typed, limit=99_999_999)
        assert "99999999" in exc.field_errors["numero"]
    # What was fine is kept for the form.
    assert exc.understood["tipo"] == "FACTURA C"
    assert exc.provider == "tusfacturas"


@pytest.mark.parametrize("tipo", VOUCHER_TYPES)
@pytest.mark.parametrize("operacion", list(Operacion))
def test_every_type_round_trips_through_its_printed_form(tipo: str, operacion: Operacion) -> None:
    original = TusFacturasVoucher(tipo=tipo, operacion=operacion, punto_venta=12, numero=345)
    text = original.reference + (" compra" if operacion is Operacion.COMPRA else "")
    assert parse_voucher(text) == original
    assert parse_reference(text) == original
    assert parse_reference(text.lower()) == original


def test_missing_numbers() -> None:
    exc = errors_of("FACTURA B")
    assert exc.field_errors == {"numero": says("numbers_missing")}
    assert exc.understood == {"tipo": "FACTURA B"}
    assert exc.provider == "tusfacturas"

    exc = errors_of("Nota de crédito A N°", parse_voucher)
    assert exc.field_errors == {"numero": says("numbers_missing")}

    for text in ("FACTURA B 0002", "FACTURA B 0002-", "FACTURA B -6", "FACTURA B dos-seis"):
        exc = errors_of(text, parse_voucher)
        assert set(exc.field_errors) == {"numero"}
        assert "Formato esperado" in exc.field_errors["numero"]
        assert exc.understood["tipo"] == "FACTURA B"


def test_unknown_tipo_keeps_the_numbers_it_understood() -> None:
    exc = errors_of("FACTURA Z 0002-00000006")
    assert set(exc.field_errors) == {"tipo"}
    assert "«FACTURA Z»" in exc.field_errors["tipo"]
    assert "No se reconoce el tipo de comprobante" in exc.field_errors["tipo"]
    assert exc.understood == {"punto_venta": "0002", "numero": "00000006"}
    assert exc.provider == "tusfacturas"

    exc = errors_of("Nota de crédito 1-2")  # the letter is missing
    assert set(exc.field_errors) == {"tipo"}
    assert exc.understood == {"punto_venta": "1", "numero": "2"}

    exc = errors_of("boleta 3-4", parse_voucher)
    assert exc.understood == {"punto_venta": "3", "numero": "4"}

    exc = errors_of("algo raro", parse_voucher)
    assert set(exc.field_errors) == {"tipo"}
    assert exc.understood == {}


def test_extra_tokens_after_a_voucher_are_reported() -> None:
    exc = errors_of("FACTURA B 0002-00000006 urgente")
    assert set(exc.field_errors) == {"numero"}
    assert "urgente" in exc.field_errors["numero"]
    # A lone letter is not taken as the operacion (it could be a mistyped tipo letter).
    exc = errors_of("FACTURA B 0002-00000006 C")
    assert set(exc.field_errors) == {"numero"}


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
        parse_reference(typed)

    assert info.value.problems[field].code == code
    assert info.value.problems[field].text == quoted
    assert quoted in says(code, text=quoted)


def test_error_is_a_value_error_naming_every_field_by_code() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_voucher("FACTURA C 0-0")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == "punto_venta: punto_venta_invalid; numero: numero_invalid"
    problems = errors_of("FACTURA C 0-0", parse_voucher)
    for message in problems.field_errors.values():
        assert message in problems.message


# --- build_voucher: the form's fields -------------------------------------------------


def test_build_voucher_from_form_fields() -> None:
    assert build_voucher(tipo="nota de crédito b", punto_venta="0002", numero="00000006") == (
        voucher("NOTA DE CREDITO B")
    )
    assert build_voucher(tipo="FACTURA B", punto_venta=2, numero=6, operacion="C") == voucher(
        op="C"
    )
    assert build_voucher(tipo="FACTURA B", punto_venta=" 2 ", numero="6", operacion="compra") == (
        voucher(op="C")
    )
    assert build_voucher(tipo="FACTURA B", punto_venta=2, numero=6, operacion=" ") == voucher()


def test_build_voucher_names_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        build_voucher(tipo="", punto_venta=None, numero="  ", operacion="x")
    assert problem_messages(info.value) == {
        "tipo": says("required"),
        "punto_venta": says("required"),
        "numero": says("required"),
        "operacion": says("operacion_invalid"),
    }
    with pytest.raises(InvalidReferenceError) as info:
        build_voucher(tipo="FACTURA Q", punto_venta="dos", numero="-6")
    assert problem_messages(info.value) == {
        "tipo": says("tipo_invalid"),
        "punto_venta": says("punto_venta_invalid", text="dos", limit=99_999),
        "numero": says("numero_invalid", text="-6", limit=99_999_999),
    }
    # What could not be read stays as typed, so a form can show it with its problem.
    assert info.value.understood == {"operacion": "V", "punto_venta": "dos", "numero": "-6"}
    with pytest.raises(InvalidReferenceError) as info:
        build_voucher(tipo="FACTURA B", punto_venta="２", numero="1.5")
    assert set(problem_messages(info.value)) == {"punto_venta", "numero"}
    assert info.value.understood["tipo"] == "FACTURA B"


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


# --- Properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(
    tipo=st.sampled_from(VOUCHER_TYPES),
    operacion=st.sampled_from(list(Operacion)),
    punto_venta=st.integers(min_value=1, max_value=PUNTO_VENTA_MAX),
    numero=st.integers(min_value=1, max_value=NUMERO_MAX),
    case=st.sampled_from([str, str.lower, str.upper, str.title]),
)
def test_printed_form_round_trips(
    tipo: str, operacion: Operacion, punto_venta: int, numero: int, case: Callable[[str], str]
) -> None:
    original = TusFacturasVoucher(
        tipo=tipo, operacion=operacion, punto_venta=punto_venta, numero=numero
    )
    text = case(original.reference + (" compra" if operacion is Operacion.COMPRA else ""))
    assert parse_voucher(text) == original
    assert parse_reference(text) == original
    # Unpadded numbers and a leading provider name read the same.
    suffix = " compra" if operacion is Operacion.COMPRA else ""
    assert parse_reference(f"tusfacturas {tipo} {punto_venta}-{numero}{suffix}") == original


# --- an e-mail address typed after the voucher ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("FACTURA B 0002-00000006 compras2@cliente.com", "compras2@cliente.com"),
        ("FC B 2-6 Compras2@Cliente.com", "Compras2@cliente.com"),
        ("B 0002-00000006 otro@cliente.com", "otro@cliente.com"),
        ("Factura B 0002-00000006 compra otro@cliente.com", "otro@cliente.com"),
        ("Factura B 0002-00000006 otro@cliente.com compra", "otro@cliente.com"),
        # Not a valid address: still an address the agent asked for, as typed.
        ("FACTURA B 0002-00000006 compras2@", "compras2@"),
    ],
)
def test_an_address_after_a_voucher_is_read_as_a_fact_not_a_problem(
    typed: str, address: str
) -> None:
    rest, found = split_address(typed)
    assert found == address
    assert "@" not in rest
    parsed = parse_voucher(typed)
    assert (parsed.tipo, parsed.punto_venta, parsed.numero) == ("FACTURA B", 2, 6)
    assert TUSFACTURAS.recognizes(typed) is TUSFACTURAS.recognizes(rest)
    assert TUSFACTURAS.address_beside(typed) == address
    # The request model stays the voucher: TusFacturas takes no address.
    assert TUSFACTURAS.alternative_email_field is None
    assert parsed.alternative_email is None


def test_without_an_address_nothing_is_reported() -> None:
    assert split_address("FACTURA B 0002-00000006") == ("FACTURA B 0002-00000006", None)
    assert TUSFACTURAS.address_beside("FACTURA B 0002-00000006") is None


def test_a_voucher_that_cannot_be_read_still_reports_the_address_and_blames_only_its_words() -> (
    None
):
    typed = "FACTURA Z 0002-00000006 compras2@cliente.com"
    assert TUSFACTURAS.address_beside(typed) == "compras2@cliente.com"
    with pytest.raises(InvalidReferenceError) as caught:
        parse_voucher(typed)
    assert "compras2" not in str(caught.value.problems)
