"""``reenviar-bot doctor``: why the bot would not work here, before an agent finds out.

One module per group of checks (`bot.doctor.slack`, `bot.doctor.providers`,
`bot.doctor.storage`), the result model (`bot.doctor.checks`), the checklist as text
or JSON (`bot.doctor.report`) and the command that runs them in order
(`bot.doctor.command`).
"""
