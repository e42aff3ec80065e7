"""The fake Bot API server, driven by a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest
from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram import BotMessage, FakeTelegram

CHAT = 1001
NOT_MODIFIED = "Message is not modified"

App = Application[Any, Any, Any, Any, Any, Any]
Handler = BaseHandler[Any, Any, Any]
AppFactory = Callable[[Sequence[Handler]], Awaitable[App]]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(token="123456789:AAFakeTokenForTestsOnly-abcdefghijk", bot_username="otp_test_bot")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def make_app(tg: FakeTelegram) -> AsyncIterator[AppFactory]:
    """Build, start and poll a real PTB Application against the fake; stop it afterwards."""
    apps: list[App] = []

    async def factory(handlers: Sequence[Handler]) -> App:
        app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).build()
        app.add_handlers(list(handlers))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.01, timeout=5)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[App]:
    """An initialized Application that does not poll: for direct Bot API calls."""
    app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).build()
    await app.initialize()
    yield app
    await app.shutdown()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Confirm", callback_data="confirm:1")],
         [InlineKeyboardButton("Copy", copy_text=CopyTextButton("+15550001"))]]
    )
    await update.effective_message.reply_html("Welcome, <b>Tess</b> &lt;3", reply_markup=keyboard)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Done")
    await query.edit_message_text(f"Confirmed {query.data}")


async def test_start_reply_is_seen_and_html_is_stripped(tg: FakeTelegram, make_app: AppFactory) -> None:
    await make_app([CommandHandler("start", start)])
    tg.user_sends(CHAT, "/start")
    message = await tg.wait_for_text(CHAT, "Welcome", timeout=5)
    assert isinstance(message, BotMessage)
    assert message.text == "Welcome, Tess <3"
    assert message.raw_text == "Welcome, <b>Tess</b> &lt;3"
    assert message.parse_mode == "HTML"
    assert message.button_labels == ["Confirm", "Copy"]
    assert message.entities == [{"type": "bold", "offset": 9, "length": 4}]
    assert [m.message_id for m in tg.messages(CHAT)] == [message.message_id]
    assert tg.calls("getMe") and tg.calls("sendMessage")[0].params["chat_id"] == CHAT


async def test_command_with_bot_username_in_group(tg: FakeTelegram, make_app: AppFactory) -> None:
    await make_app([CommandHandler("start", start)])
    sent = tg.user_sends(-500, "/start@otp_test_bot", chat_type="supergroup")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 19}]
    assert sent["chat"]["title"]
    await tg.wait_for_text(-500, "Welcome", timeout=5)


async def test_callback_is_answered_and_message_edited(tg: FakeTelegram, make_app: AppFactory) -> None:
    await make_app([CommandHandler("start", start), CallbackQueryHandler(confirm)])
    tg.user_sends(CHAT, "/start")
    first = await tg.wait_for_text(CHAT, "Welcome", timeout=5)
    query_id = tg.press_button(CHAT, "Confirm")
    answer = await tg.wait_for_callback_answer(query_id, timeout=5)
    assert answer["text"] == "Done"
    edited = await tg.wait_for_text(CHAT, "Confirmed confirm:1", timeout=5)
    assert edited.message_id == first.message_id
    assert edited.edit_count == 1 and edited.edited_at is not None
    assert edited.buttons == []  # editing text without reply_markup drops the keyboard
    assert tg.sent(CHAT)[0].text == "Welcome, Tess <3"  # sent() keeps the as-sent snapshot
    with pytest.raises(AssertionError, match="Confirm"):
        tg.press_button(CHAT, "Confirm")


async def test_batch_delivers_two_callbacks_in_one_get_updates(
    tg: FakeTelegram, make_app: AppFactory
) -> None:
    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    await make_app([CommandHandler("start", start), CallbackQueryHandler(answer)])
    tg.user_sends(CHAT, "/start")  # update 1
    await tg.wait_for_text(CHAT, "Welcome", timeout=5)
    with tg.batch():  # updates 2 and 3
        first = tg.press_button(CHAT, "Confirm")
        second = tg.press_button(CHAT, "Confirm")
        await asyncio.sleep(0.05)  # the pending long poll must not see a half batch
    await tg.wait_for_callback_answer(first, timeout=5)
    await tg.wait_for_callback_answer(second, timeout=5)
    # One response carried both: PTB's next offset jumps from 2 straight to 4.
    offsets = await _poll_offsets_until(tg, 4)
    assert 2 in offsets and 3 not in offsets


async def _poll_offsets_until(tg: FakeTelegram, offset: int) -> list[int]:
    for _ in range(200):
        offsets = [int(call.params.get("offset") or 0) for call in tg.calls("getUpdates")]
        if offset in offsets:
            return offsets
        await asyncio.sleep(0.01)
    raise AssertionError(f"no getUpdates with offset {offset}")


async def test_callback_data_over_64_bytes_is_rejected(tg: FakeTelegram, bot: App) -> None:
    tg.register_chat(CHAT)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid|BUTTON_DATA_INVALID"):
        await bot.bot.send_message(CHAT, "hi", reply_markup=markup)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 64)]])
    await bot.bot.send_message(CHAT, "hi", reply_markup=ok)


async def test_not_modified_and_not_found(tg: FakeTelegram, bot: App) -> None:
    tg.register_chat(CHAT)
    message = await bot.bot.send_message(CHAT, "<i>same</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        await bot.bot.edit_message_text("<i>same</i>", CHAT, message.message_id, parse_mode="HTML")
    await bot.bot.edit_message_text("<b>same</b>", CHAT, message.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        await bot.bot.edit_message_reply_markup(CHAT, message.message_id)
    assert await bot.bot.delete_message(CHAT, message.message_id)
    assert tg.is_deleted(CHAT, message.message_id) and tg.messages(CHAT) == []
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.bot.edit_message_text("new", CHAT, message.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.bot.delete_message(CHAT, message.message_id)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.bot.send_message(999, "hi")


TEXT_CASES: list[tuple[str, str | None, str | None]] = [
    ("", None, "Message text is empty"),
    ("x" * 4097, None, "Message is too long"),
    ("<b>" + "x" * 4096 + "</b>", "HTML", None),  # the limit applies after parsing
    ("<b>bold", "HTML", "Can't parse entities"),
    ("<b><i>x</b></i>", "HTML", "Can't parse entities"),
    ("<script>x</script>", "HTML", "Can't parse entities"),
    ("a < b", "HTML", "Can't parse entities"),
    ("fish & chips", "HTML", "Can't parse entities"),
    ('<a href="https://e.x/?a=1&amp;b=2">l</a> <span class="tg-spoiler">s</span>', "HTML", None),
]


async def test_text_validation(tg: FakeTelegram, bot: App) -> None:
    # One test over all cases: a fresh server and bot per case would cost ~0.3 s each.
    tg.register_chat(CHAT)
    for text, parse_mode, error in TEXT_CASES:
        if error is None:
            await bot.bot.send_message(CHAT, text, parse_mode=parse_mode)
            continue
        with pytest.raises(BadRequest, match=error):
            await bot.bot.send_message(CHAT, text, parse_mode=parse_mode)


async def test_buttons_answers_and_commands(tg: FakeTelegram, bot: App) -> None:
    tg.register_chat(CHAT)
    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed"):
        await bot.bot.send_message(CHAT, "hi", reply_markup={"inline_keyboard": [[{"text": "x"}]]})
    with pytest.raises(BadRequest, match="(?i)exactly one"):
        both = {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://e.x"}]]}
        await bot.bot.send_message(CHAT, "hi", reply_markup=both)
    with pytest.raises(BadRequest, match="Copy_text|copy_text"):
        long_copy = InlineKeyboardButton("c", copy_text=CopyTextButton("9" * 257))
        await bot.bot.send_message(CHAT, "hi", reply_markup=InlineKeyboardMarkup([[long_copy]]))
    sent = await bot.bot.send_message(CHAT, "hi", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("Go", callback_data="go")]]))
    query_id = tg.press_button(CHAT, "Go", message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message_too_long|MESSAGE_TOO_LONG"):
        await bot.bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.bot.answer_callback_query(query_id, text="ok", show_alert=True)
    assert tg.callback_answers[query_id]["show_alert"] is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.bot.answer_callback_query(query_id)
    await bot.bot.set_my_commands([("start", "Start"), ("buy", "Rent a number")])
    assert tg.commands == [{"command": "start", "description": "Start"},
                           {"command": "buy", "description": "Rent a number"}]
    assert [c.command for c in await bot.bot.get_my_commands()] == ["start", "buy"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_failures_outage_and_raw_http(tg: FakeTelegram, bot: App) -> None:
    tg.register_chat(CHAT)
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    tg.fail_next("sendMessage", 429)
    with pytest.raises(RetryAfter):
        await bot.bot.send_message(CHAT, "hi")
    with pytest.raises(RetryAfter):
        await bot.bot.send_message(CHAT, "hi")
    assert len(tg.calls("sendMessage")) == 2
    tg.set_down(True)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.bot.send_chat_action(CHAT, "typing")
    tg.set_down(False)
    await bot.bot.send_message(CHAT, "hi")
    async with httpx.AsyncClient() as client:
        base = tg.base_url
        wrong = await client.post(f"{base}1:wrong/getMe")
        unknown = await client.post(f"{base}{tg.token}/fooBar")
        as_json = await client.post(f"{base}{tg.token}/sendMessage", json={"chat_id": CHAT, "text": "123"})
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert as_json.json()["result"]["text"] == "123"
    assert json.loads(as_json.text)["ok"] is True


async def test_foreign_callback_and_wait_timeout(tg: FakeTelegram, make_app: AppFactory) -> None:
    seen: list[tuple[int, int, str]] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None and update.effective_user
        seen.append((update.effective_user.id, query.message.chat.id, str(query.data)))
        await query.answer()

    await make_app([CallbackQueryHandler(record)])
    tg.user_sends(CHAT, "hello")
    query_id = tg.callback_update_for_foreign_message(CHAT, 2002, 7, "cancel:42")
    await tg.wait_for_callback_answer(query_id, timeout=5)
    assert seen == [(CHAT, 2002, "cancel:42")]
    with pytest.raises(AssertionError, match="recent bot texts"):
        await tg.wait_for_text(CHAT, "never", timeout=0.1)


async def test_a_button_on_a_deleted_or_old_message_arrives_inaccessible(tg: FakeTelegram, make_app: AppFactory) -> None:
    seen: list[object] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        seen.append(update.callback_query.message)
        await update.callback_query.answer()

    bot = await make_app([CommandHandler("start", start), CallbackQueryHandler(record)])
    tg.user_sends(CHAT, "/start")
    first = await tg.wait_for_text(CHAT, "Welcome", timeout=5)
    tg.user_sends(CHAT, "/start")
    second = await tg.wait_for_text(CHAT, "Welcome", timeout=5)
    await bot.bot.delete_message(CHAT, first.message_id)
    tg.age_message(CHAT, second.message_id, hours=49)
    for message_id in (first.message_id, second.message_id):
        await tg.wait_for_callback_answer(tg.press_data(CHAT, message_id, "confirm:1"), timeout=5)
    # PTB parses a callback's message as Message even when Telegram sends it inaccessible (date 0).
    assert [m.is_accessible for m in seen] == [False, False]  # type: ignore[attr-defined]
    assert [m.message_id for m in seen] == [first.message_id, second.message_id]  # type: ignore[attr-defined]


async def test_deleted_messages_cannot_be_edited_and_old_ones_not_deleted(tg: FakeTelegram, bot: App) -> None:
    tg.register_chat(CHAT)
    first = await bot.bot.send_message(CHAT, "one")
    second = await bot.bot.send_message(CHAT, "two")
    await bot.bot.delete_message(CHAT, first.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.bot.edit_message_text("edited", chat_id=CHAT, message_id=first.message_id)
    tg.age_message(CHAT, second.message_id, hours=48.5)
    with pytest.raises(BadRequest, match="can't be deleted"):
        await bot.bot.delete_message(CHAT, second.message_id)
    tg.user_deletes(CHAT, second.message_id)
    assert tg.is_deleted(CHAT, second.message_id)


async def test_a_webhook_receives_updates_with_the_secret_and_polling_is_refused(tg: FakeTelegram, bot: App) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    statuses = iter([500, 200])  # the first delivery fails and is retried, as Telegram does

    async def endpoint(request: Any) -> Any:
        from starlette.responses import Response

        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return Response(status_code=next(statuses))

    from starlette.applications import Starlette
    from starlette.routing import Route

    from providers.simulation.loopback_server import LoopbackServer

    server = LoopbackServer(Starlette(routes=[Route("/hook", endpoint, methods=["POST"])]))
    await server.start()
    try:
        assert await bot.bot.set_webhook(f"{server.url}/hook", secret_token="s3cret_-Token")
        assert (await bot.bot.get_webhook_info()).url == f"{server.url}/hook"
        with pytest.raises(BadRequest, match="unallowed"):
            await bot.bot.set_webhook(f"{server.url}/hook", secret_token="has space")
        tg.user_sends(CHAT, "hello")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while len(received) < 2 and loop.time() < deadline:
            await asyncio.sleep(0.02)
        assert [secret for secret, _ in received] == ["s3cret_-Token", "s3cret_-Token"]
        assert received[0][1] == received[1][1] and received[1][1]["message"]["text"] == "hello"
        assert tg.webhook_refusals == [500]
        with pytest.raises(Exception, match="webhook is active"):
            await bot.bot.get_updates(timeout=0)
        assert await bot.bot.delete_webhook()
        assert await bot.bot.get_updates(timeout=0) == ()
    finally:
        await server.stop()
