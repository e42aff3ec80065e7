"""Telegram's HTML parse mode: turn marked-up text into plain text plus entities.

Stricter than Telegram where the brief asks for it: by default a bare `&` or `>`
is rejected too (Telegram tolerates them), so a bot that forgets to escape user
input fails in tests instead of in production on the next `<`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlParseError(ValueError):
    """The text after "Bad Request: can't parse entities: "."""


@dataclass
class _OpenTag:
    name: str
    start: int  # index into the plain text (code points)
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict[str, object]]]:
    """Return (plain text, entities) or raise HtmlParseError with Telegram's wording."""
    parser = _Parser(source, strict)
    return parser.run()


class _Parser:
    def __init__(self, source: str, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.spans: list[tuple[int, int, str, dict[str, str]]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += len(text)

    def run(self) -> tuple[str, list[dict[str, object]]]:
        src, i, n = self.source, 0, len(self.source)
        while i < n:
            # Copy the longest run of ordinary characters in one go (fast path).
            j = i
            while j < n and src[j] not in "<>&":
                j += 1
            if j > i:
                self.emit(src[i:j])
                i = j
                continue
            char = src[i]
            if char == "&":
                i = self.char_ref(i)
            elif char == ">":
                if self.strict:
                    raise HtmlParseError(
                        f'Character ">" at byte offset {self.byte_offset(i)} must be escaped as "&gt;"'
                    )
                self.emit(">")
                i += 1
            else:
                i = self.tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        plain = "".join(self.out)
        return plain, self.entities(plain)

    def char_ref(self, i: int) -> int:
        match = _CHAR_REF_RE.match(self.source, i)
        if match is None:
            if self.strict:
                raise HtmlParseError(
                    f'Character "&" at byte offset {self.byte_offset(i)} must be escaped as "&amp;"'
                )
            self.emit("&")
            return i + 1
        self.emit(_decode_ref(match.group(1)))
        return match.end()

    def tag(self, i: int) -> int:
        match = _TAG_RE.match(self.source, i)
        if match is None:
            if self.source.find(">", i) < 0:
                raise HtmlParseError(
                    f"Can't find end of the tag starting at byte offset {self.byte_offset(i)}"
                )
            word = re.match(r"[^\s<>]*", self.source[i + 1 :])
            name = word.group(0) if word else ""
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(i)}'
            )
        closing, name = match.group(1) == "/", match.group(2).lower()
        if closing:
            self.close(name, i)
        else:
            self.open(name, match.group(3), i)
        return match.end()

    def open(self, name: str, attr_text: str, i: int) -> None:
        if name not in ENTITY_TYPES:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(i)}'
            )
        attrs = _parse_attrs(attr_text)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_OpenTag(name, self.length, attrs))

    def close(self, name: str, i: int) -> None:
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(i)}")
        top = self.stack[-1]
        if top.name != name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(i)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.stack.pop()
        if self.length > top.start:  # Telegram drops empty entities
            self.spans.append((top.start, self.length, top.name, top.attrs))

    def entities(self, plain: str) -> list[dict[str, object]]:
        result: list[dict[str, object]] = []
        for start, end, name, attrs in sorted(self.spans, key=lambda s: (s[0], -s[1])):
            offset = utf16_len(plain[:start])
            entity: dict[str, object] = {
                "type": _entity_type(name, attrs),
                "offset": offset,
                "length": utf16_len(plain[start:end]),
            }
            if name == "a":
                if "href" not in attrs:
                    continue
                entity["url"] = attrs["href"]
            if name == "pre" and "class" in attrs:
                entity["language"] = attrs["class"].removeprefix("language-")
            if name == "tg-emoji":
                entity["custom_emoji_id"] = attrs.get("emoji-id", "")
            result.append(entity)
        return result


def _entity_type(name: str, attrs: dict[str, str]) -> str:
    if name == "blockquote" and "expandable" in attrs:
        return "expandable_blockquote"
    return ENTITY_TYPES[name]


def _decode_ref(ref: str) -> str:
    if ref in _NAMED_REFS:
        return _NAMED_REFS[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _parse_attrs(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(text):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = _CHAR_REF_RE.sub(lambda m: _decode_ref(m.group(1)), value)
    return attrs
