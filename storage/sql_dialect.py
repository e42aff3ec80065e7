"""What differs between the two SQL dialects the stores speak, kept to the least.

The stores write one SQL text for both databases, in SQLite's `?` placeholder style and the
common subset (`ON CONFLICT ... DO NOTHING/UPDATE`, `RETURNING`, scalar subqueries). PostgreSQL
numbers its parameters (`$1`, `$2`, ...): `numbered_placeholders` rewrites the text once (cached).
Where the dialects truly differ (row locks, ordered string aggregation) a `Dialect` says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=2048)
def numbered_placeholders(sql: str) -> str:
    """`?` -> `$1`, `$2`, ... in order, except inside string literals, quoted identifiers and
    comments (a `?` in a literal is text, not a parameter)."""
    out: list[str] = []
    number = 0
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in ("'", '"'):
            # A literal or quoted identifier runs to the next unescaped quote; a doubled quote
            # inside is an escaped one and simply reopens the literal on the next pass.
            end = sql.find(char, i + 1)
            end = n if end < 0 else end + 1
            out.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif char == "?":
            number += 1
            out.append(f"${number}")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Dialect:
    name: str  # "sqlite" or "postgres"
    # Appended to a SELECT inside a transaction that reads a row to write it back: PostgreSQL's
    # row lock. SQLite needs none: its transactions take the write lock at BEGIN IMMEDIATE.
    for_update: str
    # Appended to the SELECT that picks rows to claim: concurrent claimers on PostgreSQL each
    # take rows the others have not locked instead of queueing behind them for the same rows.
    skip_locked: str

    def joined_values(self, value: str, source: str, order_by: str) -> str:
        """A scalar subquery: `value` of every row of `source` ("FROM ... WHERE ..."), in
        `order_by` order, joined by a separator given as the FIRST parameter (`?`) of the
        subquery; NULL when there is no row."""
        if self.name == "postgres":
            return f"(SELECT string_agg({value}, ? ORDER BY {order_by}) {source})"
        # SQLite before 3.44 has no ORDER BY inside an aggregate: it keeps a subquery's order.
        return f"(SELECT group_concat(v, ?) FROM (SELECT {value} AS v {source} ORDER BY {order_by}))"


SQLITE = Dialect("sqlite", for_update="", skip_locked="")
POSTGRES = Dialect("postgres", for_update=" FOR UPDATE", skip_locked=" FOR UPDATE SKIP LOCKED")
