"""Lummy (Mexico, CFDI): re-send an invoice's PDF by e-mail.

Contract: ``POST {base}/invoices/{invoiceId}/resend-pdf`` answering in the
StandardResponse envelope (``requestId`` plus ``data`` or ``error``). Every
logical re-send carries one ``x-idempotency`` key, so a 5xx may be retried with
the same key; Lummy replays the first result instead of e-mailing twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import structlog
from pydantic import SecretStr

from providers.base import LummyInvoice, Provider, ResendResult
from providers.errors import (
    AuthenticationError,
    OutcomeUnknownError,
    ProviderError,
    RejectedError,
)
from providers.http import HttpOptions, HttpProviderClient, error_for_status, json_object

log = structlog.get_logger(__name__)

#: Lummy's documented cap on re-sends of one invoice.
RESENDS_PER_HOUR: Final = 10


@dataclass(frozen=True)
class LummyConfig:
    """Endpoint and credentials. The bearer token falls back to the API key."""

    base_url: str
    api_key: SecretStr
    organization_id: str
    access_token: SecretStr | None = None

    def headers(self) -> dict[str, str]:
        """The authentication headers Lummy's documentation asks for."""
        bearer = (self.access_token or self.api_key).get_secret_value()
        return {
            "Authorization": f"Bearer {bearer}",
            "x-organization-id": self.organization_id,
            "x-api-key": self.api_key.get_secret_value(),
        }


def _recipients(sent_to: object) -> tuple[str, ...]:
    if isinstance(sent_to, str):
        return tuple(part for part in re.split(r"[,;\s]+", sent_to) if part)
    if isinstance(sent_to, list):
        return tuple(str(item).strip() for item in sent_to if str(item).strip())
    return ()


def _sent_at(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        log.warning("lummy_bad_sent_at", sent_at=value[:64])
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_field(message: str | None, invoice: LummyInvoice) -> str | None:
    """The field a 400 is about: only the alternative e-mail can be named with confidence
    (the invoice id was already checked as a UUID before sending)."""
    text = (message or "").lower()
    if invoice.email and ("mail" in text or "correo" in text):
        return "email"
    return None


def _is_wrong_endpoint(status: int, message: str | None) -> bool:
    """A 404/405 about the route (``Cannot POST /path``, or no Lummy envelope at all)."""
    if status == 405:
        return True
    return status == 404 and (message is None or message.startswith("Cannot "))


class LummyClient(HttpProviderClient):
    """Re-sends Lummy invoice PDFs."""

    provider = Provider.LUMMY

    def __init__(
        self,
        config: LummyConfig,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config.base_url, options, transport=transport)
        self._config = config

    async def resend(self, invoice: LummyInvoice, *, idempotency_key: str) -> ResendResult:
        """E-mail the invoice PDF to the customer, or to ``invoice.email`` instead."""
        headers = {**self._config.headers(), "x-idempotency": idempotency_key}
        body = {"email": invoice.email} if invoice.email else {}
        response = await self._post(
            f"invoices/{invoice.invoice_id}/resend-pdf",
            json=body,
            headers=headers,
            retry_server_errors=True,
        )
        return self._interpret(invoice, response)

    def _interpret(self, invoice: LummyInvoice, response: httpx.Response) -> ResendResult:
        envelope = json_object(response)
        request_id = self._request_id(envelope, response)
        if response.is_success:
            data = envelope.get("data") if envelope else None
            if not isinstance(data, Mapping):
                raise OutcomeUnknownError(
                    f"HTTP {response.status_code} without a StandardResponse data object: "
                    f"{response.text[:200]!r}",
                    provider=self.provider,
                    request_id=request_id,
                    status_code=response.status_code,
                )
            if data.get("success") is not True:
                message = data.get("message")
                raise RejectedError(
                    "data.success is not true",
                    provider=self.provider,
                    messages=(message,) if isinstance(message, str) and message else (),
                    request_id=request_id,
                    status_code=response.status_code,
                )
            return ResendResult(
                provider=self.provider,
                reference=invoice.reference,
                recipients=_recipients(data.get("sentTo")) or _recipients(invoice.email),
                sent_at=_sent_at(data.get("sentAt")),
                request_id=request_id,
            )
        raise self._status_error(response, envelope, request_id, invoice)

    def _status_error(
        self,
        response: httpx.Response,
        envelope: Mapping[str, Any] | None,
        request_id: str | None,
        invoice: LummyInvoice,
    ) -> ProviderError:
        error = envelope.get("error") if envelope else None
        message = code = None
        if isinstance(error, Mapping):
            raw_message, raw_code = error.get("message"), error.get("code")
            message = str(raw_message) if raw_message else None
            code = str(raw_code) if raw_code else None
        if _is_wrong_endpoint(response.status_code, message):
            # The route itself is wrong: a base URL problem, not a missing invoice.
            return AuthenticationError(
                f"HTTP {response.status_code} from the endpoint; check LUMMY_BASE_URL",
                provider=self.provider,
                request_id=request_id,
                status_code=response.status_code,
                provider_message=message,
            )
        return error_for_status(
            self.provider,
            response,
            message=message,
            code=code,
            request_id=request_id,
            limit_per_hour=RESENDS_PER_HOUR,
            invalid_field=_error_field(message, invoice),
        )

    @staticmethod
    def _request_id(envelope: Mapping[str, Any] | None, response: httpx.Response) -> str | None:
        value = envelope.get("requestId") if envelope else None
        if isinstance(value, str) and value:
            return value
        header: str | None = response.headers.get("x-request-id")
        return header
