"""In-process fakes for the tests and the benchmark (a fake Telegram Bot API server)."""
