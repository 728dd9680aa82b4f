"""``--real-providers``: the provider settings the demo passes on instead of emulators."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Settings

__all__ = ["RealProviders"]


@dataclass(frozen=True)
class RealProviders:
    """Provider settings from the environment or ``.env``, for ``--real-providers``."""

    env: Mapping[str, str]
    tusfacturas: bool
    lummy: bool

    @property
    def names(self) -> list[str]:
        """Display names of the providers that are real."""
        return [n for n, real in (("TusFacturas", self.tusfacturas), ("Lummy", self.lummy)) if real]

    def covers(self, key: str) -> bool:
        """Whether the provider ``key`` (``lummy``, ``tusfacturas``) is real."""
        return {"lummy": self.lummy, "tusfacturas": self.tusfacturas}.get(key, False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RealProviders | None:
        """The configured providers' variables, or None when no provider is configured."""
        env: dict[str, str] = {
            "PROVIDER_CONNECT_TIMEOUT": str(settings.provider_connect_timeout),
            "PROVIDER_READ_TIMEOUT": str(settings.provider_read_timeout),
            "PROVIDER_MAX_RETRIES": str(settings.provider_max_retries),
            "PROVIDER_RETRY_BACKOFF": str(settings.provider_retry_backoff),
        }
        tusfacturas = settings.tusfacturas_config() is not None
        if tusfacturas:
            env["TUSFACTURAS_BASE_URL"] = str(settings.tusfacturas_base_url)
            for name, secret in (
                ("TUSFACTURAS_APIKEY", settings.tusfacturas_apikey),
                ("TUSFACTURAS_APITOKEN", settings.tusfacturas_apitoken),
                ("TUSFACTURAS_USERTOKEN", settings.tusfacturas_usertoken),
            ):
                if secret is not None:
                    env[name] = secret.get_secret_value()
            if settings.tusfacturas_credentials:
                env["TUSFACTURAS_CREDENTIALS"] = json.dumps(
                    {
                        str(pv): {
                            "apikey": creds.apikey.get_secret_value(),
                            "apitoken": creds.apitoken.get_secret_value(),
                            "usertoken": creds.usertoken.get_secret_value(),
                        }
                        for pv, creds in settings.tusfacturas_credentials.items()
                    }
                )
        lummy = settings.lummy_config() is not None
        if lummy and settings.lummy_api_key and settings.lummy_organization_id:
            env["LUMMY_BASE_URL"] = str(settings.lummy_base_url)
            env["LUMMY_API_KEY"] = settings.lummy_api_key.get_secret_value()
            env["LUMMY_ORGANIZATION_ID"] = settings.lummy_organization_id
            if settings.lummy_access_token is not None:
                env["LUMMY_ACCESS_TOKEN"] = settings.lummy_access_token.get_secret_value()
        if not tusfacturas and not lummy:
            return None
        return cls(env=env, tusfacturas=tusfacturas, lummy=lummy)
