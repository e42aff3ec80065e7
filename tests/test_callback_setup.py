"""Instant codes set up from the chat: NonVoipUsNumber's callback URL registered at connect (or the
refusal said plainly), kiwiSMS's webhook URL shown and its secret taken, deleted and sealed, the
state on /providers, nothing of it without a public URL, the hook gone with the account, and the
sandbox's simulators calling the bot's own web server back."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import SANDBOX_KEY, build_application, running
from bot.config import Settings
from bot.web.server import webhook_options
from handlers import hook_taps
from handlers.services import SERVICES_KEY, Services
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import ProviderId
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.messages import SOURCE_CALLBACK
from tests.clients.common import free_port
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.helpers import KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat, until

# Loopback, and nothing listens there: these tests look at what the bot registers, not at the
# web server (tests/test_callbacks.py posts to it).
PUBLIC_URL = "http://127.0.0.1:9"
WEBHOOK_SECRET = "whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SETUP_BUTTON = "⚡ Set up instant codes"
OTHER_KEY = "lsms_other9_feedfacefeedfacefeed"


@asynccontextmanager
async def _bot(settings: Settings, **options: Any) -> AsyncIterator[tuple[Any, Services]]:
    app = build_application(settings, **options)
    async with running(app):
        yield app, app.bot_data[SERVICES_KEY]


@pytest.fixture
def public(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webhook_url=PUBLIC_URL)


def _saveurl_urls(nonvoip: NonVoipSimulator) -> list[str]:
    return [r.json["url"] for r in nonvoip.requests if r.path == "/api/saveurl"]


def _code_entities(message: BotMessage) -> list[str]:
    return [message.text[e["offset"] : e["offset"] + e["length"]] for e in message.entities if e["type"] == "code"]


async def _open_providers(chat: Chat) -> BotMessage:
    chat.send("/providers")
    return await chat.expect("Connected providers")


async def test_connecting_nonvoip_registers_its_hook_url_and_says_instant_codes_are_on(
    public: Settings, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    async with _bot(public) as (_, services):
        connected = await chat.connect_nonvoip()
        assert "Instant codes are on: NonVoipUsNumber sends each code the moment it arrives" in connected.text
        hook = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert hook is not None and hook.registered_at is not None
        url = services.hook_url(ProviderId.NONVOIP, hook.token)
        assert url == f"{PUBLIC_URL}/hooks/nonvoip/{hook.token}"
        assert nonvoip._accounts[NONVOIP_EMAIL].callback_url == url  # noqa: SLF001
        overview = await _open_providers(chat)
        assert "NonVoipUsNumber — $50.00\n   ⚡ instant codes on" in overview.text
        assert "⚡ Instant codes: NonVoipUsNumber" not in overview.button_labels  # nothing to set up

        # Connecting the same account again keeps the URL and registers it again.
        await chat.connect_nonvoip()
        again = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert again is not None and again.token == hook.token
        assert _saveurl_urls(nonvoip) == [url, url]


async def test_a_refused_callback_url_is_said_plainly_and_can_be_registered_later(
    public: Settings, nonvoip: NonVoipSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    nonvoip.fail_next("/api/saveurl", 400, {"status": "error", "message": "Callbacks are disabled for this account"})
    async with _bot(public) as (_, services):
        connected = await chat.connect_nonvoip()
        assert "connected, balance $50.00" in connected.text  # the account itself is connected
        assert (
            "NonVoipUsNumber did not accept the callback URL (Callbacks are disabled for this account): "
            "codes still arrive by polling." in connected.text
        )
        hook = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert hook is not None and hook.registered_at is None and not hook.active
        assert nonvoip._accounts[NONVOIP_EMAIL].callback_url is None  # noqa: SLF001

        overview = await _open_providers(chat)
        assert "instant codes off (NonVoipUsNumber did not accept the URL): codes arrive by polling" in overview.text
        query = chat.press("⚡ Instant codes: NonVoipUsNumber")
        on = await chat.expect("Instant codes are on", since=overview.seq)
        await tg.wait_for_callback_answer(query)
        assert on.message_id == overview.message_id and "« Back" in on.button_labels
        registered = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert registered is not None and registered.registered_at is not None
        assert nonvoip._accounts[NONVOIP_EMAIL].callback_url == services.hook_url(  # noqa: SLF001
            ProviderId.NONVOIP, hook.token
        )


async def test_kiwi_setup_shows_the_url_and_takes_the_secret_deleted_and_sealed(
    public: Settings, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    async with _bot(public) as (_, services):
        connected = await chat.connect_kiwi()
        assert "Set up instant codes" in connected.text and SETUP_BUTTON in connected.button_labels
        query = chat.press(SETUP_BUTTON)
        screen = await chat.expect("Instant codes for kiwiSMS")
        await tg.wait_for_callback_answer(query)
        assert screen.message_id == connected.message_id  # the same message, edited in place
        hook = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        assert hook is not None and hook.registered_at is None
        assert _code_entities(screen) == [f"{PUBLIC_URL}/hooks/kiwi/{hook.token}"]
        assert "webhook secret" in screen.text and "« Back" in screen.button_labels

        sent = chat.send(WEBHOOK_SECRET)
        on = await chat.expect("Instant codes are on for kiwiSMS", since=screen.seq)
        assert on.message_id == screen.message_id and "« Back" in on.button_labels
        assert tg.is_deleted(chat.chat_id, sent["message_id"]) and "secret was deleted from the chat" in on.text
        stored = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        assert stored is not None and stored.webhook_secret == WEBHOOK_SECRET and stored.active
        assert await services.conversations.get(chat.chat_id) is None  # the step is over

        overview = await _open_providers(chat)
        assert "kiwiSMS — $50.00\n   ⚡ instant codes on" in overview.text
        database = Path(public.database_path)
        for path in (database, Path(f"{database}-wal")):
            assert not path.exists() or WEBHOOK_SECRET.encode() not in path.read_bytes()
    assert all(WEBHOOK_SECRET not in m.text for m in tg.messages(chat.chat_id))
    # The bot's own log lines (the libraries' DEBUG output is bot/logging_setup.py's business).
    own = [r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("bot", "handlers", "storage")]
    assert own and not [line for line in own if WEBHOOK_SECRET in line]


async def test_a_malformed_secret_is_deleted_and_asked_again(
    public: Settings, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    async with _bot(public) as (_, services):
        await chat.connect_kiwi()
        chat.press(SETUP_BUTTON)
        screen = await chat.expect("Instant codes for kiwiSMS")
        typo = chat.send("whsec with spaces")
        await chat.expect("does not look like a webhook secret", since=screen.seq)
        assert tg.is_deleted(chat.chat_id, typo["message_id"])
        hook = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        assert hook is not None and hook.webhook_secret is None
        chat.send(WEBHOOK_SECRET)
        await chat.expect("Instant codes are on for kiwiSMS", since=screen.seq)


async def test_kiwi_instant_codes_can_be_turned_off_from_providers(
    public: Settings, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    async with _bot(public) as (_, services):
        await chat.connect_kiwi()
        chat.press(SETUP_BUTTON)
        await chat.expect("Instant codes for kiwiSMS")
        chat.send(WEBHOOK_SECRET)
        await chat.expect("Instant codes are on for kiwiSMS")
        overview = await _open_providers(chat)
        chat.press("⚡ Instant codes: kiwiSMS")
        screen = await chat.expect("Instant codes are on. To change the secret", since=overview.seq)
        chat.press("Turn instant codes off")
        await chat.expect("Instant codes are off for kiwiSMS", since=screen.seq)
        hook = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        assert hook is not None and hook.webhook_secret is None and hook.registered_at is None
        overview = await _open_providers(chat)
        assert "kiwiSMS — $50.00\n   instant codes off: codes arrive by polling" in overview.text


async def test_another_kiwi_account_starts_without_the_old_ones_url_and_secret(
    public: Settings, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    kiwi.add_account(OTHER_KEY, Decimal("7.00"))
    async with _bot(public) as (_, services):
        await chat.connect_kiwi()
        chat.press(SETUP_BUTTON)
        await chat.expect("Instant codes for kiwiSMS")
        chat.send(WEBHOOK_SECRET)
        await chat.expect("Instant codes are on for kiwiSMS")
        old = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        assert old is not None
        other = await chat.connect_kiwi(OTHER_KEY)  # no active orders: no question
        assert "balance $7.00" in other.text and SETUP_BUTTON in other.button_labels
        assert await services.hooks.by_token(ProviderId.KIWI, old.token) is None
        assert await services.hooks.get(chat.chat_id, ProviderId.KIWI) is None


async def test_without_a_public_url_no_instant_codes_are_offered(
    settings: Settings, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    async with _bot(settings) as (_, services):
        for connected in (await chat.connect_kiwi(), await chat.connect_nonvoip()):
            assert "nstant codes" not in connected.text
            assert not [label for label in connected.button_labels if "nstant codes" in label]
        assert _saveurl_urls(nonvoip) == []
        overview = await _open_providers(chat)
        assert overview.text.count("instant codes not available without a public URL") == 2
        assert not [label for label in overview.button_labels if "nstant codes" in label]
        for provider in (ProviderId.KIWI, ProviderId.NONVOIP):
            assert await services.hooks.get(chat.chat_id, provider) is None


async def test_disconnect_deletes_the_hook_so_the_old_url_stops_working(
    public: Settings, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    async with _bot(public) as (_, services):
        await chat.connect_nonvoip()
        hook = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert hook is not None
        assert await services.hooks.by_token(ProviderId.NONVOIP, hook.token) is not None
        await _open_providers(chat)
        chat.press("Disconnect NonVoipUsNumber")
        await chat.expect("Disconnect NonVoipUsNumber?")
        chat.press("Yes, disconnect")
        await chat.expect("NonVoipUsNumber disconnected")
        assert await services.hooks.by_token(ProviderId.NONVOIP, hook.token) is None
        # Connected again: a new URL, registered again.
        await chat.connect_nonvoip()
        fresh = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert fresh is not None and fresh.token != hook.token and fresh.registered_at is not None


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_instant_codes_buttons_parse_back_and_anything_else_is_none(data: str) -> None:
    for provider in ProviderId:
        assert hook_taps.decode(hook_taps.setup(provider)) == hook_taps.HookTap("setup", provider)
        assert hook_taps.decode(hook_taps.turn_off(provider)) == hook_taps.HookTap("off", provider)
    tap = hook_taps.decode(data)  # never raises
    assert tap is None or data in (hook_taps.setup(tap.provider), hook_taps.turn_off(tap.provider))


async def test_in_the_sandbox_with_a_public_url_codes_come_by_callback(
    make_settings: Callable[..., Settings], tg: FakeTelegram
) -> None:
    """`python -m bot sandbox` with PUBLIC_URL: both simulators call the bot's own web server, so a
    code is in the chat long before the safety-net poll (30 s) would have found it."""
    port = free_port()
    settings = make_settings(
        webhook_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1", webhook_port=port,
        kiwi_base_url="http://127.0.0.1:9", nonvoip_base_url="http://127.0.0.1:9/manager",
    )
    app = build_application(settings, sandbox=True, sandbox_sms_delay=0.2)
    async with running(app, webhook=webhook_options(settings)):
        services: Services = app.bot_data[SERVICES_KEY]
        chat = Chat(tg, 1001)
        await chat.connect_kiwi("demo")
        chat.press(SETUP_BUTTON)
        await chat.expect("Instant codes for kiwiSMS")
        chat.send(WEBHOOK_SECRET)
        await chat.expect("Instant codes are on for kiwiSMS")
        await chat.connect_nonvoip("demo@example.com", "anything")
        await chat.buy("WhatsApp")
        await chat.expect("🔑", timeout=5.0)
        card = await chat.buy_nonvoip("10-minutes", "Instagram")
        await chat.expect("🔑", timeout=5.0, since=card.seq)
        # Where the simulators post: the accounts' own URLs, kiwiSMS signing with the secret sent.
        kiwi, nonvoip = app.bot_data[SANDBOX_KEY][:2]
        kiwi_hook = await services.hooks.get(chat.chat_id, ProviderId.KIWI)
        nonvoip_hook = await services.hooks.get(chat.chat_id, ProviderId.NONVOIP)
        assert kiwi_hook is not None and nonvoip_hook is not None
        # Each simulator logs a delivery once the bot has answered it, maybe after the chat saw the code.
        await until(lambda: bool(kiwi.webhook_deliveries and nonvoip.callbacks), "the simulators' delivery logs")
        (delivery,) = kiwi.webhook_deliveries
        assert delivery["url"] == services.hook_url(ProviderId.KIWI, kiwi_hook.token) and delivery["status"] == 200
        expected = hmac.new(WEBHOOK_SECRET.encode(), delivery["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(delivery["signature"], expected)
        assert [c["url"] for c in nonvoip.callbacks] == [services.hook_url(ProviderId.NONVOIP, nonvoip_hook.token)]
        finished, _ = await services.orders.history(chat.chat_id, 0, 10)
        orders = [*await services.orders.active_for_chat(chat.chat_id), *finished]
        sms = await services.messages.sms_of([o.id for o in orders])
        assert sorted((o.provider.value, [m.source for m in sms[o.id]]) for o in orders) == [
            ("kiwi", [SOURCE_CALLBACK]), ("nonvoip", [SOURCE_CALLBACK]),
        ]
