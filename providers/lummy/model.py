"""The Lummy invoice, its quota, and the settings (``LUMMY_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from pydantic import EmailStr, HttpUrl, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.base import ProviderSettings, ResendRequest, blank_is_unset

KEY: Final = "lummy"
#: Lummy's documented cap on re-sends of one invoice.
RESENDS_PER_HOUR: Final = 10


class LummyInvoice(ResendRequest):
    """A Lummy invoice (CFDI), by Lummy's internal id, with an optional alternative e-mail."""

    provider = KEY

    invoice_id: UUID
    email: EmailStr | None = None

    @property
    def reference(self) -> str:
        """The invoice id in its canonical lower-case form."""
        return str(self.invoice_id)

    @property
    def alternative_email(self) -> str | None:
        """The address to send to instead of the customer's, for this send only."""
        return self.email

    @property
    def short_reference(self) -> str:
        """The id's first block (``550e8400``): enough to tell invoices apart in a channel."""
        return self.reference.split("-", 1)[0]


class LummySettings(ProviderSettings):
    """``LUMMY_*``: the API key and organization (both needed), an optional bearer token."""

    model_config = SettingsConfigDict(env_prefix="LUMMY_")

    api_key: SecretStr | None = None
    organization_id: str | None = None
    access_token: SecretStr | None = None
    base_url: HttpUrl = HttpUrl("https://api.lummy.io/v1")

    _blank_is_unset = field_validator("api_key", "organization_id", "access_token", mode="before")(
        blank_is_unset
    )

    def config(self) -> LummyConfig | None:
        """Endpoint and credentials, or None when not configured."""
        if self.api_key is None or self.organization_id is None:
            return None
        return LummyConfig(
            base_url=str(self.base_url),
            api_key=self.api_key,
            organization_id=self.organization_id,
            access_token=self.access_token,
        )


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
