"""The provider checks: each configured credential set, with a call that changes nothing.

TusFacturas: ``consulta`` (not billed, e-mails nobody) of a voucher that cannot exist,
once per credential set; "not found" means the credentials were accepted. Lummy:
``GET customers?limit=1``. Each answer is read through the provider's error taxonomy,
so wrong credentials, a wrong base URL and an unreachable provider read differently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from bot.config import Settings
from bot.doctor.checks import CheckResult, bounded, failed, passed, skipped
from providers.base import ProviderSettings
from providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from providers.http import HttpOptions, HttpProviderClient, error_for_status, json_object
from providers.lummy.model import KEY as LUMMY_KEY
from providers.lummy.model import LummyConfig, LummySettings
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.model import KEY as TUSFACTURAS_KEY
from providers.tusfacturas.model import NUMERO_MAX, TusFacturasSettings, TusFacturasVoucher

#: The voucher looked up to prove a TusFacturas credential set, with the highest number
#: there is.
_PROBE_TIPO: Final = "FACTURA B"
#: The share of a check's time its provider call may take.
_CALL_SHARE: Final = 0.8
#: Statuses with which a provider says it will not take these credentials.
_REFUSED: Final = frozenset({200, 401, 403})


@dataclass(frozen=True)
class CredentialSet:
    """One set of credentials to prove, and where it is configured."""

    key: str
    title: str
    #: The variables that hold it, for the fix.
    variables: str
    base_url_variable: str
    base_url: str


async def provider_checks(
    settings: Settings,
    *,
    timeout: float,  # noqa: ASYNC109 - each check is bounded by it
) -> list[CheckResult]:
    """One line per credential set of each configured provider; unconfigured ones skipped."""
    # Within the check's bound, so that the provider's own timeout is what gets reported.
    seconds = timeout * _CALL_SHARE
    options = replace(
        settings.http_options(), connect_timeout=seconds, read_timeout=seconds, max_retries=0
    )
    results: list[CheckResult] = []
    configured = 0
    for key, provider in settings.registry.items():
        own = settings.providers.get(key)
        if own is None or not own.is_configured():
            results.append(skipped(f"provider.{key}", provider.label, "not configured"))
            continue
        configured += 1
        check = _CHECKS.get(key)
        if check is None:
            note = "no credentials check known for it"
            results.append(skipped(f"provider.{key}", provider.label, note))
            continue
        results.extend(await check(own, options, timeout))
    if not configured:
        fix = (
            "Set the credentials of at least one provider (TUSFACTURAS_* or LUMMY_*; "
            "see .env.example)."
        )
        results.insert(0, failed("providers", "Providers", "none is configured", fix=fix))
    return results


async def _prove(
    credential_set: CredentialSet,
    label: str,
    call: Awaitable[object],
    *,
    timeout: float,  # noqa: ASYNC109 - the bound of the call
    accepted: tuple[type[ProviderError], ...] = (),
) -> CheckResult:
    """Make ``call`` (bounded); an answer, or an ``accepted`` error, proves the credentials."""

    async def attempt() -> CheckResult:
        try:
            await call
        except accepted:
            pass
        except ProviderError as exc:
            return _failure(credential_set, label, exc)
        return passed(credential_set.key, credential_set.title, f"{label} accepted the credentials")

    fix = (
        f"Check {credential_set.base_url_variable} and that this host reaches it "
        "(DNS, firewall, proxy)."
    )
    return await bounded(
        attempt(), key=credential_set.key, title=credential_set.title, timeout=timeout, fix=fix
    )


async def _tusfacturas(
    settings: ProviderSettings,
    options: HttpOptions,
    timeout: float,  # noqa: ASYNC109 - each call is bounded by it
) -> list[CheckResult]:
    """The default credential set, then the set of each punto de venta, one after the other
    (TusFacturas asks clients not to call it in parallel)."""
    assert isinstance(settings, TusFacturasSettings)
    config = settings.config()
    if config is None:
        return []
    client = TusFacturasClient(config, options)
    puntos = sorted(config.credentials_by_punto_venta)
    sets: list[tuple[int, str, str, str]] = []
    if config.default_credentials is not None:
        # Any punto de venta without a set of its own goes with the default one.
        unused = next(pv for pv in range(1, len(puntos) + 2) if pv not in puntos)
        variables = "TUSFACTURAS_APIKEY, TUSFACTURAS_APITOKEN and TUSFACTURAS_USERTOKEN"
        sets.append((unused, "", "default credentials", variables))
    sets.extend(
        (pv, f".{pv}", f"punto de venta {pv}", f'TUSFACTURAS_CREDENTIALS["{pv}"]') for pv in puntos
    )
    results: list[CheckResult] = []
    try:
        for punto_venta, suffix, what, variables in sets:
            credential_set = CredentialSet(
                key=f"provider.{TUSFACTURAS_KEY}{suffix}",
                title=f"TusFacturas ({what})",
                variables=variables,
                base_url_variable="TUSFACTURAS_BASE_URL",
                base_url=str(settings.base_url),
            )
            voucher = TusFacturasVoucher(
                tipo=_PROBE_TIPO, punto_venta=punto_venta, numero=NUMERO_MAX
            )
            # The voucher that cannot exist: "not found" means the credentials were accepted.
            lookup = client.lookup(voucher)
            results.append(
                await _prove(
                    credential_set,
                    "TusFacturas",
                    lookup,
                    timeout=timeout,
                    accepted=(NotFoundError,),
                )
            )
    finally:
        await client.aclose()
    return results


class _LummyCustomers(HttpProviderClient[LummyConfig]):
    """``GET customers?limit=1``: the smallest authenticated read Lummy documents."""

    provider = LUMMY_KEY

    def __init__(self, config: LummyConfig, options: HttpOptions) -> None:
        super().__init__(config, options)
        self._headers = config.headers()

    async def first_customer(self) -> None:
        """Raise the provider error for anything but a success."""
        response = await self._get("customers?limit=1", headers=self._headers)
        if response.is_success:
            return
        envelope = json_object(response)
        error = envelope.get("error") if envelope else None
        message = error.get("message") if isinstance(error, Mapping) else None
        raise error_for_status(self.provider, response, message=str(message) if message else None)


async def _lummy(
    settings: ProviderSettings,
    options: HttpOptions,
    timeout: float,  # noqa: ASYNC109 - each call is bounded by it
) -> list[CheckResult]:
    assert isinstance(settings, LummySettings)
    config = settings.config()
    if config is None:
        return []
    credential_set = CredentialSet(
        key=f"provider.{LUMMY_KEY}",
        title="Lummy",
        variables="LUMMY_API_KEY, LUMMY_ORGANIZATION_ID (and LUMMY_ACCESS_TOKEN, when set)",
        base_url_variable="LUMMY_BASE_URL",
        base_url=config.base_url,
    )
    client = _LummyCustomers(config, options)
    try:
        return [await _prove(credential_set, "Lummy", client.first_customer(), timeout=timeout)]
    finally:
        await client.aclose()


ProviderCheck = Callable[[ProviderSettings, HttpOptions, float], Awaitable[list[CheckResult]]]
#: The credential checks of the providers the bot ships with, by key.
_CHECKS: Final[Mapping[str, ProviderCheck]] = {TUSFACTURAS_KEY: _tusfacturas, LUMMY_KEY: _lummy}


def _failure(credential_set: CredentialSet, label: str, exc: ProviderError) -> CheckResult:
    """What a provider error says about the configuration, and what to do."""
    key, title, detail = credential_set.key, credential_set.title, exc.detail
    url, url_variable = credential_set.base_url, credential_set.base_url_variable
    status = exc.status_code
    if isinstance(exc, AuthenticationError) and status in _REFUSED:
        summary = f"{label} refused the credentials ({detail})"
        fix = f"Check {credential_set.variables} against the {label} panel."
    elif isinstance(exc, AuthenticationError | NotFoundError | InvalidRequestError):
        summary = f"{url} does not answer as {label}'s API ({detail})"
        fix = f"Check {url_variable} (the API's base URL)."
    elif isinstance(exc, ProviderUnavailableError) and status is None:
        summary = f"{label} could not be reached at {url} ({detail})"
        fix = f"Check {url_variable} and that this host reaches it (DNS, firewall, proxy)."
    elif isinstance(exc, RateLimitedError):
        summary = f"{label} throttled the call ({detail})"
        fix = "Run the doctor again in a moment."
    elif status is not None and status >= 500:
        summary = f"{label} failed on its side (HTTP {status})"
        fix = f"Try again later; if it lasts, ask {label}'s support."
    else:
        summary = f"{label} gave no usable answer ({detail})"
        fix = f"Check {url_variable}, then try again."
    return failed(key, title, summary, fix=fix)
