"""``!falla``: make a provider emulator fail on purpose, to see how the bot copes.

``!falla lummy 503`` answers HTTP 503 until ``!falla lummy no``; a trailing number
limits it to that many requests; ``cuelga``, ``corta``, ``json`` and ``lento [s]``
hang, reset the connection, answer broken JSON, or answer late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from devkit.demo.render import fold
from devkit.demo.workspace import DemoWorkspace
from devkit.emulators import Fault, FaultKind

__all__ = ["USAGE", "FaultReply", "fault_command"]

USAGE: Final = (
    "Uso: !falla lummy|tusfacturas 503|500|429|cuelga|corta|json|lento [segundos] "
    "[veces], o !falla lummy no"
)

#: What ``!falla`` understands, besides an HTTP status.
_FAULT_WORDS: Final[Mapping[str, FaultKind]] = {
    "cuelga": FaultKind.HANG,
    "corta": FaultKind.RESET,
    "json": FaultKind.MALFORMED_JSON,
    "lento": FaultKind.LATENCY,
}
_PROVIDER_WORDS: Final[Mapping[str, str]] = {
    "lummy": "lummy",
    "tusfacturas": "tusfacturas",
    "tus": "tusfacturas",
    "tf": "tusfacturas",
}
_DISPLAY: Final[Mapping[str, str]] = {"lummy": "Lummy", "tusfacturas": "TusFacturas"}
_CLEAR_WORDS: Final = frozenset({"no", "ok", "nada", "fin", "quitar"})


@dataclass(frozen=True)
class FaultReply:
    """What to show: the fault now in place, or why the command was refused."""

    text: str
    accepted: bool


def _refuse(text: str = USAGE) -> FaultReply:
    return FaultReply(text, accepted=False)


def fault_command(words: list[str], workspace: DemoWorkspace, *, read_timeout: float) -> FaultReply:
    """Apply ``!falla`` with ``words`` (what follows it) to the workspace's emulators.

    ``read_timeout`` is the bot's provider read timeout: ``lento`` without seconds
    answers just after it.
    """
    if not words:
        return _refuse()
    provider = _PROVIDER_WORDS.get(fold(words[0]))
    if provider is None:
        return _refuse()
    emulator = workspace.emulator(provider)
    name = _DISPLAY[provider]
    if emulator is None:
        return _refuse(f"{name} es el proveedor real: no se le pueden provocar fallas.")
    rest = [fold(w) for w in words[1:]]
    if not rest or rest[0] in _CLEAR_WORDS:
        emulator.clear_faults()
        return FaultReply(f"El emulador de {name} vuelve a responder normalmente.", accepted=True)
    kind_word, numbers = rest[0], rest[1:]
    if not all(n.isdigit() and int(n) > 0 for n in numbers):
        return _refuse()
    delay = 0.0
    if kind_word.isdigit() and 400 <= int(kind_word) <= 599:
        fault_kind, status = FaultKind.SERVER_ERROR, int(kind_word)
        what = f"va a responder HTTP {status}"
    elif kind_word in _FAULT_WORDS:
        fault_kind, status = _FAULT_WORDS[kind_word], 503
        if fault_kind is FaultKind.LATENCY:
            delay = float(numbers.pop(0)) if numbers else read_timeout + 2
        what = {
            FaultKind.HANG: "no va a responder (se cuelga)",
            FaultKind.RESET: "va a cortar la conexión sin responder",
            FaultKind.MALFORMED_JSON: "va a responder JSON roto",
            FaultKind.LATENCY: f"va a procesar el pedido pero responder {delay:.0f} s tarde",
        }[fault_kind]
    else:
        return _refuse()
    times = int(numbers[0]) if numbers else None
    if len(numbers) > 1:
        return _refuse()
    emulator.clear_faults()
    emulator.inject(Fault(fault_kind, delay_seconds=delay, status=status, times=times))
    until = f"en los próximos {times} pedidos" if times and times > 1 else "en el próximo pedido"
    if times is None:
        until = f"hasta escribir «!falla {provider} no»"
    return FaultReply(f"El emulador de {name} {what} {until}.", accepted=True)
