"""Settings: from the environment or a ``.env`` file, secrets kept secret."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic_settings import SettingsError

from bot.config import Settings
from providers.lummy.model import LummySettings
from providers.tusfacturas.model import TusFacturasSettings

pytestmark = pytest.mark.timeout(10)

REPO = Path(__file__).resolve().parents[2]

LUMMY_ORG = "7b0c5a2e-1111-4c3d-9e8f-000000000001"
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-cfg-bot-token-111",
    "SLACK_SIGNING_SECRET": "cfg-signing-secret-222",
    "SLACK_APP_TOKEN": "xapp-cfg-app-token-333",
    "TUSFACTURAS_APIKEY": "cfg-tf-apikey-444",
    "TUSFACTURAS_APITOKEN": "cfg-tf-apitoken-555",
    "TUSFACTURAS_USERTOKEN": "cfg-tf-usertoken-666",
    "LUMMY_API_KEY": "cfg-lummy-key-777",
    "LUMMY_ACCESS_TOKEN": "cfg-lummy-jwt-888",
    "DATABASE_URL": "postgresql://bot:cfg-db-pass-999@db.internal:5432/reenviar",
}
PV7 = {
    "apikey": "cfg-pv7-apikey-aaa",
    "apitoken": "cfg-pv7-apitoken-bbb",
    "usertoken": "cfg-pv7-ut-c",
}
ALL_SECRET_VALUES = {*SECRETS.values(), *PV7.values(), "cfg-db-pass-999"}


def tf(settings: Settings) -> TusFacturasSettings:
    own = settings.providers["tusfacturas"]
    assert isinstance(own, TusFacturasSettings)
    return own


def lm(settings: Settings) -> LummySettings:
    own = settings.providers["lummy"]
    assert isinstance(own, LummySettings)
    return own


def setting(settings: Settings, name: str) -> object:
    """A setting by its variable's name, wherever it lives (the bot's or a provider's)."""
    for key in ("tusfacturas", "lummy"):
        if name.startswith(f"{key}_"):
            return getattr(settings.providers[key], name.removeprefix(f"{key}_"))
    return getattr(settings, name)


def _setting_env_names() -> set[str]:
    names: set[str] = set()
    for model in (TusFacturasSettings, LummySettings):
        prefix = str(model.model_config.get("env_prefix"))
        names.update(prefix + name for name in model.model_fields)
    for name, field in Settings.model_fields.items():
        names.add(name)
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias)
    return {name.lower() for name in names}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No developer environment, no developer .env: an empty working directory."""
    names = _setting_env_names()
    for key in list(os.environ):
        if key.lower() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def set_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def full_env(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, SECRETS)
    monkeypatch.setenv("LUMMY_ORGANIZATION_ID", LUMMY_ORG)
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", json.dumps({"7": PV7}))


def test_defaults_without_any_configuration() -> None:
    settings = Settings.load()
    for name in (
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "tusfacturas_apikey",
        "tusfacturas_apitoken",
        "tusfacturas_usertoken",
        "lummy_api_key",
        "lummy_organization_id",
        "lummy_access_token",
        "database_url",
        "audit_channel_id",
    ):
        assert setting(settings, name) is None, name
    assert str(settings.slack_api_url) == "https://slack.com/api/"
    assert str(tf(settings).base_url) == "https://www.tusfacturas.app/app/api/v2"
    assert str(lm(settings).base_url) == "https://api.lummy.io/v1"
    assert tf(settings).credentials == {}
    assert settings.allowed_user_ids == []
    assert settings.allowed_usergroup_ids == []
    assert settings.allowed_channel_ids == []
    assert settings.usergroup_cache_seconds == 60
    assert settings.port == 3000
    assert settings.data_dir == "./data"
    assert settings.log_format == "auto"
    # Nothing configured is "not configured", never a crash.
    assert tf(settings).config() is None
    assert lm(settings).config() is None
    assert settings.secret_values() == []


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    full_env(monkeypatch)
    set_env(
        monkeypatch,
        {
            "SLACK_API_URL": "http://127.0.0.1:9999/api/",
            "LUMMY_BASE_URL": "https://sandbox.lummy.io/v1",
            "TUSFACTURAS_BASE_URL": "http://127.0.0.1:8888/app/api/v2",
            "AUDIT_CHANNEL_ID": "C0AUDIT",
            "DATA_DIR": "/var/lib/reenviar",
            "PORT": "8080",
            "LOG_FORMAT": "json",
            "PROVIDER_READ_TIMEOUT": "7.5",
            "PROVIDER_MAX_RETRIES": "0",
        },
    )
    settings = Settings.load()
    assert settings.slack_bot_token == SecretStr(SECRETS["SLACK_BOT_TOKEN"])
    assert settings.slack_signing_secret == SecretStr(SECRETS["SLACK_SIGNING_SECRET"])
    assert settings.slack_app_token == SecretStr(SECRETS["SLACK_APP_TOKEN"])
    assert lm(settings).organization_id == LUMMY_ORG
    assert str(settings.slack_api_url) == "http://127.0.0.1:9999/api/"
    assert str(lm(settings).base_url) == "https://sandbox.lummy.io/v1"
    assert settings.audit_channel_id == "C0AUDIT"
    assert settings.data_dir == "/var/lib/reenviar"
    assert settings.port == 8080
    assert settings.log_format == "json"
    options = settings.http_options()
    assert options.read_timeout == 7.5
    assert options.max_retries == 0
    assert options.connect_timeout == 5.0


def test_environment_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("slack_bot_token", "xoxb-lower-case-name")
    assert Settings.load().slack_bot_token == SecretStr("xoxb-lower-case-name")


def test_retry_backoff_accepts_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_RETRY_BACKOFF_SECONDS", "1.5")
    assert Settings.load().http_options().retry_backoff == 1.5


def test_reads_a_dotenv_file_in_the_working_directory(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / ".env").write_text(
        "# comment\n"
        f"SLACK_BOT_TOKEN={SECRETS['SLACK_BOT_TOKEN']}\n"
        f"LUMMY_API_KEY='{SECRETS['LUMMY_API_KEY']}'\n"
        f"LUMMY_ORGANIZATION_ID={LUMMY_ORG}\n"
        f"TUSFACTURAS_CREDENTIALS={json.dumps({'7': PV7})}\n"
        "ALLOWED_CHANNEL_IDS=C1, C2\n"
        "SOMETHING_ELSE=ignored\n",
        encoding="utf-8",
    )
    settings = Settings.load()
    assert settings.slack_bot_token == SecretStr(SECRETS["SLACK_BOT_TOKEN"])
    assert settings.allowed_channel_ids == ["C1", "C2"]
    lummy = lm(settings).config()
    assert lummy is not None
    assert lummy.api_key.get_secret_value() == SECRETS["LUMMY_API_KEY"]
    tusfacturas = tf(settings).config()
    assert tusfacturas is not None
    creds = tusfacturas.credentials_for(7)
    assert creds is not None
    assert creds.usertoken.get_secret_value() == PV7["usertoken"]

    # The environment wins over the file.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    assert Settings.load().slack_bot_token == SecretStr("xoxb-from-env")


def test_the_shipped_env_example_loads_as_not_configured(isolated: Path) -> None:
    # Copying .env.example to .env and starting must not crash on its blank lines.
    shutil.copy(REPO / ".env.example", isolated / ".env")
    settings = Settings.load()
    assert settings.slack_bot_token is None
    assert tf(settings).credentials == {}
    assert tf(settings).config() is None
    assert lm(settings).config() is None
    assert settings.allowed_user_ids == []
    assert settings.database_url is None
    assert settings.secret_values() == []


def test_secrets_never_show_in_repr_str_or_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    full_env(monkeypatch)
    settings = Settings.load()
    assert set(settings.secret_values()) == ALL_SECRET_VALUES  # they are really loaded
    tusfacturas = tf(settings).config()
    lummy = lm(settings).config()
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
        repr(tusfacturas),
        repr(lummy),
        repr(tf(settings).credentials),
        f"{settings}",
    ]
    for text in shown:
        for secret in ALL_SECRET_VALUES:
            assert secret not in text
    assert "**********" in repr(settings)


@pytest.mark.parametrize(
    "name",
    [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "TUSFACTURAS_APIKEY",
        "TUSFACTURAS_APITOKEN",
        "TUSFACTURAS_USERTOKEN",
        "LUMMY_API_KEY",
        "LUMMY_ACCESS_TOKEN",
        "LUMMY_ORGANIZATION_ID",
        "AUDIT_CHANNEL_ID",
        "DATABASE_URL",
    ],
)
@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_values_are_unset(monkeypatch: pytest.MonkeyPatch, name: str, blank: str) -> None:
    monkeypatch.setenv(name, blank)
    assert setting(Settings.load(), name.lower()) is None


@pytest.mark.parametrize(
    ("name", "attribute", "default"),
    [
        ("LUMMY_BASE_URL", "lummy_base_url", "https://api.lummy.io/v1"),
        ("SLACK_API_URL", "slack_api_url", "https://slack.com/api/"),
        ("PORT", "port", 3000),
        ("TUSFACTURAS_CREDENTIALS", "tusfacturas_credentials", {}),
        ("ALLOWED_USER_IDS", "allowed_user_ids", []),
        ("LOG_FORMAT", "log_format", "auto"),
    ],
)
def test_blank_non_secret_values_fall_back_to_defaults(
    monkeypatch: pytest.MonkeyPatch, name: str, attribute: str, default: object
) -> None:
    monkeypatch.setenv(name, "")
    value = setting(Settings.load(), attribute)
    assert (str(value) if attribute.endswith("_url") else value) == default


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("U01", ["U01"]),
        ("U01,U02", ["U01", "U02"]),
        (" U01 , U02 ,, U03 ,", ["U01", "U02", "U03"]),
        (" , ", []),
    ],
)
def test_comma_separated_slack_ids(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("ALLOWED_USER_IDS", raw)
    monkeypatch.setenv("ALLOWED_USERGROUP_IDS", raw)
    monkeypatch.setenv("ALLOWED_CHANNEL_IDS", raw)
    settings = Settings.load()
    assert settings.allowed_user_ids == expected
    assert settings.allowed_usergroup_ids == expected
    assert settings.allowed_channel_ids == expected


# --- TusFacturas credentials ------------------------------------------------------------


def test_per_punto_de_venta_credentials_with_default_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full_env(monkeypatch)
    pv12 = {"apikey": "k12-xxxx", "apitoken": "t12-xxxx", "usertoken": "u12-xxxx"}
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", json.dumps({"7": PV7, "00012": pv12}))
    settings = Settings.load()
    assert set(tf(settings).credentials) == {7, 12}
    config = tf(settings).config()
    assert config is not None
    assert config.base_url == "https://www.tusfacturas.app/app/api/v2"

    for pv, expected in ((7, PV7), (12, pv12)):
        creds = config.credentials_for(pv)
        assert creds is not None
        assert creds.apikey.get_secret_value() == expected["apikey"]
        assert creds.apitoken.get_secret_value() == expected["apitoken"]
        assert creds.usertoken.get_secret_value() == expected["usertoken"]

    fallback = config.credentials_for(2)
    assert fallback is not None
    assert fallback.apikey.get_secret_value() == SECRETS["TUSFACTURAS_APIKEY"]
    assert fallback.apitoken.get_secret_value() == SECRETS["TUSFACTURAS_APITOKEN"]
    assert fallback.usertoken.get_secret_value() == SECRETS["TUSFACTURAS_USERTOKEN"]


def test_only_per_punto_de_venta_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", json.dumps({"7": PV7}))
    config = tf(Settings.load()).config()
    assert config is not None
    assert config.default_credentials is None
    assert config.credentials_for(7) is not None
    assert config.credentials_for(8) is None  # the provider reports "not configured for pv 8"


@pytest.mark.parametrize(
    "partial",
    [
        {"TUSFACTURAS_APIKEY": "only-the-key"},
        {"TUSFACTURAS_APIKEY": "k-xxxx", "TUSFACTURAS_APITOKEN": "t-xxxx"},
        {"TUSFACTURAS_APITOKEN": "t-xxxx", "TUSFACTURAS_USERTOKEN": "u-xxxx"},
    ],
)
def test_incomplete_default_credentials_are_not_configured(
    monkeypatch: pytest.MonkeyPatch, partial: dict[str, str]
) -> None:
    set_env(monkeypatch, partial)
    assert tf(Settings.load()).config() is None


@pytest.mark.parametrize("pv", ["0", "100000", "-3"])
def test_out_of_range_punto_de_venta_key_is_rejected(
    monkeypatch: pytest.MonkeyPatch, pv: str
) -> None:
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", json.dumps({pv: PV7, "7": PV7}))
    with pytest.raises(ValidationError) as info:
        Settings.load()
    message = str(info.value)
    assert "TUSFACTURAS_CREDENTIALS" in message
    assert str(int(pv)) in message
    for secret in PV7.values():
        assert secret not in message  # a startup error must not print the credentials


@pytest.mark.parametrize(
    "value",
    [
        {"x": PV7},  # key is not a number
        {"7": {"apikey": PV7["apikey"], "apitoken": PV7["apitoken"]}},  # usertoken missing
        {"7": PV7["apikey"]},
    ],
)
def test_malformed_credentials_are_rejected_without_echoing_secrets(
    monkeypatch: pytest.MonkeyPatch, value: object
) -> None:
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", json.dumps(value))
    with pytest.raises(ValidationError) as info:
        Settings.load()
    for secret in PV7.values():
        assert secret not in str(info.value)


def test_credentials_that_are_not_json_are_rejected_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUSFACTURAS_CREDENTIALS", "{7: apikey=cfg-not-json-secret}")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    chain: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert '"credentials"' in str(info.value)
    assert all("cfg-not-json-secret" not in str(link) for link in chain)


# --- Lummy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "partial",
    [{}, {"LUMMY_API_KEY": "key-only"}, {"LUMMY_ORGANIZATION_ID": LUMMY_ORG}],
)
def test_lummy_needs_key_and_organization(
    monkeypatch: pytest.MonkeyPatch, partial: dict[str, str]
) -> None:
    set_env(monkeypatch, partial)
    assert lm(Settings.load()).config() is None


def test_lummy_bearer_falls_back_to_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMMY_API_KEY", "lk_live_only_key")
    monkeypatch.setenv("LUMMY_ORGANIZATION_ID", LUMMY_ORG)
    monkeypatch.setenv("LUMMY_BASE_URL", "https://sandbox.lummy.io/v1")
    config = lm(Settings.load()).config()
    assert config is not None
    assert config.base_url == "https://sandbox.lummy.io/v1"
    assert config.access_token is None
    assert config.headers() == {
        "Authorization": "Bearer lk_live_only_key",
        "x-organization-id": LUMMY_ORG,
        "x-api-key": "lk_live_only_key",
    }


def test_lummy_bearer_uses_the_access_token_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMMY_API_KEY", "lk_live_key")
    monkeypatch.setenv("LUMMY_ORGANIZATION_ID", LUMMY_ORG)
    monkeypatch.setenv("LUMMY_ACCESS_TOKEN", "eyJhbGciOi.jwt")
    config = lm(Settings.load()).config()
    assert config is not None
    headers = config.headers()
    assert headers["Authorization"] == "Bearer eyJhbGciOi.jwt"
    assert headers["x-api-key"] == "lk_live_key"
    assert headers["x-organization-id"] == LUMMY_ORG


# --- secret_values -------------------------------------------------------------------------


def test_secret_values_lists_every_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    full_env(monkeypatch)
    values = Settings.load().secret_values()
    assert set(values) == ALL_SECRET_VALUES
    assert all(isinstance(value, str) and value for value in values)
    # Non-secrets are not redacted from logs.
    assert LUMMY_ORG not in values


def test_secret_values_includes_the_database_password_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:p%40ss-w0rd@db:5432/x")
    values = Settings.load().secret_values()
    assert "postgresql://bot:p%40ss-w0rd@db:5432/x" in values
    assert "p%40ss-w0rd" in values
    assert "p@ss-w0rd" in values  # as a driver would print it, decoded

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db:5432/x")
    assert Settings.load().secret_values() == ["postgresql://bot@db:5432/x"]


def test_invalid_log_format_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings.load()
