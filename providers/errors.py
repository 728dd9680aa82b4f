"""The error taxonomy shared by both providers.

Modelled on openai-python/stripe-python: one base class, a handful of
subclasses that say what the agent can do about it, each carrying facts (the
outcome kind, the field, the limit, ``retry_after``, the provider's messages and
codes, the request id). ``detail`` is the technical story for logs (English,
never a secret). Turning the facts into words for people is the bot's job.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar, TypedDict, Unpack


class Outcome(StrEnum):
    """How a re-send attempt ended; the value is what logs and history record."""

    SUCCESS = "success"
    NOT_CONFIGURED = "not_configured"
    AUTHENTICATION_FAILED = "authentication_failed"
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


#: The customer profile did not have "send by e-mail" on when the invoice was issued,
#: so the provider will not re-send it (TusFacturas).
REJECTION_EMAIL_SENDING_OFF = "email_sending_off"


class ErrorContext(TypedDict, total=False):
    """What any provider error may carry besides its own fields."""

    request_id: str | None
    status_code: int | None
    provider_message: str | None


class ProviderError(Exception):
    """A re-send that did not succeed."""

    outcome: ClassVar[Outcome]
    #: True when nothing reached the customer for sure, so a retry cannot send twice.
    safe_to_retry: ClassVar[bool] = False
    #: True when the e-mail may have gone out although no success was seen.
    may_have_sent: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        request_id: str | None = None,
        status_code: int | None = None,
        provider_message: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.provider = provider
        self.request_id = request_id
        self.status_code = status_code
        self.provider_message = provider_message

    @property
    def offers_retry(self) -> bool:
        """Whether the agent should be offered a retry of the same request."""
        return self.safe_to_retry or self.may_have_sent

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, "
            f"status_code={self.status_code!r}, request_id={self.request_id!r}, "
            f"detail={self.detail!r})"
        )


class ProviderNotConfiguredError(ProviderError):
    """The bot has no credentials for this provider, or none for the value of one field
    (TusFacturas issues credentials per punto de venta: ``field="punto_venta"``)."""

    outcome = Outcome.NOT_CONFIGURED

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        field: str | None = None,
        field_value: str | None = None,
    ) -> None:
        super().__init__(detail, provider=provider)
        self.field = field
        self.field_value = field_value


class AuthenticationError(ProviderError):
    """The provider refused the bot's credentials, or the endpoint is misconfigured."""

    outcome = Outcome.AUTHENTICATION_FAILED


class InvalidRequestError(ProviderError):
    """The provider found the request malformed; ``field`` names the culprit when known."""

    outcome = Outcome.INVALID_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        field: str | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.field = field


class NotFoundError(ProviderError):
    """The provider has no such invoice or voucher."""

    outcome = Outcome.NOT_FOUND


class RateLimitedError(ProviderError):
    """Too many re-sends; nothing was sent. ``retry_after`` says when to try again, if known.

    ``throttled``: a momentary limit (requests per second), so trying again in a moment
    works and cannot send twice; otherwise the limit is on the invoice (per hour).
    """

    outcome = Outcome.RATE_LIMITED

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        limit_per_hour: int | None = None,
        retry_after: timedelta | None = None,
        throttled: bool = False,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.limit_per_hour = limit_per_hour
        self.retry_after = retry_after
        self.throttled = throttled

    @property
    def offers_retry(self) -> bool:
        """A momentary throttle is worth retrying at once; an hourly cap is not."""
        return self.throttled


class RejectedError(ProviderError):
    """The provider answered and refused the re-send with its own messages and codes."""

    outcome = Outcome.REJECTED

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        messages: tuple[str, ...] = (),
        codes: tuple[str, ...] = (),
        reason: str | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.messages = messages
        self.codes = codes
        #: A known cause the bot can explain, as a code (see `REJECTION_EMAIL_SENDING_OFF`).
        self.reason = reason
        if self.provider_message is None and messages:
            self.provider_message = " ".join(messages)


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or failed (5xx): nothing was sent, retrying is safe."""

    outcome = Outcome.UNAVAILABLE
    safe_to_retry = True


class OutcomeUnknownError(ProviderError):
    """The request may have reached the provider but no usable answer came back."""

    outcome = Outcome.UNKNOWN
    may_have_sent = True
