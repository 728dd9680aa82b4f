"""TusFacturasClient against the TusFacturas emulator over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from bot.ui import strings
from devkit.emulators import (
    Fault,
    FaultKind,
    RecordedRequest,
    TusFacturasEmulator,
    VoucherRecord,
    tusfacturas_key,
)
from devkit.emulators import TusFacturasCredentials as EmulatorCredentials
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.http import HttpOptions
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.model import Operacion, TusFacturasVoucher
from tests.providers.conftest import CannedServer, FakeClock, voucher

#: TusFacturas has no idempotency; the key only names the attempt in logs.
KEY = "3f0e9b9c-1111-4a5b-8c7d-000000000042"

pytestmark = pytest.mark.timeout(10)

MakeClient = Callable[..., TusFacturasClient]
SEED_RECIPIENT = "compras@panaderialaespiga.com.ar"


def sent_body(received: RecordedRequest) -> dict[str, Any]:
    """The JSON object the emulator received."""
    assert isinstance(received.json, dict)
    return received.json


def seed_body(creds: EmulatorCredentials, tipo: str, operacion: str = "V") -> dict[str, Any]:
    """The JSON body of the seed example, with these credentials."""
    return {
        "apikey": creds.apikey,
        "apitoken": creds.apitoken,
        "usertoken": creds.usertoken,
        "comprobante": {"tipo": tipo, "operacion": operacion, "punto_venta": "2", "numero": "6"},
    }


# -- success -----------------------------------------------------------------------


@pytest.mark.parametrize("tipo", ["FACTURA B", "NOTA DE DEBITO B"])
async def test_seed_voucher_is_resent_with_the_seed_body(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    tf_all: EmulatorCredentials,
    tipo: str,
) -> None:
    result = await tf_client.resend(voucher(tipo), idempotency_key=KEY)

    assert result.provider == "tusfacturas"
    assert result.reference == f"{tipo} 0002-00000006"
    # TusFacturas sends to the e-mails on file, and names them only in its free text.
    assert result.recipients == (SEED_RECIPIENT,)
    assert result.sent_at is None
    assert result.request_id is None  # TusFacturas has no request id
    assert result.provider_message == f"El comprobante fue reenviado a {SEED_RECIPIENT}"

    [received] = tf_emulator.requests
    assert received.method == "POST"
    assert received.path == "/app/api/v2/facturacion/reenviar"
    assert received.header("content-type") == "application/json"
    assert received.header("accept") == "application/json"
    assert received.json == seed_body(tf_all, tipo)
    assert [send.key for send in tf_emulator.sends] == [tusfacturas_key(tipo, "V", 2, 6)]


async def test_operacion_compra_is_sent_as_c(
    tf_emulator: TusFacturasEmulator, tf_client: TusFacturasClient
) -> None:
    tf_emulator.vouchers[("FACTURA A", "C", 2, 6)] = VoucherRecord(("proveedor@ejemplo.com.ar",))

    await tf_client.resend(
        TusFacturasVoucher(tipo="FACTURA A", operacion=Operacion.COMPRA, punto_venta=2, numero=6),
        idempotency_key=KEY,
    )

    assert sent_body(tf_emulator.requests[0])["comprobante"]["operacion"] == "C"
    assert [send.key for send in tf_emulator.sends] == ["FACTURA A|C|2|6"]


# -- business answers (HTTP 200, error S) ----------------------------------------------


async def test_validation_error_s_is_rejected_with_messages_and_codes(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
) -> None:
    # A voucher the provider disagrees with (built past the bot's own validation).
    odd = TusFacturasVoucher.model_construct(
        tipo="FACTURA Z", operacion=Operacion.VENTA, punto_venta=2, numero=100_000_000
    )

    with pytest.raises(RejectedError) as caught:
        await tf_client.resend(odd, idempotency_key=KEY)

    error = caught.value
    assert error.codes == ("TFC-1002", "TFC-1005")
    # errores and error_details repeat the same texts: each appears once.
    assert error.messages == (
        "El tipo de comprobante 'FACTURA Z' no es valido.",
        "El numero de comprobante debe ser un numero entre 1 y 99999999.",
    )
    assert error.provider_message == " ".join(error.messages)
    assert error.reason is None
    assert error.status_code == 200
    assert error.request_id is None
    assert not error.offers_retry
    assert assert_agent_message(error).startswith("TusFacturas rechazó el reenvío")
    assert len(tf_emulator.requests) == 1
    assert tf_emulator.sends == []


async def test_unknown_voucher_is_not_found(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await tf_client.resend(voucher(numero=999), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == 200
    assert error.request_id is None
    assert error.provider_message is not None
    assert "no existe" in error.provider_message
    assert "FACTURA B 0002-00000999" in error.provider_message
    assert_agent_message(error, "TusFacturas no tiene un comprobante con esos datos")
    assert len(tf_emulator.requests) == 1
    assert tf_emulator.sends == []


async def test_customer_without_email_sending_is_rejected_as_email_not_enabled(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
) -> None:
    with pytest.raises(RejectedError) as caught:
        await tf_client.resend(voucher("FACTURA C", numero=41), idempotency_key=KEY)

    error = caught.value
    assert error.reason == REJECTION_EMAIL_SENDING_OFF
    assert error.codes == ("TFC-8010",)
    assert error.provider_message is not None
    assert "e-mail" in error.provider_message
    assert assert_agent_message(error) == strings.REJECTION_REASONS["email_sending_off"].format(
        provider="TusFacturas"
    )
    assert not error.offers_retry
    assert tf_emulator.sends == []


# -- credentials per punto de venta ------------------------------------------------------


async def test_each_punto_de_venta_uses_its_own_credential_set(
    clock: FakeClock, make_tf_client: MakeClient
) -> None:
    pv2 = EmulatorCredentials("key-pv2-aaaa", "tok-pv2-bbbb", "user-pv2-cccc", punto_venta=2)
    pv3 = EmulatorCredentials("key-pv3-dddd", "tok-pv3-eeee", "user-pv3-ffff", punto_venta=3)
    async with TusFacturasEmulator([pv2, pv3], clock=clock, requests_per_second=100) as emulator:
        client = make_tf_client(emulator.base_url, default=pv2, by_punto_venta={3: pv3})
        await client.resend(voucher("FACTURA B", 2, 6), idempotency_key=KEY)
        await client.resend(
            voucher("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", 3, 87), idempotency_key=KEY
        )

    assert [sent_body(r)["apikey"] for r in emulator.requests] == [pv2.apikey, pv3.apikey]
    assert [sent_body(r)["usertoken"] for r in emulator.requests] == [pv2.usertoken, pv3.usertoken]
    assert len(emulator.sends) == 2


async def test_punto_de_venta_without_credentials_and_no_default_is_not_configured(
    tf_emulator: TusFacturasEmulator,
    make_tf_client: MakeClient,
    tf_pv3: EmulatorCredentials,
    assert_agent_message: Callable[..., str],
) -> None:
    client = make_tf_client(tf_emulator.base_url, default=None, by_punto_venta={3: tf_pv3})

    with pytest.raises(ProviderNotConfiguredError) as caught:
        await client.resend(voucher(punto_venta=2), idempotency_key=KEY)

    error = caught.value
    assert (error.field, error.field_value) == ("punto_venta", "2")
    assert_agent_message(error, "TusFacturas", "punto de venta 2")
    assert tf_emulator.requests == []  # nothing left the bot


# -- access errors (4xx, no JSON) ----------------------------------------------------------


async def test_wrong_credentials_are_an_authentication_error(
    tf_emulator: TusFacturasEmulator,
    make_tf_client: MakeClient,
    assert_agent_message: Callable[..., str],
) -> None:
    wrong = EmulatorCredentials("nope-key-0000", "nope-tok-0000", "nope-usr-0000")
    client = make_tf_client(tf_emulator.base_url, default=wrong)

    with pytest.raises(AuthenticationError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == 401
    assert error.provider_message is None  # plain-text body, nothing to quote
    assert not error.offers_retry
    assert_agent_message(error, "TusFacturas rechazó las credenciales")
    assert len(tf_emulator.requests) == 1
    assert tf_emulator.sends == []


async def test_credentials_of_another_punto_de_venta_are_forbidden(
    tf_emulator: TusFacturasEmulator,
    make_tf_client: MakeClient,
    tf_pv3: EmulatorCredentials,
    assert_agent_message: Callable[..., str],
) -> None:
    # Misconfigured: the punto de venta 3 set filed under punto de venta 2.
    client = make_tf_client(tf_emulator.base_url, default=None, by_punto_venta={2: tf_pv3})

    with pytest.raises(AuthenticationError) as caught:
        await client.resend(voucher(punto_venta=2), idempotency_key=KEY)

    assert caught.value.status_code == 403
    assert_agent_message(caught.value, "TusFacturas")
    assert sent_body(tf_emulator.requests[0])["apikey"] == tf_pv3.apikey
    assert tf_emulator.sends == []


async def test_too_many_requests_per_second_is_rate_limited_and_never_retried(
    clock: FakeClock,
    make_tf_client: MakeClient,
    tf_all: EmulatorCredentials,
    assert_agent_message: Callable[..., str],
) -> None:
    async with TusFacturasEmulator([tf_all], clock=clock, requests_per_second=1) as emulator:
        client = make_tf_client(emulator.base_url)
        await client.resend(voucher(), idempotency_key=KEY)  # uses up this (frozen) second
        with pytest.raises(RateLimitedError) as caught:
            await client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == 429
    assert error.limit_per_hour is None  # the per-hour cap is Lummy's, not TusFacturas'
    assert error.retry_after is None  # no Retry-After header
    # A per-second throttle: nothing was sent, and trying again shortly works.
    assert error.throttled
    assert error.offers_retry
    assert_agent_message(error, "frenó el reenvío", "no se envió nada", "unos segundos")
    assert len(emulator.requests) == 2  # exactly one request for the limited call
    assert len(emulator.sends) == 1


async def test_rate_limit_retry_after_header_is_read(
    canned: CannedServer, make_tf_client: MakeClient, assert_agent_message: Callable[..., str]
) -> None:
    canned.reply(429, "Too Many Requests", headers={"Retry-After": "7"})
    client = make_tf_client(canned.base_url)

    with pytest.raises(RateLimitedError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)

    assert caught.value.retry_after is not None
    assert caught.value.retry_after.total_seconds() == 7
    assert_agent_message(caught.value, "7 segundos")
    assert len(canned.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_error_html_is_uncertain_and_never_retried(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
    status: int,
) -> None:
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR, status=status))

    # A gateway error can come after TusFacturas sent the e-mail, and it has no
    # idempotency: the outcome is unknown, not "nothing was sent".
    with pytest.raises(OutcomeUnknownError) as caught:
        await tf_client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == status
    assert error.provider_message is None  # the HTML page is not quoted
    assert error.may_have_sent
    assert not error.safe_to_retry
    assert_agent_message(error, "TusFacturas", "pudo haber salido")
    # No idempotency at TusFacturas: the client retries 5xx zero times (max_retries=2).
    assert len(tf_emulator.requests) == 1
    assert tf_emulator.sends == []


async def test_wrong_base_url_path_is_a_misconfigured_endpoint(
    tf_emulator: TusFacturasEmulator,
    make_tf_client: MakeClient,
    assert_agent_message: Callable[..., str],
) -> None:
    # "/app/api" instead of "/app/api/v2": the route does not exist (plain 404).
    client = make_tf_client(tf_emulator.base_url.removesuffix("/v2"))

    with pytest.raises(AuthenticationError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == 404
    assert "TUSFACTURAS_BASE_URL" in error.detail
    assert_agent_message(error, "mal configurada")
    assert tf_emulator.requests[0].path == "/app/api/facturacion/reenviar"
    assert tf_emulator.sends == []


async def test_redirect_is_not_followed_and_is_a_misconfigured_endpoint(
    canned: CannedServer, make_tf_client: MakeClient, assert_agent_message: Callable[..., str]
) -> None:
    # e.g. http:// configured where the provider redirects to https://
    canned.reply(301, "", headers={"Location": "https://www.tusfacturas.app/app/api/v2/"})

    with pytest.raises(AuthenticationError) as caught:
        await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert caught.value.status_code == 301
    assert_agent_message(caught.value, "mal configurada")
    assert len(canned.requests) == 1  # the POST was not replayed elsewhere


async def test_unsupported_scheme_is_a_misconfigured_endpoint(make_tf_client: MakeClient) -> None:
    client = make_tf_client("ftp://127.0.0.1:9/app/api/v2")

    with pytest.raises(AuthenticationError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)

    assert "misconfigured" in caught.value.detail


# -- unusable answers and transport failures ------------------------------------------------


async def test_malformed_json_on_200_is_outcome_unknown(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
) -> None:
    tf_emulator.inject(Fault(FaultKind.MALFORMED_JSON))

    with pytest.raises(OutcomeUnknownError) as caught:
        await tf_client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    assert error.status_code == 200
    assert error.may_have_sent
    assert error.offers_retry
    assert_agent_message(error, "TusFacturas", "pudo haber salido")
    assert len(tf_emulator.requests) == 1


async def test_hang_is_a_read_timeout_with_outcome_unknown_and_no_retry(
    tf_emulator: TusFacturasEmulator,
    make_tf_client: MakeClient,
    hang_options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    tf_emulator.inject(Fault(FaultKind.HANG))
    client = make_tf_client(tf_emulator.base_url, http_options=hang_options)

    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)
    elapsed = time.monotonic() - started

    assert hang_options.read_timeout <= elapsed < 1.5
    assert caught.value.status_code is None
    assert "ReadTimeout" in caught.value.detail
    assert_agent_message(caught.value, "TusFacturas")
    assert len(tf_emulator.requests) == 1


async def test_connection_reset_is_outcome_unknown_and_not_retried(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    assert_agent_message: Callable[..., str],
) -> None:
    tf_emulator.inject(Fault(FaultKind.RESET))

    with pytest.raises(OutcomeUnknownError) as caught:
        await tf_client.resend(voucher(), idempotency_key=KEY)

    assert caught.value.may_have_sent
    assert_agent_message(caught.value, "TusFacturas")
    assert len(tf_emulator.requests) == 1


async def test_connection_refused_is_unavailable_after_every_attempt(
    closed_port: int,
    make_tf_client: MakeClient,
    options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    client = make_tf_client(f"http://127.0.0.1:{closed_port}/app/api/v2")

    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(ProviderUnavailableError) as caught,
    ):
        await client.resend(voucher(), idempotency_key=KEY)

    error = caught.value
    attempts = options.max_retries + 1
    assert f"after {attempts} attempts" in error.detail
    assert error.status_code is None
    assert error.safe_to_retry
    assert_agent_message(error, "TusFacturas", "no se envió nada")
    retries = [e for e in logs if e["event"] == "provider_retry"]
    assert [e["attempt"] for e in retries] == list(range(1, attempts))
    assert {e["reason"] for e in retries} == {"ConnectError"}
    assert {e["provider"] for e in retries} == {"tusfacturas"}


# -- answers the emulator never gives (canned server) -------------------------------------


async def test_success_without_rta_has_no_provider_message(
    canned: CannedServer, make_tf_client: MakeClient
) -> None:
    canned.reply(200, {"error": "N"})

    result = await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert result.provider_message is None
    assert canned.requests[0].path == "/facturacion/reenviar"


@pytest.mark.parametrize(
    "body",
    [{"error": "X"}, {"rta": "ok"}, ["error", "N"], "", "null"],
    ids=["unknown-flag", "no-flag", "json-list", "empty", "json-null"],
)
async def test_200_without_error_flag_is_outcome_unknown(
    canned: CannedServer, make_tf_client: MakeClient, body: object
) -> None:
    canned.reply(200, body, content_type="application/json")

    with pytest.raises(OutcomeUnknownError) as caught:
        await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert caught.value.status_code == 200
    assert len(canned.requests) == 1


async def test_error_s_about_credentials_is_an_authentication_error(
    canned: CannedServer, make_tf_client: MakeClient, assert_agent_message: Callable[..., str]
) -> None:
    canned.reply(200, {"error": "S", "errores": ["El apitoken ingresado no es válido"]})

    with pytest.raises(AuthenticationError) as caught:
        await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert caught.value.status_code == 200
    assert caught.value.provider_message == "El apitoken ingresado no es válido"
    assert_agent_message(caught.value, "TusFacturas")


async def test_error_s_with_a_single_string_and_int_codes(
    canned: CannedServer, make_tf_client: MakeClient
) -> None:
    canned.reply(
        200,
        {
            "error": "S",
            "errores": "  Comprobante anulado  ",
            "error_details": [{"code": 8020, "text": "Comprobante anulado"}, "junk", {}],
        },
    )

    with pytest.raises(RejectedError) as caught:
        await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert caught.value.messages == ("Comprobante anulado",)
    assert caught.value.codes == ("8020",)
    assert caught.value.reason is None


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, InvalidRequestError),
        (405, AuthenticationError),
        (409, RejectedError),
    ],
)
async def test_other_statuses(
    canned: CannedServer,
    make_tf_client: MakeClient,
    assert_agent_message: Callable[..., str],
    status: int,
    error_type: type[Exception],
) -> None:
    canned.reply(status, "Bad")

    with pytest.raises(error_type) as caught:
        await make_tf_client(canned.base_url).resend(voucher(), idempotency_key=KEY)

    assert getattr(caught.value, "status_code", None) == status
    assert_agent_message(caught.value)
    assert len(canned.requests) == 1


@pytest.mark.parametrize(
    ("text", "precondition"),
    [
        (
            "No se puede reenviar: el perfil del cliente no tenia configurado el envio por e-mail",
            True,
        ),
        ("El cliente no tiene habilitado el envío por correo", True),
        # An address problem is not the "send by e-mail" precondition: the provider's own
        # words are shown instead of a sentence that would send the agent the wrong way.
        ("El e-mail del cliente no es valido", False),
    ],
)
async def test_only_the_send_by_email_setting_reads_as_the_precondition(
    canned: CannedServer, make_tf_client: MakeClient, text: str, precondition: bool
) -> None:
    body = {"error": "S", "errores": [text], "error_details": [{"code": "TFC-9", "text": text}]}
    canned.reply(200, body)
    client = make_tf_client(canned.base_url)

    with pytest.raises(RejectedError) as caught:
        await client.resend(voucher(), idempotency_key=KEY)

    assert (caught.value.reason == REJECTION_EMAIL_SENDING_OFF) is precondition
    assert caught.value.codes == ("TFC-9",)
