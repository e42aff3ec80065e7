"""Numbered migrations: MIGRATIONS[i] brings the schema from version i to i + 1.

Append only; never edit a migration that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
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
]
