"""The catalogues: every text of the code translated in every language, no placeholder or HTML tag
dropped or invented, the template in step with the code, and plural forms that read right."""

from __future__ import annotations

import ast
import re
import string
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import i18n
from handlers.texts import duration_words, money

ROOT = Path(__file__).resolve().parent.parent
with (ROOT / "babel.cfg").open() as _cfg:  # where the texts are: the same map `pybabel extract` reads
    METHOD_MAP, _OPTIONS = parse_mapping_cfg(_cfg)
TAG = re.compile(r"</?[a-z]+(?:\s[^>]*)?>")


def _key(context: str | None, message: str | tuple[str, ...]) -> tuple[str | None, str]:
    return context, message if isinstance(message, str) else message[0]


def _extracted() -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    found: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), METHOD_MAP):
        found[_key(context, message)] = message
    return found


def test_no_text_is_used_both_alone_and_with_plural_forms() -> None:
    """The catalogue holds one entry per text: a plural one never answers a plain `_()`."""
    kinds: dict[tuple[str | None, str], set[bool]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), METHOD_MAP):
        kinds.setdefault(_key(context, message), set()).add(isinstance(message, str))
    assert [key for key, seen in kinds.items() if len(seen) > 1] == []


def _catalogue(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=path.parent.parent.name)


EXTRACTED = _extracted()
PO_FILES = sorted((ROOT / "handlers" / "locales").glob("*/LC_MESSAGES/messages.po"))


def _fields(text: str) -> Counter[str]:
    return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def _tags(text: str) -> Counter[str]:
    return Counter(TAG.findall(text))


def test_there_is_a_russian_catalogue_and_the_code_has_texts() -> None:
    assert "ru" in [p.parent.parent.name for p in PO_FILES]
    assert len(EXTRACTED) > 300  # every screen's texts, not a handful


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_every_text_of_the_code_has_a_translation(po_file: Path) -> None:
    catalogue = _catalogue(po_file)
    missing = []
    for key, message in EXTRACTED.items():
        entry = catalogue.get(key[1] if isinstance(message, str) else message, context=key[0])
        forms = () if entry is None else (entry.string,) if isinstance(entry.string, str) else entry.string
        if entry is None or entry.fuzzy or not forms or not all(forms):
            missing.append(key)
        elif not isinstance(message, str) and len(forms) != catalogue.num_plurals:
            missing.append(key)
    assert missing == [], f"{len(missing)} texts without a {po_file.parent.parent.name} translation"


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_no_translation_drops_or_invents_a_placeholder_or_a_tag(po_file: Path) -> None:
    wrong = []
    for entry in _catalogue(po_file):
        if not entry.id or not entry.string:
            continue
        sources = (entry.id,) if isinstance(entry.id, str) else entry.id
        forms = (entry.string,) if isinstance(entry.string, str) else entry.string
        expected_fields = _fields(sources[-1])
        for form in forms:
            if not form:
                continue
            if _fields(form) != expected_fields or _tags(form) != _tags(sources[-1]):
                wrong.append((entry.id, form))
    assert wrong == []


def test_the_template_is_in_step_with_the_code() -> None:
    """messages.pot is what `pybabel init` starts a new language from (README, "Languages")."""
    template = _catalogue_template()
    in_template = {_key(m.context, m.id) for m in template if m.id}
    assert in_template == set(EXTRACTED)


def _catalogue_template() -> Catalog:
    with (ROOT / "handlers" / "locales" / "messages.pot").open("rb") as source:
        return read_po(source)


def test_texts_are_marked_with_literal_strings_only() -> None:
    """`_(f"…")` or `_("a" + b)` would never match a catalogue entry: the text would stay English."""
    text_arguments = {"_": 1, "N_": 1, "ngettext": 2, "pgettext": 2}
    wrong = []
    for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("bot/**/*.py"), *ROOT.glob("providers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in text_arguments:
                for arg in node.args[: text_arguments[node.func.id]]:
                    if isinstance(arg, (ast.JoinedStr, ast.BinOp, ast.Call)):
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


def test_no_module_that_translates_rebinds_the_translate_function() -> None:
    """`for _ in range(3)` in a module that imported `_` turns every later `_("…")` into a crash."""
    wrong = []
    for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("bot/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_it = any(
            isinstance(node, ast.ImportFrom) and node.module == "handlers.i18n" and any(a.name == "_" for a in node.names)
            for node in tree.body
        )
        rebinds = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "_"
                   and isinstance(node.ctx, ast.Store)]
        if imports_it and rebinds:
            wrong.append(f"{path.relative_to(ROOT)}:{rebinds}")
    assert wrong == []


def test_russian_plural_forms_follow_the_number() -> None:
    with i18n.use_language("ru"):
        words = {days: duration_words(days * 1440) for days in (1, 2, 5, 11, 21, 22, 25, 111)}
    assert words == {1: "1 день", 2: "2 дня", 5: "5 дней", 11: "11 дней", 21: "21 день", 22: "22 дня",
                     25: "25 дней", 111: "111 дней"}
    with i18n.use_language("en"):
        assert [duration_words(m) for m in (1, 2, 90)] == ["1 minute", "2 minutes", "1 hour 30 minutes"]


def test_money_is_written_the_way_each_language_writes_it() -> None:
    with i18n.use_language("en"):
        assert [money(Decimal(x)) for x in ("1.5", "0.125", "1234.5")] == ["$1.50", "$0.125", "$1,234.50"]
    with i18n.use_language("ru"):
        assert [money(Decimal(x)) for x in ("1.5", "0.125", "1234.5")] == ["1,50\xa0$", "0,125\xa0$", "1\xa0234,50\xa0$"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=12)))
def test_any_telegram_language_code_maps_to_an_offered_language(code: str | None) -> None:
    chosen = i18n.from_telegram(code)
    assert chosen in i18n.languages()
    if code and code.replace("_", "-").split("-", 1)[0].lower() == "ru":
        assert chosen == "ru"


@pytest.mark.parametrize("code", ["ru", "ru-RU", "RU", "ru_UA"])
def test_russian_variants_are_russian(code: str) -> None:
    assert i18n.from_telegram(code) == "ru"


@pytest.mark.parametrize("code", [None, "", "en-GB", "zz", "zz-ZZ", "r", "russian"])  # zz: no catalogue
def test_other_codes_are_english(code: str | None) -> None:
    assert i18n.from_telegram(code) == "en"


def test_a_fuzzy_translation_is_not_used_and_plurals_follow_the_header(tmp_path: Path) -> None:
    po_file = tmp_path / "xx" / "LC_MESSAGES" / "messages.po"
    po_file.parent.mkdir(parents=True)
    po_file.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#, fuzzy\nmsgid "Main menu"\nmsgstr "Guess"\n\n'
        'msgid "Past orders"\nmsgstr "Checked"\n\n'
        'msgid "{count} day"\nmsgid_plural "{count} days"\nmsgstr[0] "{count} d"\nmsgstr[1] "{count} ds"\n',
        encoding="utf-8",
    )
    compiled = i18n.compile_catalogue(po_file)
    assert compiled.gettext("Main menu") == "Main menu"
    assert compiled.gettext("Past orders") == "Checked"
    assert [compiled.ngettext("{count} day", "{count} days", n) for n in (1, 2)] == ["{count} d", "{count} ds"]
