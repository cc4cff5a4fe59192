"""The bot's extensions: Discord-facing plumbing only; the work happens in `bot/`."""
