"""A re-send job: the typed request plus who asked and its idempotency key."""

from __future__ import annotations

from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from providers.base import ResendRequest


def new_idempotency_key() -> str:
    """A fresh key for one logical re-send."""
    return str(uuid4())


class ResendJob(BaseModel):
    """One logical re-send. A retry is the same job with ``attempt`` + 1 and the same key."""

    model_config = ConfigDict(frozen=True)

    request: ResendRequest
    requested_by: str
    #: Where the command was typed; access to retries is checked against it.
    origin_channel_id: str | None = None
    idempotency_key: str = Field(default_factory=new_idempotency_key)
    attempt: int = Field(default=1, ge=1)
    #: Who pressed "Reintentar", on a retry.
    retried_by: str | None = None

    def next_attempt(self) -> ResendJob:
        """The same request and key, one attempt later."""
        return self.model_copy(update={"attempt": self.attempt + 1, "retried_by": None})

    def to_button_value(self) -> str:
        """Compact JSON for a button's ``value`` (Slack allows 2000 characters)."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_button_value(cls, value: str) -> ResendJob:
        """Read a job back from a button; raises ``ValueError`` when it is not one."""
        return _JOB.validate_json(value)


_JOB = TypeAdapter(ResendJob)
