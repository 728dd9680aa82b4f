"""``reenviar-bot demo``: the production bot against a local Slack and provider emulators.

Nothing here runs inside the bot. The demo starts the bot as a subprocess with
its production entry point (``python -m bot serve --http``), points it at a
local stand-in for Slack (`bot.localslack`) and at the provider emulators
(`providers.emulators`) through ordinary settings, and turns what the bot sends
to that stand-in into a terminal conversation.

- `bot.demo.render`: Block Kit to terminal text, modals to prompts (pure).
- `bot.demo.session`: starts everything and drives one conversation (`DemoSession`).
- `bot.demo.script`: the scripted, non-interactive conversation format.
- `bot.demo.cli`: ``add_demo_parser`` / ``run_demo`` for ``reenviar-bot demo``.
"""
