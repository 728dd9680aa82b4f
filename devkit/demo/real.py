"""``--real-providers``: the provider settings the demo passes on instead of emulators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Settings

__all__ = ["RealProviders"]


@dataclass(frozen=True)
class RealProviders:
    """Provider settings from the environment or ``.env``, for ``--real-providers``."""

    env: Mapping[str, str]
    #: Brand names of the real providers, for the banner.
    names: list[str]
    keys: frozenset[str]

    def covers(self, key: str) -> bool:
        """Whether the provider ``key`` is real (else it is emulated)."""
        return key in self.keys

    @classmethod
    def from_settings(cls, settings: Settings) -> RealProviders | None:
        """The configured providers' variables, or None when no provider is configured."""
        env: dict[str, str] = {
            "PROVIDER_CONNECT_TIMEOUT": str(settings.provider_connect_timeout),
            "PROVIDER_READ_TIMEOUT": str(settings.provider_read_timeout),
            "PROVIDER_MAX_RETRIES": str(settings.provider_max_retries),
            "PROVIDER_RETRY_BACKOFF": str(settings.provider_retry_backoff),
        }
        keys = [key for key, own in settings.providers.items() if own.is_configured()]
        for key in keys:
            env.update(settings.providers[key].as_environment())
        if not keys:
            return None
        return cls(
            env=env, names=[settings.registry[key].label for key in keys], keys=frozenset(keys)
        )
