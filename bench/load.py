"""The load generator: agents that type ``/reenviar <id>``, wait for the modal, submit it.

Requests are signed exactly as Slack signs them (v0, HMAC-SHA256 over
``v0:{timestamp}:{body}``) and posted to the app's ``/slack/events``. The modal the
agent submits is the one the app opened (as the lean fake Slack received it), with
``state.values`` holding each input's initial value: the agent checks the prefilled
form and presses the submit button.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp

from bench.fakeslack import TEAM_ID, LeanSlack

JsonDict = dict[str, Any]

SIGNING_SECRET: Final = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - local fake
FORM: Final = "application/x-www-form-urlencoded"
#: Every benchmark invoice id starts with this (a valid UUID), one Lummy knows about.
INVOICE_PREFIX: Final = "b3a0c000-be0c-4000-8000-"
#: Slack's own deadline for an ack; a slower one counts as an error.
ACK_DEADLINE: Final = 3.0


def invoice_id(number: int) -> str:
    """The ``number``-th benchmark invoice id (a UUID)."""
    return f"{INVOICE_PREFIX}{number:012x}"


def agent(number: int) -> tuple[str, str]:
    """Agent ``number``'s Slack user id and the channel it types in (its own)."""
    return f"U0AGENT{number:03d}", f"C0BENCH{number:03d}"


def sign(timestamp: str, body: bytes) -> str:
    """Slack's v0 signature of ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Sample:
    """One agent's re-send, timed with ``time.perf_counter()``."""

    command_ack: float
    submit_ack: float
    #: From sending the submit to the fake Slack receiving the outcome's ``chat.update``.
    outcome: float
    #: When the outcome arrived.
    done_at: float


@dataclass
class Recorder:
    """Samples and errors of one phase."""

    samples: list[Sample] = field(default_factory=list)
    #: Every ack, including those of re-sends that failed later.
    command_acks: list[float] = field(default_factory=list)
    submit_acks: list[float] = field(default_factory=list)
    #: Errors by kind, and the details of each (in order).
    error_kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str = "") -> None:
        self.error_kinds[kind] += 1
        self.errors.append(f"{kind}: {detail}" if detail else kind)

    def error_report(self) -> dict[str, Any]:
        return {
            "count": len(self.errors),
            "kinds": dict(self.error_kinds),
            "first": self.errors[:5],
        }


class Invoices:
    """Fresh benchmark invoice ids, each registered in the Lummy emulator first."""

    def __init__(self, register: Callable[[str], None]) -> None:
        self._numbers = itertools.count(1)
        self._register = register

    def new(self) -> str:
        invoice = invoice_id(next(self._numbers))
        self._register(invoice)
        return invoice


class Agents:
    """Signed requests to one app, on one shared keep-alive connection pool."""

    def __init__(
        self,
        events_url: str,
        slack: LeanSlack,
        invoices: Invoices,
        *,
        concurrency: int,
        outcome_timeout: float,
    ) -> None:
        self.events_url = events_url
        self.slack = slack
        self.invoices = invoices
        self.outcome_timeout = outcome_timeout
        self._triggers = itertools.count(1)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency * 2 + 10),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def post(self, fields: dict[str, str]) -> tuple[int, str, float]:
        """POST a signed form; returns (status, body, seconds until the answer)."""
        body = urlencode(fields).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(timestamp, body),
        }
        started = time.perf_counter()
        async with self._session.post(self.events_url, data=body, headers=headers) as response:
            text = await response.text()
            return response.status, text, time.perf_counter() - started

    async def resend(self, number: int, record: Recorder) -> Sample | None:
        """Agent ``number``'s next re-send end to end; None (and an error recorded) on failure.

        An agent has one re-send in flight at a time, in its own channel.
        """
        user_id, channel = agent(number)
        invoice = self.invoices.new()
        trigger_id = f"{next(self._triggers)}.{int(time.time())}.bench"
        modal = self.slack.expect_modal(trigger_id)
        outcome = self.slack.expect_outcome(channel)
        try:
            return await self._resend(user_id, channel, invoice, trigger_id, modal, outcome, record)
        except TimeoutError:
            record.error("no HTTP answer in time")
        except aiohttp.ClientError as exc:
            record.error("http error", type(exc).__name__)
        finally:
            self.slack.forget(trigger_id, channel)
        return None

    async def _resend(
        self,
        user_id: str,
        channel: str,
        invoice: str,
        trigger_id: str,
        modal: asyncio.Future[JsonDict],
        outcome: asyncio.Future[Any],
        record: Recorder,
    ) -> Sample | None:
        status, body, command_ack = await self.post(
            {
                "token": "bench-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "bench",
                "channel_id": channel,
                "channel_name": channel.lower(),
                "user_id": user_id,
                "user_name": user_id.lower(),
                "command": "/reenviar",
                "text": invoice,
                "api_app_id": "A0BENCH01",
                "is_enterprise_install": "false",
                "response_url": self.slack.response_url(),
                "trigger_id": trigger_id,
            }
        )
        record.command_acks.append(command_ack)
        if status != 200 or command_ack > ACK_DEADLINE:
            record.error("command ack not 200 within 3 s", f"{status} in {command_ack:.2f} s")
            return None
        try:
            view = await asyncio.wait_for(modal, ACK_DEADLINE)
        except TimeoutError:
            record.error("modal not opened within 3 s")
            return None
        payload = submission(view, user_id)
        status, body, submit_ack = await self.post(
            {"payload": json.dumps(payload, separators=(",", ":"))}
        )
        submitted = time.perf_counter() - submit_ack
        record.submit_acks.append(submit_ack)
        if status != 200 or submit_ack > ACK_DEADLINE:
            record.error("submit ack not 200 within 3 s", f"{status} in {submit_ack:.2f} s")
            return None
        if body.strip():
            # The modal stays open: an inline error, or a question (confirm a duplicate).
            action, shown = _modal_answer(body)
            record.error(f"submit answered {action}", f"after {submit_ack:.2f} s: {shown}")
            return None
        try:
            result = await asyncio.wait_for(outcome, self.outcome_timeout)
        except TimeoutError:
            record.error("outcome never arrived")
            return None
        if not result.success:
            record.error("outcome not a success", result.text)
            return None
        sample = Sample(command_ack, submit_ack, result.at - submitted, result.at)
        record.samples.append(sample)
        return sample


def _modal_answer(body: str) -> tuple[str, str]:
    """``response_action`` of a non-empty submit ack, and the text it shows (abridged)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return "with a body that is not JSON", body[:200]
    if not isinstance(answer, dict):
        return "with unexpected JSON", body[:200]
    action = f"response_action={answer.get('response_action')}"
    shown = answer.get("errors") or " | ".join(_texts(answer.get("view")))
    return action, str(shown)[:300]


def _texts(node: Any) -> list[str]:
    """Every ``text`` string in a Block Kit tree."""
    if isinstance(node, dict):
        found: list[str] = []
        for key, value in node.items():
            found += [value] if key == "text" and isinstance(value, str) else _texts(value)
        return found
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def initial_state(view: JsonDict) -> JsonDict:
    """``state.values`` of ``view`` as opened: every input holding its initial value."""
    values: JsonDict = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        kind = element.get("type")
        entry: JsonDict = {"type": kind}
        if kind in {"radio_buttons", "static_select"}:
            entry["selected_option"] = element.get("initial_option")
        elif kind == "checkboxes":
            entry["selected_options"] = element.get("initial_options") or []
        else:
            entry["value"] = element.get("initial_value")
        values[str(block.get("block_id"))] = {str(element.get("action_id")): entry}
    return values


def submission(view: JsonDict, user_id: str) -> JsonDict:
    """The ``view_submission`` payload Slack sends when ``user_id`` submits ``view``."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "bench"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0BENCH01",
        "token": "bench-verification-token",
        "trigger_id": f"{time.time():.6f}.submit",
        "view": {**view, "state": {"values": initial_state(view)}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


async def closed_loop(
    agents: Agents,
    record: Recorder,
    *,
    concurrency: int,
    until: Callable[[], bool],
    stagger: float = 0.0,
) -> None:
    """``concurrency`` agents, each starting a new re-send as soon as its last one ended.

    ``until()`` says when to stop starting new ones; ``stagger`` spreads the agents'
    first re-sends over that many seconds.
    """

    async def agent(number: int) -> None:
        await asyncio.sleep(stagger * number / concurrency)
        while not until():
            if await agents.resend(number, record) is None:
                await asyncio.sleep(0.05)  # an error: do not spin

    await asyncio.gather(*(agent(number) for number in range(concurrency)))
