"""A re-send job: the typed request plus who asked and its idempotency key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from providers.base import ResendRequest
from providers.registry import ProviderRegistry


def new_idempotency_key() -> str:
    """A fresh key for one logical re-send."""
    return str(uuid4())


class ResendJob(BaseModel):
    """One logical re-send. A retry is the same job with ``attempt`` + 1 and the same key."""

    model_config = ConfigDict(frozen=True)

    request: SerializeAsAny[ResendRequest]
    requested_by: str
    #: Where the command was typed; access to retries is checked against it.
    origin_channel_id: str | None = None
    #: The thread its messages go to (a message shortcut's), so a retry's fallbacks do too.
    origin_thread_ts: str | None = None
    idempotency_key: str = Field(default_factory=new_idempotency_key)
    #: When the agent asked for it (the first attempt); a retry looks for newer sends from
    #: then on. None on jobs from buttons posted before it was kept.
    made_at: datetime | None = None
    attempt: int = Field(default=1, ge=1)
    #: Who pressed "Reintentar", on a retry.
    retried_by: str | None = None
    #: An address the agent asked for that the provider cannot send to (it sends to the
    #: e-mails on the customer's file); the outcome says so.
    asked_address: str | None = None

    def next_attempt(self) -> ResendJob:
        """The same request and key, one attempt later."""
        return self.model_copy(update={"attempt": self.attempt + 1, "retried_by": None})

    def to_button_value(self) -> str:
        """Compact JSON for a button's ``value`` (Slack allows 2000 characters)."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["provider"] = self.request.provider
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_button_value(cls, value: str, registry: ProviderRegistry) -> ResendJob:
        """Read a job back from a button; raises ``ValueError`` when it is not one."""
        data: Any = json.loads(value)
        if not isinstance(data, dict) or not isinstance(data.get("request"), dict):
            raise ValueError("not a re-send job")
        request_data = dict(data.pop("request"))
        # Buttons posted before requests were keyed by provider carry it inside the request.
        provider = data.pop("provider", None) or request_data.pop("provider", None)
        request_data.pop("provider", None)
        request = registry.request_from_json(str(provider), request_data)
        try:
            return cls.model_validate({**data, "request": request})
        except ValidationError as exc:
            raise ValueError(str(exc)) from exc
