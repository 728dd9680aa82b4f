"""A third provider, defined entirely here, works end to end without touching bot/ or handlers/.

"Facturita" stands for the next provider agents will ask for: its own request
model, reference parser, form, settings (``FACTURITA_*``) and a small aiohttp
server for its API. Registered next to the shipped two, it goes through the
real signed endpoint: the modal lists it, switching to it shows its fields, a
wrong field is reported inline, and a submit re-sends and posts the outcome.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from aiohttp import web
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from devkit.localslack import plain_text_value, radio_action, radio_value
from devkit.localslack.webapi import JsonDict
from providers.base import (
    Choice,
    FieldKind,
    FieldProblem,
    FormField,
    InvalidReferenceError,
    InvoiceProvider,
    ProviderSettings,
    Recognition,
    ResendRequest,
    ResendResult,
)
from providers.http import HttpProviderClient, error_for_status, json_object
from providers.lummy.provider import LUMMY
from providers.registry import ProviderRegistry
from providers.tusfacturas.provider import TUSFACTURAS
from tests.conftest import AGENT, CHANNEL, Bot
from tests.e2e import shown, submit

pytestmark = pytest.mark.timeout(30)

KEY: Final = "facturita"
API_KEY: Final = "facturita-key-s3cr3t"
FOLIO = re.compile(r"^F-?(\d{1,6})$", re.IGNORECASE)


# --- The provider, as a provider package would define it ----------------------------


class FolioRequest(ResendRequest):
    """An invoice by its folio, sent by e-mail or WhatsApp."""

    provider = KEY

    folio: int = Field(ge=1, le=999_999)
    canal: str = "email"

    @property
    def reference(self) -> str:
        return f"F-{self.folio:06d}"


class FacturitaSettings(ProviderSettings):
    model_config = SettingsConfigDict(env_prefix="FACTURITA_")

    api_key: SecretStr = SecretStr("")
    base_url: str = "https://api.facturita.example/v1"

    def config(self) -> FacturitaSettings | None:
        # The settings are the endpoint and its one key; without the key, no client.
        return self if self.api_key.get_secret_value() else None


class FacturitaClient(HttpProviderClient[FacturitaSettings]):
    provider = KEY

    async def resend(self, request: FolioRequest, *, idempotency_key: str) -> ResendResult:
        response = await self._post(
            f"folios/{request.folio}/resend",
            json={"canal": request.canal},
            headers={"x-key": self._config.api_key.get_secret_value(), "x-idem": idempotency_key},
        )
        body = json_object(response) or {}
        if response.status_code != 200:
            raise error_for_status(KEY, response, message=body.get("message"))
        return ResendResult(
            provider=KEY,
            reference=request.reference,
            recipients=tuple(body.get("to", ())),
            sent_at=datetime.fromisoformat(str(body["at"])),
            request_id=response.headers.get("x-request-id"),
        )


def _folio(text: str | None) -> int | FieldProblem:
    match = FOLIO.match((text or "").strip())
    if not (text or "").strip():
        return FieldProblem("required")
    if match is None or int(match[1]) == 0:
        # A code the bot has no words for: it must fall back to a generic sentence.
        return FieldProblem("folio_shape", text=(text or "").strip())
    return int(match[1])


class Facturita(InvoiceProvider[FolioRequest, FacturitaSettings]):
    key = KEY
    label = "Facturita"
    country = "CO"
    aliases = ("facturita",)
    request_model = FolioRequest
    settings_model = FacturitaSettings
    form = (
        FormField("folio", example="F-000123", label="Folio"),
        FormField(
            "canal",
            FieldKind.RADIO,
            choices=(Choice("email"), Choice("whatsapp")),
            default="email",
            label="Canal",
        ),
    )
    reference_field = "folio"
    client_class = FacturitaClient

    def recognizes(self, text: str) -> Recognition:
        return Recognition.SURE if FOLIO.match(text.strip()) else Recognition.NO

    def parse(self, text: str) -> FolioRequest:
        return self.build_request({"folio": text})

    def build_request(self, values: Mapping[str, str]) -> FolioRequest:
        folio = _folio(values.get("folio"))
        if isinstance(folio, FieldProblem):
            raise InvalidReferenceError({"folio": folio}, provider=KEY)
        return FolioRequest(folio=folio, canal=values.get("canal") or "email")

    def form_values(self, request: FolioRequest) -> dict[str, str]:
        return {"folio": request.reference, "canal": request.canal}


FACTURITA = Facturita()


# --- A stand-in for its API ---------------------------------------------------------


@pytest.fixture
async def facturita_api() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Facturita's API on loopback: folio 123 exists; every request is recorded."""
    calls: list[dict[str, Any]] = []

    async def resend(request: web.Request) -> web.Response:
        calls.append(
            {
                "folio": request.match_info["folio"],
                "key": request.headers.get("x-key"),
                "idem": request.headers.get("x-idem"),
                "body": await request.json(),
            }
        )
        if request.headers.get("x-key") != API_KEY:
            return web.json_response({"message": "bad key"}, status=401)
        if request.match_info["folio"] != "123":
            return web.json_response({"message": "Folio not found"}, status=404)
        return web.json_response(
            {
                "to": ["pagos@cliente.co"],
                "at": datetime(2026, 11, 30, 15, 0, tzinfo=UTC).isoformat(),
            },
            headers={"x-request-id": "fct-req-1"},
        )

    app = web.Application()
    app.router.add_post("/v1/folios/{folio}/resend", resend)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/v1", calls
    await runner.cleanup()


@pytest.fixture
async def bot_with_facturita(
    start_bot: Callable[..., Any], facturita_api: tuple[str, list[dict[str, Any]]]
) -> Bot:
    base_url, _ = facturita_api
    started: Bot = await start_bot(
        registry=ProviderRegistry([TUSFACTURAS, LUMMY, FACTURITA]),
        facturita_api_key=API_KEY,
        facturita_base_url=base_url,
    )
    return started


def provider_block(view: JsonDict) -> JsonDict:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "provider"]
    return block


def block_ids(view: JsonDict) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if "block_id" in b}


def facturita_values(folio: str | None, canal: str = "whatsapp") -> JsonDict:
    return {
        "provider": {"provider_choice": radio_value(KEY)},
        "folio": {"value": plain_text_value(folio)},
        "canal": {"value": radio_value(canal)},
    }


# --- The flow -----------------------------------------------------------------------


async def test_a_provider_defined_here_works_through_the_signed_endpoint(
    bot_with_facturita: Bot, facturita_api: tuple[str, list[dict[str, Any]]]
) -> None:
    bot = bot_with_facturita
    _, calls = facturita_api

    # /reenviar: the modal lists the new provider with its brand and country.
    view = await bot.open_modal(empty_ack=True)
    options = {o["value"]: o["text"]["text"] for o in provider_block(view)["element"]["options"]}
    assert options == {
        "tusfacturas": "TusFacturas (Argentina)",
        "lummy": "Lummy (México)",
        "facturita": "Facturita (CO)",
    }

    # Switching to it shows its fields, with its own labels, and nobody else's.
    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", KEY, block_id="provider")],
    )
    await bot.slack.wait_for_call("views.update")
    switched = bot.slack.views[view["id"]]
    assert provider_block(switched)["element"]["initial_option"]["value"] == KEY
    assert {"folio", "canal"} <= block_ids(switched)
    assert not {"tipo", "invoice_id", "email"} & block_ids(switched)
    labels = {b["block_id"]: b["label"]["text"] for b in switched["blocks"] if "label" in b}
    assert labels["folio"] == "Folio"
    assert labels["canal"] == "Canal"

    # A wrong field is reported under the field itself, and nothing is sent.
    response = await submit(bot, switched, facturita_values("123-abc"))
    assert response.status == 200
    errors = response.json["errors"]
    assert set(errors) == {"folio"}
    assert errors["folio"] == "Revisar este dato."
    assert calls == []

    # A good submit closes the modal, re-sends, and posts the outcome in the channel.
    response = await submit(bot, switched, facturita_values("F-000123"))
    assert response.status == 200
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()
    text = shown(outcome)
    assert "F-000123" in text
    assert "Facturita" in text
    assert "pagos@cliente.co" in text
    assert "fct-req-1" in text
    [call] = calls
    assert call["folio"] == "123"
    assert call["key"] == API_KEY
    assert call["body"] == {"canal": "whatsapp"}
    assert call["idem"]
    assert outcome.channel == CHANNEL


async def test_the_new_provider_is_read_from_typed_text_and_fails_in_spanish(
    bot_with_facturita: Bot, facturita_api: tuple[str, list[dict[str, Any]]]
) -> None:
    bot = bot_with_facturita
    _, calls = facturita_api

    # The reference parser tries it like the others: the modal opens prefilled.
    view = await bot.open_modal("F-999", empty_ack=True)
    assert provider_block(view)["element"]["initial_option"]["value"] == KEY
    (folio,) = [b for b in view["blocks"] if b.get("block_id") == "folio"]
    assert folio["element"]["initial_value"] == "F-000999"

    response = await submit(bot, view, facturita_values("F-000999", canal="email"))
    assert response.status == 200
    (outcome,) = await bot.wait_for_outcome()
    text = shown(outcome)
    assert "Facturita no encontró ese comprobante" in text
    assert "Folio not found" in text  # the provider's own words, apart
    assert [c["folio"] for c in calls] == ["999"]
    rows = await bot.services.store.history("facturita:F-000999")
    assert [r.outcome for r in rows] == ["not_found"]
