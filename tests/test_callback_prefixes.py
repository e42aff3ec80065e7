"""Every screen's buttons have a codec of its own (handlers/callbacks.py for the core, one module per
feature beside it): a button's data must be claimed by exactly one of them, whichever handler
PTB tries first, and each codec must read its own data back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import account_callbacks, again_buttons, auto_cancel, book_taps, compare_taps, hook_taps, language, screen_taps
from handlers import callbacks as cb
from providers.models import Action, ProviderId
from storage.books import BookFilter

# Each codec: does it claim this data?
CLAIMS: dict[str, Callable[[object], bool]] = {
    "core": lambda data: cb.decode(data) != cb.OUTDATED,
    "orders and settings": lambda data: screen_taps.decode(data) is not None,
    "account switch": account_callbacks.is_account_tap,
    "instant codes": lambda data: hook_taps.decode(data) is not None,
    "compare": compare_taps.is_compare_tap,
    "history books": lambda data: book_taps.decode(data) is not None,
    "buy again": lambda data: again_buttons.decode(data) is not None,
    "auto-cancel": lambda data: auto_cancel.decode(data) is not None,
    "language": lambda data: language.decode(data) is not None,
}

KIWI = ProviderId.KIWI
SAMPLES: dict[str, list[str | None]] = {
    "core": [cb.menu("start"), cb.history_page(3), cb.buy_drop("p1"), cb.buy_again("p1"),
             cb.order_action(Action.CANCEL, 42), cb.order_action(Action.RENEW, 42, "30d")],
    "orders and settings": [screen_taps.orders_page(2), screen_taps.open_card(42), screen_taps.settings(),
                            screen_taps.time_zones(), screen_taps.choose_zone("Asia/Tokyo")],
    "account switch": [account_callbacks.switch_yes(KIWI, "n0nce"), account_callbacks.switch_no(KIWI, "n0nce"),
                       account_callbacks.gone(KIWI)],
    "instant codes": [hook_taps.setup(KIWI), hook_taps.turn_off(KIWI)],
    "compare": [compare_taps.prompt_data(), compare_taps.service_data("whatsapp")],
    "history books": [book_taps.view(BookFilter(), 1), book_taps.choose("provider", BookFilter()),
                      book_taps.summary(BookFilter(provider=KIWI)), book_taps.export()],
    "buy again": [again_buttons.again_data(42)],
    "auto-cancel": [auto_cancel.choice_data(), auto_cancel.choice_data(10)],
    "language": [language.choice_data(), language.choice_data("ru"), language.choice_data("en")],
}


@pytest.mark.parametrize("owner", sorted(SAMPLES))
def test_a_button_s_data_is_claimed_by_its_own_codec_only(owner: str) -> None:
    for data in SAMPLES[owner]:
        assert data is not None and len(data.encode()) <= cb.MAX_BYTES
        claimed_by = [name for name, claims in CLAIMS.items() if claims(data)]
        assert claimed_by == [owner], f"{data!r} is claimed by {claimed_by}"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.text(max_size=24), st.sampled_from(["ac:", "lang:", "lang:xx", "ac:7"])))
def test_the_setting_codecs_never_raise_on_foreign_data(data: object) -> None:
    tap = language.decode(data)
    assert tap is None or tap.value is None or tap.value in ("en", "ru")
    minutes = auto_cancel.decode(data)
    assert minutes is None or minutes.minutes is None or minutes.minutes in auto_cancel.CHOICES


def test_the_setting_codecs_read_their_own_data_back() -> None:
    assert [language.decode(language.choice_data(code)) for code in ("en", "ru")] == [
        language.SettingTap("en"), language.SettingTap("ru")
    ]
    assert auto_cancel.decode(auto_cancel.choice_data(15)) == auto_cancel.AutoCancelTap(15)
    with pytest.raises(ValueError):
        language.choice_data("de")  # no catalogue: not on the list
