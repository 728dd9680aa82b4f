"""The re-send form: prefilled from text and messages, read back from Slack's view state,
turned into a typed request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ui import strings
from bot.ui.forms import (
    form_from_choice,
    form_from_text,
    form_from_view_state,
    message_choices,
    request_from_form,
)
from bot.ui.resend_modal import (
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    REFERENCE_BLOCK,
    VALUE_ACTION,
    FormState,
)
from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError
from providers.lummy.model import LummyInvoice
from providers.lummy.provider import LUMMY
from providers.scanning import references_in
from providers.tusfacturas.model import (
    NUMERO_MAX,
    PUNTO_VENTA_MAX,
    VOUCHER_TYPES,
    Operacion,
    TusFacturasVoucher,
)
from providers.tusfacturas.provider import TUSFACTURAS
from tests.conftest import REGISTRY, SEED_LUMMY_ID
from tests.e2e import says

parse_reference = REGISTRY.parse_reference
TUSFACTURAS_FIELDS = tuple(field.name for field in TUSFACTURAS.form)
LUMMY_FIELDS = tuple(field.name for field in LUMMY.form)

pytestmark = pytest.mark.timeout(20)

UUID_TEXT = "550e8400-e29b-41d4-a716-446655440000"
VOUCHER = TusFacturasVoucher(tipo="FACTURA B", punto_venta=2, numero=6)
INVOICE = LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com")


# --- Slack's view.state.values, as Slack sends them ------------------------------------


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def radio(value: str | None, action: str = VALUE_ACTION) -> dict[str, Any]:
    return {action: {"type": "radio_buttons", "selected_option": value and _option(value)}}


def select(value: str | None) -> dict[str, Any]:
    return {VALUE_ACTION: {"type": "static_select", "selected_option": value and _option(value)}}


def text_input(value: str | None) -> dict[str, Any]:
    return {VALUE_ACTION: {"type": "plain_text_input", "value": value}}


def email_input(value: str | None) -> dict[str, Any]:
    return {VALUE_ACTION: {"type": "email_text_input", "value": value}}


def tusfacturas_state(
    tipo: str | None = "FACTURA B",
    operacion: str | None = "V",
    punto_venta: str | None = "0002",
    numero: str | None = "00000006",
) -> dict[str, dict[str, Any]]:
    return {
        PROVIDER_BLOCK: radio("tusfacturas", PROVIDER_ACTION),
        "tipo": select(tipo),
        "operacion": radio(operacion),
        "punto_venta": text_input(punto_venta),
        "numero": text_input(numero),
    }


def lummy_state(invoice_id: str | None = UUID_TEXT, email: str | None = None) -> dict[str, Any]:
    return {
        PROVIDER_BLOCK: radio("lummy", PROVIDER_ACTION),
        "invoice_id": text_input(invoice_id),
        "email": email_input(email),
    }


# --- form_from_text ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_no_text_gives_an_empty_form(text: str) -> None:
    assert form_from_text(text, REGISTRY) == FormState()


@pytest.mark.parametrize(
    ("text", "provider", "values"),
    [
        (
            "FACTURA B 0002-00000006",
            "tusfacturas",
            {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "0002", "numero": "00000006"},
        ),
        (
            "tusfacturas nota de crédito a 5-123 compra",
            "tusfacturas",
            {
                "tipo": "NOTA DE CREDITO A",
                "operacion": "C",
                "punto_venta": "0005",
                "numero": "00000123",
            },
        ),
        (UUID_TEXT.upper(), "lummy", {"invoice_id": UUID_TEXT}),
        (
            f"lummy {UUID_TEXT} otro@cliente.com",
            "lummy",
            {"invoice_id": UUID_TEXT, "email": "otro@cliente.com"},
        ),
    ],
)
def test_good_text_prefills_everything(text: str, provider: str, values: dict[str, str]) -> None:
    form = form_from_text(text, REGISTRY)
    assert form.provider == provider
    assert form.values == values
    assert form.notice is None
    # What the modal is prefilled with submits to the very request the text meant.
    assert request_from_form(form, REGISTRY) == parse_reference(text)


def test_unknown_tipo_prefills_the_numbers_and_explains_under_the_field() -> None:
    form = form_from_text("Factura Z 0002-00000006", REGISTRY)
    assert form.provider == "tusfacturas"
    assert form.values == {"punto_venta": "0002", "numero": "00000006"}
    # The problem belongs to a field: it goes under it, quoting the agent as typed.
    assert form.notice is None
    assert form.problems == {"tipo": says("tipo_unknown", text="Factura Z")}


def test_numbers_out_of_range_keep_the_tipo() -> None:
    form = form_from_text("NOTA DE DEBITO A 0-00000006 compra", REGISTRY)
    assert form.provider == "tusfacturas"
    # The out-of-range punto de venta stays as typed, next to its problem.
    assert form.values == {
        "tipo": "NOTA DE DEBITO A",
        "operacion": "C",
        "punto_venta": "0",
        "numero": "6",
    }
    assert form.notice is None
    assert form.problems == {"punto_venta": says("punto_venta_invalid", text="0", limit=99_999)}


def test_bad_email_keeps_the_invoice_id_and_the_address_as_typed() -> None:
    form = form_from_text(f"{UUID_TEXT} no-es-mail", REGISTRY)
    assert form.provider == "lummy"
    assert form.values == {"invoice_id": UUID_TEXT, "email": "no-es-mail"}
    assert form.notice is None
    assert form.problems == {"email": says("email_invalid", text="no-es-mail")}


def test_extra_text_after_a_lummy_id_drops_no_empty_values() -> None:
    form = form_from_text(f"{UUID_TEXT} de parte de ventas", REGISTRY)
    assert form.provider == "lummy"
    assert "" not in form.values.values()
    assert form.values.get("invoice_id") == UUID_TEXT
    assert form.notice is not None


def test_unreadable_text_opens_a_blank_form_with_a_notice() -> None:
    form = form_from_text("el cliente dice que no le llegó", REGISTRY)
    assert form.provider is None
    assert form.values == {}
    assert form.notice is not None
    assert "«el cliente dice que no le llegó»" in form.notice


# --- form_from_view_state ------------------------------------------------------------------


def test_reads_a_tusfacturas_submission() -> None:
    form = form_from_view_state(tusfacturas_state(operacion="C"), REGISTRY)
    assert form.provider == "tusfacturas"
    assert form.values == {
        "tipo": "FACTURA B",
        "operacion": "C",
        "punto_venta": "0002",
        "numero": "00000006",
    }
    assert request_from_form(form, REGISTRY) == TusFacturasVoucher(
        tipo="FACTURA B", operacion=Operacion.COMPRA, punto_venta=2, numero=6
    )


def test_reads_a_lummy_submission_with_and_without_email() -> None:
    form = form_from_view_state(lummy_state(email="otro@cliente.com"), REGISTRY)
    assert form.provider == "lummy"
    assert form.values == {"invoice_id": UUID_TEXT, "email": "otro@cliente.com"}
    assert request_from_form(form, REGISTRY) == INVOICE

    form = form_from_view_state(lummy_state(email=None), REGISTRY)
    assert form.values == {"invoice_id": UUID_TEXT}
    assert request_from_form(form, REGISTRY) == LummyInvoice(invoice_id=UUID(UUID_TEXT))


def test_unanswered_elements_are_left_out() -> None:
    state = tusfacturas_state(tipo=None, punto_venta=None, numero=None)
    form = form_from_view_state(state, REGISTRY)
    assert form.values == {"operacion": "V"}


def test_no_provider_and_unknown_provider_values() -> None:
    state = {"invoice_id": text_input(UUID_TEXT)}
    assert form_from_view_state(state, REGISTRY).provider is None

    state = {PROVIDER_BLOCK: radio("sap", PROVIDER_ACTION), "invoice_id": text_input(UUID_TEXT)}
    form = form_from_view_state(state, REGISTRY)
    assert form.provider is None
    assert PROVIDER_BLOCK not in form.values
    assert form.values == {"invoice_id": UUID_TEXT}

    state = {PROVIDER_BLOCK: radio(None, PROVIDER_ACTION)}
    assert form_from_view_state(state, REGISTRY).provider is None


def test_empty_state() -> None:
    assert form_from_view_state({}, REGISTRY) == FormState()


# --- request_from_form ----------------------------------------------------------------------


def test_no_provider_is_an_error_on_the_provider_block() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        request_from_form(FormState(values={"invoice_id": UUID_TEXT}), REGISTRY)
    assert problem_messages(info.value) == {PROVIDER_BLOCK: says("provider_required")}


def test_tusfacturas_errors_are_keyed_by_block_id() -> None:
    form = form_from_view_state(
        tusfacturas_state(tipo=None, punto_venta="0", numero="abc"), REGISTRY
    )
    with pytest.raises(InvalidReferenceError) as info:
        request_from_form(form, REGISTRY)
    errors = problem_messages(info.value)
    assert errors == {
        "tipo": says("required"),
        "punto_venta": says("punto_venta_invalid", text="0", limit=99_999),
        "numero": says("numero_invalid", text="abc", limit=99_999_999),
    }
    assert set(errors) <= set(TUSFACTURAS_FIELDS)
    assert set(errors) <= set(tusfacturas_state())  # every key is a block in the modal


def test_tusfacturas_all_missing() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        request_from_form(FormState(provider="tusfacturas"), REGISTRY)
    assert set(problem_messages(info.value)) == {"tipo", "punto_venta", "numero"}
    assert all(m == says("required") for m in problem_messages(info.value).values())


def test_lummy_errors_are_keyed_by_block_id() -> None:
    form = form_from_view_state(lummy_state(invoice_id="not-a-uuid", email="a@"), REGISTRY)
    with pytest.raises(InvalidReferenceError) as info:
        request_from_form(form, REGISTRY)
    assert problem_messages(info.value) == {
        "invoice_id": says("invoice_id_invalid", text="not-a-uuid"),
        "email": says("email_invalid", text="a@"),
    }
    assert set(problem_messages(info.value)) <= set(LUMMY_FIELDS)

    with pytest.raises(InvalidReferenceError) as info:
        request_from_form(form_from_view_state(lummy_state(invoice_id=None), REGISTRY), REGISTRY)
    assert problem_messages(info.value) == {"invoice_id": says("required")}


def test_other_providers_fields_are_ignored() -> None:
    # After switching provider the state may still hold the other provider's values.
    state = {**tusfacturas_state(), **lummy_state()}
    form = form_from_view_state(state, REGISTRY)
    assert form.provider == "lummy"
    assert request_from_form(form, REGISTRY) == LummyInvoice(invoice_id=UUID(UUID_TEXT))


@settings(max_examples=150, deadline=None, database=None)
@given(
    tipo=st.sampled_from(VOUCHER_TYPES),
    operacion=st.sampled_from(list(Operacion)),
    punto_venta=st.integers(min_value=1, max_value=PUNTO_VENTA_MAX),
    numero=st.integers(min_value=1, max_value=NUMERO_MAX),
)
def test_text_to_form_to_request_round_trip(
    tipo: str, operacion: Operacion, punto_venta: int, numero: int
) -> None:
    voucher = TusFacturasVoucher(
        tipo=tipo, operacion=operacion, punto_venta=punto_venta, numero=numero
    )
    suffix = " compra" if operacion is Operacion.COMPRA else ""
    form = form_from_text(voucher.reference + suffix, REGISTRY)
    assert form.notice is None
    assert request_from_form(form, REGISTRY) == voucher
    # And through the modal's own shape.
    state = tusfacturas_state(
        form.values["tipo"],
        form.values["operacion"],
        form.values["punto_venta"],
        form.values["numero"],
    )
    assert request_from_form(form_from_view_state(state, REGISTRY), REGISTRY) == voucher


# --- a message's references --------------------------------------------------------------


def test_a_message_prefills_its_chosen_reference() -> None:
    choices = (("tusfacturas", "Factura B N° 0002-00000006"), ("lummy", SEED_LUMMY_ID))
    first = form_from_choice(choices, REGISTRY)
    assert first.provider == "tusfacturas"
    assert first.values["numero"] == "00000006"
    assert first.values[REFERENCE_BLOCK] == "0"
    second = form_from_choice(choices, REGISTRY, choice=1)
    assert (second.provider, second.values["invoice_id"]) == ("lummy", SEED_LUMMY_ID)
    assert second.values[REFERENCE_BLOCK] == "1"
    assert form_from_choice(choices, REGISTRY, choice=7) == first  # out of range: the first
    alone = form_from_choice(choices[1:], REGISTRY)
    assert REFERENCE_BLOCK not in alone.values  # nothing to choose from


def test_a_message_without_references_gets_a_note() -> None:
    empty = form_from_choice((), REGISTRY)
    assert (empty.provider, empty.values, empty.notice) == (
        None,
        {},
        strings.SHORTCUT_NOTHING_FOUND,
    )
    assert form_from_choice((("facturama", "F-1"),), REGISTRY).notice == (
        strings.SHORTCUT_NOTHING_FOUND
    )


def test_message_choices_keep_the_words_as_written() -> None:
    found, _ = references_in(f"la fc b 2-6 y {SEED_LUMMY_ID}", REGISTRY.values())
    assert message_choices(found) == (("tusfacturas", "fc b 2-6"), ("lummy", SEED_LUMMY_ID))
