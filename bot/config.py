"""Settings from the environment or a ``.env`` file."""

from __future__ import annotations

from typing import Annotated, Self
from urllib.parse import unquote, urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.access import AccessRules, AlternativeEmailPolicy
from bot.store import database_url
from providers.http import HttpOptions
from providers.lummy import LummyConfig
from providers.tusfacturas import TusFacturasConfig, TusFacturasCredentials


class TusFacturasCredentialSet(BaseModel):
    """One punto de venta's credentials, as written in ``TUSFACTURAS_CREDENTIALS``."""

    # A validation error must not print the secrets it was given.
    model_config = ConfigDict(hide_input_in_errors=True)

    apikey: SecretStr
    apitoken: SecretStr
    usertoken: SecretStr


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


SlackIds = Annotated[list[str], NoDecode]


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class Settings(BaseSettings):
    """Everything the bot reads from its environment. Secrets are `SecretStr`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `LUMMY_BASE_URL=` or `PORT=` copied from a template means "use the default".
        env_ignore_empty=True,
        # A validation error must not print the secrets it was given.
        hide_input_in_errors=True,
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: HttpUrl = HttpUrl("https://slack.com/api/")

    # TusFacturas: a default credential set, plus optional sets per punto de venta.
    tusfacturas_apikey: SecretStr | None = None
    tusfacturas_apitoken: SecretStr | None = None
    tusfacturas_usertoken: SecretStr | None = None
    tusfacturas_credentials: dict[int, TusFacturasCredentialSet] = Field(
        default_factory=dict,
        description='JSON map of punto de venta to credentials: {"2": {"apikey": ...}}',
    )
    tusfacturas_base_url: HttpUrl = HttpUrl("https://www.tusfacturas.app/app/api/v2")

    # Lummy
    lummy_api_key: SecretStr | None = None
    lummy_organization_id: str | None = None
    lummy_access_token: SecretStr | None = None
    lummy_base_url: HttpUrl = HttpUrl("https://api.lummy.io/v1")

    # Provider HTTP behaviour
    provider_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    provider_read_timeout: float = Field(default=20.0, gt=0, le=300)
    provider_max_retries: int = Field(default=2, ge=0, le=5)
    provider_max_connections: int = Field(default=50, ge=1, le=1000)
    provider_retry_backoff: float = Field(
        default=0.5,
        ge=0,
        le=30,
        validation_alias=AliasChoices("provider_retry_backoff", "provider_retry_backoff_seconds"),
    )

    # Access and storage
    allowed_user_ids: SlackIds = Field(default_factory=list)
    allowed_usergroup_ids: SlackIds = Field(default_factory=list)
    allowed_channel_ids: SlackIds = Field(default_factory=list)
    alternative_email_policy: AlternativeEmailPolicy = AlternativeEmailPolicy.EVERYONE
    alternative_email_user_ids: SlackIds = Field(default_factory=list)
    alternative_email_usergroup_ids: SlackIds = Field(default_factory=list)
    alternative_email_domains: SlackIds = Field(default_factory=list)
    usergroup_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    duplicate_window_minutes: float = Field(default=15.0, ge=0, le=24 * 60)
    audit_channel_id: str | None = None
    data_dir: str = "./data"
    database_url: SecretStr | None = None
    database_schema: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

    # Process
    # Slack and load balancers must reach the HTTP endpoint, so listen on every interface.
    host: str = "0.0.0.0"  # noqa: S104
    port: int = Field(default=3000, ge=1, le=65535)
    shutdown_grace_seconds: float = Field(default=25.0, ge=0, le=300)
    log_level: str = Field(default="INFO", pattern="(?i)^(debug|info|warning|error|critical)$")
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    _split = field_validator(
        "allowed_user_ids",
        "allowed_usergroup_ids",
        "allowed_channel_ids",
        "alternative_email_user_ids",
        "alternative_email_usergroup_ids",
        "alternative_email_domains",
        mode="before",
    )(_split_ids)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "tusfacturas_apikey",
        "tusfacturas_apitoken",
        "tusfacturas_usertoken",
        "lummy_api_key",
        "lummy_access_token",
        "database_url",
        "database_schema",
        "lummy_organization_id",
        "audit_channel_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _punto_venta_keys_in_range(self) -> Self:
        bad = [pv for pv in self.tusfacturas_credentials if not 1 <= pv <= 99_999]
        if bad:
            raise ValueError(f"TUSFACTURAS_CREDENTIALS has puntos de venta out of range: {bad}")
        return self

    # --- Views for the provider layer ---------------------------------------

    def missing_slack_settings(self, *, socket_mode: bool) -> list[str]:
        """The Slack variables this mode needs that are not set."""
        required = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET": (
                self.slack_app_token if socket_mode else self.slack_signing_secret
            ),
        }
        return [name for name, value in required.items() if value is None]

    def access_rules(self) -> AccessRules:
        """Who may re-send, from where, and to which alternative addresses."""
        return AccessRules(
            user_ids=frozenset(self.allowed_user_ids),
            usergroup_ids=frozenset(self.allowed_usergroup_ids),
            channel_ids=frozenset(self.allowed_channel_ids),
            alternative_email=self.alternative_email_policy,
            alternative_email_user_ids=frozenset(self.alternative_email_user_ids),
            alternative_email_usergroup_ids=frozenset(self.alternative_email_usergroup_ids),
            alternative_email_domains=frozenset(d.lower() for d in self.alternative_email_domains),
        )

    def history_url(self) -> str:
        """Where the history lives: ``DATABASE_URL`` (PostgreSQL) or SQLite in ``DATA_DIR``."""
        return database_url(
            data_dir=self.data_dir,
            database_url=self.database_url.get_secret_value() if self.database_url else None,
        )

    def http_options(self) -> HttpOptions:
        """Timeouts and retry policy shared by both provider clients."""
        return HttpOptions(
            connect_timeout=self.provider_connect_timeout,
            read_timeout=self.provider_read_timeout,
            max_retries=self.provider_max_retries,
            retry_backoff=self.provider_retry_backoff,
            max_connections=self.provider_max_connections,
        )

    def tusfacturas_config(self) -> TusFacturasConfig | None:
        """TusFacturas endpoint and credentials, or None when there are none."""
        default: TusFacturasCredentials | None = None
        if self.tusfacturas_apikey and self.tusfacturas_apitoken and self.tusfacturas_usertoken:
            default = TusFacturasCredentials(
                apikey=self.tusfacturas_apikey,
                apitoken=self.tusfacturas_apitoken,
                usertoken=self.tusfacturas_usertoken,
            )
        if default is None and not self.tusfacturas_credentials:
            return None
        return TusFacturasConfig(
            base_url=str(self.tusfacturas_base_url),
            default_credentials=default,
            credentials_by_punto_venta={
                pv: TusFacturasCredentials(
                    apikey=creds.apikey, apitoken=creds.apitoken, usertoken=creds.usertoken
                )
                for pv, creds in self.tusfacturas_credentials.items()
            },
        )

    def lummy_config(self) -> LummyConfig | None:
        """Lummy endpoint and credentials, or None when not configured."""
        if self.lummy_api_key is None or self.lummy_organization_id is None:
            return None
        return LummyConfig(
            base_url=str(self.lummy_base_url),
            api_key=self.lummy_api_key,
            organization_id=self.lummy_organization_id,
            access_token=self.lummy_access_token,
        )

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redaction processor."""
        secrets = [
            value.get_secret_value()
            for value in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.tusfacturas_apikey,
                self.tusfacturas_apitoken,
                self.tusfacturas_usertoken,
                self.lummy_api_key,
                self.lummy_access_token,
                self.database_url,
            )
            if value is not None
        ]
        for creds in self.tusfacturas_credentials.values():
            secrets.extend(
                secret.get_secret_value()
                for secret in (creds.apikey, creds.apitoken, creds.usertoken)
            )
        if self.database_url is not None:
            # Drivers log the password alone too (e.g. in a DSN without the scheme).
            password = _url_password(self.database_url.get_secret_value())
            if password:
                secrets.extend(dict.fromkeys((password, unquote(password))))
        return [secret for secret in secrets if secret]
