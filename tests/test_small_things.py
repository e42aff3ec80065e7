"""Small things a user notices: a group gets a way into the private chat, over-long text never
reaches a Bot API call, and a stray or edited message gets the menu."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from handlers.errors import UNHANDLED_UPDATE_ERROR
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat

TELEGRAM_TEXT_LIMIT = 4096
GROUP = -100_200_300


def _texts_sent(tg: FakeTelegram) -> list[str]:
    return [str(c.params.get("text", "")) for c in tg.calls() if c.method in ("sendMessage", "editMessageText")]


def _user_edits(tg: FakeTelegram, chat_id: int, message: dict[str, Any], text: str) -> None:
    """The user edits an earlier message (the fake has no helper for it: its queue is used directly)."""
    edited = {**message, "text": text, "edit_date": int(time.time())}
    edited.pop("entities", None)
    tg._state.enqueue("edited_message", edited)  # noqa: SLF001


async def test_a_group_gets_the_private_chat_line_with_a_button_that_opens_it(bot: Any, tg: FakeTelegram) -> None:
    tg.user_sends(GROUP, "/buy", chat_type="supergroup")
    line = await tg.wait_for_text(GROUP, "private chat")
    (button,) = [b for row in line.buttons for b in row]
    assert button["url"] == f"https://t.me/{tg.bot_username}?start="
    before = len(tg.calls("sendMessage"))
    tg.user_sends(GROUP, "just chatting in the group", chat_type="supergroup")
    tg.user_sends(GROUP, "/help", chat_type="supergroup")
    await tg.wait_for_text(GROUP, "private chat")
    assert len(tg.calls("sendMessage")) == before + 1  # commands only: the group's chatter gets nothing


@pytest.mark.parametrize("length", [4096, 5000])
async def test_over_long_text_is_answered_in_every_state_and_never_sent_too_long(
    bot: Any, kiwi: KiwiSimulator, chat: Chat, length: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    long_text = "x" * length
    chat.send(long_text)  # nothing waits for text
    await chat.expect("did not understand")
    await chat.start_connect("kiwiSMS")
    typed = chat.send(long_text)  # a connect step waits for a key: not one, deleted anyway
    await chat.expect("does not look like")
    assert chat.tg.is_deleted(chat.chat_id, typed["message_id"])
    chat.send("/cancel")
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.open_section("kiwiSMS", "USA")
    chat.send(long_text)  # a services list waits for a filter
    await chat.expect("No service matches")
    chat.send(" ".join(["word"] * (length // 5)))
    await chat.expect("No service matches")
    assert all(len(t) <= TELEGRAM_TEXT_LIMIT for t in _texts_sent(chat.tg))
    assert not [r for r in caplog.records if r.msg == UNHANDLED_UPDATE_ERROR]


async def test_a_stray_message_gets_the_menu_it_can_use(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    chat.send("hello?")
    reply = await chat.expect("did not understand")
    assert reply.button_labels == ["Connect a provider"]  # nothing connected: the way to start
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("hello again")
    reply = await chat.expect("did not understand")
    assert {"Buy a number", "My orders", "Providers"} <= set(reply.button_labels)


async def test_an_edited_message_gets_the_menu_and_is_never_taken_as_an_answer(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    hello = chat.send("hello")
    await chat.expect("did not understand")
    _user_edits(chat.tg, chat.chat_id, hello, "hello, edited")
    reply = await chat.expect("edit changed nothing")
    assert "Buy a number" in reply.button_labels
    assert not chat.tg.is_deleted(chat.chat_id, hello["message_id"])
    # During /connect an edit may hold a key: deleted, and the step still waits for a new message.
    await chat.start_connect("kiwiSMS")
    wrong = chat.send("lsms_wrong1_0000000000000000")
    await chat.expect("refused")
    mark = chat.tg.seq()
    _user_edits(chat.tg, chat.chat_id, wrong, KIWI_KEY)
    await chat.expect("edit changed nothing")
    assert chat.tg.is_deleted(chat.chat_id, wrong["message_id"])
    assert not [m for m in chat.tg.messages(chat.chat_id) if m.seq > mark and "Checking" in m.text]
    chat.send(KIWI_KEY)  # a new message is taken by the step
    await chat.expect("connected, balance")
