"""``!falla``: what each form of the command arms on the emulator, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from devkit.demo.faults import USAGE, fault_command
from devkit.demo.workspace import DemoWorkspace
from devkit.emulators import Fault, FaultKind


@dataclass
class RecordingEmulator:
    """Stands in for an emulator: remembers the faults it was given."""

    faults: list[Fault] = field(default_factory=list)
    cleared: int = 0

    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear_faults(self) -> None:
        self.cleared += 1
        self.faults.clear()


class Workspace(DemoWorkspace):
    """A demo workspace whose Lummy is a `RecordingEmulator` and whose TusFacturas is real."""

    def __init__(self) -> None:
        super().__init__()
        self.recorder = RecordingEmulator()

    def emulator(self, provider: str) -> RecordingEmulator | None:  # type: ignore[override]
        return self.recorder if provider == "lummy" else None


@pytest.mark.parametrize(
    ("words", "fault", "text"),
    [
        (
            ["lummy", "503"],
            Fault(FaultKind.SERVER_ERROR, status=503),
            "El emulador de Lummy va a responder HTTP 503 hasta escribir «!falla lummy no».",
        ),
        (
            ["Lummy", "429", "1"],
            Fault(FaultKind.SERVER_ERROR, status=429, times=1),
            "El emulador de Lummy va a responder HTTP 429 en el próximo pedido.",
        ),
        (
            ["lummy", "cuelga", "3"],
            Fault(FaultKind.HANG, times=3),
            "El emulador de Lummy no va a responder (se cuelga) en los próximos 3 pedidos.",
        ),
        (
            ["lummy", "lento"],
            Fault(FaultKind.LATENCY, delay_seconds=7.0),
            "El emulador de Lummy va a procesar el pedido pero responder 7 s tarde hasta "
            "escribir «!falla lummy no».",
        ),
        (
            ["lummy", "lento", "2", "1"],
            Fault(FaultKind.LATENCY, delay_seconds=2.0, times=1),
            "El emulador de Lummy va a procesar el pedido pero responder 2 s tarde en el "
            "próximo pedido.",
        ),
    ],
)
def test_a_fault_is_armed_and_described(words: list[str], fault: Fault, text: str) -> None:
    workspace = Workspace()

    reply = fault_command(words, workspace, read_timeout=5.0)

    assert (reply.text, reply.accepted) == (text, True)
    assert workspace.recorder.faults == [fault]


def test_no_clears_the_faults() -> None:
    workspace = Workspace()
    fault_command(["lummy", "json"], workspace, read_timeout=5.0)

    reply = fault_command(["lummy", "no"], workspace, read_timeout=5.0)

    assert (reply.text, reply.accepted) == (
        "El emulador de Lummy vuelve a responder normalmente.",
        True,
    )
    assert workspace.recorder.faults == []


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["otro", "503"],
        ["lummy", "999"],
        ["lummy", "rompe"],
        ["lummy", "503", "0"],
        ["lummy", "503", "1", "2"],
    ],
)
def test_what_it_does_not_understand_gets_the_usage(words: list[str]) -> None:
    workspace = Workspace()

    reply = fault_command(words, workspace, read_timeout=5.0)

    assert (reply.text, reply.accepted) == (USAGE, False)
    assert workspace.recorder.faults == []


def test_a_real_provider_cannot_be_made_to_fail() -> None:
    reply = fault_command(["tf", "503"], Workspace(), read_timeout=5.0)
    assert (reply.text, reply.accepted) == (
        "TusFacturas es el proveedor real: no se le pueden provocar fallas.",
        False,
    )
