"""Filling in a modal from the terminal, one field at a time, as Slack's client would.

Each input block becomes a question (`devkit.demo.render`). An input that dispatches
actions (``dispatch_action``) is sent to the bot as ``block_actions`` the moment its
answer changes, and the demo waits for the bot's ``views.update``. Enter on the last
field submits (``view_submission``); the bot's answer is followed as Slack does:
inline errors ask the marked fields again, ``update`` and ``push`` show the new modal,
anything else closes it and the outcome is awaited in the channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from devkit.demo.context import DemoContext, DemoPart
from devkit.demo.render import (
    ModalForm,
    Prompt,
    Value,
    action_entry,
    fold,
    modal_form,
    parse_answer,
    prompt_line,
    render_errors,
    render_modal_intro,
    render_notes,
    render_prompt,
    state_values,
)
from devkit.demo.watch import POLL_SECONDS, STILL_WORKING
from devkit.demo.workspace import USER_ID
from devkit.localslack import SenderResponse

__all__ = ["CANCEL", "ModalFiller", "ModalState"]

#: Typed inside a modal: close it without submitting.
CANCEL: Final = "!cancelar"
#: Right after a modal opens the bot may update it (what the history and the provider
#: know): the first answer waits until the view has been still this long ...
_STILL_SECONDS: Final = 0.3
#: ... or this long at most (the bot bounds its lookups at about 2 s).
_SETTLE_LIMIT_SECONDS: Final = 2.5


@dataclass
class ModalState:
    """The modal being filled in: its form, the answers so far, what to ask next."""

    view_id: str
    form: ModalForm
    answers: dict[str, Value] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: A modal without inputs waits for Enter to be submitted.
    awaiting_submit: bool = False
    #: The view's hash as last shown: the bot may update the modal while it is open.
    shown_hash: str | None = None
    #: Whether the bot's own update right after opening (if any) was waited for.
    settled: bool = False

    def current(self, prompt: Prompt) -> Value:
        """The answer to ``prompt`` so far (its prefilled value if not answered)."""
        return self.answers.get(prompt.block_id, prompt.default)


class ModalFiller(DemoPart):
    """The open modal, if any, and the questions that fill it in."""

    def __init__(self, context: DemoContext) -> None:
        super().__init__(context)
        self.state: ModalState | None = None
        #: Views already shown to the agent (a pushed view is new only once).
        self.handled_views: set[str] = set()

    @property
    def is_open(self) -> bool:
        """Whether a modal is being filled in."""
        return self.state is not None

    def prompt(self) -> str:
        """The text before the cursor while the modal is open."""
        modal = self.state
        assert modal is not None
        if modal.awaiting_submit or not modal.queue:
            submit = modal.form.submit or "Enviar"
            return f"Enter para «{submit}», «{CANCEL}» para cerrar: "
        prompt = modal.form.prompt(modal.queue[0])
        return prompt_line(prompt, modal.current(prompt))

    async def request(self, send: Callable[[], Awaitable[SenderResponse]], what: str) -> None:
        """Send what should open a modal (a command, a shortcut, a button): show the bot's
        visible answer if any, else wait for the modal it opens and start filling it in."""
        slack = self.workspace.slack
        views_before = set(slack.views)
        before = self.watcher.fingerprint()
        response = await self.outbox.deliver(send, what)
        if response is None:
            return
        answered = self.terminal.show_ack(response)

        def new_views() -> list[str]:
            return [
                view_id
                for view_id in slack.views
                if view_id not in views_before and view_id not in self.handled_views
            ]

        settled = await self.watcher.settle(
            before,
            limit=self.context.command_timeout,
            expect_change=not answered,
            done=lambda: bool(new_views()),
        )
        opened = new_views()
        if opened:
            self.open(opened[-1])
        elif not settled and not answered:
            self.terminal.emit("(el bot no mostró nada todavía)")

    def open(self, view_id: str, *, previous: ModalForm | None = None) -> None:
        """Show a modal and ask its fields; after an update, only new or empty required ones."""
        self.handled_views.add(view_id)
        form = modal_form(self.workspace.slack.views[view_id], self.workspace.names())
        queue = form.block_ids()
        if previous is not None:
            known = set(previous.block_ids())
            queue = [
                p.block_id
                for p in form.prompts
                if p.block_id not in known or (p.default is None and not p.optional)
            ]
        self.state = ModalState(
            view_id=view_id,
            form=form,
            queue=queue,
            shown_hash=self.workspace.slack.views[view_id].get("hash"),
        )
        self.state.awaiting_submit = not queue
        self.terminal.emit(render_modal_intro(form))
        if previous is not None and len(queue) < len(form.prompts):
            self.terminal.emit("(el formulario cambió; los demás campos quedan como están)")
        self._ask_next()

    async def close(self, *, quiet: bool = False) -> None:
        """Close the modal without submitting (Slack tells the bot if it asked to know)."""
        modal, self.state = self.state, None
        if modal is None:
            return
        view = self.workspace.slack.views.get(modal.view_id)
        if view is not None and view.get("notify_on_close"):
            sender = self.outbox.sender
            await self.outbox.deliver(
                lambda: sender.view_closed(user_id=USER_ID, view=modal.view_id), "El formulario"
            )
        else:
            self.workspace.slack.close_view(modal.view_id, whole_stack=True)
        if not quiet:
            self.terminal.emit("Formulario cerrado sin enviar: no se reenvió nada.")

    async def answer(self, line: str) -> None:
        """The typed line answers the current question (or submits, or cancels)."""
        modal = self.state
        assert modal is not None
        if fold(line) == CANCEL:
            await self.close()
            return
        if not modal.settled:
            await self._let_the_bot_finish(modal)
            self._follow_update()
        if modal.awaiting_submit or not modal.queue:
            if line.strip():
                self.terminal.reject(f"Enter envía el formulario; «{CANCEL}» lo cierra.")
                return
            await self._submit()
            return
        prompt = modal.form.prompt(modal.queue[0])
        answer = parse_answer(prompt, line, modal.current(prompt))
        if answer.error is not None:
            self.terminal.reject(answer.error)
            return
        modal.queue.pop(0)
        modal.answers[prompt.block_id] = answer.value
        modal.errors.pop(prompt.block_id, None)
        value = answer.value
        if prompt.dispatch_action and isinstance(value, str) and value != prompt.default:
            await self._dispatch(prompt, value)
        modal = self.state
        if modal is None:
            return
        if modal.queue:
            self._ask_next()
        else:
            await self._submit()

    # ------------------------------------------------------------------ internals

    async def _let_the_bot_finish(self, modal: ModalState) -> None:
        """Wait (bounded) until the view has been still for a moment: a script types faster
        than the bot can add what it learnt once the modal opened."""
        modal.settled = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SETTLE_LIMIT_SECONDS
        last, still_since = None, loop.time()
        while loop.time() < deadline:
            view = self.workspace.slack.views.get(modal.view_id)
            current = view.get("hash") if view else None
            if current != last:
                last, still_since = current, loop.time()
            elif loop.time() - still_since >= _STILL_SECONDS:
                return
            await asyncio.sleep(POLL_SECONDS)

    def _follow_update(self) -> None:
        """The bot updated the open modal on its own (what it learnt about the invoice once
        the modal was open): Slack shows it at once, so show its notes; answers stay, and
        a field it added is asked too."""
        modal = self.state
        view = self.workspace.slack.views.get(modal.view_id) if modal else None
        if modal is None or view is None or view.get("hash") == modal.shown_hash:
            return
        known = set(modal.form.block_ids())
        modal.form = modal_form(view, self.workspace.names())
        modal.shown_hash = view.get("hash")
        modal.queue.extend(i for i in modal.form.block_ids() if i not in known)
        notes = render_notes(modal.form)
        self.terminal.emit("(el formulario cambió)" + (f"\n{notes}" if notes else ""))

    def _ask_next(self) -> None:
        self._follow_update()
        modal = self.state
        if modal is None or not modal.queue:
            return
        prompt = modal.form.prompt(modal.queue[0])
        self.terminal.emit(render_prompt(prompt, error=modal.errors.get(prompt.block_id)))

    async def _dispatch(self, prompt: Prompt, value: str) -> None:
        """An input with ``dispatch_action`` changed: Slack tells the app; wait for views.update."""
        modal = self.state
        assert modal is not None
        slack = self.workspace.slack
        sender = self.outbox.sender
        old_hash = slack.views[modal.view_id].get("hash")
        values = state_values(modal.form.prompts, modal.answers)
        response = await self.outbox.deliver(
            lambda: sender.block_actions(
                user_id=USER_ID,
                view=modal.view_id,
                actions=[action_entry(prompt, value)],
                values=values,
            ),
            f"«{prompt.label}»",
        )
        if response is None:
            return

        def updated() -> bool:
            view = slack.views.get(modal.view_id)
            return view is None or view.get("hash") != old_hash

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.context.command_timeout
        while not updated() and loop.time() < deadline:
            self.watcher.check_alive()
            await asyncio.sleep(POLL_SECONDS)
        view = slack.views.get(modal.view_id)
        if view is None:
            self.state = None
            self.terminal.emit("(el formulario se cerró)")
            return
        if view.get("hash") == old_hash:
            self.terminal.emit("(el formulario no cambió)")
            return
        form = modal_form(view, self.workspace.names())
        ids = form.block_ids()
        after = ids[ids.index(prompt.block_id) + 1 :] if prompt.block_id in ids else ids
        kept = {k: v for k, v in modal.answers.items() if k in ids and k not in after}
        self.state = ModalState(
            view_id=modal.view_id,
            form=form,
            answers=kept,
            queue=after,
            shown_hash=view.get("hash"),
        )
        self.state.awaiting_submit = not form.prompts
        notes = render_notes(form)
        self.terminal.emit("(el formulario cambió)" + (f"\n{notes}" if notes else ""))

    async def _submit(self) -> None:
        modal = self.state
        assert modal is not None
        sender = self.outbox.sender
        values = state_values(modal.form.prompts, modal.answers)
        submit = modal.form.submit or "Enviar"
        # Before sending: the bot may post (and even finish) before the answer is read.
        before = self.watcher.fingerprint()
        response = await self.outbox.deliver(
            lambda: sender.view_submission(user_id=USER_ID, view=modal.view_id, values=values),
            f"El formulario («{submit}»)",
        )
        if response is None:
            # Slack keeps the modal open after a failed submission; Enter tries again.
            modal.awaiting_submit = True
            return
        body = response.json if isinstance(response.json, dict) else {}
        if body.get("response_action") == "errors":
            errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
            self.terminal.emit(render_errors(modal.form, errors))
            ids = modal.form.block_ids()
            modal.errors = errors
            modal.queue = [i for i in ids if i in errors] or ids
            self._ask_next()
            return
        slack = self.workspace.slack
        if slack.views.get(modal.view_id) is not None:  # update: the same modal, changed
            self.state = None
            self.open(modal.view_id, previous=modal.form)
            return
        pushed = slack.current_view(USER_ID)
        if pushed is not None and pushed.get("id") not in self.handled_views:
            self.state = None  # response_action push: a new modal on top
            self.open(str(pushed["id"]))
            return
        self.state = None
        self.terminal.emit(f"(formulario enviado con «{submit}»; Slack lo cierra)")
        if not await self.watcher.settle(
            before, limit=self.context.outcome_timeout, expect_change=True
        ):
            self.terminal.emit(STILL_WORKING)
