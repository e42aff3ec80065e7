"""Reading provider JSON liberally: the parts every client needs the same way."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def money(value: object) -> Decimal | None:
    """Money as Decimal from a number or a numeric string (via str: no float artefacts);
    None when it is not a finite number, so the caller raises its own UnexpectedResponse."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
