"""pexbot: a Discord bot that finds beautiful, properly credited Pexels photos and videos."""

__version__ = "1.0.0"
