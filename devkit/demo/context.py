"""What the demo's line handlers share: one workspace, terminal, outbox and watcher.

`DemoContext` holds them with the session's time limits; each handler (the modal
filler, the button presser, the surfaces, the channel commands) is a `DemoPart` over
the same context, so it reads ``self.workspace``, ``self.terminal``, ... as its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.demo.outbox import Outbox
from devkit.demo.terminal import Terminal
from devkit.demo.watch import Watcher
from devkit.demo.workspace import DemoWorkspace
from devkit.localslack.parts import SharedAttribute

__all__ = ["DemoContext", "DemoPart"]


@dataclass(frozen=True)
class DemoContext:
    """The session's collaborators and time limits, built once by `DemoSession`."""

    workspace: DemoWorkspace
    terminal: Terminal
    outbox: Outbox
    watcher: Watcher
    #: How long the bot may take to open a modal or answer a command visibly.
    command_timeout: float
    #: How long a re-send may take to reach its outcome.
    outcome_timeout: float


class DemoPart:
    """A line handler: reads the context's collaborators as its own attributes (its time
    limits stay on ``self.context``)."""

    workspace = SharedAttribute[DemoWorkspace]("context")
    terminal = SharedAttribute[Terminal]("context")
    outbox = SharedAttribute[Outbox]("context")
    watcher = SharedAttribute[Watcher]("context")

    def __init__(self, context: DemoContext) -> None:
        self.context = context
