"""One name for one service across providers: "WhatsApp" at kiwiSMS, "Whatsapp" typed by a user and
"WA" all mean the same service, and "Google / Gmail / YouTube" is GotSMS's "Google".

Deliberately no fuzzy matching: a near miss ("WhatsApp Business" for "WhatsApp") would buy a number
for the wrong service. A name is folded (Unicode compatibility form, case, punctuation and spacing
ignored), then looked up in a small table of aliases; a name not in the table is its own service.
"""

from __future__ import annotations

import re
import unicodedata

# Runs of anything but letters and digits (punctuation, "/", "-", spaces) are one separator.
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)

# canonical key -> the folded names that mean it (every provider's catalogue name included).
_ALIASES: dict[str, tuple[str, ...]] = {
    "whatsapp": ("whatsapp", "whats app", "wa"),
    "whatsapp business": ("whatsapp business", "whats app business", "wa business", "whatsapp business app"),
    "telegram": ("telegram", "tg"),
    "google": ("google", "gmail", "google gmail", "google gmail youtube", "youtube"),
    "facebook": ("facebook", "fb"),
    "instagram": ("instagram", "ig"),
    "twitter": ("twitter", "x", "twitter x"),
    "microsoft": ("microsoft", "outlook", "hotmail", "microsoft outlook hotmail"),
    "openai": ("openai", "chatgpt", "openai chatgpt"),
    "tiktok": ("tiktok", "tik tok"),
    "paypal": ("paypal", "pay pal"),
    "cash app": ("cash app", "cashapp"),
    "doordash": ("doordash", "door dash"),
}
_CANONICAL: dict[str, str] = {alias: key for key, aliases in _ALIASES.items() for alias in aliases}


def fold(name: str) -> str:
    """Compatibility form, case-folded, punctuation and spacing reduced to single spaces.

    fold(fold(x)) == fold(x); "Google / Gmail" and "google-gmail" fold alike."""
    # Normalised again after case folding, which can leave a non-normalised form ("ǰ" -> "ǰ").
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(_SEPARATORS.sub(" ", text).split())


def canonical(name: str) -> str:
    """The service a name means: its table entry, else the folded name itself ("" for no name)."""
    folded = fold(name)
    return _CANONICAL.get(folded, folded)


def same_service(a: str, b: str) -> bool:
    """Whether two names mean the same service (never true for an empty name)."""
    key = canonical(a)
    return bool(key) and key == canonical(b)
