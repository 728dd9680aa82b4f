"""Scripted demo conversations: what an agent types, and what must show up.

A script is a UTF-8 text file, one step per line::

    # A comment: a line starting with "#" is ignored.
    /reenviar 550e8400-e29b-41d4-a716-446655440000
    ? Formulario «Reenviar comprobante»
    lummy
                                   <- an empty line is Enter: keep the proposed value
    otro@cliente.com
    ? Comprobante reenviado
    ? otro@cliente.com
    ?! Reintentar
    !espera 20
    !incluir lummy-not-found

- Any other line is typed into the demo exactly as a person would type it: a
  command (``/reenviar …``, ``reintentar``, ``!falla lummy 503``, ``salir``), or the
  answer to the form question or confirmation currently open. An empty line is
  Enter (keeps a field's proposed value; does nothing when no question is open).
- ``? TEXT`` expects TEXT in the output shown since the last typed line (case,
  accents and spacing are ignored). Messages that arrive later count: it waits up
  to the timeout (10 s unless ``!espera`` says otherwise) before it fails.
- ``?! TEXT`` expects TEXT *not* to be in that output (checked at once).
- ``!espera SECONDS`` sets the timeout of the expectations that follow.
- ``!incluir NAME`` runs another script in place (a bundled name or a path
  relative to this script).
- A typed line that must start with ``#``, ``?`` or ``\\`` is written with a leading
  backslash, which is removed.

A step fails when the demo refuses a typed line (unknown command, an answer that
is not one of the options, ...), when an expectation is not met in time, or when
the bot process stops. The script also fails if it ends with a form or a
confirmation still open. Bundled scripts live in ``devkit/demo/scripts/`` and are
named without ``.txt`` (``--script smoke``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from devkit.demo.session import DemoSession

DEFAULT_TIMEOUT: Final = 10.0
MAX_TIMEOUT: Final = 120.0
_MAX_INCLUDE_DEPTH: Final = 5


class StepKind(StrEnum):
    """What a script line does."""

    TYPE = "type"
    EXPECT = "expect"
    EXPECT_NOT = "expect_not"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Step:
    """One line of a script, with where it came from."""

    kind: StepKind
    text: str
    source: str
    line_no: int
    raw: str

    def where(self) -> str:
        """``smoke.txt, línea 4: «? Comprobante reenviado»``."""
        return f"{self.source}, línea {self.line_no}: «{self.raw}»"


class ScriptError(Exception):
    """The script cannot be read (unknown name, bad syntax)."""


class ScriptFailure(Exception):
    """A step failed; the message names it."""

    def __init__(self, number: int, step: Step | None, reason: str, output: str = "") -> None:
        where = f"el paso {number} ({step.where()})" if step is not None else "el guion"
        super().__init__(f"Falló {where}: {reason}")
        self.number = number
        self.step = step
        self.reason = reason
        self.output = output


def bundled_scripts() -> list[str]:
    """Names of the scripts that ship with the package."""
    folder = resources.files("devkit.demo").joinpath("scripts")
    return sorted(
        entry.name.removesuffix(".txt") for entry in folder.iterdir() if entry.name.endswith(".txt")
    )


def load_script(name: str, *, relative_to: Path | None = None) -> tuple[str, str, Path | None]:
    """Find a script by path or bundled name: (display name, text, folder for includes)."""
    candidates = [Path(name)]
    if relative_to is not None and not Path(name).is_absolute():
        candidates.insert(0, relative_to / name)
        candidates.insert(1, relative_to / f"{name}.txt")
    for path in candidates:
        if path.is_file():
            return path.name, path.read_text(encoding="utf-8"), path.parent
    bundled = resources.files("devkit.demo").joinpath("scripts")
    stem = name.removesuffix(".txt")
    if "/" not in stem and "\\" not in stem:
        entry = bundled.joinpath(f"{stem}.txt")
        if entry.is_file():
            return f"{stem}.txt", entry.read_text(encoding="utf-8"), None
    known = ", ".join(bundled_scripts())
    raise ScriptError(
        f"No existe el guion «{name}» (ni como archivo ni entre los incluidos: {known})."
    )


def parse_script(
    text: str, *, source: str = "<guion>", folder: Path | None = None, _depth: int = 0
) -> list[Step]:
    """The steps of a script; ``!incluir`` is expanded here."""
    if _depth > _MAX_INCLUDE_DEPTH:
        raise ScriptError(f"{source}: demasiados «!incluir» anidados.")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    steps: list[Step] = []
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.rstrip("\r\n")
        stripped = line.strip()

        def step(kind: StepKind, value: str, *, n: int = number, raw: str = stripped) -> Step:
            return Step(kind=kind, text=value, source=source, line_no=n, raw=raw)

        if stripped.startswith("#"):
            continue
        if stripped.startswith("\\"):
            steps.append(step(StepKind.TYPE, stripped[1:]))
        elif stripped.startswith("?!"):
            expected = stripped[2:].strip()
            if not expected:
                raise ScriptError(f"{source}, línea {number}: «?!» sin texto.")
            steps.append(step(StepKind.EXPECT_NOT, expected))
        elif stripped.startswith("?"):
            expected = stripped[1:].strip()
            if not expected:
                raise ScriptError(f"{source}, línea {number}: «?» sin texto.")
            steps.append(step(StepKind.EXPECT, expected))
        elif stripped.lower().startswith("!espera"):
            value = stripped[len("!espera") :].strip().removesuffix("s").strip()
            try:
                seconds = float(value)
            except ValueError:
                raise ScriptError(f"{source}, línea {number}: «!espera» sin segundos.") from None
            if not 0 < seconds <= MAX_TIMEOUT:
                raise ScriptError(
                    f"{source}, línea {number}: la espera va de 0 a {MAX_TIMEOUT:.0f} s."
                )
            steps.append(step(StepKind.TIMEOUT, str(seconds)))
        elif stripped.lower().startswith("!incluir"):
            name = stripped[len("!incluir") :].strip()
            if not name:
                raise ScriptError(f"{source}, línea {number}: «!incluir» sin nombre.")
            included, body, where = load_script(name, relative_to=folder)
            steps.extend(parse_script(body, source=included, folder=where, _depth=_depth + 1))
        else:
            steps.append(step(StepKind.TYPE, stripped))
    return steps


async def run_script(
    session: DemoSession,
    steps: list[Step],
    *,
    echo: Callable[[str], None] | None = None,
    limit: float = DEFAULT_TIMEOUT,
) -> None:
    """Run ``steps`` against a started session; raise `ScriptFailure` at the first failure."""
    from devkit.demo.session import DemoError  # lazily: keeps this module light

    number = 0
    last: Step | None = None
    timeout = limit
    for number, step in enumerate(steps, start=1):
        last = step
        if step.kind is StepKind.TIMEOUT:
            timeout = float(step.text)
            continue
        if step.kind is StepKind.EXPECT:
            if not await session.wait_for(step.text, limit=timeout):
                raise ScriptFailure(
                    number,
                    step,
                    f"no apareció «{step.text}» en {timeout:g} s.",
                    session.recent_output,
                )
            continue
        if step.kind is StepKind.EXPECT_NOT:
            if session.recent_contains(step.text):
                raise ScriptFailure(
                    number, step, f"apareció «{step.text}» y no debía.", session.recent_output
                )
            continue
        if session.finished:
            raise ScriptFailure(number, step, "la demo ya había terminado («salir»).")
        if echo is not None:
            echo(session.prompt + step.text)
        try:
            await session.send_line(step.text)
        except DemoError as exc:
            raise ScriptFailure(number, step, str(exc)) from exc
        if session.rejected is not None:
            raise ScriptFailure(
                number,
                step,
                f"la demo no aceptó la línea: {session.rejected}",
                session.recent_output,
            )
    if session.pending == "modal":
        raise ScriptFailure(number, last, "el guion terminó con un formulario abierto.")
    if session.pending == "confirm":
        raise ScriptFailure(number, last, "el guion terminó con una confirmación sin responder.")
