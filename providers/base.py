"""The provider interface: what every invoicing provider tells the bot about itself.

A provider package exposes one `InvoiceProvider` object: its key, brand label and
country; its settings (its own environment prefix), whose ``config()`` holds the
endpoint and credentials; its request model and what the reference parser accepts
for it; its form, as plain field descriptions; its client class, built from that
config, whose ``resend(request, *, idempotency_key)`` is the same for all; and
optional capabilities: an hourly quota, and a lookup of what the provider knows
about an invoice before it is sent (`InvoiceProvider.can_look_up`, answered by a
`LookupClient`). Nothing here knows Slack or Spanish: problems are codes, errors
and lookups are facts.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from providers.errors import ProviderNotConfiguredError
from providers.http import HttpOptions, ProviderConfig

if TYPE_CHECKING:  # customers.py reads problems with this module's FieldProblem
    from providers.customers import SearchKind


class ResendRequest(BaseModel):
    """What one re-send is about. Each provider subclasses it with its own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The key of the provider this request belongs to.
    provider: ClassVar[str]

    @property
    @abstractmethod
    def reference(self) -> str:
        """The invoice as agents write it (e.g. ``FACTURA B 0002-00000006``)."""

    @property
    def invoice_key(self) -> str:
        """A stable identity for history and duplicate checks."""
        return f"{self.provider}:{self.reference}"

    @property
    def alternative_email(self) -> str | None:
        """An address to send to instead of the customer's, when the provider allows one."""
        return None

    @property
    def qualifiers(self) -> tuple[str, ...]:
        """Codes for what the reference alone does not say (``compra``); the bot words them."""
        return ()

    @property
    def document_type(self) -> str | None:
        """The provider's own type of the document (``FACTURA B``), when it has types."""
        return None

    @property
    def short_reference(self) -> str:
        """The part of the reference people quote (``0002-00000006``, an id's first block)."""
        return self.reference


class ResendResult(BaseModel):
    """A successful re-send, as the provider reported it."""

    model_config = ConfigDict(frozen=True)

    provider: str
    reference: str
    #: Who the provider says it went to; empty when the provider does not say.
    recipients: tuple[str, ...] = ()
    sent_at: AwareDatetime | None = None
    request_id: str | None = None
    provider_message: str | None = None


class InvoiceStatus(StrEnum):
    """Where an invoice stands at the provider, as far as a lookup tells."""

    #: Issued and valid: the normal case.
    ISSUED = "issued"
    #: Approved, waiting in a queue to be issued later.
    QUEUED = "queued"
    #: Waiting for someone to approve it.
    AWAITING_APPROVAL = "awaiting_approval"
    #: Sent to be issued, and it failed.
    FAILED = "failed"
    #: Cancelled or voided.
    CANCELLED = "cancelled"
    #: A status the provider reported that the bot does not know.
    OTHER = "other"


class PaymentStatus(StrEnum):
    """Whether the customer paid the invoice, where the provider keeps an account."""

    PAID = "paid"
    UNPAID = "unpaid"
    PARTIAL = "partial"


class InvoiceFacts(BaseModel):
    """What a provider says about an invoice before (or after) it is re-sent.

    Every field is optional: providers tell what they know, and an answer in a shape
    nobody documented gives empty facts rather than an error. ``exists`` is False
    only when the provider said, clearly, that it has no such invoice.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    reference: str
    exists: bool = True
    #: The customer's legal name, as on the invoice.
    customer_name: str | None = None
    #: The customer's tax id and its kind (``CUIT``, ``DNI``, ``RFC``), as the provider spells them.
    customer_id_type: str | None = None
    customer_id: str | None = None
    #: The addresses a re-send goes to (the customer's, on file): empty when the customer
    #: has none, None when the provider did not say.
    recipients: tuple[str, ...] | None = None
    issued_on: date | None = None
    total: Decimal | None = None
    #: ISO 4217 when the provider's code maps to one (ARS, USD, MXN), else its own code.
    currency: str | None = None
    status: InvoiceStatus | None = None
    #: The provider's own words for the status, quoted next to the bot's.
    status_text: str | None = None
    #: A link to the PDF, when the provider gives one (it may expire).
    pdf_url: str | None = None
    #: The number customers see on the document when it differs from the reference
    #: (a CFDI's serie and folio).
    display_number: str | None = None
    payment: PaymentStatus | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing worth showing: the invoice exists and nothing else is known."""
        return self.exists and not any(
            (
                self.customer_name,
                self.recipients,
                self.issued_on,
                self.total is not None,
                self.status,
                self.pdf_url,
                self.display_number,
            )
        )


class Recognition(IntEnum):
    """How surely a text is one of a provider's references."""

    NO = 0
    #: It could be (numbers in the right shape, say).
    MAYBE = 1
    #: Its shape is this provider's own (a voucher type first, a UUID).
    SURE = 2


class FieldKind(StrEnum):
    """How a form field is entered."""

    TEXT = "text"
    EMAIL = "email"
    #: One of many choices, searchable (a long list).
    SELECT = "select"
    #: One of a few choices, all visible.
    RADIO = "radio"


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice field; ``group`` gathers choices under a heading."""

    value: str
    group: str | None = None


@dataclass(frozen=True)
class FormField:
    """One field of a provider's form. Labels and hints are the bot's business, by ``name``;
    ``label`` is only a fallback for a field the bot has no words for."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    choices: tuple[Choice, ...] = ()
    default: str | None = None
    #: An example value shown in the empty field (language-neutral: ``0002``, a UUID).
    example: str | None = None
    label: str | None = None
    #: Its choices are the provider's document types (the bot shows them by name).
    document_type: bool = False


@dataclass(frozen=True)
class FieldProblem:
    """Why a value cannot be used: a ``code`` the bot words, with the agent's ``text``
    and a ``limit`` where they help."""

    code: str
    text: str | None = None
    limit: int | None = None


#: The field name for problems about the whole input rather than one field.
WHOLE_INPUT = "text"


class InvalidReferenceError(ValueError):
    """Input that does not make a valid request.

    ``problems`` maps a form field name (or `WHOLE_INPUT`) to what is wrong with it.
    ``understood`` holds the values that could be read, so a form can be prefilled.
    """

    def __init__(
        self,
        problems: Mapping[str, FieldProblem],
        *,
        provider: str | None = None,
        understood: Mapping[str, str] | None = None,
    ) -> None:
        self.problems = dict(problems)
        self.provider = provider
        self.understood = dict(understood or {})
        super().__init__("; ".join(f"{name}: {p.code}" for name, p in self.problems.items()))


class EnvironmentSettings(BaseSettings):
    """Settings read from the environment or ``.env``, names in any case. Secrets are
    `SecretStr`; the bot's own settings and every provider's are read this way."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # A variable set empty (copied from a template, say) means "use the default".
        env_ignore_empty=True,
        # A validation error must not print the secrets it was given.
        hide_input_in_errors=True,
    )


def blank_is_unset(value: object) -> object:
    """A field validator (``mode="before"``): a value of only spaces is no value."""
    return None if isinstance(value, str) and not value.strip() else value


class ProviderSettings(EnvironmentSettings):
    """Base for a provider's settings, read with the provider's own prefix."""

    @abstractmethod
    def config(self) -> ProviderConfig | None:
        """The endpoint and credentials its client is built from, or None without credentials."""

    def is_configured(self) -> bool:
        """Whether these settings hold the credentials the provider needs."""
        return self.config() is not None

    def as_environment(self) -> dict[str, str]:
        """The set values as environment variables, secrets in clear (for a child process)."""
        prefix = str(self.model_config.get("env_prefix") or "")
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            revealed = _reveal(getattr(self, name))
            if revealed in ({}, [], None):
                continue
            env[(prefix + name).upper()] = (
                revealed if isinstance(revealed, str) else json.dumps(revealed)
            )
        return env


def _reveal(value: object) -> Any:
    """A settings value as plain JSON data, with every secret in clear."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {name: _reveal(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {str(key): _reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class ProviderClient(Protocol):
    """A configured connection to one provider."""

    async def resend(self, request: Any, *, idempotency_key: str) -> ResendResult:
        """Re-send; failures are `ProviderError`s. A retry passes the same key."""
        ...

    def not_configured_for(self, request: Any) -> ProviderNotConfiguredError | None:
        """Why this request cannot be sent with the configured credentials, or None."""
        ...

    async def aclose(self) -> None:
        """Close the connection pool."""
        ...


class LookupClient(ProviderClient, Protocol):
    """The client of a provider that declares `InvoiceProvider.can_look_up`."""

    async def lookup(self, request: Any) -> InvoiceFacts:
        """What the provider knows about the invoice, without sending anything.

        Failures are `ProviderError`s (`NotFoundError` when the provider has no such
        invoice); an answer in an unknown shape gives facts with nothing in them.
        """
        ...


class ClientClass(Protocol):
    """A provider's client class, built from its `ProviderSettings.config`."""

    def __call__(
        self,
        config: Any,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ProviderClient:
        """A client on this config."""
        ...


RequestT = TypeVar("RequestT", bound=ResendRequest)
SettingsT = TypeVar("SettingsT", bound=ProviderSettings)


class InvoiceProvider(ABC, Generic[RequestT, SettingsT]):
    """Everything the bot needs to know about one invoicing provider."""

    #: Stable id: the value stored in history, used in block ids and settings.
    key: ClassVar[str]
    #: The brand, as agents know it.
    label: ClassVar[str]
    #: ISO 3166-1 alpha-2 country code; the bot names the country.
    country: ClassVar[str]
    #: Words that, typed first, select this provider (``/reenviar lummy …``).
    aliases: ClassVar[tuple[str, ...]] = ()
    request_model: ClassVar[type[ResendRequest]]
    settings_model: ClassVar[type[ProviderSettings]]
    client_class: ClassVar[ClientClass]
    #: The form's fields, in display order.
    form: ClassVar[tuple[FormField, ...]]
    #: The field that identifies the invoice (where quota problems are shown).
    reference_field: ClassVar[str]
    #: The field holding an alternative e-mail, when the provider has one.
    alternative_email_field: ClassVar[str | None] = None
    #: Re-sends of one invoice the provider allows per hour, when it caps them.
    hourly_quota: ClassVar[int | None] = None
    #: The provider's home time zone (IANA), where its customers read the time.
    timezone: ClassVar[str | None] = None
    #: Whether its client can look an invoice up before sending (a `LookupClient`).
    can_look_up: ClassVar[bool] = False
    #: What its client can search by (a `providers.search.SearchClient`); none by default.
    searches: ClassVar[frozenset[SearchKind]] = frozenset()
    #: The tax id of its country (a CUIT, an RFC): a search by one goes to this provider.
    tax_id: ClassVar[SearchKind | None] = None

    @abstractmethod
    def recognizes(self, text: str) -> Recognition:
        """How surely ``text`` is one of this provider's references."""

    @abstractmethod
    def parse(self, text: str) -> RequestT:
        """A request from what an agent typed; raises `InvalidReferenceError`."""

    @abstractmethod
    def build_request(self, values: Mapping[str, str]) -> RequestT:
        """A request from the form's values by field name; raises `InvalidReferenceError`
        whose problems are keyed by field name."""

    @abstractmethod
    def form_values(self, request: RequestT) -> dict[str, str]:
        """The form's values for ``request`` (to prefill it)."""

    def address_beside(self, text: str) -> str | None:
        """An e-mail address typed beside the reference that the request cannot carry
        (the provider sends only to the e-mails on the customer's file); None when there
        is none, or when the request carries it (`alternative_email_field`)."""
        return None

    def client(
        self,
        settings: SettingsT,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ProviderClient | None:
        """A client for these settings, or None when they hold no credentials."""
        config = settings.config()
        return None if config is None else self.client_class(config, options, transport=transport)

    def load_settings(self, *, env_file: str | None = ".env", **values: Any) -> SettingsT:
        """The provider's settings from the environment (and ``env_file``), or ``values``."""
        return cast(SettingsT, self.settings_model(_env_file=env_file, **values))
