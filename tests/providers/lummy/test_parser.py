"""Reading Lummy invoices as agents type them: an id or a pasted link to the invoice, and
an alternative e-mail, never dropped when it is broken."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError
from providers.lummy.model import LummyInvoice
from providers.lummy.parser import build_lummy_invoice, invoice_id_in_link, parse_lummy
from providers.lummy.provider import LUMMY
from tests.e2e import says
from tests.providers.conftest import errors_of, parse_reference

pytestmark = pytest.mark.timeout(30)

UUID_TEXT = "550e8400-e29b-41d4-a716-446655440000"
ORG_ID = "7b0c5a2e-1111-4c3d-9e8f-000000000001"


# --- parse_lummy / parse_reference: the forms agents type -----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UUID_TEXT, LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (UUID_TEXT.upper(), LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        ("  550E8400-e29b-41D4-a716-446655440000  ", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (
            f"{UUID_TEXT}   otro@cliente.com ",
            LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com"),
        ),
        (
            f"{UUID_TEXT.upper()} Otro@Cliente.COM",
            LummyInvoice(invoice_id=UUID(UUID_TEXT), email="Otro@cliente.com"),
        ),
        (
            f"{UUID_TEXT} <otro@cliente.com>",
            LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com"),
        ),
        (
            f"{UUID_TEXT} mailto:otro@cliente.com",
            LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com"),
        ),
        (f"<{UUID_TEXT}>", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
        (f"{{{UUID_TEXT}}}", LummyInvoice(invoice_id=UUID(UUID_TEXT))),
    ],
)
def test_lummy_forms(text: str, expected: LummyInvoice) -> None:
    assert parse_reference(text) == expected
    assert parse_lummy(text) == expected
    assert parse_reference(text).reference == UUID_TEXT


@pytest.mark.parametrize(
    "bad_id",
    [
        "550e8400-e29b-41d4-a716-44665544000",  # one digit short
        "550e8400-e29b-41d4-a716-4466554400000",  # one too many
        "550e8400-e29b-41d4-a716-44665544000g",  # not hex
        "550e8400-e29b-41d4-a716",
    ],
)
def test_invalid_lummy_uuid(bad_id: str) -> None:
    exc = errors_of(bad_id)
    assert exc.field_errors == {"invoice_id": says("invoice_id_invalid", text=bad_id)}
    assert exc.provider == "lummy"
    assert "UUID" in exc.field_errors["invoice_id"]


@pytest.mark.parametrize("bad_email", ["no-es-un-mail", "a@", "@cliente.com", "a@b@c.com", "a b"])
def test_invalid_lummy_email(bad_email: str) -> None:
    exc = errors_of(f"lummy {UUID_TEXT} {bad_email}")
    if " " in bad_email:  # two tokens: a bad e-mail and extra text
        assert set(exc.field_errors) == {"email", "text"}
    else:
        assert set(exc.field_errors) == {"email"}
    first_token = bad_email.split()[0]
    assert exc.field_errors["email"] == says("email_invalid", text=first_token)
    # The broken address is kept as typed: an empty field would send to the one on file.
    assert exc.understood == {"invoice_id": UUID_TEXT, "email": first_token}
    assert exc.provider == "lummy"


def test_lummy_extra_tokens() -> None:
    exc = errors_of(f"{UUID_TEXT} otro@cliente.com y algo mas")
    assert exc.field_errors == {"text": says("extra_text", text="y algo mas")}
    assert exc.understood == {"invoice_id": UUID_TEXT, "email": "otro@cliente.com"}
    assert exc.provider == "lummy"


def test_a_broken_address_is_kept_as_typed_with_its_problem() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(f"lummy {UUID_TEXT} nombre@")

    assert info.value.problems["email"].code == "email_invalid"
    assert info.value.understood == {"invoice_id": UUID_TEXT, "email": "nombre@"}


# --- Pasted links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        f"https://app.lummy.io/invoices/{UUID_TEXT}",
        f"https://app.lummy.io/invoices/{UUID_TEXT.upper()}?tab=pdf",
        f"<https://app.lummy.io/organizations/{ORG_ID}/invoices/{UUID_TEXT}>",
        f"<https://sandbox.lummy.io/facturas/{UUID_TEXT}|Factura A-1234>",
        f"https://app.lummy.mx/facturas/{UUID_TEXT}/detalle",
    ],
)
def test_a_pasted_link_to_a_lummy_invoice_yields_its_id(link: str) -> None:
    expected = LummyInvoice(invoice_id=UUID(UUID_TEXT))

    assert invoice_id_in_link(link) == UUID_TEXT
    assert parse_reference(link) == expected
    assert parse_reference(f"{link} otro@cliente.com") == expected.model_copy(
        update={"email": "otro@cliente.com"}
    )
    assert LUMMY.build_request({"invoice_id": link}) == expected


def test_a_link_elsewhere_is_not_taken_for_a_lummy_invoice() -> None:
    # The SAT's verification page carries the folio fiscal, which Lummy's re-send does not take.
    sat = f"https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={UUID_TEXT}"
    assert invoice_id_in_link(sat) is None
    with pytest.raises(InvalidReferenceError):
        build_lummy_invoice(invoice_id=sat)


# --- build_lummy_invoice: the form's fields -------------------------------------------


def test_build_lummy_invoice_from_form_fields() -> None:
    assert build_lummy_invoice(invoice_id=f" {UUID_TEXT.upper()} ", email="  ") == LummyInvoice(
        invoice_id=UUID(UUID_TEXT)
    )
    assert build_lummy_invoice(invoice_id=UUID_TEXT, email=None).email is None
    with pytest.raises(InvalidReferenceError) as info:
        build_lummy_invoice(invoice_id="", email="x")
    assert problem_messages(info.value) == {
        "invoice_id": says("required"),
        "email": says("email_invalid", text="x"),
    }
    assert info.value.provider == "lummy"
    with pytest.raises(InvalidReferenceError) as info:
        build_lummy_invoice(invoice_id="nope", email="ok@cliente.com")
    assert problem_messages(info.value) == {"invoice_id": says("invoice_id_invalid", text="nope")}
    assert info.value.understood == {"invoice_id": "nope", "email": "ok@cliente.com"}


# --- Properties -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None)
@given(
    invoice_id=st.uuids(),
    upper=st.booleans(),
    email=st.one_of(st.none(), st.emails()),
    prefix=st.sampled_from(["", "lummy ", "Lummy: "]),
)
def test_lummy_round_trips(invoice_id: UUID, upper: bool, email: str | None, prefix: str) -> None:
    shown = str(invoice_id).upper() if upper else str(invoice_id)
    text = f"{prefix} {shown} {email or ''} "
    try:
        parsed = parse_reference(text)
    except InvalidReferenceError as exc:
        error = exc
    else:
        assert isinstance(parsed, LummyInvoice)
        assert parsed.invoice_id == invoice_id
        assert (parsed.email is None) == (email is None)
        return
    # Hypothesis e-mails are RFC-valid but some are refused (e.g. special-use domains
    # such as .test); that must be reported on the e-mail alone.
    assert email is not None
    assert set(error.field_errors) == {"email"}
    assert error.understood["invoice_id"] == str(invoice_id)
