"""Logging: one pipeline for structlog and the standard library, and no secret ever written.

The redaction proof configures logging exactly as ``reenviar-bot serve`` does
(``configure_logging(secrets=settings.secret_values())``), logs every secret the
settings hold in every way code and libraries do, and scans the captured output.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bot.config import Settings
from bot.logs import REDACTED, SecretRedactor, configure_logging

pytestmark = pytest.mark.timeout(10)

ORG = "7b0c5a2e-1111-4c3d-9e8f-000000000001"
DB_PASSWORD = "dbpw-f00d-5ecret"
SECRET_FIELDS = {
    "slack_bot_token": "xoxb-4242-1717-redactme",
    "slack_signing_secret": "sigsec-8b1f0e2d9c7a",
    "slack_app_token": "xapp-1-fake-app",
    "tusfacturas_apikey": "tfkey-31337-abc",
    "tusfacturas_apitoken": "tftok-c0ffee-def",
    "tusfacturas_usertoken": "tfuser-deadbeef-ghi",
    "lummy_api_key": "lk_live_5ecr3t_jkl",
    "lummy_access_token": "eyJlummy.jwt-cafebabe-mno",
    "database_url": f"postgresql://bot:{DB_PASSWORD}@db.internal:5432/reenviar",
}
PV3 = {"apikey": "pv3key-aaa111", "apitoken": "pv3tok-bbb222", "usertoken": "pv3usr-ccc333"}
CONTEXT = {"request_id": "req-ctx-42", "user_id": "U0AGENT01"}


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave structlog and the root logger as they were, for every other test."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    quieted = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    structlog.contextvars.clear_contextvars()
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, previous in quieted.items():
        logging.getLogger(name).setLevel(previous)


@pytest.fixture
def settings() -> Settings:
    values: dict[str, Any] = {
        **SECRET_FIELDS,
        "lummy_organization_id": ORG,
        "tusfacturas_credentials": {3: PV3},
    }
    return Settings.load(env_file=None, **values)


def configure(settings: Settings, fmt: str, level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level=level, fmt=fmt, secrets=settings.secret_values(), stream=stream)
    return stream


class Leaky:
    """An object whose repr carries a secret, as some client objects' do."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"Leaky(token={self.token!r})"


#: The event names `log_everything` writes, in order.
EVENTS = (
    "slack_call",
    "connecting to",
    "resend_failed",
    "object_logged",
    "slack_bolt_line",
    "POST /slack/events",
    "db down",
    "HTTP Request",
)


def log_everything() -> None:
    """Every secret, through every path a line can take to the output."""
    s = SECRET_FIELDS
    structlog.contextvars.bind_contextvars(**CONTEXT)
    log = structlog.get_logger("reenviar")

    # structlog: values, nested dicts and lists, sensitive and innocent keys.
    log.info(
        "slack_call",
        token=s["slack_bot_token"],
        headers={
            "Authorization": f"Bearer {s['lummy_access_token']}",
            "x-api-key": s["lummy_api_key"],
        },
        payload={
            "comprobante": {
                "apikey": s["tusfacturas_apikey"],
                "apitoken": s["tusfacturas_apitoken"],
                "usertoken": s["tusfacturas_usertoken"],
            }
        },
        note=f"signing with {s['slack_signing_secret']}",
        items=[PV3["apikey"], (PV3["apitoken"], {"deep": [PV3["usertoken"]]})],
    )
    # structlog: positional %-args.
    log.warning("connecting to %s as %s", s["database_url"], s["slack_app_token"])
    # structlog: an exception (and its cause) whose messages carry secrets.
    try:
        try:
            raise ValueError("cause " + s["tusfacturas_usertoken"])
        except ValueError as cause:
            raise RuntimeError("Lummy refused key " + s["lummy_api_key"]) from cause
    except RuntimeError:
        log.exception("resend_failed", reference="FACTURA B 0002-00000006")
    # structlog: objects rendered with repr, and bytes.
    log.info(
        "object_logged",
        client=Leaky(s["slack_bot_token"]),
        raw=s["lummy_access_token"].encode(),
        error=ValueError("bad " + PV3["apikey"]),
    )

    # The standard library, as slack-bolt, aiohttp, asyncpg and httpx log.
    logging.getLogger("slack_bolt").info(
        "slack_bolt_line token=%s secret=%s", s["slack_bot_token"], s["slack_signing_secret"]
    )
    logging.getLogger("aiohttp.access").warning(
        "%s %r", "POST /slack/events", {"Authorization": f"Bearer {s['slack_app_token']}"}
    )
    try:
        raise ConnectionError("could not connect to " + s["database_url"])
    except ConnectionError:
        logging.getLogger("asyncpg").exception("db down, password %s rejected", DB_PASSWORD)
    logging.getLogger("httpx").warning(
        "HTTP Request: POST https://api.example/?apikey=" + PV3["apikey"] + " 200"
    )


def all_secrets(settings: Settings) -> list[str]:
    secrets = settings.secret_values()
    # The settings really hold every secret the test logs.
    assert {*SECRET_FIELDS.values(), *PV3.values(), DB_PASSWORD} <= set(secrets)
    return secrets


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}… leaked"
    # Fragments that would betray a partial redaction.
    for fragment in ("4242-1717", "c0ffee", "5ecr3t", "cafebabe", "f00d", "aaa111", "ccc333"):
        assert fragment not in text


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_secret_reaches_the_output(settings: Settings, fmt: str) -> None:
    secrets = all_secrets(settings)
    stream = configure(settings, fmt)
    log_everything()
    output = stream.getvalue()
    assert_no_secret(output, secrets)
    assert output.count(REDACTED) >= 20
    for event in EVENTS:  # every line was written: the scan is not vacuous
        assert event in output
    assert "RuntimeError: Lummy refused key [REDACTED]" in output
    assert "ValueError: cause [REDACTED]" in output
    assert "FACTURA B 0002-00000006" in output  # ordinary values survive


def test_json_lines_parse_and_show_what_was_redacted(settings: Settings) -> None:
    secrets = all_secrets(settings)
    stream = configure(settings, "json")
    log_everything()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == len(EVENTS)
    by_event = {line["event"].split(" ")[0]: line for line in lines}
    assert_no_secret(json.dumps(lines, ensure_ascii=False), secrets)

    call = by_event["slack_call"]
    assert call["token"] == REDACTED
    assert call["headers"] == {"Authorization": REDACTED, "x-api-key": REDACTED}
    assert call["payload"] == {
        "comprobante": {"apikey": REDACTED, "apitoken": REDACTED, "usertoken": REDACTED}
    }
    assert call["note"] == f"signing with {REDACTED}"
    assert call["items"] == [REDACTED, [REDACTED, {"deep": [REDACTED]}]]
    assert call["level"] == "info"
    assert call["logger"] == "reenviar"
    assert call["timestamp"].endswith("Z")

    assert by_event["connecting"]["event"] == f"connecting to {REDACTED} as {REDACTED}"
    assert by_event["connecting"]["level"] == "warning"

    failed = by_event["resend_failed"]
    assert failed["level"] == "error"
    assert failed["reference"] == "FACTURA B 0002-00000006"
    assert "Traceback" in failed["exception"]
    assert f"RuntimeError: Lummy refused key {REDACTED}" in failed["exception"]

    logged = by_event["object_logged"]
    assert logged["client"] == f"Leaky(token='{REDACTED}')"
    assert REDACTED in logged["raw"]
    assert logged["error"] == f"bad {REDACTED}"

    bolt = by_event["slack_bolt_line"]
    assert bolt["event"] == f"slack_bolt_line token={REDACTED} secret={REDACTED}"
    assert bolt["logger"] == "slack_bolt"
    assert bolt["level"] == "info"

    db = by_event["db"]
    assert db["logger"] == "asyncpg"
    assert db["event"] == f"db down, password {REDACTED} rejected"
    assert f"ConnectionError: could not connect to {REDACTED}" in db["exception"]

    # Context bound with contextvars reaches structlog and stdlib lines alike.
    for line in lines:
        for key, value in CONTEXT.items():
            assert line[key] == value, line["event"]


def test_console_format_is_readable_and_carries_context(settings: Settings) -> None:
    stream = configure(settings, "console")
    log_everything()
    output = stream.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(output.splitlines()[0])
    assert "request_id=req-ctx-42" in output
    assert "[slack_bolt]" in output or "slack_bolt" in output
    assert "Traceback (most recent call last)" in output
    assert "\x1b[" not in output  # no colours when not writing to a terminal
    assert_no_secret(output, settings.secret_values())


def test_auto_format_writes_json_when_not_on_a_terminal(settings: Settings) -> None:
    stream = configure(settings, "auto")
    structlog.get_logger("reenviar").info("hello", n=1)
    line = json.loads(stream.getvalue())
    assert line["event"] == "hello"
    assert line["n"] == 1


def test_contextvars_can_be_unbound(settings: Settings) -> None:
    stream = configure(settings, "json")
    log = structlog.get_logger("reenviar")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    log.info("first")
    structlog.contextvars.unbind_contextvars("request_id")
    log.info("second")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "req-1"
    assert "request_id" not in second


def test_level_filters_structlog_and_stdlib(settings: Settings) -> None:
    stream = configure(settings, "json", level="warning")
    structlog.get_logger("reenviar").info("quiet_structlog")
    logging.getLogger("slack_bolt").info("quiet_stdlib")
    structlog.get_logger("reenviar").warning("loud_structlog")
    logging.getLogger("slack_bolt").error("loud_stdlib")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["loud_structlog", "loud_stdlib"]


def test_httpx_request_lines_are_quieted(settings: Settings) -> None:
    stream = configure(settings, "json")
    logging.getLogger("httpx").info("HTTP Request: POST https://example/ 200")
    logging.getLogger("httpcore.connection").info("connect_tcp.started")
    assert stream.getvalue() == ""


def test_configuring_twice_does_not_duplicate_lines(settings: Settings) -> None:
    configure(settings, "json")
    stream = configure(settings, "json")
    logging.getLogger("slack_bolt").warning("once")
    structlog.get_logger().warning("twice?")
    assert len(stream.getvalue().splitlines()) == 2
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    assert len(handlers) == 1


# --- SecretRedactor on its own -----------------------------------------------------------


def redact(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    return SecretRedactor(secrets)(None, "info", {"value": value})["value"]


def test_redacts_configured_secrets_anywhere_in_text() -> None:
    redactor = SecretRedactor(["s3cr3t-value"])
    assert redactor.redact_text("a s3cr3t-value b s3cr3t-value") == f"a {REDACTED} b {REDACTED}"
    assert redactor.redact_text("nothing here") == "nothing here"


def test_longest_secret_is_redacted_whole() -> None:
    redactor = SecretRedactor(["abcd", "abcdefgh"])
    assert redactor.redact_text("x abcdefgh y abcd") == f"x {REDACTED} y {REDACTED}"


def test_very_short_secrets_are_not_used() -> None:
    # A 1-3 character "secret" would blank ordinary words in every line.
    redactor = SecretRedactor(["ab", "", "x"])
    assert redactor.redact_text("about a box") == "about a box"


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        ("token xoxb-1234-5678-abcdef", "abcdef"),
        ("user token xoxp-1-2-3-zzzyyy", "zzzyyy"),
        ("app token xapp-1-A123-456-defghi", "defghi"),
        ("Authorization: Bearer abc.def.ghi", "abc.def"),
        ("authorization: bearer qqq.rrr", "qqq"),
    ],
)
def test_token_shapes_are_redacted_without_configuration(text: str, tail: str) -> None:
    redacted = SecretRedactor().redact_text(text)
    assert REDACTED in redacted
    assert tail not in redacted


@pytest.mark.parametrize(
    "key",
    [
        "Authorization",
        "authorization",
        "x-api-key",
        "api_key",
        "apikey",
        "apitoken",
        "usertoken",
        "access_token",
        "token",
        "bot_token",
        "client_secret",
        "signing_secret",
        "password",
        "signature",
        "X-Slack-Signature",
        "database_url",
    ],
)
def test_sensitive_keys_are_redacted_whatever_their_value(key: str) -> None:
    assert redact({key: "plain-looking-value"}) == {key: REDACTED}
    assert redact({"outer": [{key: 12345}]}) == {"outer": [{key: REDACTED}]}


def test_empty_sensitive_values_and_ordinary_keys_are_kept() -> None:
    assert redact({"token": "", "password": None}) == {"token": "", "password": None}
    assert redact({"reference": "FACTURA B 0002-00000006", "tokens_used": 3}) == {
        "reference": "FACTURA B 0002-00000006",
        "tokens_used": 3,
    }


def test_non_string_values() -> None:
    assert redact(42) == 42
    assert redact(1.5) == 1.5
    assert redact(True) is True
    assert redact(None) is None
    assert redact(("a", "b")) == ["a", "b"]
    assert redact({"k": ("secret-1",)}, ("secret-1",)) == {"k": [REDACTED]}
    assert redact(ValueError("has secret-1 inside"), ("secret-1",)) == f"has {REDACTED} inside"
    assert redact(Leaky("secret-1"), ("secret-1",)) == f"Leaky(token='{REDACTED}')"


def test_the_processor_returns_every_key() -> None:
    event = {"event": "x secret-1", "a": 1, "b": {"c": "secret-1"}}
    result = SecretRedactor(["secret-1"])(None, "info", event)
    assert result == {"event": f"x {REDACTED}", "a": 1, "b": {"c": REDACTED}}


@pytest.mark.parametrize(("level", "expected"), [("info", logging.INFO), ("debug", logging.DEBUG)])
def test_slack_sdk_builds_debug_lines_only_when_asked(
    settings: Settings, level: str, expected: int
) -> None:
    """slack-sdk tests its logger's own level (unset means "debug") before formatting every
    request and response into a debug line: that level follows ours."""
    from bot.slack.client import slack_client

    configure(settings, "json", level=level)
    client = slack_client("xoxb-test", "http://127.0.0.1:9/api/")

    assert client.logger.level == expected
