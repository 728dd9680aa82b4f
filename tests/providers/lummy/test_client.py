"""LummyClient against the Lummy emulator over real loopback HTTP."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import structlog

from bot.ui import strings
from devkit.emulators import Fault, FaultKind, LummyEmulator
from providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.http import HttpOptions
from providers.lummy.client import LummyClient
from providers.lummy.model import LummyInvoice

if TYPE_CHECKING:
    from tests.providers.conftest import CannedServer, FakeClock

pytestmark = pytest.mark.timeout(10)

MakeClient = Callable[..., LummyClient]
SEED_ID = "550e8400-e29b-41d4-a716-446655440000"
SEED_EMAIL = "cliente@empresa.com"
OTHER_ID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
REQUEST_ID = re.compile(r"[0-9a-f]{6}-[0-9a-f]{6}")


def invoice(invoice_id: str = SEED_ID, email: str | None = None) -> LummyInvoice:
    return LummyInvoice.model_validate({"invoice_id": invoice_id, "email": email})


def new_key() -> str:
    return str(uuid.uuid4())


# -- success -------------------------------------------------------------------------


async def test_seed_resend_returns_recipient_time_and_request_id(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    key = new_key()

    result = await lummy_client.resend(invoice(), idempotency_key=key)

    [send] = lummy_emulator.sends
    assert result.provider == "lummy"
    assert result.reference == SEED_ID
    assert result.recipients == (SEED_EMAIL,)
    assert result.sent_at == datetime(2025, 1, 20, 10, 30, tzinfo=UTC)
    assert result.sent_at is not None
    assert result.sent_at.utcoffset() == timedelta(0)
    assert result.request_id == send.request_id
    assert REQUEST_ID.fullmatch(result.request_id)
    assert (send.invoice_id, send.to, send.idempotency_key) == (SEED_ID, SEED_EMAIL, key)

    [received] = lummy_emulator.requests
    assert received.method == "POST"
    assert received.path == f"/v1/invoices/{SEED_ID}/resend-pdf"
    assert received.header("content-type") == "application/json"
    assert received.json == {}  # no alternative e-mail: nothing in the body


async def test_headers_fall_back_to_the_api_key_as_bearer(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    key = new_key()

    await lummy_client.resend(invoice(), idempotency_key=key)

    received = lummy_emulator.requests[0]
    assert received.header("authorization") == f"Bearer {lummy_emulator.api_key}"
    assert received.header("x-api-key") == lummy_emulator.api_key
    assert received.header("x-organization-id") == lummy_emulator.organization_id
    assert received.header("x-idempotency") == key


async def test_headers_use_the_access_token_as_bearer_when_set(
    clock: FakeClock, make_lummy_client: MakeClient
) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.jwt-test-token"
    async with LummyEmulator("lk_other_key_1234", "org-1", access_token=token, clock=clock) as emu:
        client = make_lummy_client(
            emu.base_url, api_key="lk_other_key_1234", organization_id="org-1", access_token=token
        )
        key = new_key()
        result = await client.resend(invoice(), idempotency_key=key)

    received = emu.requests[0]
    assert received.header("authorization") == f"Bearer {token}"
    assert received.header("x-api-key") == "lk_other_key_1234"
    assert received.header("x-organization-id") == "org-1"
    assert received.header("x-idempotency") == key
    assert result.recipients == (SEED_EMAIL,)


async def test_empty_access_token_falls_back_to_the_api_key(
    lummy_emulator: LummyEmulator, make_lummy_client: MakeClient
) -> None:
    client = make_lummy_client(lummy_emulator.base_url, access_token="")

    await client.resend(invoice(), idempotency_key=new_key())

    assert lummy_emulator.requests[0].header("authorization") == (
        f"Bearer {lummy_emulator.api_key}"
    )
    assert len(lummy_emulator.sends) == 1


async def test_alternative_email_goes_in_the_body_and_is_the_recipient(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    result = await lummy_client.resend(
        invoice(OTHER_ID, "otro-email@cliente.com"), idempotency_key=new_key()
    )

    assert lummy_emulator.requests[0].json == {"email": "otro-email@cliente.com"}
    assert result.recipients == ("otro-email@cliente.com",)
    assert [send.to for send in lummy_emulator.sends] == ["otro-email@cliente.com"]


@pytest.mark.parametrize("prefix", ["/v1", ""])
@pytest.mark.parametrize("trailing_slash", [False, True])
async def test_base_url_with_or_without_v1_works_when_consistent(
    clock: FakeClock, make_lummy_client: MakeClient, prefix: str, trailing_slash: bool
) -> None:
    async with LummyEmulator("lk_key_12345", "org-1", path_prefix=prefix, clock=clock) as emu:
        base = emu.base_url + ("/" if trailing_slash else "")
        client = make_lummy_client(base, api_key="lk_key_12345", organization_id="org-1")
        result = await client.resend(invoice(), idempotency_key=new_key())

    assert emu.requests[0].path == f"{prefix}/invoices/{SEED_ID}/resend-pdf"
    assert result.recipients == (SEED_EMAIL,)


# -- provider errors ---------------------------------------------------------------------


async def test_unknown_invoice_is_not_found_with_request_id(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    assert_agent_message: Callable[..., str],
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await lummy_client.resend(invoice(UNKNOWN_ID), idempotency_key=new_key())

    error = caught.value
    assert error.status_code == 404
    assert error.provider_message == "Invoice not found"
    assert error.request_id is not None
    assert REQUEST_ID.fullmatch(error.request_id)
    assert not error.offers_retry
    assert_agent_message(error, "Lummy no tiene una factura con ese ID")
    assert len(lummy_emulator.requests) == 1
    assert lummy_emulator.sends == []


async def test_email_the_provider_refuses_is_an_invalid_email(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    assert_agent_message: Callable[..., str],
) -> None:
    # Valid for the bot (internationalised domain), refused by Lummy.
    with pytest.raises(InvalidRequestError) as caught:
        await lummy_client.resend(invoice(email="cliente@ñandú.com.ar"), idempotency_key=new_key())

    error = caught.value
    assert error.field == "email"
    assert error.status_code == 400
    assert error.provider_message == "Email invalido"
    assert error.request_id is not None
    assert assert_agent_message(error) == strings.INVALID_FIELD["email"]
    assert len(lummy_emulator.requests) == 1
    assert lummy_emulator.sends == []


async def test_eleventh_resend_in_an_hour_is_rate_limited_with_retry_after(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    clock: FakeClock,
    assert_agent_message: Callable[..., str],
) -> None:
    for _ in range(10):
        await lummy_client.resend(invoice(), idempotency_key=new_key())
        clock.advance(60)
    # Ten minutes after the first send: it leaves the sliding hour in 50 minutes.
    before = len(lummy_emulator.requests)

    with pytest.raises(RateLimitedError) as caught:
        await lummy_client.resend(invoice(), idempotency_key=new_key())

    error = caught.value
    assert error.status_code == 429
    assert error.limit_per_hour == 10
    assert error.retry_after == timedelta(seconds=3000)
    assert error.request_id is not None
    assert error.provider_message is not None
    assert error.provider_message.startswith("Has alcanzado el limite de reenvios")
    assert_agent_message(error, "Lummy frenó el reenvío", "10 reenvíos por hora", "50 minutos")
    assert len(lummy_emulator.requests) - before == 1  # a 429 is never retried
    assert len(lummy_emulator.sends) == 10


@pytest.mark.parametrize(
    ("emulator_token", "overrides", "status", "provider_message"),
    [
        (None, {"api_key": "lk_wrong_key_0000"}, 401, "Invalid credentials"),
        # Lummy wants a separate access token but the bot has none: the fallback fails.
        ("eyJ-jwt-required", {}, 401, "Invalid credentials"),
        (None, {"organization_id": "another-org"}, 403, "No tienes acceso a esta organizacion"),
    ],
    ids=["wrong-api-key", "missing-access-token", "wrong-organization"],
)
async def test_refused_credentials_are_an_authentication_error(
    clock: FakeClock,
    make_lummy_client: MakeClient,
    assert_agent_message: Callable[..., str],
    emulator_token: str | None,
    overrides: dict[str, str],
    status: int,
    provider_message: str,
) -> None:
    async with LummyEmulator(
        "lk_right_key_1234", "org-1", access_token=emulator_token, clock=clock
    ) as emu:
        settings = {"api_key": "lk_right_key_1234", "organization_id": "org-1"} | overrides
        client = make_lummy_client(emu.base_url, **settings)
        with pytest.raises(AuthenticationError) as caught:
            await client.resend(invoice(), idempotency_key=new_key())

    error = caught.value
    assert error.status_code == status
    assert error.provider_message == provider_message
    assert error.request_id is not None
    assert not error.offers_retry
    message = assert_agent_message(error, "Lummy rechazó las credenciales")
    assert "lk_wrong_key_0000" not in message
    assert len(emu.requests) == 1  # never retried
    assert emu.sends == []


async def test_base_url_missing_v1_is_a_misconfigured_endpoint_not_a_missing_invoice(
    lummy_emulator: LummyEmulator,
    make_lummy_client: MakeClient,
    assert_agent_message: Callable[..., str],
) -> None:
    client = make_lummy_client(lummy_emulator.base_url.removesuffix("/v1"))

    with pytest.raises(AuthenticationError) as caught:
        await client.resend(invoice(), idempotency_key=new_key())

    error = caught.value
    assert error.status_code == 404
    assert "LUMMY_BASE_URL" in error.detail
    assert_agent_message(error, "mal configurada")
    assert lummy_emulator.requests[0].path == f"/invoices/{SEED_ID}/resend-pdf"
    assert lummy_emulator.sends == []


# -- 5xx: retried with the same idempotency key ----------------------------------------------


async def test_one_server_error_is_retried_with_the_same_key_and_sends_once(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    lummy_emulator.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    key = new_key()

    with structlog.testing.capture_logs() as logs:
        result = await lummy_client.resend(invoice(), idempotency_key=key)

    assert result.recipients == (SEED_EMAIL,)
    assert [r.header("x-idempotency") for r in lummy_emulator.requests] == [key, key]
    assert len(lummy_emulator.sends) == 1
    assert result.request_id == lummy_emulator.sends[0].request_id
    retries = [e for e in logs if e["event"] == "provider_retry"]
    assert [(e["attempt"], e["reason"]) for e in retries] == [(1, "HTTP 503")]


async def test_persistent_server_error_is_unavailable_after_every_attempt(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    lummy_emulator.inject(Fault(FaultKind.SERVER_ERROR, status=502))
    key = new_key()

    with pytest.raises(ProviderUnavailableError) as caught:
        await lummy_client.resend(invoice(), idempotency_key=key)

    error = caught.value
    assert error.status_code == 502
    assert error.provider_message is None
    assert error.safe_to_retry
    assert_agent_message(error, "Lummy", "Se puede reintentar sin riesgo")
    keys = [r.header("x-idempotency") for r in lummy_emulator.requests]
    assert keys == [key] * (options.max_retries + 1)
    assert lummy_emulator.sends == []


async def test_key_scoped_server_error_leaves_other_invoices_alone(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    lummy_emulator.inject(Fault(FaultKind.SERVER_ERROR), key=OTHER_ID)

    ok = await lummy_client.resend(invoice(), idempotency_key=new_key())
    with pytest.raises(ProviderUnavailableError):
        await lummy_client.resend(invoice(OTHER_ID), idempotency_key=new_key())

    assert ok.recipients == (SEED_EMAIL,)
    assert [s.invoice_id for s in lummy_emulator.sends] == [SEED_ID]


# -- unusable answers and transport failures ---------------------------------------------------


async def test_malformed_json_on_200_is_outcome_unknown(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    assert_agent_message: Callable[..., str],
) -> None:
    lummy_emulator.inject(Fault(FaultKind.MALFORMED_JSON))

    with pytest.raises(OutcomeUnknownError) as caught:
        await lummy_client.resend(invoice(), idempotency_key=new_key())

    error = caught.value
    assert error.status_code == 200
    assert error.may_have_sent
    assert_agent_message(error, "Lummy", "pudo haber salido")
    assert len(lummy_emulator.requests) == 1


async def test_hang_is_outcome_unknown_and_not_retried(
    lummy_emulator: LummyEmulator,
    make_lummy_client: MakeClient,
    hang_options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    lummy_emulator.inject(Fault(FaultKind.HANG))
    client = make_lummy_client(lummy_emulator.base_url, http_options=hang_options)

    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.resend(invoice(), idempotency_key=new_key())

    assert time.monotonic() - started < 1.5
    assert "ReadTimeout" in caught.value.detail
    assert caught.value.request_id is None
    assert_agent_message(caught.value, "Lummy")
    assert len(lummy_emulator.requests) == 1
    assert lummy_emulator.sends == []


async def test_connection_reset_is_outcome_unknown_and_not_retried(
    lummy_emulator: LummyEmulator,
    lummy_client: LummyClient,
    assert_agent_message: Callable[..., str],
) -> None:
    lummy_emulator.inject(Fault(FaultKind.RESET))

    with pytest.raises(OutcomeUnknownError) as caught:
        await lummy_client.resend(invoice(), idempotency_key=new_key())

    assert caught.value.may_have_sent
    assert_agent_message(caught.value, "Lummy")
    assert len(lummy_emulator.requests) == 1


async def test_retry_with_the_same_key_after_a_read_timeout_replays_without_sending(
    lummy_emulator: LummyEmulator, make_lummy_client: MakeClient, hang_options: HttpOptions
) -> None:
    # Lummy handles the request (the e-mail goes out) but the answer comes too late.
    lummy_emulator.inject(Fault(FaultKind.LATENCY, delay_seconds=5, times=1))
    client = make_lummy_client(lummy_emulator.base_url, http_options=hang_options)
    key = new_key()

    with pytest.raises(OutcomeUnknownError):
        await client.resend(invoice(), idempotency_key=key)
    assert len(lummy_emulator.sends) == 1

    result = await client.resend(invoice(), idempotency_key=key)

    [send] = lummy_emulator.sends  # the replay sent nothing more
    assert result.request_id == send.request_id
    assert result.recipients == (SEED_EMAIL,)
    assert [r.header("x-idempotency") for r in lummy_emulator.requests] == [key, key]


async def test_connection_refused_is_unavailable_after_every_attempt(
    closed_port: int,
    make_lummy_client: MakeClient,
    options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    client = make_lummy_client(f"http://127.0.0.1:{closed_port}/v1")

    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(ProviderUnavailableError) as caught,
    ):
        await client.resend(invoice(), idempotency_key=new_key())

    attempts = options.max_retries + 1
    assert f"after {attempts} attempts" in caught.value.detail
    assert_agent_message(caught.value, "Lummy", "no se envió nada")
    retries = [e for e in logs if e["event"] == "provider_retry"]
    assert [e["attempt"] for e in retries] == list(range(1, attempts))


# -- envelopes the emulator never produces (canned server) --------------------------------------


async def test_200_without_data_is_outcome_unknown_with_request_id(
    canned: CannedServer, make_lummy_client: MakeClient, assert_agent_message: Callable[..., str]
) -> None:
    canned.reply(200, {"requestId": "abc123-def456", "timestamp": "2025-01-20T10:30:00.000Z"})

    with pytest.raises(OutcomeUnknownError) as caught:
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert caught.value.request_id == "abc123-def456"
    assert caught.value.status_code == 200
    assert_agent_message(caught.value, "Lummy")
    assert len(canned.requests) == 1


@pytest.mark.parametrize(
    "body",
    [b"OK", [1, 2], {"data": "yes"}, {"data": None}],
    ids=["text", "json-list", "data-string", "data-null"],
)
async def test_200_with_unexpected_shapes_is_outcome_unknown(
    canned: CannedServer, make_lummy_client: MakeClient, body: object
) -> None:
    canned.reply(200, body, content_type="application/json")

    with pytest.raises(OutcomeUnknownError):
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert len(canned.requests) == 1


async def test_200_with_success_false_is_rejected_with_the_provider_message(
    canned: CannedServer, make_lummy_client: MakeClient, assert_agent_message: Callable[..., str]
) -> None:
    canned.reply(
        200,
        {"requestId": "r-1", "data": {"success": False, "message": "Factura cancelada"}},
    )

    with pytest.raises(RejectedError) as caught:
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert caught.value.messages == ("Factura cancelada",)
    assert caught.value.provider_message == "Factura cancelada"
    assert caught.value.request_id == "r-1"
    assert_agent_message(caught.value, "Lummy rechazó el reenvío")


async def test_200_recipient_list_naive_time_and_header_request_id(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(
        200,
        {"data": {"success": True, "sentTo": ["a@x.mx", " b@x.mx "], "sentAt": "2025-01-20T10:30"}},
        headers={"x-request-id": "hdr-42"},
    )

    result = await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert result.recipients == ("a@x.mx", "b@x.mx")
    assert result.sent_at == datetime(2025, 1, 20, 10, 30, tzinfo=UTC)
    assert result.request_id == "hdr-42"


async def test_200_without_sent_to_falls_back_to_the_requested_email_and_bad_time(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(200, {"requestId": "r-2", "data": {"success": True, "sentAt": "ayer"}})

    result = await make_lummy_client(canned.base_url).resend(
        invoice(email="otro@cliente.com"), idempotency_key=new_key()
    )

    assert result.recipients == ("otro@cliente.com",)
    assert result.sent_at is None


async def test_server_error_with_an_envelope_keeps_request_id_and_message(
    canned: CannedServer, make_lummy_client: MakeClient, options: HttpOptions
) -> None:
    canned.reply(
        500,
        {"requestId": "r-500", "error": {"message": "Internal error", "code": "X", "status": 500}},
    )

    with pytest.raises(ProviderUnavailableError) as caught:
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert caught.value.request_id == "r-500"
    assert caught.value.provider_message == "Internal error"
    assert len(canned.requests) == options.max_retries + 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, "<html><body>404 Not Found</body></html>"),
        (405, {"requestId": "r-405", "error": {"message": "Method Not Allowed", "status": 405}}),
    ],
    ids=["404-without-envelope", "405"],
)
async def test_route_errors_are_a_misconfigured_endpoint(
    canned: CannedServer,
    make_lummy_client: MakeClient,
    assert_agent_message: Callable[..., str],
    status: int,
    body: object,
) -> None:
    canned.reply(status, body)

    with pytest.raises(AuthenticationError) as caught:
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert caught.value.status_code == status
    assert_agent_message(caught.value, "mal configurada")


async def test_redirect_is_a_misconfigured_endpoint(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(308, "", headers={"Location": "https://api.lummy.io/v1/"})

    with pytest.raises(AuthenticationError) as caught:
        await make_lummy_client(canned.base_url).resend(invoice(), idempotency_key=new_key())

    assert caught.value.status_code == 308
    assert len(canned.requests) == 1


@pytest.mark.parametrize(
    ("email", "field"), [(None, None), ("otro@cliente.com", "email")], ids=["no-alt", "alt"]
)
async def test_a_400_names_the_email_only_when_one_was_sent(
    canned: CannedServer,
    make_lummy_client: Callable[..., LummyClient],
    email: str | None,
    field: str | None,
) -> None:
    # "mail" in Lummy's message blames the alternative address only if the agent gave one.
    error = {"message": "El receptor no tiene email registrado", "code": "ValidationError"}
    canned.reply(400, {"requestId": "r-400", "error": {**error, "status": 400}})
    client = make_lummy_client(canned.base_url)

    with pytest.raises(InvalidRequestError) as caught:
        await client.resend(
            LummyInvoice.model_validate({"invoice_id": SEED_ID, "email": email}),
            idempotency_key=str(uuid.uuid4()),
        )

    assert caught.value.field == field
    assert caught.value.provider_message == "El receptor no tiene email registrado"
    assert caught.value.request_id == "r-400"
