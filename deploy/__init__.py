"""Scripts that run the bot in production shapes (`python -m deploy.local_cluster`); not part of
the installed package (pyproject's `packages.find` includes only bot, handlers, providers, storage)."""
