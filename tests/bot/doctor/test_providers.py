"""The provider checks against the emulators: the harmless calls they make, and how each
answer reads (wrong credentials, a wrong base URL, down, slow)."""

from __future__ import annotations

from typing import Any

from bot.doctor.checks import CheckResult, Status
from bot.doctor.providers import provider_checks
from devkit.emulators import LOOKUP_ROUTE, Fault, FaultKind, LummyEmulator, TusFacturasEmulator
from devkit.emulators.lummy import CUSTOMERS_ROUTE
from tests.bot.doctor.conftest import settings_from

TIMEOUT = 2.0


async def run(environment: dict[str, str], **changes: Any) -> dict[str, CheckResult]:
    """The provider checks of ``environment`` with ``changes``, by key."""
    settings = settings_from(environment, **changes)
    return {result.key: result for result in await provider_checks(settings, timeout=TIMEOUT)}


async def test_a_voucher_that_cannot_exist_per_credential_set(
    environment: dict[str, str], tusfacturas: TusFacturasEmulator
) -> None:
    results = await run(environment)

    assert results["provider.tusfacturas"].status is Status.PASSED
    assert results["provider.tusfacturas.2"].status is Status.PASSED
    asked = [request.json["comprobante"] for request in tusfacturas.requests]
    assert [request.route for request in tusfacturas.requests] == [LOOKUP_ROUTE, LOOKUP_ROUTE]
    assert asked == [
        # The default set is asked about a punto de venta without a set of its own.
        {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "1", "numero": "99999999"},
        {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "2", "numero": "99999999"},
    ]
    assert tusfacturas.sends == []


async def test_a_wrong_set_for_one_punto_de_venta(environment: dict[str, str]) -> None:
    wrong = {2: {"apikey": "k", "apitoken": "t", "usertoken": "u"}}

    results = await run(environment, tusfacturas_credentials=wrong)

    assert results["provider.tusfacturas"].status is Status.PASSED
    refused = results["provider.tusfacturas.2"]
    assert (refused.title, refused.status) == ("TusFacturas (punto de venta 2)", Status.FAILED)
    assert refused.fix == 'Check TUSFACTURAS_CREDENTIALS["2"] against the TusFacturas panel.'


async def test_lummy_wrong_key_or_organization(environment: dict[str, str]) -> None:
    key = (await run(environment, lummy_api_key="lummy-wrong"))["provider.lummy"]
    organization = (await run(environment, lummy_organization_id="another-org"))["provider.lummy"]

    assert key.summary == "Lummy refused the credentials (HTTP 401: Invalid credentials)"
    assert organization.summary.startswith("Lummy refused the credentials (HTTP 403")
    assert organization.fix is not None
    assert "LUMMY_ORGANIZATION_ID" in organization.fix


async def test_a_base_url_that_is_not_the_api(
    environment: dict[str, str], lummy: LummyEmulator
) -> None:
    without_version = lummy.base_url.removesuffix("/v1")

    result = (await run(environment, lummy_base_url=without_version))["provider.lummy"]

    assert result.status is Status.FAILED
    assert result.summary.startswith(f"{without_version}/ does not answer as Lummy's API (HTTP 404")
    assert result.fix == "Check LUMMY_BASE_URL (the API's base URL)."


async def test_a_provider_down_or_too_slow(
    environment: dict[str, str], tusfacturas: TusFacturasEmulator, lummy: LummyEmulator
) -> None:
    tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=502), route=LOOKUP_ROUTE)
    lummy.inject(Fault(FaultKind.HANG), route=CUSTOMERS_ROUTE)

    results = await run(environment)

    assert results["provider.tusfacturas"].summary.startswith("TusFacturas failed on its side")
    assert results["provider.tusfacturas.2"].summary.startswith("TusFacturas failed on its side")
    slow = results["provider.lummy"]
    assert slow.status is Status.FAILED
    assert slow.summary.startswith("Lummy gave no usable answer (no answer in time")


async def test_no_provider_configured(environment: dict[str, str]) -> None:
    results = await run(
        environment,
        tusfacturas_apikey=None,
        tusfacturas_credentials={},
        lummy_api_key=None,
    )

    assert list(results) == ["providers", "provider.tusfacturas", "provider.lummy"]
    assert results["providers"].summary == "none is configured"
    assert results["provider.lummy"].status is Status.SKIPPED
