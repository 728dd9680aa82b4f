"""Settings from the environment or a ``.env`` file.

The bot's own settings live here; each provider reads its own, under its own
prefix, with its settings model, and `Settings.load` gathers both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, Final
from urllib.parse import unquote, urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    HttpUrl,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.history.store import database_url
from bot.resend.access import AccessRules, AlternativeEmailPolicy
from providers.base import EnvironmentSettings, ProviderSettings, blank_is_unset
from providers.http import HttpOptions
from providers.registry import ProviderRegistry, builtin_registry


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


class Settings(EnvironmentSettings):
    """Everything the bot reads from its environment. Secrets are `SecretStr`."""

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: HttpUrl = HttpUrl("https://slack.com/api/")

    # Provider HTTP behaviour
    provider_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    provider_read_timeout: float = Field(default=20.0, gt=0, le=300)
    provider_max_retries: int = Field(default=2, ge=0, le=5)
    # Re-sends only: lookups have a smaller pool of their own, so they never hold a
    # connection a re-send waits for (README "Configuration").
    provider_max_connections: int = Field(default=100, ge=1, le=1000)
    provider_lookup_connections: int = Field(default=10, ge=1, le=1000)
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
    # The command's check; a submit or Reintentar re-checks fresh, and Slack's user group
    # events drop the cache at once.
    usergroup_cache_seconds: float = Field(default=60.0, ge=0, le=86_400)
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

    _blank_is_unset = field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "database_url",
        "database_schema",
        "audit_channel_id",
        mode="before",
    )(blank_is_unset)

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        problem = database_url_problem(value.get_secret_value()) if value else None
        if problem:
            raise ValueError(problem)
        return value

    _registry: ProviderRegistry = PrivateAttr(default_factory=builtin_registry)
    _providers: dict[str, ProviderSettings] = PrivateAttr(default_factory=dict)

    @classmethod
    def load(
        cls,
        *,
        registry: ProviderRegistry | None = None,
        env_file: str | None = ".env",
        **values: Any,
    ) -> Settings:
        """The bot's settings and every provider's, from the environment and ``env_file``.

        ``values`` override both, named like the variables (``port=…``, ``<provider>_api_key=…``).
        """
        registry = registry or builtin_registry()
        own = {name: value for name, value in values.items() if name in cls.model_fields}
        settings = cls(_env_file=env_file, **own)
        others = {name: value for name, value in values.items() if name not in own}
        settings._registry = registry
        settings._providers = registry.load_settings(env_file=env_file, **others)
        return settings

    @property
    def registry(self) -> ProviderRegistry:
        """The providers this bot offers."""
        return self._registry

    @property
    def providers(self) -> dict[str, ProviderSettings]:
        """Each provider's settings by key (empty unless built with `load`)."""
        return self._providers

    def slack_token(self) -> str | None:
        """The bot token in clear, for the Web API client."""
        return self.slack_bot_token.get_secret_value() if self.slack_bot_token else None

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
        """Timeouts and retry policy shared by every provider client."""
        return HttpOptions(
            connect_timeout=self.provider_connect_timeout,
            read_timeout=self.provider_read_timeout,
            max_retries=self.provider_max_retries,
            retry_backoff=self.provider_retry_backoff,
            max_connections=self.provider_max_connections,
            lookup_connections=self.provider_lookup_connections,
        )

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redaction processor."""
        secrets = [
            value.get_secret_value()
            for value in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.database_url,
            )
            if value is not None
        ]
        for provider_settings in self._providers.values():
            secrets.extend(secret.get_secret_value() for secret in _secrets_in(provider_settings))
        if self.database_url is not None:
            # Drivers log the password alone too (e.g. in a DSN without the scheme).
            password = _url_password(self.database_url.get_secret_value())
            if password:
                secrets.extend(dict.fromkeys((password, unquote(password))))
        return [secret for secret in secrets if secret]


def _secrets_in(value: object) -> Iterator[SecretStr]:
    """Every `SecretStr` in a settings model, however deeply nested (maps, lists, models)."""
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secrets_in(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets_in(item)


#: What loading settings raises when they are unusable: a value that does not validate,
#: one that cannot even be parsed (JSON that is not JSON), a ``.env`` that cannot be read.
LOAD_ERRORS: Final = (ValidationError, SettingsError, UnicodeDecodeError, OSError)
#: ``DATABASE_URL`` schemes the history store knows (PostgreSQL ones run on asyncpg).
DATABASE_DRIVERS: Final = frozenset(
    {
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "sqlite",
        "sqlite+aiosqlite",
        "sqlite+pysqlite",
    }
)


def database_url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as ``DATABASE_URL``, never repeating it (it holds a password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL; expected postgresql://user:password@host:5432/database"
    except ValueError:  # int() of the port
        return "the port is not a number"
    if parsed.drivername not in DATABASE_DRIVERS:
        return f"{parsed.drivername} databases are not supported; use postgresql://..."
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return "the port is out of range (1-65535)"
    return None


def setting_problems(
    *, env_file: str | None = ".env", registry: ProviderRegistry | None = None
) -> list[str]:
    """Every problem of the configuration, one line per variable: ``VARIABLE: what is wrong``.

    The bot's settings and each provider's are loaded on their own, so that every problem
    shows at once, each under its variable's full name (with the provider's prefix).
    Messages never repeat the values given (they may be secrets).
    """
    registry = registry or builtin_registry()
    found: dict[str, list[str]] = {}
    models: list[type[BaseSettings]] = [Settings]
    models.extend(provider.settings_model for provider in registry.values())
    for model in models:
        prefix = str(model.model_config.get("env_prefix") or "")
        try:
            model(_env_file=env_file)
        except ValidationError as exc:
            for item in exc.errors():
                found.setdefault(_variable(prefix, item["loc"]), []).append(_message(item))
        except SettingsError as exc:
            field = re.search(r'field "([^"]+)"', str(exc))
            variable = _variable(prefix, (field.group(1),) if field else ())
            found.setdefault(variable, []).append(_unparsable(exc))
        except UnicodeDecodeError as exc:
            where = f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
            found.setdefault(str(env_file), []).append(f"not UTF-8 ({where})")
        except OSError as exc:
            found.setdefault(str(env_file), []).append(f"cannot be read: {exc.strerror or exc}")
    return [f"{name}: {'; '.join(dict.fromkeys(messages))}" for name, messages in found.items()]


def _variable(prefix: str, loc: tuple[int | str, ...]) -> str:
    return (prefix + str(loc[0])).upper() if loc else prefix.rstrip("_") or "settings"


def _message(item: Any) -> str:
    """Pydantic's message for one error, with where inside the value (a JSON map's key)."""
    message = str(item["msg"]).removeprefix("Value error, ")
    inside = [str(part) for part in item["loc"][1:] if part != "[key]"]
    if not inside:
        return message
    what = "key" if item["loc"][-1] == "[key]" else "at"
    return f'{what} "{".".join(inside)}": {message}'


def _unparsable(error: SettingsError) -> str:
    """A value pydantic-settings could not even decode (JSON for maps and lists)."""
    cause = error.__cause__
    source = " (in .env)" if "DotEnv" in str(error) else ""
    if isinstance(cause, json.JSONDecodeError):
        return f"not valid JSON: {cause.msg} at column {cause.colno}{source}"
    return f"cannot be parsed ({type(cause).__name__}){source}"
