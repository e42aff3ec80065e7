"""The bot's one web server (PRODUCT.md §4): Telegram's webhook, the providers' callbacks,
`/healthz` and `/metrics`, as one Starlette application on uvicorn that runs in PTB's event loop.

`factory.build_web_app` builds the ASGI application; `server.serving_web` runs it around a
started Application (tests and `python -m bot` alike); `serve.serve` is `python -m bot`'s loop.
"""
