"""Prometheus metrics: what operators watch and alert on (README "Metrics").

One `Metrics` per `Services`, each with its own `CollectorRegistry`: tests start
many bots in one process, and the default global registry would mix them (and
refuse a second bot's metrics with "Duplicated timeseries"). ``GET /metrics`` on
the HTTP listener serves `Metrics.render`, in both modes.

Code anywhere in the bot increments these directly (``metrics.store_write_failures
.inc()``); the names below are the public API, the exported names are the
``reenviar_*`` series.
"""

from __future__ import annotations

import functools
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

#: The ``Content-Type`` of `Metrics.render`'s output.
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

#: Provider calls: from tens of milliseconds to the 20 s read timeout and its retries.
PROVIDER_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
#: Slack gives up after 3 s; the interesting part is well below that.
ACK_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    """Every metric the bot exports, registered in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter = functools.partial(Counter, registry=self.registry)
        gauge = functools.partial(Gauge, registry=self.registry)
        histogram = functools.partial(Histogram, registry=self.registry)
        #: Every attempt, allowed or refused, by provider and outcome (the history's outcome).
        self.resends = counter(
            "reenviar_resends",
            "Re-send attempts by provider and outcome (success, unknown, refused, ...).",
            ["provider", "outcome"],
        )
        #: How long the provider took to answer (or to fail), per attempt that called it.
        self.provider_latency = histogram(
            "reenviar_provider_latency_seconds",
            "Time from calling the provider to its answer, retries included.",
            ["provider"],
            buckets=PROVIDER_BUCKETS,
        )
        #: Time from a request's arrival to Bolt's ack (HTTP response or Socket Mode ack);
        #: ``kind`` comes from `bot.slack.intake.request_kind` (a bounded set).
        self.ack_latency = histogram(
            "reenviar_slack_ack_seconds",
            "Time from a Slack request's arrival to the bot's acknowledgement.",
            ["mode", "kind"],
            buckets=ACK_BUCKETS,
        )
        #: Signed (or Socket Mode) requests refused because of their shape.
        self.malformed_requests = counter(
            "reenviar_slack_malformed_requests",
            "Slack requests refused before dispatch because their shape was wrong.",
            ["mode"],
        )
        #: A message meant for a channel went by the response_url or as a DM instead.
        self.delivery_fallbacks = counter(
            "reenviar_slack_delivery_fallbacks",
            "Messages that could not go to their channel and took another route.",
            ["route"],
        )
        #: A message no route could deliver (channel, response_url and DM all failed).
        self.delivery_losses = counter(
            "reenviar_slack_delivery_lost", "Messages that no route could deliver."
        )
        #: A history row that could not be written when it should have been.
        self.store_write_failures = counter(
            "reenviar_history_write_failures", "History writes that failed."
        )
        #: Rows kept locally because the store could not take them yet (set by the store).
        self.history_queued_rows = gauge(
            "reenviar_history_queued_rows", "History rows waiting to be written to the store."
        )
        #: 1 while the history store answers, 0 while it does not (set by `Services`).
        self.history_available = gauge(
            "reenviar_history_available", "Whether the history store answers (1) or not (0)."
        )
        #: Re-sends that went ahead without the duplicate guard deciding.
        self.guard_bypasses = counter(
            "reenviar_duplicate_guard_bypasses",
            "Submissions that went ahead without the duplicate guard's decision.",
        )
        #: Attempts whose owner died mid-send, resolved as unknown by another process.
        self.recovered_orphans = counter(
            "reenviar_orphans_recovered",
            "Re-sends left behind by a dead process and resolved as unknown.",
        )
        #: 1 while a provider's lookups are paused after answering in a way the bot cannot
        #: use, several times in a row (set by `bot.resend.lookup_health`).
        self.lookups_paused = gauge(
            "reenviar_lookups_paused",
            "Whether a provider's invoice lookups are paused (1) or asked (0).",
            ["provider"],
        )
        #: Lookups not made: ``paused``, ``failed_recently`` (that invoice's lookup failed a
        #: few minutes ago) or ``busy`` (every lookup slot of the provider stayed taken).
        self.lookups_skipped = counter(
            "reenviar_lookups_skipped",
            "Invoice lookups not made, by provider and reason.",
            ["provider", "reason"],
        )
        #: Work running after Slack's ack (set by `Services` from `InFlight`).
        self.inflight = gauge(
            "reenviar_inflight_work",
            "Re-sends and their follow-ups running after Slack's ack; shutdown waits for them.",
        )

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)
