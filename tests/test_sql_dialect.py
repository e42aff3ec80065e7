"""`?` placeholders become PostgreSQL's `$n` in order, and nothing inside a literal, a quoted
identifier or a comment changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.sql_dialect import numbered_placeholders

_TEXT = st.text(alphabet="ab ?'\"$-*/,\n", max_size=12)
_PLAIN = st.text(alphabet="abc ,=()*1\n", min_size=1, max_size=10)


def _string_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _line_comment(text: str) -> str:
    return "-- " + text.replace("\n", " ") + "\n"


def _block_comment(text: str) -> str:
    return "/* " + text.replace("*/", "* /") + " */"


# A statement as fragments: plain SQL, placeholders, and quoted/commented text that may hold `?`.
_FRAGMENT = st.one_of(
    _PLAIN.map(lambda t: ("plain", t)),
    st.just(("placeholder", "?")),
    _TEXT.map(lambda t: ("quoted", _string_literal(t))),
    _TEXT.map(lambda t: ("quoted", _identifier(t))),
    _TEXT.map(lambda t: ("quoted", _line_comment(t))),
    _TEXT.map(lambda t: ("quoted", _block_comment(t))),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_FRAGMENT, max_size=12))
def test_placeholders_are_numbered_in_order_and_quoted_text_is_kept(fragments: list[tuple[str, str]]) -> None:
    expected, number = [], 0
    for kind, text in fragments:
        if kind == "placeholder":
            number += 1
            expected.append(f"${number}")
        else:
            expected.append(text)
    assert numbered_placeholders("".join(text for _, text in fragments)) == "".join(expected)


def test_a_statement_of_the_stores_converts_as_postgresql_expects() -> None:
    sql = "SELECT * FROM settings WHERE chat_id = ? AND key LIKE 'rejected:%?' AND value = ? -- why?\n LIMIT ?"
    assert numbered_placeholders(sql) == (
        "SELECT * FROM settings WHERE chat_id = $1 AND key LIKE 'rejected:%?' AND value = $2 -- why?\n LIMIT $3"
    )
