"""Numbered migrations: MIGRATIONS[i] brings the schema from version i to i + 1, on SQLite and on
PostgreSQL alike.

Append only; never edit a migration that has shipped. A migration is one script where the same text
is valid on both databases (`both`), else a pair written for each (`Migration(sqlite=..., postgres=...)`):
to add one, append its SQLite text to `_SQLITE` and, at the same position, its PostgreSQL text to
`_POSTGRES` (None when the SQLite text is valid PostgreSQL as it stands).
The SQLite scripts are the shipped ones, byte for byte (tests pin their hashes): an old SQLite file
is upgraded exactly as before. PostgreSQL keeps SQLite's column types where that keeps the same
meaning (times are ISO-8601 TEXT in UTC, which compare correctly as text; prices are Decimal TEXT),
with BIGINT for every id (SQLite's INTEGER is 64-bit: Telegram ids exceed 32 bits), BYTEA for BLOB,
an identity column for INTEGER PRIMARY KEY AUTOINCREMENT (never reuses an id either), and every
TEXT column COLLATE "C": byte order, as SQLite's BINARY, whatever the database's locale (a
linguistic collation ignores punctuation and would misorder ISO times such as "...:20+00:00" and
"...:20.5+00:00").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    sqlite: str
    postgres: str

    def script(self, dialect: str) -> str:
        return self.postgres if dialect == "postgres" else self.sqlite


def both(script: str) -> Migration:
    """A migration whose one text is valid SQL on SQLite and on PostgreSQL."""
    return Migration(sqlite=script, postgres=script)


# The shipped SQLite scripts, unchanged.
_SQLITE: list[str] = [
    # 1: the foundation.
    """
    CREATE TABLE chats (
        chat_id     INTEGER PRIMARY KEY,
        user_id     INTEGER,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE credentials (
        chat_id     INTEGER NOT NULL,
        provider    TEXT NOT NULL,
        sealed      BLOB NOT NULL,          -- Fernet token of a JSON object
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    CREATE TABLE orders (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id         INTEGER NOT NULL,
        provider        TEXT NOT NULL,
        remote_id       TEXT NOT NULL,
        phone           TEXT NOT NULL,
        service         TEXT NOT NULL,
        service_name    TEXT NOT NULL,
        price           TEXT NOT NULL,      -- Decimal as text
        status          TEXT NOT NULL,
        refunded        INTEGER,            -- NULL = unknown
        expires_at      TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        finished_at     TEXT,
        card_message_id INTEGER,
        UNIQUE (provider, chat_id, remote_id)
    );
    CREATE INDEX orders_active ON orders (status, provider, chat_id);
    CREATE INDEX orders_history ON orders (chat_id, id);
    CREATE TABLE purchases (
        id               TEXT PRIMARY KEY,  -- short random id carried by the Confirm button
        chat_id          INTEGER NOT NULL,
        provider         TEXT NOT NULL,
        section          TEXT NOT NULL,
        service          TEXT NOT NULL,
        service_name     TEXT NOT NULL,
        price            TEXT NOT NULL,
        stock            INTEGER,
        duration_minutes INTEGER,
        idempotency_key  TEXT NOT NULL,
        state            TEXT NOT NULL,     -- pending, placing, placed, failed, unknown, dropped
        order_id         INTEGER REFERENCES orders (id),
        error            TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE INDEX purchases_state ON purchases (state, created_at);
    CREATE TABLE messages (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id            INTEGER NOT NULL REFERENCES orders (id),
        chat_id             INTEGER NOT NULL,
        kind                TEXT NOT NULL,  -- sms, notice
        provider_message_id TEXT NOT NULL,
        code                TEXT,
        text                TEXT NOT NULL,
        received_at         TEXT NOT NULL,
        delivered_at        TEXT,           -- NULL = still in the outbox
        telegram_message_id INTEGER,
        UNIQUE (order_id, provider_message_id)
    );
    CREATE INDEX messages_outbox ON messages (delivered_at) WHERE delivered_at IS NULL;
    CREATE TABLE settings (
        chat_id INTEGER NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (chat_id, key)
    );
    """,
    # 2: what an order's section is (NonVoipUsNumber's buttons depend on it), and a purchase's
    # pending decision (price change or premium bid) that the user may accept.
    """
    ALTER TABLE orders ADD COLUMN section TEXT NOT NULL DEFAULT '';
    ALTER TABLE purchases ADD COLUMN decision TEXT;
    """,
    # 3: the database as the only coordinator. An outbox row is claimed with a lease
    # (`claimed_at`) before it is sent; a purchase being placed holds a lease (`lease_until`)
    # that, once stale, makes it *unknown* and reconciled; a purchase says what it orders in
    # typed columns (service ids as a JSON list, the GotSMS plan id); an SMS keeps its own
    # service (one number, several services); a pending /connect or /buy step lives in
    # `conversations`; `feed_recovery` remembers that a mark-as-read feed (GotSMS unread
    # messages) may have lost an answer, so the rents' own message lists are read once.
    """
    ALTER TABLE messages ADD COLUMN claimed_at TEXT;
    ALTER TABLE messages ADD COLUMN service_name TEXT;
    ALTER TABLE purchases ADD COLUMN service_ids TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE purchases ADD COLUMN plan_id TEXT;
    ALTER TABLE purchases ADD COLUMN lease_until TEXT;
    ALTER TABLE purchases ADD COLUMN notified_at TEXT;
    UPDATE purchases SET plan_id = service WHERE provider = 'gotsms';
    UPDATE purchases SET service_ids = '["' || replace(service, ',', '","') || '"]' WHERE provider != 'gotsms';
    ALTER TABLE orders ADD COLUMN plan TEXT NOT NULL DEFAULT '';
    CREATE TABLE conversations (
        chat_id     INTEGER PRIMARY KEY,
        state       TEXT NOT NULL,          -- JSON of the pending step
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE feed_recovery (
        chat_id     INTEGER NOT NULL,
        provider    TEXT NOT NULL,
        since       TEXT NOT NULL,          -- first request whose answer may be lost
        PRIMARY KEY (chat_id, provider)
    );
    """,
    # 4: paid actions on an order (renew, reuse, extend) are purchases too: a card with the
    # amount and its own Confirm, claimed by the same compare-and-set with a lease. `price_known`
    # is 0 where the provider does not say what it charges ("price set by the provider").
    """
    ALTER TABLE purchases ADD COLUMN action TEXT;
    ALTER TABLE purchases ADD COLUMN target_order_id INTEGER REFERENCES orders (id);
    ALTER TABLE purchases ADD COLUMN option TEXT;
    ALTER TABLE purchases ADD COLUMN price_known INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: an order's auto-renewal as the provider last said it (at purchase, on Refresh, from the
    # toggle's answer), for the card and its button; NULL = unknown or not applicable.
    """
    ALTER TABLE orders ADD COLUMN auto_renew INTEGER;
    """,
    # 6: an order's duration, from its confirmation card, so the card says it in the same words.
    """
    ALTER TABLE orders ADD COLUMN duration_minutes INTEGER;
    UPDATE orders SET duration_minutes =
        (SELECT duration_minutes FROM purchases WHERE purchases.order_id = orders.id);
    """,
    # 7: provider callbacks. Each account with callbacks has a row in `account_hooks`: the URL
    # token's SHA-256 (a callback finds its account by it; the token itself, and a kiwiSMS webhook
    # secret, are sealed with Fernet like every credential), when the provider accepted the URL,
    # the last callback, and when the safety-net poll last found an SMS no callback brought.
    # Messages say which path stored them (`source`: poll / callback) and when (`stored_at`), for
    # the latency metrics. A kiwiSMS SMS is known by its code whichever path brings it (the poll
    # API has only codes): existing rows are renamed to that identity.
    """
    CREATE TABLE account_hooks (
        chat_id           INTEGER NOT NULL,
        provider          TEXT NOT NULL,
        token_hash        TEXT NOT NULL UNIQUE,
        sealed            BLOB NOT NULL,
        registered_at     TEXT,
        last_callback_at  TEXT,
        missed_at         TEXT,
        created_at        TEXT NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    ALTER TABLE messages ADD COLUMN source TEXT;
    ALTER TABLE messages ADD COLUMN stored_at TEXT;
    UPDATE OR IGNORE messages SET provider_message_id = 'otp:' || code
        WHERE kind = 'sms' AND code IS NOT NULL
        AND order_id IN (SELECT id FROM orders WHERE provider = 'kiwi');
    """,
    # 8: which worker process polls which account (storage/leases.py): each worker's heartbeat,
    # and a lease per account with work, held by one worker until `lease_until` unless renewed.
    """
    CREATE TABLE workers (
        worker_id   TEXT PRIMARY KEY,
        last_seen   TEXT NOT NULL
    );
    CREATE TABLE account_leases (
        chat_id      INTEGER NOT NULL,
        provider     TEXT NOT NULL,
        owner        TEXT NOT NULL,
        lease_until  TEXT NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    CREATE INDEX account_leases_owner ON account_leases (owner);
    """,
    # 9: Telegram's flood limits shared by every process (storage/send_slots.py): per scope ("bot",
    # "chat:<id>") the time the next send may start, as the generic cell rate algorithm keeps it.
    """
    CREATE TABLE send_slots (
        scope    TEXT PRIMARY KEY,
        next_at  REAL NOT NULL
    );
    """,
]

# The PostgreSQL text of each migration, by the same number; None = the SQLite text is valid as is.
_POSTGRES: list[str | None] = [
    # 1: the foundation.
    """
    CREATE TABLE chats (
        chat_id     BIGINT PRIMARY KEY,
        user_id     BIGINT,
        created_at  TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE credentials (
        chat_id     BIGINT NOT NULL,
        provider    TEXT COLLATE "C" NOT NULL,
        sealed      BYTEA NOT NULL,  -- Fernet token of a JSON object
        created_at  TEXT COLLATE "C" NOT NULL,
        updated_at  TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    CREATE TABLE orders (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        chat_id         BIGINT NOT NULL,
        provider        TEXT COLLATE "C" NOT NULL,
        remote_id       TEXT COLLATE "C" NOT NULL,
        phone           TEXT COLLATE "C" NOT NULL,
        service         TEXT COLLATE "C" NOT NULL,
        service_name    TEXT COLLATE "C" NOT NULL,
        price           TEXT COLLATE "C" NOT NULL,  -- Decimal as text
        status          TEXT COLLATE "C" NOT NULL,
        refunded        INTEGER,  -- NULL = unknown
        expires_at      TEXT COLLATE "C",
        created_at      TEXT COLLATE "C" NOT NULL,
        updated_at      TEXT COLLATE "C" NOT NULL,
        finished_at     TEXT COLLATE "C",
        card_message_id BIGINT,
        UNIQUE (provider, chat_id, remote_id)
    );
    CREATE INDEX orders_active ON orders (status, provider, chat_id);
    CREATE INDEX orders_history ON orders (chat_id, id);
    CREATE TABLE purchases (
        id               TEXT COLLATE "C" PRIMARY KEY,  -- short random id carried by the Confirm button
        chat_id          BIGINT NOT NULL,
        provider         TEXT COLLATE "C" NOT NULL,
        section          TEXT COLLATE "C" NOT NULL,
        service          TEXT COLLATE "C" NOT NULL,
        service_name     TEXT COLLATE "C" NOT NULL,
        price            TEXT COLLATE "C" NOT NULL,
        stock            INTEGER,
        duration_minutes INTEGER,
        idempotency_key  TEXT COLLATE "C" NOT NULL,
        state            TEXT COLLATE "C" NOT NULL,  -- pending, placing, placed, failed, unknown, dropped
        order_id         BIGINT REFERENCES orders (id),
        error            TEXT COLLATE "C",
        created_at       TEXT COLLATE "C" NOT NULL,
        updated_at       TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX purchases_state ON purchases (state, created_at);
    CREATE TABLE messages (
        id                  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        order_id            BIGINT NOT NULL REFERENCES orders (id),
        chat_id             BIGINT NOT NULL,
        kind                TEXT COLLATE "C" NOT NULL,  -- sms, notice
        provider_message_id TEXT COLLATE "C" NOT NULL,
        code                TEXT COLLATE "C",
        text                TEXT COLLATE "C" NOT NULL,
        received_at         TEXT COLLATE "C" NOT NULL,
        delivered_at        TEXT COLLATE "C",  -- NULL = still in the outbox
        telegram_message_id BIGINT,
        UNIQUE (order_id, provider_message_id)
    );
    CREATE INDEX messages_outbox ON messages (delivered_at) WHERE delivered_at IS NULL;
    CREATE TABLE settings (
        chat_id BIGINT NOT NULL,
        key     TEXT COLLATE "C" NOT NULL,
        value   TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (chat_id, key)
    );
    """,
    # 2: as SQLite's, in byte order.
    """
    ALTER TABLE orders ADD COLUMN section TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE purchases ADD COLUMN decision TEXT COLLATE "C";
    """,
    # 3: as SQLite's, with BIGINT chat ids.
    """
    ALTER TABLE messages ADD COLUMN claimed_at TEXT COLLATE "C";
    ALTER TABLE messages ADD COLUMN service_name TEXT COLLATE "C";
    ALTER TABLE purchases ADD COLUMN service_ids TEXT COLLATE "C" NOT NULL DEFAULT '[]';
    ALTER TABLE purchases ADD COLUMN plan_id TEXT COLLATE "C";
    ALTER TABLE purchases ADD COLUMN lease_until TEXT COLLATE "C";
    ALTER TABLE purchases ADD COLUMN notified_at TEXT COLLATE "C";
    UPDATE purchases SET plan_id = service WHERE provider = 'gotsms';
    UPDATE purchases SET service_ids = '["' || replace(service, ',', '","') || '"]' WHERE provider != 'gotsms';
    ALTER TABLE orders ADD COLUMN plan TEXT COLLATE "C" NOT NULL DEFAULT '';
    CREATE TABLE conversations (
        chat_id     BIGINT PRIMARY KEY,
        state       TEXT COLLATE "C" NOT NULL,  -- JSON of the pending step
        updated_at  TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE feed_recovery (
        chat_id     BIGINT NOT NULL,
        provider    TEXT COLLATE "C" NOT NULL,
        since       TEXT COLLATE "C" NOT NULL,  -- first request whose answer may be lost
        PRIMARY KEY (chat_id, provider)
    );
    """,
    # 4: as SQLite's, with a BIGINT order id.
    """
    ALTER TABLE purchases ADD COLUMN action TEXT COLLATE "C";
    ALTER TABLE purchases ADD COLUMN target_order_id BIGINT REFERENCES orders (id);
    ALTER TABLE purchases ADD COLUMN option TEXT COLLATE "C";
    ALTER TABLE purchases ADD COLUMN price_known INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: the same text.
    None,
    # 6: several purchases may name one order (paid actions do): PostgreSQL refuses a scalar
    # subquery of several rows where SQLite takes the first, so the first is named.
    """
    ALTER TABLE orders ADD COLUMN duration_minutes INTEGER;
    UPDATE orders SET duration_minutes =
        (SELECT duration_minutes FROM purchases WHERE purchases.order_id = orders.id
         ORDER BY purchases.created_at LIMIT 1);
    """,
    # 7: BIGINT and BYTEA; PostgreSQL has no UPDATE OR IGNORE: of the rows that would take the
    # same identity only the first is renamed, and none whose new identity is already taken.
    """
    CREATE TABLE account_hooks (
        chat_id           BIGINT NOT NULL,
        provider          TEXT COLLATE "C" NOT NULL,
        token_hash        TEXT COLLATE "C" NOT NULL UNIQUE,
        sealed            BYTEA NOT NULL,
        registered_at     TEXT COLLATE "C",
        last_callback_at  TEXT COLLATE "C",
        missed_at         TEXT COLLATE "C",
        created_at        TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    ALTER TABLE messages ADD COLUMN source TEXT COLLATE "C";
    ALTER TABLE messages ADD COLUMN stored_at TEXT COLLATE "C";
    UPDATE messages SET provider_message_id = 'otp:' || code
        WHERE id IN (
            SELECT DISTINCT ON (m.order_id, m.code) m.id FROM messages m JOIN orders o ON o.id = m.order_id
            WHERE m.kind = 'sms' AND m.code IS NOT NULL AND o.provider = 'kiwi'
            ORDER BY m.order_id, m.code, m.id
        )
        AND NOT EXISTS (
            SELECT 1 FROM messages taken WHERE taken.order_id = messages.order_id
            AND taken.provider_message_id = 'otp:' || messages.code
        );
    """,
    # 8: as SQLite's, with a BIGINT chat id.
    """
    CREATE TABLE workers (
        worker_id   TEXT COLLATE "C" PRIMARY KEY,
        last_seen   TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE account_leases (
        chat_id      BIGINT NOT NULL,
        provider     TEXT COLLATE "C" NOT NULL,
        owner        TEXT COLLATE "C" NOT NULL,
        lease_until  TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (chat_id, provider)
    );
    CREATE INDEX account_leases_owner ON account_leases (owner);
    """,
    # 9: as SQLite's; a double for the epoch seconds.
    """
    CREATE TABLE send_slots (
        scope    TEXT COLLATE "C" PRIMARY KEY,
        next_at  DOUBLE PRECISION NOT NULL
    );
    """,
]


MIGRATIONS: tuple[Migration, ...] = tuple(
    both(sqlite) if postgres is None else Migration(sqlite=sqlite, postgres=postgres)
    for sqlite, postgres in zip(_SQLITE, _POSTGRES, strict=True)
)
