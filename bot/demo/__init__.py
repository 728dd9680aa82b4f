"""``reenviar-bot demo``: the production bot against a local Slack and provider emulators.

Nothing here runs inside the bot. The demo starts the bot as a subprocess with
its production entry point (``python -m bot serve --http``), points it at a
local stand-in for Slack (`bot.localslack`) and at the provider emulators
(`providers.emulators`) through ordinary settings, and turns what the bot sends
to that stand-in into a terminal conversation.

- `bot.demo.session`: one conversation (`DemoSession`), putting the parts below together.
- `bot.demo.workspace`: the local Slack (@ana in #soporte) and the emulators;
  `bot.demo.real`: the settings passed on for ``--real-providers``.
- `bot.demo.child`: the bot process (`bot.localslack.process` underneath).
- `bot.demo.commands`: what a typed line means (``/reenviar``, the demo's own commands);
  `bot.demo.faults`: ``!falla``.
- `bot.demo.modal`: filling in a modal; `bot.demo.buttons`: pressing a button.
- `bot.demo.outbox`: Slack's requests to the bot, and Slack's errors when they fail.
- `bot.demo.terminal`, `bot.demo.watch`: what is shown, and following the workspace.
- `bot.demo.render`: Block Kit to terminal text, modals to prompts (pure).
- `bot.demo.script`: the scripted, non-interactive conversation format.
- `bot.demo.cli`: ``add_demo_parser`` / ``run_demo`` for ``reenviar-bot demo``.
"""
