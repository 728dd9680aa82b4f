"""The registry and `ConfiguredProviders`: dispatch, "not configured", the provider log line,
requests read back by provider key, and lookups where a provider declares them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from typing import Any
from uuid import UUID

import pytest
import structlog
from pydantic import SecretStr

from devkit.emulators import Fault, FaultKind, LummyEmulator, TusFacturasEmulator
from devkit.emulators import TusFacturasCredentials as EmulatorCredentials
from providers.base import ResendResult
from providers.errors import NotFoundError, OutcomeUnknownError, ProviderNotConfiguredError
from providers.errors import ProviderUnavailableError as Unavailable
from providers.http import HttpOptions
from providers.lummy.client import LummyClient
from providers.lummy.model import LummyConfig, LummyInvoice
from providers.registry import ConfiguredProviders, builtin_registry
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.model import (
    TusFacturasConfig,
    TusFacturasCredentials,
    TusFacturasVoucher,
)
from tests.providers.conftest import voucher

pytestmark = pytest.mark.timeout(10)

REGISTRY = builtin_registry()

SEED_ID = "550e8400-e29b-41d4-a716-446655440000"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
LUMMY_SEED = LummyInvoice.model_validate({"invoice_id": SEED_ID})
TF_SEED = TusFacturasVoucher(tipo="FACTURA B", punto_venta=2, numero=6)


def lummy_config(emulator: LummyEmulator) -> LummyConfig:
    return LummyConfig(
        base_url=emulator.base_url,
        api_key=SecretStr(emulator.api_key),
        organization_id=emulator.organization_id,
    )


def tf_config(emulator: TusFacturasEmulator, creds: EmulatorCredentials) -> TusFacturasConfig:
    return TusFacturasConfig(
        base_url=emulator.base_url,
        default_credentials=TusFacturasCredentials(
            apikey=SecretStr(creds.apikey),
            apitoken=SecretStr(creds.apitoken),
            usertoken=SecretStr(creds.usertoken),
        ),
    )


def resend_lines(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    """The provider layer's own line per call (the canonical audit line is the caller's)."""
    return [
        entry for entry in logs if entry["event"] in {"provider_call", "provider_unexpected_error"}
    ]


@pytest.fixture
async def both(
    lummy_emulator: LummyEmulator,
    tf_emulator: TusFacturasEmulator,
    tf_all: EmulatorCredentials,
    options: HttpOptions,
) -> AsyncIterator[ConfiguredProviders]:
    providers = ConfiguredProviders(
        REGISTRY,
        {
            "tusfacturas": TusFacturasClient(tf_config(tf_emulator, tf_all), options),
            "lummy": LummyClient(lummy_config(lummy_emulator), options),
        },
    )
    yield providers
    await providers.aclose()


@pytest.fixture
async def none_configured(options: HttpOptions) -> AsyncIterator[ConfiguredProviders]:
    providers = ConfiguredProviders(REGISTRY, {})
    yield providers
    await providers.aclose()


# -- configuration --------------------------------------------------------------------


async def test_is_configured_follows_the_configs(
    both: ConfiguredProviders, none_configured: ConfiguredProviders, lummy_client: LummyClient
) -> None:
    only_lummy = ConfiguredProviders(REGISTRY, {"lummy": lummy_client})

    assert both.is_configured("tusfacturas")
    assert both.is_configured("lummy")
    assert not none_configured.is_configured("tusfacturas")
    assert not none_configured.is_configured("lummy")
    assert only_lummy.is_configured("lummy")
    assert not only_lummy.is_configured("tusfacturas")


@pytest.mark.parametrize(
    ("request_", "provider"),
    [(LUMMY_SEED, "lummy"), (TF_SEED, "tusfacturas")],
    ids=["lummy", "tusfacturas"],
)
async def test_unconfigured_provider_is_not_configured_and_logged(
    none_configured: ConfiguredProviders,
    assert_agent_message: Callable[..., str],
    request_: LummyInvoice | TusFacturasVoucher,
    provider: str,
) -> None:
    key = str(uuid.uuid4())

    with structlog.testing.capture_logs() as logs, pytest.raises(ProviderNotConfiguredError) as e:
        await none_configured.resend(request_, idempotency_key=key)

    assert e.value.provider == provider
    assert e.value.field is None
    assert not e.value.offers_retry
    assert_agent_message(e.value, f"{REGISTRY[provider].label} no está configurado en el bot")
    [line] = resend_lines(logs)
    assert line["outcome"] == "not_configured"
    assert line["provider"] == provider
    assert line["reference"] == request_.reference
    assert line["idempotency_key"] == key
    assert line["log_level"] == "debug"


async def test_dispatch_reaches_only_the_right_provider(
    both: ConfiguredProviders, lummy_emulator: LummyEmulator, tf_emulator: TusFacturasEmulator
) -> None:
    lummy_result = await both.resend(LUMMY_SEED, idempotency_key=str(uuid.uuid4()))
    tf_result = await both.resend(TF_SEED, idempotency_key=str(uuid.uuid4()))

    assert isinstance(lummy_result, ResendResult)
    assert lummy_result.provider == "lummy"
    assert tf_result.provider == "tusfacturas"
    assert len(lummy_emulator.requests) == len(tf_emulator.requests) == 1


# -- the provider layer's log line -------------------------------------------------------------


async def test_lummy_success_logs_one_line_with_request_id(
    both: ConfiguredProviders,
    lummy_emulator: LummyEmulator,
    assert_no_secrets: Callable[[object], None],
) -> None:
    key = str(uuid.uuid4())

    with structlog.testing.capture_logs() as logs:
        result = await both.resend(LUMMY_SEED, idempotency_key=key)

    [line] = resend_lines(logs)
    assert line["log_level"] == "debug"
    assert line["provider"] == "lummy"
    assert line["reference"] == SEED_ID
    assert line["outcome"] == "success"
    assert isinstance(line["latency_ms"], int)
    assert line["latency_ms"] >= 0
    assert line["request_id"] == result.request_id == lummy_emulator.sends[0].request_id
    assert line["idempotency_key"] == key
    assert_no_secrets(logs)


async def test_tusfacturas_success_logs_one_line_without_request_id(
    both: ConfiguredProviders, assert_no_secrets: Callable[[object], None]
) -> None:
    key = str(uuid.uuid4())

    with structlog.testing.capture_logs() as logs:
        await both.resend(TF_SEED, idempotency_key=key)

    [line] = resend_lines(logs)
    assert line["provider"] == "tusfacturas"
    assert line["reference"] == "FACTURA B 0002-00000006"
    assert line["outcome"] == "success"
    assert line["request_id"] is None
    assert line["idempotency_key"] == key
    assert isinstance(line["latency_ms"], int)
    assert_no_secrets(logs)  # the credentials travel in the body; never in the log


async def test_provider_failure_logs_one_warning_with_request_id_and_status(
    both: ConfiguredProviders, assert_no_secrets: Callable[[object], None]
) -> None:
    key = str(uuid.uuid4())
    missing = LummyInvoice.model_validate({"invoice_id": UNKNOWN_ID})

    with structlog.testing.capture_logs() as logs, pytest.raises(NotFoundError) as caught:
        await both.resend(missing, idempotency_key=key)

    [line] = resend_lines(logs)
    assert line["log_level"] == "debug"
    assert line["outcome"] == "not_found"
    assert line["reference"] == UNKNOWN_ID
    assert line["request_id"] == caught.value.request_id
    assert line["request_id"] is not None
    assert line["status_code"] == 404
    assert line["idempotency_key"] == key
    assert isinstance(line["latency_ms"], int)
    assert "Invoice not found" in line["detail"]
    assert_no_secrets(logs)


async def test_automatic_retries_still_log_one_provider_call(
    both: ConfiguredProviders, lummy_emulator: LummyEmulator, options: HttpOptions
) -> None:
    lummy_emulator.inject(Fault(FaultKind.SERVER_ERROR))

    with structlog.testing.capture_logs() as logs, pytest.raises(Unavailable):
        await both.resend(LUMMY_SEED, idempotency_key=str(uuid.uuid4()))

    [line] = resend_lines(logs)
    assert line["outcome"] == "unavailable"
    assert line["status_code"] == 503
    assert len([e for e in logs if e["event"] == "provider_retry"]) == options.max_retries


class ExplodingLummyClient(LummyClient):
    """A client with a bug: it fails with something that is not a ProviderError."""

    async def resend(self, invoice: LummyInvoice, *, idempotency_key: str) -> ResendResult:
        raise RuntimeError("boom: unexpected state")


async def test_unexpected_exception_becomes_outcome_unknown_and_is_logged(
    lummy_emulator: LummyEmulator,
    options: HttpOptions,
    assert_agent_message: Callable[..., str],
) -> None:
    client = ExplodingLummyClient(lummy_config(lummy_emulator), options)
    providers = ConfiguredProviders(REGISTRY, {"lummy": client})
    key = str(uuid.uuid4())
    try:
        with structlog.testing.capture_logs() as logs, pytest.raises(OutcomeUnknownError) as e:
            await providers.resend(LUMMY_SEED, idempotency_key=key)
    finally:
        await providers.aclose()

    error = e.value
    assert isinstance(error.__cause__, RuntimeError)
    assert error.provider == "lummy"
    assert error.may_have_sent
    assert "RuntimeError" in error.detail
    assert_agent_message(error, "Lummy", "pudo haber salido")
    [line] = resend_lines(logs)
    assert line["log_level"] == "error"
    assert line["exc_info"] is True
    assert line["provider"] == "lummy"
    assert line["idempotency_key"] == key
    assert line["detail"] == "unexpected RuntimeError"
    assert isinstance(line["latency_ms"], int)


# -- requests read back from their JSON form -------------------------------------------


def test_requests_read_back_by_provider_key() -> None:
    invoice = LummyInvoice(invoice_id=UUID(SEED_ID.upper()), email="a@b.com")
    registry = builtin_registry()
    assert registry.request_from_json("lummy", invoice.model_dump(mode="json")) == invoice
    v = voucher(op="C")
    assert registry.request_from_json("tusfacturas", v.model_dump(mode="json")) == v
    assert v.qualifiers == ("compra",)
    with pytest.raises(ValueError, match="unknown provider"):
        registry.request_from_json("sap", {"invoice_id": SEED_ID})
    with pytest.raises(ValueError, match="invoice_id"):
        registry.request_from_json("lummy", {"invoice_id": "not a uuid"})


# -- lookups: a capability the provider declares ---------------------------------------


async def test_configured_providers_look_up_only_where_declared(
    tf_emulator: TusFacturasEmulator,
    tf_client: TusFacturasClient,
    lummy_client: LummyClient,
) -> None:
    registry = builtin_registry()
    providers = ConfiguredProviders(registry, {"tusfacturas": tf_client, "lummy": lummy_client})
    assert all(provider.can_look_up for provider in registry.values())

    facts = await providers.lookup(TF_SEED)
    missing = ConfiguredProviders(registry, {"tusfacturas": tf_client})

    assert facts is not None
    assert facts.customer_name == "Panadería La Espiga S.R.L."
    assert await missing.lookup(LUMMY_SEED) is None
    assert not missing.can_look_up(LUMMY_SEED)
