"""structlog setup: JSON lines off a terminal, readable lines on one, secrets never.

Standard-library loggers (slack-bolt, aiohttp, httpx) are routed through the
same processors, so the redaction applies to every line the process writes.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from secrets import token_hex
from typing import IO, Any, Final

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED: Final = "[REDACTED]"

_SENSITIVE_KEY = re.compile(
    r"(?i)^(authorization|x-api-key|api[_-]?key|apitoken|usertoken|access[_-]?token|"
    r"token|.*_token|.*secret.*|password|signature|x-slack-signature|database_url)$"
)
# Token shapes worth hiding even when nobody configured them (Slack, bearer headers).
_TOKEN_PATTERNS: Final = (
    re.compile(r"xox[a-z]-[0-9A-Za-z-]+"),
    re.compile(r"xapp-[0-9A-Za-z-]+"),
    re.compile(r"(?i)(?<=bearer )[^\s'\",]+"),
)


class SecretRedactor:
    """A processor that blanks sensitive keys, configured secret values and token shapes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is blanked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact_text(self, text: str) -> str:
        """The text with every secret and token shape replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED
                if isinstance(key, str) and _SENSITIVE_KEY.match(key) and value[key]
                else self._redact(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self._redact(item) for item in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.redact_text(repr(value) if not isinstance(value, BaseException) else str(value))

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        redacted: EventDict = self._redact(event_dict)
        return redacted


#: The loggers slack-sdk's Web API and Socket Mode clients use.
SLACK_SDK_LOGGERS: Final = ("slack_sdk.web.async_base_client", "slack_sdk.socket_mode.aiohttp")


def configure_logging(
    *,
    level: str = "INFO",
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Set up structlog and the standard library for the whole process."""
    stream = stream if stream is not None else sys.stderr
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    redactor = SecretRedactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if as_json:
        final: list[Processor] = [
            structlog.processors.format_exc_info,
            redactor,
            structlog.processors.JSONRenderer(),
        ]
    else:
        final = [
            structlog.processors.format_exc_info,
            redactor,
            structlog.dev.ConsoleRenderer(colors=stream.isatty()),
        ]
    renderer = final[-1]

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *final[:-1],
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request at INFO; the canonical line already says what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # slack-sdk tests these loggers' own level, not the effective one, before formatting
    # a whole request and response into a debug line; unset, that is every API call.
    for name in SLACK_SDK_LOGGERS:
        logging.getLogger(name).setLevel(root.level)


def new_error_id() -> str:
    """A short id the agent can quote and the logs can be searched for."""
    return "E-" + token_hex(3).upper()
