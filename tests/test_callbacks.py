"""Provider callbacks end to end: the simulators POST to the bot's web server (real HTTP on
127.0.0.1), the bot answers in the fake Telegram chat; polling stays the safety net."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_application, running
from bot.config import ConfigError, Settings, load_settings
from bot.hooks.receiver import HookReceiver
from bot.poller import Poller
from bot.web.server import webhook_options
from handlers import texts
from handlers.services import SERVICES_KEY, Services
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.kiwi.webhook import SIGNATURE_HEADER, sign
from providers.models import OrderRequest, PlacedOrder, ProviderId
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.orders import sms_id
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.records import PurchaseState
from tests.clients.common import free_port
from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat, bought_kiwi_rental, bought_nonvoip_order, ticks, until,
)

KIWI = ProviderId.KIWI
NONVOIP = ProviderId.NONVOIP
SECRET = "whsec_alice_0123456789"
OTHER_KEY = "lsms_other2_deadbeefdeadbeefdead"
OTHER_SECRET = "whsec_bob_9876543210"
OTHER_EMAIL = "bob@example.com"
INSTAGRAM_10_MIN = "10000086"
LIST_RENTALS = ("GET", "/api/v1/rentals")  # kiwiSMS's account-wide poll: one request per account
BOT_LOGGERS = ("bot", "handlers", "providers", "storage")  # the bot's own log lines, not the test's clients
NEVER = 3600.0  # a safety-net interval no test reaches: no poll but the first one


@pytest.fixture
def web_settings(make_settings: Callable[..., Settings]) -> Settings:
    port = free_port()
    return make_settings(
        webhook_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1", webhook_port=port,
        poll_interval_seconds=0.1,
    )


@pytest.fixture
async def app(web_settings: Settings) -> AsyncIterator[Any]:
    """The bot as `python -m bot` runs it with PUBLIC_URL set: one web server for Telegram and hooks."""
    async with running(build_application(web_settings), webhook=webhook_options(web_settings)) as app:
        yield app


def services_of(app: Any) -> Services:
    return app.bot_data[SERVICES_KEY]


def poller_of(app: Any) -> Poller:
    return app.bot_data["poller"]


def receiver_of(app: Any) -> HookReceiver:
    return app.bot_data["hook_receiver"]


async def polled(app: Any, count: int = 3) -> None:
    """`count` more poll ticks, and the account polls they started, finished."""
    await ticks(app, count)
    await poller_of(app).settle()


async def quiet_until_callbacks(app: Any) -> None:
    """From now on a hooked account is polled only once (its first safety-net poll, awaited here)."""
    poller_of(app).safety_net.interval = NEVER
    await polled(app, 2)


async def kiwi_hook(app: Any, kiwi: KiwiSimulator, chat_id: int, key: str, secret: str) -> str:
    """The chat's kiwiSMS webhook secret given to the bot, and its URL set in the kiwiSMS dashboard."""
    hook = await services_of(app).hooks.set_webhook_secret(chat_id, KIWI, secret)
    url = services_of(app).hook_url(KIWI, hook.token)
    assert url is not None
    kiwi.add_account(key, webhook_url=url, webhook_secret=secret)  # keeps the account's rentals
    return url


async def nonvoip_hook(app: Any, chat_id: int) -> str:
    """The chat's callback URL saved at NonVoipUsNumber with its own client, as /connect does."""
    services = services_of(app)
    hook = await services.hooks.ensure(chat_id, NONVOIP)
    url = services.hook_url(NONVOIP, hook.token)
    client = await services.client_for(chat_id, NONVOIP)
    assert url is not None and isinstance(client, NonVoipClient)
    await client.save_url(url)
    await services.hooks.mark_registered(chat_id, NONVOIP, True)
    return url


async def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, content=body, headers={"Content-Type": "application/json", **(headers or {})})


def sms_received(rental: Any, code: str, text: str | None = None) -> bytes:
    return json.dumps({
        "event": "sms.received", "rentalId": rental.id, "serviceCode": rental.service,
        "serviceName": rental.service_name, "phone": rental.phone, "otpCode": code,
        "smsText": text or f"Your code is {code}", "receivedAt": "2030-01-01T00:00:00Z",
    }).encode()


async def stored_sms(app: Any, chat_id: int) -> list[tuple[str, str]]:
    """(identity, path that stored it) of every SMS the bot stored for the chat."""
    rows = await services_of(app).db.fetchall(
        "SELECT provider_message_id, source FROM messages WHERE chat_id = ? AND kind = 'sms' ORDER BY id", (chat_id,)
    )
    return [(r["provider_message_id"], r["source"]) for r in rows]


async def nth_delivery(log: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """The simulator's `count`-th outbound callback, once its answer is in."""
    await until(lambda: len(log) >= count, "the simulator's callback")
    return log[count - 1]


# ---------------------------------------------------------------------- kiwiSMS


async def test_a_signed_kiwi_webhook_delivers_the_code_once_and_a_later_poll_sends_nothing(
    app: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    url = await kiwi_hook(app, kiwi, chat.chat_id, KIWI_KEY, SECRET)
    await quiet_until_callbacks(app)
    polls = kiwi.request_count(*LIST_RENTALS)

    kiwi.receive_sms(rental.id, "Your WhatsApp code is 482913")
    code = await chat.expect("🔑 482913")
    assert "Your WhatsApp code is 482913" in code.text  # the webhook's smsText (a poll has none)
    delivery = await nth_delivery(kiwi.webhook_deliveries, 1)
    assert delivery["status"] == 200
    assert await stored_sms(app, chat.chat_id) == [("otp:482913", "callback")]
    await chat.expect("code received")  # the card too
    await polled(app, 3)
    assert kiwi.request_count(*LIST_RENTALS) == polls  # callbacks work: no poll since the first

    # kiwiSMS delivers it again, and then polls see it: neither is news.
    assert (await post(url, delivery["body"], {SIGNATURE_HEADER: delivery["signature"]})).status_code == 200
    poller_of(app).safety_net.interval = 0
    await polled(app, 3)
    await receiver_of(app).drain()
    assert kiwi.request_count(*LIST_RENTALS) >= polls + 2
    assert len(chat.codes_sent("482913")) == 1
    assert await stored_sms(app, chat.chat_id) == [("otp:482913", "callback")]
    hook = await services_of(app).hooks.get(chat.chat_id, KIWI)
    assert hook is not None and hook.active and hook.missed_at is None


async def test_a_callback_s_sms_is_stored_before_it_is_answered_and_sent_once_telegram_is_back(
    app: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    url = await kiwi_hook(app, kiwi, chat.chat_id, KIWI_KEY, SECRET)
    await quiet_until_callbacks(app)
    tg.set_down(True)  # nothing reaches the chat for now
    body = sms_received(rental, "604413")
    answer = await post(url, body, {SIGNATURE_HEADER: sign(body, SECRET)})
    # The 200 means "stored": read at once, before any background work could have run for it.
    assert answer.status_code == 200
    assert await stored_sms(app, chat.chat_id) == [("otp:604413", "callback")]
    await receiver_of(app).drain()
    assert chat.codes_sent("604413") == []
    tg.set_down(False)
    await chat.expect("🔑 604413", timeout=15)  # from the outbox once the sender's claim ran out
    await polled(app, 2)
    assert len(chat.codes_sent("604413")) == 1


async def test_unsigned_missigned_replayed_or_unknown_kiwi_webhooks_change_nothing(
    app: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rental = await bought_kiwi_rental(chat, kiwi)
    url = await kiwi_hook(app, kiwi, chat.chat_id, KIWI_KEY, SECRET)
    other = Chat(tg, 1002)
    kiwi.add_account(OTHER_KEY)
    await other.connect_kiwi(OTHER_KEY)
    await other.buy("WhatsApp")
    (other_rental,) = kiwi.rentals_of(OTHER_KEY)
    await kiwi_hook(app, kiwi, other.chat_id, OTHER_KEY, OTHER_SECRET)
    await quiet_until_callbacks(app)
    # The other chat's code arrives by its own (genuine) webhook...
    kiwi.receive_sms(other_rental.id, "Your code is 777777")
    await other.expect("🔑 777777")
    genuine = await nth_delivery(kiwi.webhook_deliveries, 1)
    hook_token = url.rsplit("/", 1)[1]
    nonvoip_hook_token = (await services_of(app).hooks.ensure(chat.chat_id, NONVOIP)).token

    mine = sms_received(rental, "111111")
    refused = {
        "unsigned": await post(url, mine),
        "signed with another secret": await post(url, mine, {SIGNATURE_HEADER: sign(mine, "guess")}),
        "signature of another body": await post(url, mine, {SIGNATURE_HEADER: sign(mine + b" ", SECRET)}),
        # ...and replayed to this chat's URL: not this account's signature,
        "replayed": await post(url, genuine["body"], {SIGNATURE_HEADER: genuine["signature"]}),
        # nor, signed with this account's secret, this account's rental.
        "another account's rental": await post(url, genuine["body"], {SIGNATURE_HEADER: sign(genuine["body"], SECRET)}),
        "unknown token": await post(url.replace(hook_token, secrets.token_urlsafe(32)), mine,
                                    {SIGNATURE_HEADER: sign(mine, SECRET)}),
        "another provider's token": await post(url.replace(hook_token, nonvoip_hook_token), mine,
                                               {SIGNATURE_HEADER: sign(mine, SECRET)}),
    }
    assert {what: r.status_code for what, r in refused.items()} == {
        "unsigned": 401, "signed with another secret": 401, "signature of another body": 401, "replayed": 401,
        "another account's rental": 404, "unknown token": 404, "another provider's token": 404,
    }
    garbled = mine[:-7]
    assert (await post(url, garbled, {SIGNATURE_HEADER: sign(garbled, SECRET)})).status_code == 400
    await services_of(app).hooks.set_webhook_secret(chat.chat_id, KIWI, None)  # no secret: nothing is trusted
    no_secret = await post(url, mine, {SIGNATURE_HEADER: sign(mine, SECRET)})
    assert no_secret.status_code == 401
    await receiver_of(app).drain()

    assert chat.codes_sent("111111") == [] and chat.codes_sent("777777") == []
    assert await stored_sms(app, chat.chat_id) == []
    assert len(other.codes_sent("777777")) == 1
    hook = await services_of(app).hooks.get(chat.chat_id, KIWI)
    assert hook is not None and hook.last_callback_at is None
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in BOT_LOGGERS)
    assert "kiwi hook: 401" in logged and hook_token not in logged and "111111" not in logged

    # The same body, signed right once the secret is back: it was the forgeries that were refused.
    await services_of(app).hooks.set_webhook_secret(chat.chat_id, KIWI, SECRET)
    assert (await post(url, mine, {SIGNATURE_HEADER: sign(mine, SECRET)})).status_code == 200
    await chat.expect("🔑 111111")


# ---------------------------------------------------------------------- NonVoipUsNumber


async def test_a_nonvoip_incoming_message_for_the_account_s_order_delivers_once(
    app: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip)
    url = await nonvoip_hook(app, chat.chat_id)
    await quiet_until_callbacks(app)
    polls = nonvoip.request_count("/api/getsms")

    text = "Your Instagram code is 246810"
    nonvoip.receive_sms(order.order_id, text, "246810")
    await chat.expect("🔑 246810")
    delivery = await nth_delivery(nonvoip.callbacks, 1)
    assert delivery["status"] == 200
    assert await stored_sms(app, chat.chat_id) == [(sms_id(text, "246810"), "callback")]
    await polled(app, 3)
    assert nonvoip.request_count("/api/getsms") == polls  # callbacks work: no poll since the first

    # Delivered again, then seen by polls (getsms shows it again and again): one message.
    assert (await post(url, json.dumps(delivery["payload"]).encode())).status_code == 200
    poller_of(app).safety_net.interval = 0
    await polled(app, 3)
    await receiver_of(app).drain()
    assert nonvoip.request_count("/api/getsms") > polls
    assert len(chat.codes_sent("246810")) == 1
    assert await stored_sms(app, chat.chat_id) == [(sms_id(text, "246810"), "callback")]


async def test_a_nonvoip_callback_for_an_order_that_is_not_the_account_s_does_nothing(
    app: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    await bought_nonvoip_order(chat, nonvoip)
    url = await nonvoip_hook(app, chat.chat_id)
    await quiet_until_callbacks(app)
    # Another account's order at the same provider, bought outside this bot.
    nonvoip.add_account(OTHER_EMAIL, NONVOIP_PASSWORD)
    stranger = NonVoipClient(services_of(app).http, nonvoip.base_url, OTHER_EMAIL, NONVOIP_PASSWORD)
    placed = await stranger.place_order(OrderRequest(section="10-minutes", service_ids=(INSTAGRAM_10_MIN,),
                                                     idempotency_key="x"))
    assert isinstance(placed, PlacedOrder)
    theirs = placed.first
    message = {"order_id": theirs.order_id, "number": theirs.phone, "service": "Instagram", "sender": "8843",
               "sms": "Your Instagram code is 135790", "code": "135790", "type": "str"}
    for order_id in (theirs.order_id, "999999999"):  # someone else's order, and no order at all
        body = json.dumps({"event": "incoming_message", "message": {**message, "order_id": order_id}}).encode()
        answer = await post(url, body)
        assert (answer.status_code, answer.text) == (200, "ignored: not an order of this account")
    won = json.dumps({"event": "auction_wining", "message": [
        {"order_id": theirs.order_id, "number": theirs.phone, "service": "Instagram", "expiration": 600}]}).encode()
    assert (await post(url, won)).status_code == 200  # confirmed with the API: not this account's
    assert (await post(url, b'{"event": "incoming_message"')).status_code == 400
    await receiver_of(app).drain()

    assert chat.codes_sent("135790") == []
    assert await stored_sms(app, chat.chat_id) == []
    assert len(await services_of(app).orders.active_for_chat(chat.chat_id)) == 1  # only its own
    assert not any("premium bid won" in m.text for m in chat.tg.sent(chat.chat_id))
    hook = await services_of(app).hooks.get(chat.chat_id, NONVOIP)
    assert hook is not None and hook.last_callback_at is None


async def test_auction_wining_turns_a_bid_whose_answer_was_lost_into_one_order_card(
    app: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    url = await nonvoip_hook(app, chat.chat_id)
    nonvoip.offer_premium(INSTAGRAM_10_MIN, 20)
    nonvoip.auction_callback_delay = 0.5  # the win is announced after the chat was told (not needed, clearer)
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    await chat.expect("premium bid")
    nonvoip.lose_answer_next("/api/order", 500)  # the bid is placed, its answer lost
    chat.press("Bid +20%")
    await chat.expect("may have been charged")

    card = await chat.expect("did go through")  # the won auction, confirmed with the API
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    assert texts.phone(order.number) in card.text and "Instagram" in card.text
    delivery = await nth_delivery(nonvoip.callbacks, 1)
    assert delivery["payload"]["event"] == "auction_wining" and delivery["status"] == 200
    assert (await post(url, json.dumps(delivery["payload"]).encode())).status_code == 200  # sent twice
    await receiver_of(app).drain()

    cards = [m for m in chat.tg.sent(chat.chat_id) if "did go through" in m.text or "premium bid won" in m.text]
    assert len(cards) == 1
    (recorded,) = await services_of(app).orders.active_for_chat(chat.chat_id)
    assert recorded.remote_id == order.order_id and recorded.price == order.price
    row = await services_of(app).db.fetchone("SELECT state FROM purchases WHERE chat_id = ?", (chat.chat_id,))
    assert row is not None and row["state"] == PurchaseState.PLACED
    # The adopted order is a live one: its code arrives like any other.
    nonvoip.receive_sms(order.order_id, "Your Instagram code is 424242", "424242")
    await chat.expect("🔑 424242")


async def test_two_auction_wining_callbacks_at_once_make_one_order_card(
    app: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    url = await nonvoip_hook(app, chat.chat_id)
    nonvoip.offer_premium(INSTAGRAM_10_MIN, 20)
    nonvoip.auction_callback_delay = NEVER  # the provider's own announcement: after this test
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    await chat.expect("premium bid")
    nonvoip.lose_answer_next("/api/order", 500)
    chat.press("Bid +20%")
    await chat.expect("may have been charged")
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    won = json.dumps({"event": "auction_wining", "message": [
        {"order_id": int(order.order_id), "number": order.number, "service": order.service, "expiration": 600}]})

    answers = await asyncio.gather(post(url, won.encode()), post(url, won.encode()))
    assert [a.status_code for a in answers] == [200, 200]
    await chat.expect("did go through")
    await receiver_of(app).drain()
    assert sum("did go through" in m.text or "premium bid won" in m.text for m in chat.tg.sent(chat.chat_id)) == 1
    (recorded,) = await services_of(app).orders.active_for_chat(chat.chat_id)
    assert recorded.remote_id == order.order_id


async def test_auction_wining_for_a_bid_the_chat_already_shows_adds_no_second_card(
    app: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    url = await nonvoip_hook(app, chat.chat_id)
    nonvoip.offer_premium(INSTAGRAM_10_MIN, 20)
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    await chat.expect("premium bid")
    chat.press("Bid +20%")
    await chat.expect("waiting for the SMS")
    delivery = await nth_delivery(nonvoip.callbacks, 1)
    assert delivery["payload"]["event"] == "auction_wining" and delivery["status"] == 200
    assert (await post(url, json.dumps(delivery["payload"]).encode())).status_code == 200
    await receiver_of(app).drain()
    assert len(await services_of(app).orders.active_for_chat(chat.chat_id)) == 1
    assert not any("did go through" in m.text or "premium bid won" in m.text for m in chat.tg.sent(chat.chat_id))


# ---------------------------------------------------------------------- polling as the safety net


async def test_with_callbacks_working_the_account_is_polled_at_the_safety_net_interval(
    app: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    await bought_kiwi_rental(chat, kiwi)
    await polled(app, 1)
    before = kiwi.request_count(*LIST_RENTALS)
    await polled(app, 8)
    assert kiwi.request_count(*LIST_RENTALS) - before >= 6  # without callbacks: every tick

    interval = 0.45
    poller_of(app).safety_net.interval = interval
    await kiwi_hook(app, kiwi, chat.chat_id, KIWI_KEY, SECRET)
    await polled(app, 1)
    before, started = kiwi.request_count(*LIST_RENTALS), time.monotonic()
    await polled(app, 10)
    count, elapsed = kiwi.request_count(*LIST_RENTALS) - before, time.monotonic() - started
    assert 1 <= count <= 1 + elapsed / interval and count <= 5  # one per interval, not one per tick


async def test_a_code_only_the_safety_net_poll_found_makes_the_account_polled_fast_again(
    app: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    hook = await services_of(app).hooks.set_webhook_secret(chat.chat_id, KIWI, SECRET)  # kiwiSMS never calls
    poller_of(app).safety_net.interval = 0.45
    await polled(app, 2)

    kiwi.receive_sms(rental.id, "Your code is 565656")
    await chat.expect("🔑 565656")  # the safety-net poll found it
    assert await stored_sms(app, chat.chat_id) == [("otp:565656", "poll")]
    await polled(app, 1)
    missed = await services_of(app).hooks.get(chat.chat_id, KIWI)
    assert missed is not None and missed.missed_at is not None and not missed.active
    before = kiwi.request_count(*LIST_RENTALS)
    await polled(app, 8)
    assert kiwi.request_count(*LIST_RENTALS) - before >= 6  # every tick again

    # kiwiSMS calls again (the URL is set in its dashboard): callbacks are trusted again.
    url = services_of(app).hook_url(KIWI, hook.token)
    kiwi.add_account(KIWI_KEY, webhook_url=url, webhook_secret=SECRET)
    kiwi.receive_sms(rental.id, "Your code is 676767")
    assert (await nth_delivery(kiwi.webhook_deliveries, 1))["status"] == 200
    await chat.expect("🔑 676767")
    back = await services_of(app).hooks.get(chat.chat_id, KIWI)
    assert back is not None and back.active and back.last_callback_at is not None
    assert back.last_callback_at > missed.missed_at
    await polled(app, 1)
    before = kiwi.request_count(*LIST_RENTALS)
    await polled(app, 8)
    assert kiwi.request_count(*LIST_RENTALS) - before <= 3  # the safety-net interval again


def test_the_safety_net_interval_is_read_from_the_environment() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456789:AAFakeTokenForTestsOnly-abcdefghijk",
           "BOT_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    assert load_settings(env).callback_safety_poll_seconds == 30.0
    assert load_settings({**env, "CALLBACK_SAFETY_POLL_SECONDS": "7.5"}).callback_safety_poll_seconds == 7.5
    with pytest.raises(ConfigError, match="CALLBACK_SAFETY_POLL_SECONDS"):
        load_settings({**env, "CALLBACK_SAFETY_POLL_SECONDS": "soon"})


# ---------------------------------------------------------------------- any input


junk = st.one_of(
    st.binary(max_size=80),
    st.fixed_dictionaries({"event": st.sampled_from(["sms.received", "incoming_message", "auction_wining", "x"]),
                           "message": st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers(),
                                                                  max_size=4)},
                          optional={"rentalId": st.text(max_size=8), "otpCode": st.text(max_size=8),
                                    "receivedAt": st.text(max_size=25)}).map(lambda d: json.dumps(d).encode()),
)


@pytest.fixture
async def hook_urls(app: Any, chat: Chat) -> tuple[str, str]:
    """The chat's kiwiSMS (with its secret) and NonVoipUsNumber callback URLs."""
    services = services_of(app)
    kiwi_url = services.hook_url(KIWI, (await services.hooks.set_webhook_secret(chat.chat_id, KIWI, SECRET)).token)
    nonvoip_url = services.hook_url(NONVOIP, (await services.hooks.ensure(chat.chat_id, NONVOIP)).token)
    assert kiwi_url and nonvoip_url
    return kiwi_url, nonvoip_url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"Content-Type": "application/json"}) as client:
        yield client


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=junk, signed=st.booleans())
async def test_any_callback_body_gets_a_4xx_or_is_ignored_and_changes_nothing(
    app: Any, chat: Chat, hook_urls: tuple[str, str], http: httpx.AsyncClient, body: bytes, signed: bool
) -> None:
    kiwi_url, nonvoip_url = hook_urls
    headers = {SIGNATURE_HEADER: sign(body, SECRET)} if signed else {}
    kiwi_answer = await http.post(kiwi_url, content=body, headers=headers)
    nonvoip_answer = await http.post(nonvoip_url, content=body)
    assert kiwi_answer.status_code in (400, 401, 404) and len(kiwi_answer.text) < 80
    assert nonvoip_answer.status_code in (200, 400) and len(nonvoip_answer.text) < 80
    await receiver_of(app).drain()
    assert await stored_sms(app, chat.chat_id) == []
    assert await services_of(app).orders.active_for_chat(chat.chat_id) == []
    assert chat.tg.sent(chat.chat_id) == []
