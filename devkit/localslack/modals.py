"""Modals: ``views.open``, ``views.push``, ``views.update``, and what Slack's client does.

Slack's rules that matter to an app are kept: a trigger id opens one view within
3 s, a stack holds at most three views, ``hash`` guards against stale updates,
``external_id`` is unique. `Modals.apply_view_response` does what Slack's client
does with the app's answer to a ``view_submission``.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from devkit.localslack.protocol import JsonDict, MethodGroup, SlackApiRefusal, serves
from devkit.localslack.validation import validate_view
from devkit.localslack.workspace import Trigger

__all__ = ["MAX_STACK", "Modals"]

#: Slack lets an app stack at most this many views.
MAX_STACK: Final = 3
#: Fields Slack keeps when a view is replaced.
_KEPT_ON_UPDATE: Final = ("id", "team_id", "root_view_id", "previous_view_id", "app_id", "bot_id")


class Modals(MethodGroup):
    """The ``views.*`` methods and the stacks of open modals in the `Workspace`."""

    # ------------------------------------------------------------------ methods

    @serves("views.open")
    def views_open(self, params: JsonDict) -> JsonDict:
        """``views.open``: a new modal, for the user the trigger came from."""
        view = self._view_param(params)
        self._check_external_id(view)
        trigger = self._consume_trigger(params)
        owner = trigger.user_id if trigger is not None else None
        stored = self._store_new_view(view, owner=owner, parent=None)
        return {"view": copy.deepcopy(stored)}

    @serves("views.push")
    def views_push(self, params: JsonDict) -> JsonDict:
        """``views.push``: a modal on top of the one the trigger came from."""
        view = self._view_param(params)
        self._check_external_id(view)
        trigger = self._consume_trigger(params)
        parent: JsonDict | None = None
        owner: str | None = None
        if trigger is not None:
            owner = trigger.user_id
            if trigger.view_id is not None:
                parent = self.workspace.views.get(trigger.view_id)
            elif owner is not None:
                parent = self.current_view(owner)
        if parent is not None:
            root = parent.get("root_view_id") or parent["id"]
            views = self.workspace.views.values()
            depth = sum(1 for v in views if v.get("root_view_id") == root)
            if depth >= MAX_STACK:
                raise SlackApiRefusal("push_limit_reached")
        stored = self._store_new_view(view, owner=owner, parent=parent)
        return {"view": copy.deepcopy(stored)}

    @serves("views.update")
    def views_update(self, params: JsonDict) -> JsonDict:
        """``views.update`` by ``view_id`` or ``external_id``, guarded by ``hash``."""
        views = self.workspace.views
        view = self._view_param(params)
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        target: str | None = None
        if view_id:
            target = str(view_id) if str(view_id) in views else None
        elif external_id:
            for vid, existing in views.items():
                if existing.get("external_id") == external_id:
                    target = vid
                    break
        else:
            raise SlackApiRefusal(
                "invalid_arguments", messages=["[ERROR] view_id or external_id is required"]
            )
        if target is None:
            raise SlackApiRefusal("not_found")
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != views[target]["hash"]:
            raise SlackApiRefusal("hash_conflict")
        self._check_external_id(view, own_id=target)
        stored = self._replace_view(target, view)
        return {"view": copy.deepcopy(stored)}

    # ------------------------------------------------------------------ Slack's client

    def current_view(self, user_id: str | None = None) -> JsonDict | None:
        """The most recently opened/pushed view still open (for ``user_id`` if given)."""
        views = self.workspace.views
        for view_id in reversed(list(views)):
            if user_id is None or self.workspace.view_owner.get(view_id) == user_id:
                return views[view_id]
        return None

    def close_view(self, view_id: str, *, whole_stack: bool = True) -> None:
        """Close a view (and, by default, every view in its stack)."""
        views = self.workspace.views
        view = views.get(view_id)
        if view is None:
            return
        root = view.get("root_view_id") or view_id
        doomed = (
            [vid for vid, v in views.items() if (v.get("root_view_id") or vid) == root]
            if whole_stack
            else [view_id]
        )
        for vid in doomed:
            self.workspace.closed_views[vid] = views.pop(vid)

    def apply_view_response(self, view_id: str, response: Any) -> None:
        """Apply what the app answered to a ``view_submission`` (as Slack's UI would)."""
        action = response.get("response_action") if isinstance(response, dict) else None
        if action == "errors":
            return
        if action == "update" and isinstance(response, dict):
            if view_id in self.workspace.views:
                self._replace_view(view_id, response.get("view", {}))
            return
        if action == "push" and isinstance(response, dict):
            parent = self.workspace.views.get(view_id)
            if parent is not None:
                owner = self.workspace.view_owner.get(view_id)
                self._store_new_view(response.get("view", {}), owner=owner, parent=parent)
            return
        if action == "clear":
            self.close_view(view_id, whole_stack=True)
            return
        # No response_action (or "close"): Slack closes the submitted view only.
        self.close_view(view_id, whole_stack=False)

    # ------------------------------------------------------------------ internals

    def _consume_trigger(self, params: JsonDict) -> Trigger | None:
        workspace = self.workspace
        trigger_id = params.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] missing trigger_id"])
        trigger = workspace.triggers.get(trigger_id)
        if not workspace.check_triggers:
            return trigger
        if trigger is None:
            raise SlackApiRefusal("invalid_trigger_id")
        if trigger.used:
            raise SlackApiRefusal("trigger_exchanged")
        if workspace.clock() - trigger.issued_at > workspace.trigger_ttl:
            raise SlackApiRefusal("expired_trigger_id")
        trigger.used = True
        return trigger

    @staticmethod
    def _view_param(params: JsonDict) -> JsonDict:
        view = params.get("view")
        if view is None:
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] missing view"])
        return validate_view(view)

    def _check_external_id(self, view: JsonDict, *, own_id: str | None = None) -> None:
        external_id = view.get("external_id")
        if not external_id:
            return
        for vid, existing in self.workspace.views.items():
            if vid != own_id and existing.get("external_id") == external_id:
                raise SlackApiRefusal("duplicate_external_id")

    def _store_new_view(
        self, view: JsonDict, *, owner: str | None, parent: JsonDict | None
    ) -> JsonDict:
        workspace = self.workspace
        view_id = workspace.new_id("V")
        stored = copy.deepcopy(view)
        stored.update(
            {
                "id": view_id,
                "team_id": workspace.team_id,
                "type": view.get("type", "modal"),
                "state": {"values": {}},
                "hash": workspace.new_hash(),
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "clear_on_close": bool(view.get("clear_on_close", False)),
                "notify_on_close": bool(view.get("notify_on_close", False)),
                "root_view_id": (parent.get("root_view_id") or parent["id"]) if parent else view_id,
                "previous_view_id": parent["id"] if parent else None,
                "app_id": workspace.app_id,
                "app_installed_team_id": workspace.team_id,
                "bot_id": workspace.bot_id,
            }
        )
        workspace.views[view_id] = stored
        if owner is not None:
            workspace.view_owner[view_id] = owner
        return stored

    def _replace_view(self, view_id: str, view: JsonDict) -> JsonDict:
        workspace = self.workspace
        old = workspace.views[view_id]
        stored = copy.deepcopy(view)
        for key in _KEPT_ON_UPDATE:
            stored[key] = old[key]
        stored.setdefault("type", old.get("type", "modal"))
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored.setdefault("external_id", old.get("external_id", ""))
        stored.setdefault("clear_on_close", False)
        stored.setdefault("notify_on_close", False)
        stored["app_installed_team_id"] = workspace.team_id
        stored["state"] = {"values": {}}
        stored["hash"] = workspace.new_hash()
        workspace.views[view_id] = stored
        return stored
