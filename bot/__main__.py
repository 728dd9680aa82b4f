"""``python -m bot``: the same as the ``reenviar-bot`` command."""

from bot.cli import run

run()
