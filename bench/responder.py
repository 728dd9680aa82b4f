"""A trivial stand-in for the bot, to measure the load generator's own ceiling.

``python -m bench.responder --port P --slack-api-url URL --lummy-url URL`` (Lummy's
credentials come from ``LUMMY_API_KEY`` / ``LUMMY_ORGANIZATION_ID``). It makes the
same calls the bot makes on the benchmark's path, with no logic in between and no
signature check: a command is acked and answered with ``views.open``; a submission
is acked, then ``chat.postMessage``, the Lummy re-send and ``chat.update`` follow.
Whatever rate the benchmark reaches against it is the most its load side can drive.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

JsonDict = dict[str, Any]


class Responder:
    def __init__(self, slack_api_url: str, lummy_url: str, api_key: str, org: str) -> None:
        self.slack = slack_api_url.rstrip("/") + "/"
        self.lummy = lummy_url.rstrip("/")
        self.lummy_headers = {
            "x-api-key": api_key,
            "Authorization": f"Bearer {api_key}",
            "x-organization-id": org,
            "Content-Type": "application/json",
        }
        self.tasks: set[asyncio.Task[None]] = set()
        self.http: aiohttp.ClientSession | None = None

    async def startup(self, app: web.Application) -> None:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=30),
            headers={"Authorization": "Bearer xoxb-fake-responder"},
        )

    async def cleanup(self, app: web.Application) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.http is not None:
            await self.http.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _slack(self, method: str, body: JsonDict) -> JsonDict:
        assert self.http is not None
        async with self.http.post(self.slack + method, json=body) as response:
            answer: JsonDict = await response.json()
            return answer

    async def events(self, request: web.Request) -> web.Response:
        fields = dict(parse_qsl((await request.read()).decode()))
        if "payload" in fields:
            payload = json.loads(fields["payload"])
            if payload.get("type") == "view_submission":
                self._spawn(self._resend(payload))
        else:
            self._spawn(self._open_modal(fields))
        return web.Response()

    async def _open_modal(self, command: dict[str, str]) -> None:
        metadata = {"channel_id": command.get("channel_id"), "invoice": command.get("text")}
        view = {
            "type": "modal",
            "callback_id": "reenviar_modal",
            "private_metadata": json.dumps(metadata),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "invoice_id",
                    "element": {
                        "type": "plain_text_input",
                        "action_id": "value",
                        "initial_value": command.get("text", ""),
                    },
                }
            ],
        }
        await self._slack("views.open", {"trigger_id": command.get("trigger_id"), "view": view})

    async def _resend(self, payload: JsonDict) -> None:
        metadata = json.loads(payload["view"]["private_metadata"])
        channel, invoice = metadata["channel_id"], metadata["invoice"]
        posted = await self._slack(
            "chat.postMessage", {"channel": channel, "text": f"Reenviando `{invoice}`…"}
        )
        assert self.http is not None
        async with self.http.post(
            f"{self.lummy}/invoices/{invoice}/resend-pdf",
            data=b"{}",
            headers={**self.lummy_headers, "x-idempotency": str(uuid.uuid4())},
        ) as response:
            await response.read()
        await self._slack(
            "chat.update",
            {
                "channel": posted["channel"],
                "ts": posted["ts"],
                "text": f":white_check_mark: Comprobante reenviado `{invoice}`",
            },
        )


async def ready(request: web.Request) -> web.Response:
    return web.json_response({"status": "ready"})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.responder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slack-api-url", required=True)
    parser.add_argument("--lummy-url", required=True)
    args = parser.parse_args()
    responder = Responder(
        args.slack_api_url,
        args.lummy_url,
        os.environ["LUMMY_API_KEY"],
        os.environ["LUMMY_ORGANIZATION_ID"],
    )
    app = web.Application()
    app.on_startup.append(responder.startup)
    app.on_cleanup.append(responder.cleanup)
    app.router.add_post("/slack/events", responder.events)
    app.router.add_get("/readyz", ready)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
