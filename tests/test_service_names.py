"""Service names across providers: folding and the alias table (handlers/service_names.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.service_names import canonical, fold, same_service

FAST = settings(max_examples=150, deadline=None)
# Catalogue names are Latin; Unicode case pairs such as Turkish "ı"/"I" are not one letter.
_LATIN = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_WORD = st.text(alphabet=st.characters(categories=("Ll",)), min_size=1)
_PUNCTUATION = st.sampled_from([" ", "  ", "/", "-", "_", ".", ",", " / ", "!", "\t"])


@FAST
@given(st.text())
def test_folding_is_idempotent(name: str) -> None:
    assert fold(fold(name)) == fold(name)
    assert canonical(canonical(name)) == canonical(name)


@FAST
@given(st.text(alphabet=_LATIN, min_size=1), st.data())
def test_case_and_punctuation_do_not_matter(word: str, data: st.DataObject) -> None:
    swapped = word.swapcase()
    decorated = data.draw(_PUNCTUATION) + swapped + data.draw(_PUNCTUATION)
    assert canonical(decorated) == canonical(word)


@FAST
@given(_WORD, _WORD, _PUNCTUATION)
def test_separators_between_words_are_one(first: str, second: str, separator: str) -> None:
    assert fold(f"{first}{separator}{second}") == fold(f"{first} {second}")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("WhatsApp", "Whatsapp"),
        ("WhatsApp", "WA"),
        ("WhatsApp", "whats-app"),
        ("Telegram", "TG"),
        ("Google / Gmail", "Google"),
        ("Google / Gmail / YouTube", "Gmail"),
        ("Twitter / X", "Twitter"),
        ("Microsoft / Outlook / Hotmail", "Microsoft"),
        ("OpenAI / ChatGPT", "OpenAI"),
        ("WhatsApp Business", "WA business"),
        ("Cash App", "cashapp"),
        ("ＷｈａｔｓＡｐｐ", "whatsapp"),  # full-width letters (compatibility form)
    ],
)
def test_aliases_of_one_service_match(a: str, b: str) -> None:
    assert same_service(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("WhatsApp", "WhatsApp Business"),
        ("WA", "WA Business"),
        ("Telegram", "Telegram X"),
        ("Google", "Google Voice"),
        ("Facebook", "Facebook Messenger"),
        ("Instagram", "Instagram Threads"),
        ("Whatsap", "WhatsApp"),  # a typo is not guessed
        ("Signal", "Viber"),
        ("", ""),
        ("/", "-"),
    ],
)
def test_different_services_do_not_match(a: str, b: str) -> None:
    assert not same_service(a, b)
