"""The error taxonomy shared by both providers.

Modelled on openai-python/stripe-python: one base class, a handful of
subclasses that say what the agent can do about it, and the provider's request
id carried along. ``detail`` is the technical story for logs (English, never a
secret); ``agent_message`` is the short Spanish sentence for the agent.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar, TypedDict, Unpack

from bot import strings
from providers.base import Provider


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
        provider: Provider,
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
    def agent_message(self) -> str:
        """What happened and what to do next, in Spanish, for the agent."""
        return strings.PROVIDER_ERRORS[self.outcome].format(provider=self.provider.display_name)

    @property
    def offers_retry(self) -> bool:
        """Whether the agent should be offered a retry of the same request."""
        return self.safe_to_retry or self.may_have_sent

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider.value!r}, "
            f"status_code={self.status_code!r}, request_id={self.request_id!r}, "
            f"detail={self.detail!r})"
        )


class ProviderNotConfiguredError(ProviderError):
    """The bot has no credentials for this provider (or this punto de venta)."""

    outcome = Outcome.NOT_CONFIGURED

    def __init__(self, detail: str, *, provider: Provider, punto_venta: int | None = None) -> None:
        super().__init__(detail, provider=provider)
        self.punto_venta = punto_venta

    @property
    def agent_message(self) -> str:
        if self.punto_venta is not None:
            return strings.NOT_CONFIGURED_FOR_PUNTO_VENTA.format(
                provider=self.provider.display_name, punto_venta=self.punto_venta
            )
        return super().agent_message


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
        provider: Provider,
        field: str | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.field = field

    @property
    def agent_message(self) -> str:
        if self.field is not None and self.field in strings.INVALID_FIELD:
            return strings.INVALID_FIELD[self.field]
        return super().agent_message


class NotFoundError(ProviderError):
    """The provider has no such invoice or voucher."""

    outcome = Outcome.NOT_FOUND


class RateLimitedError(ProviderError):
    """Too many re-sends; nothing was sent. ``retry_after`` says when to try again, if known."""

    outcome = Outcome.RATE_LIMITED

    def __init__(
        self,
        detail: str,
        *,
        provider: Provider,
        limit_per_hour: int | None = None,
        retry_after: timedelta | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.limit_per_hour = limit_per_hour
        self.retry_after = retry_after

    @property
    def agent_message(self) -> str:
        parts = [super().agent_message]
        if self.limit_per_hour is not None:
            parts.append(strings.RATE_LIMIT_PER_HOUR.format(limit=self.limit_per_hour))
        if self.retry_after is not None:
            parts.append(strings.RETRY_IN.format(wait=strings.format_wait(self.retry_after)))
        return " ".join(parts)


class RejectedError(ProviderError):
    """The provider answered and refused the re-send with its own messages and codes."""

    outcome = Outcome.REJECTED

    def __init__(
        self,
        detail: str,
        *,
        provider: Provider,
        messages: tuple[str, ...] = (),
        codes: tuple[str, ...] = (),
        email_not_enabled: bool = False,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(detail, provider=provider, **context)
        self.messages = messages
        self.codes = codes
        #: TusFacturas only re-sends vouchers whose customer had "send by e-mail" on.
        self.email_not_enabled = email_not_enabled
        if self.provider_message is None and messages:
            self.provider_message = " ".join(messages)

    @property
    def agent_message(self) -> str:
        if self.email_not_enabled:
            return strings.EMAIL_NOT_ENABLED
        return super().agent_message


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or failed (5xx): nothing was sent, retrying is safe."""

    outcome = Outcome.UNAVAILABLE
    safe_to_retry = True


class OutcomeUnknownError(ProviderError):
    """The request may have reached the provider but no usable answer came back."""

    outcome = Outcome.UNKNOWN
    may_have_sent = True
