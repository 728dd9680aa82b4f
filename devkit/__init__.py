"""The dev kit: a local stand-in for Slack, emulators of both providers, and the demo.

None of it ships with the product (`bot/`, `handlers/`, `providers/`): the wheel
leaves it out, `reenviar-bot serve` never imports it, and only the CLI's `demo`
command (and `start` without Slack settings) loads it, lazily.
"""
