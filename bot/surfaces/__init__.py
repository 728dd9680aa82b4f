"""What every Slack surface shares: who is asking and whether they may, and the
re-send modal's life once a surface has opened it."""
