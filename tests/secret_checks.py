"""Checks shared by the client tests: a provider error never carries the credential."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from providers.errors import ProviderError


def assert_secret_absent(exc: BaseException, secret: str) -> None:
    """The secret is in none of the error's str/repr/args/attributes, nor in its chained causes."""
    seen: BaseException | None = exc
    while seen is not None:
        for text in (str(seen), repr(seen), repr(seen.args), repr(vars(seen))):
            assert secret not in text
        seen = seen.__cause__ or seen.__context__


async def raises_clean(
    kind: type[ProviderError], call: Awaitable[Any], *, provider: str, secret: str
) -> ProviderError:
    """`call` raises `kind`, attributed to `provider`, without the secret anywhere in it."""
    with pytest.raises(kind) as info:
        await call
    assert info.value.provider == provider
    assert_secret_absent(info.value, secret)
    return info.value
