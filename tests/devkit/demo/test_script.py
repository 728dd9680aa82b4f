"""The scripted demo end to end: the real bot process, the local Slack and the emulators.

Each scenario starts a `DemoSession` (which runs ``python -m bot serve --http`` as a
subprocess), runs one of the bundled scripts, and then checks what the emulators and
the local Slack saw, so a passing script also means the right thing really happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devkit.demo.script import (
    ScriptError,
    ScriptFailure,
    StepKind,
    bundled_scripts,
    load_script,
    parse_script,
    run_script,
)
from devkit.demo.session import CHANNEL_ID, DEMO_NOTE, DemoSession
from devkit.emulators import CUENTA_CORRIENTE_ROUTE
from tests.e2e import resends

pytestmark = pytest.mark.timeout(60)

SEED_LUMMY_ID = "550e8400-e29b-41d4-a716-446655440000"


class TranscribedSession(DemoSession):
    """A session that keeps everything it showed, as the terminal would have printed it."""

    def __init__(self, workdir: Path) -> None:
        self.transcript: list[str] = []
        super().__init__(workdir=workdir, output=self.transcript.append)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[TranscribedSession]:
    demo = TranscribedSession(tmp_path / "demo")
    await demo.start()
    try:
        yield demo
    finally:
        await demo.stop()


async def run_bundled(session: TranscribedSession, name: str) -> str:
    """Run a bundled script; return everything the demo showed, typed lines included."""
    source, text, folder = load_script(name)
    steps = parse_script(text, source=source, folder=folder)
    await run_script(session, steps, echo=session.transcript.append)
    return "\n".join(session.transcript)


# --- the format --------------------------------------------------------------------


def test_script_format() -> None:
    steps = parse_script(
        "# a comment\n"
        "/reenviar 550e8400-e29b-41d4-a716-446655440000\n"
        "\n"
        "  ? Comprobante reenviado  \n"
        "?! Reintentar\n"
        "!espera 2.5\n"
        "\\# typed, not a comment\n"
        "\\?\n"
        "!incluir lummy-not-found\n"
        "\n\n",
        source="x.txt",
    )
    kinds = [(s.kind, s.text) for s in steps[:7]]
    assert kinds == [
        (StepKind.TYPE, "/reenviar 550e8400-e29b-41d4-a716-446655440000"),
        (StepKind.TYPE, ""),
        (StepKind.EXPECT, "Comprobante reenviado"),
        (StepKind.EXPECT_NOT, "Reintentar"),
        (StepKind.TIMEOUT, "2.5"),
        (StepKind.TYPE, "# typed, not a comment"),
        (StepKind.TYPE, "?"),
    ]
    assert steps[2].where() == "x.txt, línea 4: «? Comprobante reenviado»"
    included = steps[7:]
    assert included[0].source == "lummy-not-found.txt"
    assert included[-1].kind is StepKind.EXPECT_NOT  # trailing empty lines are dropped


@pytest.mark.parametrize(
    "text", ["?\n", "?!  \n", "!espera nunca\n", "!espera 0\n", "!incluir\n", "!incluir nope\n"]
)
def test_bad_scripts_are_refused_with_the_line(text: str) -> None:
    with pytest.raises(ScriptError, match=r"x\.txt|nope"):
        parse_script(text, source="x.txt")


def test_bundled_scripts_parse() -> None:
    names = bundled_scripts()
    assert {
        "lummy-success",
        "lummy-not-found",
        "tusfacturas-pasted",
        "inline-error-fixed",
        "retry-after-unavailable",
        "smoke",
    } <= set(names)
    for name in names:
        source, text, folder = load_script(name)
        assert parse_script(text, source=source, folder=folder), name


# --- scenarios against the real bot process ------------------------------------------


async def test_lummy_success_shows_sent_to_and_sent_at(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "lummy-success")

    assert session.lummy is not None
    (send,) = session.lummy.sends
    assert (send.invoice_id, send.to) == (SEED_LUMMY_ID, "cliente@empresa.com")
    utc = send.at.strftime("%d/%m/%Y %H:%M UTC")
    mexico = send.at.astimezone(ZoneInfo("America/Mexico_City")).strftime("%d/%m %H:%M")
    assert utc in shown
    assert f"{mexico}, hora del centro de México" in shown
    assert "Se reenvió a cliente@empresa.com" in shown
    assert f"ID de solicitud: `{send.request_id}`" in shown
    assert DEMO_NOTE in shown
    # The outcome replaced the "re-sending" message in #soporte (chat.update on its ts).
    (message,) = session.slack.messages_in(CHANNEL_ID)
    assert message.edited
    assert session.slack.calls_to("chat.update")


async def test_lummy_not_found(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "lummy-not-found")

    assert session.lummy is not None
    assert session.lummy.sends == []
    assert len(resends(session.lummy)) == 1
    assert "Invoice not found" in shown
    assert "[Reintentar]" not in shown
    assert "[Corregir y reenviar]" in shown


async def test_tusfacturas_voucher_pasted_as_text(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "tusfacturas-pasted")

    assert session.tusfacturas is not None
    (send,) = session.tusfacturas.sends
    assert send.voucher == ("FACTURA B", "V", 2, 6)
    assert "compras@panaderialaespiga.com.ar" in shown


async def test_inline_error_fixed_on_the_second_try(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "inline-error-fixed")

    # The provider switch went through Slack: block_actions -> views.update; so did each
    # invoice id entered (what Lummy knows about it, or nothing for a wrong one).
    assert len(session.slack.calls_to("views.update")) == 3
    assert "«12345» no es un ID de Lummy" in shown
    assert session.lummy is not None
    # Nothing reached Lummy with the wrong id; the fixed submission sent once.
    (request,) = resends(session.lummy)
    assert "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13" in request.path
    (send,) = session.lummy.sends
    assert send.to == "otro@cliente.com"


async def test_retry_after_an_unavailable_provider(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "retry-after-unavailable")

    assert session.lummy is not None
    # The first attempt (with the bot's own retries) got 503s; the button's attempt got through.
    assert len(resends(session.lummy)) >= 2
    (send,) = session.lummy.sends
    # Every attempt, automatic or from the button, carried the same idempotency key.
    keys = {r.header("x-idempotency") for r in resends(session.lummy)}
    assert keys == {send.idempotency_key}
    assert "Intento 2" in shown
    # The retry updated the same message: still one message in #soporte.
    assert len(session.slack.messages_in(CHANNEL_ID)) == 1


async def test_escalation_shortcut_home_and_workflow_step(session: TranscribedSession) -> None:
    shown = await run_bundled(session, "escalation")

    assert session.lummy is not None
    assert session.tusfacturas is not None
    assert [send.invoice_id for send in session.lummy.sends] == [SEED_LUMMY_ID]
    (send,) = session.tusfacturas.sends
    assert send.voucher == ("FACTURA B", "V", 2, 6)
    # The shortcut's outcome is a reply in the ticket's thread; nothing else in #soporte.
    ticket, reply = session.slack.messages_in(CHANNEL_ID)
    assert reply.thread_ts == ticket.ts
    assert reply.edited
    assert f"?thread_ts={ticket.ts}" in shown  # the Home's link opens the thread
    (execution,) = session.slack.executions.values()
    assert execution.state == "completed"
    assert "Reenviada" in shown


async def test_search_by_cuit_then_a_cuit_with_a_typo(session: TranscribedSession) -> None:
    await run_bundled(session, "search-by-cuit")

    assert session.tusfacturas is not None
    (send,) = session.tusfacturas.sends
    assert send.voucher == ("FACTURA A", "V", 2, 131)
    # One account statement for the search; the CUIT with a typo asked nothing.
    statements = [r for r in session.tusfacturas.requests if r.route == CUENTA_CORRIENTE_ROUTE]
    assert len(statements) == 1


# --- failures name the step --------------------------------------------------------


async def test_a_missing_expectation_names_its_step(session: TranscribedSession) -> None:
    steps = parse_script(
        "/reenviar ayuda\n? Reenviar una factura\n!espera 0.5\n? esto no aparece\n",
        source="falla.txt",
    )
    with pytest.raises(ScriptFailure) as failure:
        await run_script(session, steps)
    assert failure.value.number == 4
    assert str(failure.value).startswith(
        "Falló el paso 4 (falla.txt, línea 4: «? esto no aparece»): no apareció"
    )


async def test_a_refused_line_fails_its_step(session: TranscribedSession) -> None:
    steps = parse_script("/reenviar\n7\n", source="x.txt")
    with pytest.raises(ScriptFailure, match=r"paso 2 \(x\.txt, línea 2: «7»\).*no aceptó"):
        await run_script(session, steps)


async def test_a_script_ending_inside_the_form_fails(session: TranscribedSession) -> None:
    steps = parse_script(f"/reenviar {SEED_LUMMY_ID}\n", source="x.txt")
    with pytest.raises(ScriptFailure, match="formulario abierto"):
        await run_script(session, steps)


# --- the terminal conversation, line by line ------------------------------------------


async def test_demo_commands_faults_and_cancelling_a_form(session: TranscribedSession) -> None:
    assert "!falla lummy 503" in await session.send_line("ayuda")
    assert session.rejected is None

    await session.send_line("hola")
    assert session.rejected is not None
    await session.send_line("/otro")
    assert session.rejected is not None
    await session.send_line("!falla lummy 999")
    assert session.rejected is not None

    shown = await session.send_line("!falla tusfacturas cuelga 1")
    assert "no va a responder" in shown
    assert "en el próximo pedido" in shown
    assert "vuelve a responder" in await session.send_line("!falla tf no")

    shown = await session.send_line("/reenviar")
    assert "Formulario «Reenviar comprobante»" in shown
    assert session.pending == "modal"
    assert "Proveedor [1: TusFacturas (Argentina)]" in session.prompt
    assert "no se reenvió nada" in await session.send_line("!cancelar")
    assert session.pending is None
    assert session.slack.views == {}

    assert "Fin de la demo" in await session.send_line("salir")
    assert session.finished


async def test_a_hanging_provider_ends_in_an_uncertain_outcome(tmp_path: Path) -> None:
    async with DemoSession(workdir=tmp_path, read_timeout=1.0) as demo:
        await demo.send_line("!falla lummy cuelga")
        await demo.send_line(f"/reenviar {SEED_LUMMY_ID}")
        for _ in range(3):
            shown = await demo.send_line("")
        assert "No se sabe si se reenvió" in shown
        assert "[Reintentar]" in shown
        await demo.send_line("reintentar")
        assert demo.pending == "confirm"
        assert "no manda otro correo" in demo.recent_output
        assert "no se envió nada al bot" in await demo.send_line("n")
        assert demo.pending is None


async def test_an_ephemeral_answer_through_the_response_url(session: TranscribedSession) -> None:
    # Slack refuses to open the modal: the bot answers through the command's response_url,
    # which only the agent sees.
    session.slack.fail("views.open", "expired_trigger_id")

    shown = await session.send_line(f"/reenviar {SEED_LUMMY_ID}")

    assert session.pending is None
    assert "solo visible para @ana" in shown
    assert "No se pudo abrir el formulario" in shown
    assert "expired_trigger_id" in shown
    assert DEMO_NOTE in shown
