"""What the handlers need, built once from the settings and closed once."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.delivery import Delivery
from bot.workflow import InFlight, ResendWorkflow, UserDirectory
from providers.base import Provider
from providers.registry import Providers

CONTEXT_KEY = "reenviar_services"


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: Slack's URL from settings, 429s and dropped connections retried."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=str(settings.slack_api_url),
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Services:
    """Long-lived collaborators shared by every handler."""

    settings: Settings
    providers: Providers
    client: AsyncWebClient
    workflow: ResendWorkflow
    inflight: InFlight
    shutting_down: bool = field(default=False)

    @classmethod
    def create(cls, settings: Settings, *, client: AsyncWebClient | None = None) -> Services:
        """Build everything from the settings."""
        client = client or slack_client(settings)
        providers = Providers.from_configs(
            tusfacturas=settings.tusfacturas_config(),
            lummy=settings.lummy_config(),
            options=settings.http_options(),
        )
        inflight = InFlight()
        workflow = ResendWorkflow(
            providers=providers,
            delivery=Delivery(client),
            directory=UserDirectory(client),
            inflight=inflight,
        )
        return cls(
            settings=settings,
            providers=providers,
            client=client,
            workflow=workflow,
            inflight=inflight,
        )

    @property
    def configured(self) -> dict[Provider, bool]:
        """Which providers have credentials, for the modal."""
        return {provider: self.providers.is_configured(provider) for provider in Provider}

    async def aclose(self) -> None:
        """Close provider connection pools."""
        await self.providers.aclose()


def services_of(context: AsyncBoltContext) -> Services:
    """The `Services` the app's middleware put in Bolt's context."""
    services = context[CONTEXT_KEY]
    assert isinstance(services, Services)
    return services
