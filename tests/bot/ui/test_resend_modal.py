"""The re-send modal: its fields, prefill, provider choice, a message's references, and
the context it carries."""

from __future__ import annotations

import json

import pytest

from bot.ui import strings
from bot.ui.forms import form_from_text
from bot.ui.resend_modal import MODAL_CALLBACK_ID, FormState, ModalContext, resend_modal
from tests.blockkit import assert_valid_modal
from tests.bot.ui.conftest import BOTH, CONTEXT, INVOICE_ID, block_ids, by_id, texts
from tests.conftest import REGISTRY, SEED_LUMMY_ID


def test_empty_modal_defaults_to_the_first_configured_provider() -> None:
    modal = resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    assert modal["callback_id"] == MODAL_CALLBACK_ID
    assert modal["title"]["text"] == strings.MODAL_TITLE
    assert ModalContext.from_metadata(modal["private_metadata"]) == CONTEXT
    assert block_ids(modal) == ["provider", "tipo", "operacion", "punto_venta", "numero"]
    provider = by_id(modal, "provider")
    assert provider["dispatch_action"] is True
    assert provider["element"]["initial_option"]["value"] == "tusfacturas"
    assert by_id(modal, "operacion")["element"]["initial_option"]["value"] == "V"
    assert "initial_option" not in by_id(modal, "tipo")["element"]
    assert "initial_value" not in by_id(modal, "numero")["element"]
    groups = by_id(modal, "tipo")["element"]["option_groups"]
    assert sum(len(g["options"]) for g in groups) == 27


def test_only_lummy_configured_opens_on_lummy() -> None:
    modal = resend_modal(
        FormState(), CONTEXT, configured={"tusfacturas": False, "lummy": True}, registry=REGISTRY
    )
    assert_valid_modal(modal)
    assert block_ids(modal) == ["provider", "invoice_id", "email"]
    options = by_id(modal, "provider")["element"]["options"]
    described = {o["value"]: o.get("description", {}).get("text") for o in options}
    assert described == {
        "tusfacturas": strings.PROVIDER_NOT_CONFIGURED_SHORT,
        "lummy": None,
    }


def test_tusfacturas_prefilled_from_the_command() -> None:
    modal = resend_modal(
        form_from_text("FACTURA B 0002-00000006 compra", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "tipo")["element"]["initial_option"]["value"] == "FACTURA B"
    assert by_id(modal, "operacion")["element"]["initial_option"]["value"] == "C"
    assert by_id(modal, "punto_venta")["element"]["initial_value"] == "0002"
    assert by_id(modal, "numero")["element"]["initial_value"] == "00000006"


def test_lummy_prefilled_with_an_alternative_email() -> None:
    modal = resend_modal(
        form_from_text(f"lummy {INVOICE_ID} otro@cliente.com", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "provider")["element"]["initial_option"]["value"] == "lummy"
    assert by_id(modal, "invoice_id")["element"]["initial_value"] == INVOICE_ID
    email = by_id(modal, "email")
    assert email["optional"] is True
    assert email["element"]["type"] == "email_text_input"
    assert email["element"]["initial_value"] == "otro@cliente.com"


def test_lummy_prefilled_without_email() -> None:
    modal = resend_modal(
        FormState(provider="lummy", values={"invoice_id": INVOICE_ID}),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert "initial_value" not in by_id(modal, "email")["element"]


@pytest.mark.parametrize("provider", list(REGISTRY))
def test_a_provider_without_credentials_says_so_in_the_modal(provider: str) -> None:
    nothing = {"tusfacturas": False, "lummy": False}
    modal = resend_modal(
        FormState(provider=provider), CONTEXT, configured=nothing, registry=REGISTRY
    )
    assert_valid_modal(modal)
    text = json.dumps(modal, ensure_ascii=False)
    assert f"{REGISTRY[provider].label} no está configurado en el bot" in text
    assert modal["submit"]["text"] == strings.MODAL_SUBMIT


def test_a_prefill_problem_goes_under_its_field_and_the_rest_on_top() -> None:
    form = form_from_text("Factura Q 0002-00000006", REGISTRY)
    modal = resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    ids = block_ids(modal)
    under = modal["blocks"][ids.index("tipo") + 1]
    assert under["type"] == "context"
    assert "«Factura Q»" in under["elements"][0]["text"]
    assert by_id(modal, "punto_venta")["element"]["initial_value"] == "0002"

    unreadable = resend_modal(
        form_from_text("<hola> & chau", REGISTRY), CONTEXT, configured=BOTH, registry=REGISTRY
    )
    assert unreadable["blocks"][0]["type"] == "context"
    notice = unreadable["blocks"][0]["elements"][0]["text"]
    assert "No se entendió todo lo escrito" in notice
    assert "«&lt;hola&gt; &amp; chau»" in notice


def test_a_broken_address_stays_in_its_field_with_the_problem_under_it() -> None:
    modal = resend_modal(
        form_from_text(f"lummy {INVOICE_ID} nombre@", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "email")["element"]["initial_value"] == "nombre@"
    ids = block_ids(modal)
    under = modal["blocks"][ids.index("email") + 1]
    assert "«nombre@» no es un correo válido" in under["elements"][0]["text"]


def test_voucher_types_read_as_people_write_them_and_arca_names_the_group() -> None:
    modal = resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY)
    groups = by_id(modal, "tipo")["element"]["option_groups"]
    labels = {o["value"]: o["text"]["text"] for g in groups for o in g["options"]}
    assert labels["FACTURA B"] == "Factura B"
    assert labels["NOTA DE CREDITO A"] == "Nota de crédito A"
    assert labels["FACTURA NO VALIDA EN AFIP"] == "Factura no válida en AFIP"
    assert "No válidas en ARCA (ex AFIP)" in [g["label"]["text"] for g in groups]


@pytest.mark.parametrize(
    ("provider", "field"), [("tusfacturas", "numero"), ("lummy", "invoice_id")]
)
def test_the_field_that_identifies_the_invoice_dispatches_on_enter(
    provider: str, field: str
) -> None:
    modal = resend_modal(FormState(provider=provider), CONTEXT, configured=BOTH, registry=REGISTRY)
    dispatching = [b["block_id"] for b in modal["blocks"] if b.get("dispatch_action")]
    assert dispatching == ["provider", field]


def test_a_huge_pasted_text_still_makes_a_valid_modal() -> None:
    form = form_from_text("x" * 5000, REGISTRY)
    modal = resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    assert all(len(t) <= 3000 for t in texts(modal["blocks"]))


def test_modal_is_valid_for_every_voucher_type() -> None:
    for tipo in ("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", "RECIBO C", "FACTURA E"):
        form = FormState(provider="tusfacturas", values={"tipo": tipo})
        modal = resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
        assert_valid_modal(modal)
        assert by_id(modal, "tipo")["element"]["initial_option"]["value"] == tipo


def test_modal_from_a_message_offers_its_references_and_shows_its_addresses() -> None:
    context = ModalContext(
        channel_id="C0SUPPORT",
        thread_ts="1741631400.000100",
        choices=(("tusfacturas", "Factura B N° 0002-00000006"), ("lummy", INVOICE_ID)),
        emails=("ana@cliente.com",),
    )
    modal = resend_modal(
        FormState(provider="lummy", values={"invoice_id": INVOICE_ID, "message_reference": "1"}),
        context,
        registry=REGISTRY,
        configured=BOTH,
    )
    assert_valid_modal(modal)
    (choice,) = [b for b in modal["blocks"] if b.get("block_id") == "message_reference"]
    assert choice["dispatch_action"] is True
    assert choice["optional"] is True
    assert choice["element"]["initial_option"]["value"] == "1"
    assert [o["text"]["text"] for o in choice["element"]["options"]] == [
        "Factura B N° 0002-00000006 (TusFacturas)",
        f"{INVOICE_ID} (Lummy)",
    ]
    assert "Correos en el mensaje: ana@cliente.com." in json.dumps(modal, ensure_ascii=False)
    assert ModalContext.from_metadata(modal["private_metadata"]) == context


# --- ModalContext -------------------------------------------------------------------------


def test_modal_context_round_trip() -> None:
    context = ModalContext(
        channel_id="C0SUPPORT",
        response_url="https://hooks.slack.com/commands/T0/123/abc",
        user_id="U0AGENT01",
    )
    metadata = context.to_metadata()
    assert len(metadata) <= 3000
    assert ModalContext.from_metadata(metadata) == context


def test_modal_context_leaves_out_what_it_does_not_know() -> None:
    metadata = ModalContext(channel_id="C1").to_metadata()
    assert json.loads(metadata) == {"channel_id": "C1"}
    assert ModalContext.from_metadata(metadata) == ModalContext(channel_id="C1")
    assert ModalContext().to_metadata() == "{}"


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        "",
        "garbage",
        "{",
        "[]",
        "null",
        '"C1"',
        '{"channel_id": 5}',
        '{"channel_id": ["C1"]}',
        "\x00\xff",
    ],
)
def test_modal_context_tolerates_foreign_metadata(metadata: str | None) -> None:
    assert ModalContext.from_metadata(metadata) == ModalContext()


def test_modal_context_ignores_unknown_keys() -> None:
    context = ModalContext.from_metadata('{"channel_id": "C1", "from_another_version": true}')
    assert context == ModalContext(channel_id="C1")


def test_modal_context_is_frozen() -> None:
    context = ModalContext(channel_id="C1")
    with pytest.raises(ValueError, match="frozen"):
        context.channel_id = "C2"  # type: ignore[misc]


def test_the_modal_context_carries_the_thread_and_the_choices() -> None:
    context = ModalContext(
        channel_id="C1", thread_ts="1.2", choices=(("lummy", SEED_LUMMY_ID),), emails=("a@b.co",)
    )
    assert ModalContext.from_metadata(context.to_metadata()) == context
    assert ModalContext(channel_id="C1").to_metadata() == '{"channel_id":"C1"}'
