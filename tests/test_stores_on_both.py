"""Every store's statements on both databases: what one writes, the next reads back the same,
whether the rows live in a SQLite file or in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cryptography.fernet import Fernet

from providers.models import Action, IncomingSms, Offer, OrderStatus, PlacedOrder, ProviderId, RemoteOrder
from storage.accounts import AccountStore, fingerprint_key
from storage.again import AUTO_CANCEL_MINUTES, AgainStore
from storage.books import BookFilter, BookStore, Period, StatusFilter
from storage.chat_settings import ChatSettingsStore
from storage.chats import ChatStore
from storage.conversations import ConversationStore
from storage.credentials import CredentialStore
from storage.crypto import SecretBox
from storage.database import Database
from storage.feed_recovery import FeedRecoveryStore
from storage.hooks import HookStore
from storage.messages import MessageStore
from storage.orders import OrderStore
from storage.purchases import PurchaseStore
from storage.records import PurchaseState

BIG_CHAT = -1002003004005  # a supergroup id: more than 32 bits
BOX = SecretBox([Fernet.generate_key().decode()])
LEASE = timedelta(seconds=30)


def _remote(order_id: str, status: OrderStatus = OrderStatus.WAITING) -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id, phone="+12025550100", service="wa", service_name="WhatsApp",
        price=Decimal("0.35"), status=status, expires_at=datetime.now(UTC) + timedelta(minutes=20),
        auto_renew=True,
    )


async def test_chats_settings_and_conversations(storage_db: Database) -> None:
    chats = ChatStore(storage_db)
    await chats.remember(BIG_CHAT, 2**40)
    await chats.remember(BIG_CHAT, 2**40)
    assert await chats.count() == 1

    settings = ChatSettingsStore(storage_db)
    await settings.set(BIG_CHAT, "language", "de")
    await settings.set(BIG_CHAT, "language", "fr")
    assert await settings.get(BIG_CHAT, "language") == "fr"

    steps = ConversationStore(storage_db)
    assert await steps.replace(BIG_CHAT, None, {"step": "key"})
    assert not await steps.replace(BIG_CHAT, None, {"step": "other"})  # someone was first
    assert await steps.replace(BIG_CHAT, {"step": "key"}, {"step": "email", "é": 1})
    assert await steps.get(BIG_CHAT) == {"step": "email", "é": 1}
    assert not await steps.replace(BIG_CHAT, {"step": "key"}, None)
    assert await steps.clear(BIG_CHAT) and await steps.get(BIG_CHAT) is None


async def test_credentials_accounts_and_hooks(storage_db: Database) -> None:
    credentials = CredentialStore(storage_db, BOX)
    await credentials.save(BIG_CHAT, ProviderId.KIWI, {"api_key": "k1"})
    await credentials.save(BIG_CHAT, ProviderId.KIWI, {"api_key": "k2"})
    # Two workers whose polls both saw the refusal: only the first tells the chat.
    assert await credentials.mark_rejected(BIG_CHAT, ProviderId.GOTSMS) is True
    assert await credentials.mark_rejected(BIG_CHAT, ProviderId.GOTSMS) is False
    assert await credentials.load(BIG_CHAT, ProviderId.KIWI) == {"api_key": "k2"}
    assert await credentials.rejected() == {(BIG_CHAT, ProviderId.GOTSMS)}
    assert await credentials.providers_of(BIG_CHAT) == [ProviderId.KIWI]

    accounts = AccountStore(storage_db, fingerprint_key("token"))
    since = await accounts.remember(BIG_CHAT, ProviderId.KIWI, "fp", new_account=True)
    assert await accounts.remember(BIG_CHAT, ProviderId.KIWI, "fp", new_account=False) == since
    snapshot = await accounts.snapshot()
    assert snapshot.connected == {(BIG_CHAT, ProviderId.KIWI)} and snapshot.since[(BIG_CHAT, ProviderId.KIWI)] == since

    hooks = HookStore(storage_db, BOX)
    hook = await hooks.ensure(BIG_CHAT, ProviderId.KIWI)
    assert await hooks.ensure(BIG_CHAT, ProviderId.KIWI) == hook
    assert await hooks.by_token(ProviderId.KIWI, hook.token) == hook
    assert await hooks.by_token(ProviderId.GOTSMS, hook.token) is None
    signed = await hooks.set_webhook_secret(BIG_CHAT, ProviderId.KIWI, "whsec")
    assert signed.webhook_secret == "whsec" and signed.active
    await hooks.mark_missed(BIG_CHAT, ProviderId.KIWI)
    assert await hooks.active_accounts() == set()
    await hooks.mark_callback(BIG_CHAT, ProviderId.KIWI)
    assert await hooks.active_accounts() == {(BIG_CHAT, ProviderId.KIWI)}
    assert await hooks.rotate_all() == 1 and await credentials.rotate_all() == 1
    await hooks.delete(BIG_CHAT, ProviderId.KIWI)
    assert await credentials.delete(BIG_CHAT, ProviderId.KIWI)
    assert await hooks.get(BIG_CHAT, ProviderId.KIWI) is None and await credentials.rejected() == {(BIG_CHAT, ProviderId.GOTSMS)}


async def test_orders_and_feed_recovery(storage_db: Database) -> None:
    orders = OrderStore(storage_db)
    order = await orders.add(BIG_CHAT, ProviderId.KIWI, _remote("r-1"), section="187")
    assert await orders.add(BIG_CHAT, ProviderId.KIWI, _remote("r-1")) == order
    assert await orders.add_new(BIG_CHAT, ProviderId.KIWI, _remote("r-1")) is None
    won = await orders.add_new(BIG_CHAT, ProviderId.KIWI, _remote("r-2"))
    assert won is not None and won.auto_renew is True and won.price == Decimal("0.35")
    assert [o.id for o in await orders.all_active()] == [order.id, won.id]
    assert [o.id for o in await orders.all_active()] == [order.id, won.id]  # cached records, same answer
    await orders.set_card(order.id, 2**35)
    await orders.detach_card(BIG_CHAT, 2**35)
    await orders.set_duration(order.id, 20)
    await orders.set_auto_renew(order.id, False)
    await orders.update_plan(order.id, section="rent", plan="1 day", price=Decimal("1.10"))
    start = datetime.now(UTC) - timedelta(seconds=1)
    assert await orders.update_status(order.id, OrderStatus.COMPLETED, refunded=False)
    stored = await orders.get(order.id, BIG_CHAT)
    assert stored is not None and (stored.card_message_id, stored.duration_minutes, stored.auto_renew) == (None, 20, False)
    assert (stored.plan, stored.price, stored.status) == ("1 day", Decimal("1.10"), OrderStatus.COMPLETED)
    assert [o.id for o in await orders.ended_since(BIG_CHAT, ProviderId.KIWI, start)] == [order.id]
    assert await orders.remote_ids_since(BIG_CHAT, ProviderId.KIWI, start - timedelta(minutes=1)) == {"r-1", "r-2"}
    history, total = await orders.history(BIG_CHAT, 0, 10)
    assert [o.id for o in history] == [order.id] and total == 1
    await orders.extend(order.id, paid=Decimal("0.40"), status=OrderStatus.WAITING, expires_at=None)
    extended = await orders.by_id(order.id)
    assert extended is not None and extended.price == Decimal("1.50") and extended.status is OrderStatus.WAITING

    recovery = FeedRecoveryStore(storage_db)
    assert await recovery.begin(BIG_CHAT, ProviderId.GOTSMS) is None
    first = await recovery.pending_since(BIG_CHAT, ProviderId.GOTSMS)
    assert first is not None and await recovery.begin(BIG_CHAT, ProviderId.GOTSMS) == first
    await recovery.finish(BIG_CHAT, ProviderId.GOTSMS, since=first - timedelta(seconds=1))
    assert await recovery.pending_since(BIG_CHAT, ProviderId.GOTSMS) == first  # a newer record stays
    await recovery.finish(BIG_CHAT, ProviderId.GOTSMS, since=first)
    assert await recovery.pending_since(BIG_CHAT, ProviderId.GOTSMS) is None


async def test_a_worker_reads_only_the_orders_of_the_accounts_it_holds(storage_db: Database) -> None:
    orders = OrderStore(storage_db)
    first = await orders.add(BIG_CHAT, ProviderId.KIWI, _remote("r-1"))
    other = await orders.add(BIG_CHAT + 1, ProviderId.GOTSMS, _remote("r-2"))
    same_chat_other_provider = await orders.add(BIG_CHAT, ProviderId.GOTSMS, _remote("r-3"))
    second = await orders.add(BIG_CHAT, ProviderId.KIWI, _remote("r-4"))
    assert await orders.live_accounts() == {(BIG_CHAT, ProviderId.KIWI), (BIG_CHAT, ProviderId.GOTSMS),
                                            (BIG_CHAT + 1, ProviderId.GOTSMS)}
    assert [o.id for o in await orders.active_of({(BIG_CHAT, ProviderId.KIWI)})] == [first.id, second.id]
    both = {(BIG_CHAT + 1, ProviderId.GOTSMS), (BIG_CHAT, ProviderId.GOTSMS)}
    assert [o.id for o in await orders.active_of(both)] == [other.id, same_chat_other_provider.id]
    assert await orders.active_of(set()) == []
    for ended in (other, same_chat_other_provider):
        assert await orders.update_status(ended.id, OrderStatus.COMPLETED, refunded=False)
    assert await orders.live_accounts() == {(BIG_CHAT, ProviderId.KIWI)}
    assert await orders.active_of(both) == []


async def test_messages_and_the_outbox(storage_db: Database) -> None:
    order = await OrderStore(storage_db).add(BIG_CHAT, ProviderId.KIWI, _remote("r-1"))
    messages = MessageStore(storage_db)
    stored = await messages.add_sms(order, [IncomingSms(message_id=str(i), code=f"{i}11111", text="t") for i in range(3)])
    assert await messages.known_ids([order.id]) == {order.id: {"0", "1", "2"}}
    notice = await messages.add_notice(order, "expired", "Expired", claimed=True)
    assert notice is not None and await messages.add_notice(order, "expired", "Expired") is None
    assert await messages.claim(notice.id, LEASE) is None  # inserted claimed
    assert [m.id for m in await messages.claim_batch(LEASE)] == [m.id for m in stored]
    await messages.release(stored[0].id)
    assert (await messages.claim(stored[0].id, LEASE)) is not None
    await messages.mark_delivered(stored[0].id, 2**40)
    assert await messages.undelivered_count() == 3
    page, more = await messages.sms_page(order.id, None, 2)
    assert [m.id for m in page] == [stored[2].id, stored[1].id] and more
    assert await messages.has_sms(order.id)
    assert (await messages.codes_by_order([order.id]))[order.id] == ["011111", "111111", "211111"]


async def test_purchases_from_card_to_order(storage_db: Database) -> None:
    purchases = PurchaseStore(storage_db)
    offers = (
        Offer(section="10-minutes", service_id="ig", name="Instagram", price=Decimal("0.60"), stock=4),
        Offer(section="10-minutes", service_id="wa", name="WhatsApp", price=Decimal("0.40"), stock=2),
    )
    card = await purchases.create(BIG_CHAT, ProviderId.NONVOIP, offers)
    assert (card.price, card.stock, card.service_ids, card.state) == (Decimal("1.00"), 2, ("ig", "wa"), PurchaseState.PENDING)
    again = await purchases.copy_as_new(card)
    assert again.id != card.id and again.idempotency_key != card.idempotency_key and again.service_ids == card.service_ids
    assert await purchases.transition(again.id, BIG_CHAT, PurchaseState.PENDING, PurchaseState.DROPPED)
    assert await purchases.claim_for_placing(card.id, BIG_CHAT, PurchaseState.PENDING, timedelta(seconds=-1)) is not None
    (stale,) = await purchases.expire_stale_placing()
    assert stale.id == card.id and stale.state == PurchaseState.UNKNOWN
    assert [p.id for p in await purchases.unresolved()] == [card.id]
    assert [p.id for p in await purchases.outcome_pending(BIG_CHAT, ProviderId.NONVOIP)] == [card.id]
    assert await purchases.mark_notified(card.id) and not await purchases.mark_notified(card.id)
    await purchases.unmark_notified(card.id)
    placed = PlacedOrder(orders=(_remote("n-1"), _remote("n-2")))
    orders = await purchases.complete(stale, placed)
    assert orders is not None and [o.remote_id for o in orders] == ["n-1", "n-2"]
    assert await purchases.complete(stale, placed) is None  # once
    recent = await AgainStore(storage_db).recent_purchases(BIG_CHAT)
    assert [r.service_ids for r in recent] == [("ig", "wa")]
    assert (await AgainStore(storage_db).purchase_of_order(orders[0].id, BIG_CHAT)) is not None

    action = await purchases.create_action(orders[0], Action.RENEW, "30", None, "Renew")
    assert action.price_known is False and action.target_order_id == orders[0].id
    assert await purchases.claim_for_placing(action.id, BIG_CHAT, PurchaseState.PENDING, LEASE) is not None
    assert await purchases.finish_action(action) and not await purchases.finish_action(action)

    await ChatSettingsStore(storage_db).set(BIG_CHAT, AUTO_CANCEL_MINUTES, "15")
    await ChatSettingsStore(storage_db).set(7, AUTO_CANCEL_MINUTES, "0")
    assert await AgainStore(storage_db).auto_cancel_chats() == {BIG_CHAT: 15}


async def test_books_pages_filters_and_summary(storage_db: Database) -> None:
    orders, messages, books = OrderStore(storage_db), MessageStore(storage_db), BookStore(storage_db)
    done = await orders.add(BIG_CHAT, ProviderId.KIWI, _remote("r-1"))
    await messages.add_sms(done, [IncomingSms(message_id=str(i), code=f"{i}2222", text="") for i in range(2)])
    await orders.update_status(done.id, OrderStatus.CANCELLED, refunded=True)
    live = await orders.add(BIG_CHAT, ProviderId.GOTSMS, _remote("r-2"))
    expectations = {
        StatusFilter.FINISHED: [done.id], StatusFilter.LIVE: [live.id], StatusFilter.REFUNDED: [done.id],
        StatusFilter.CANCELLED: [done.id], StatusFilter.EXPIRED: [],
    }
    for status, ids in expectations.items():
        for period in Period:
            entries, total = await books.page(BIG_CHAT, BookFilter(status=status, period=period), 0, 10)
            expected = [] if period is Period.LAST_MONTH else ids  # every order is from now
            assert ([e.order.id for e in entries], total) == (expected, len(expected)), (status, period)
    (entry,), _ = await books.page(BIG_CHAT, BookFilter(provider=ProviderId.KIWI), 0, 10)
    assert entry.codes == ("02222", "12222")
    summary = {t.provider: t for t in await books.summary(BIG_CHAT)}
    assert (summary[ProviderId.KIWI].codes, summary[ProviderId.KIWI].refunded) == (2, Decimal("0.35"))
    assert (summary[ProviderId.GOTSMS].orders, summary[ProviderId.GOTSMS].spent) == (1, Decimal("0.35"))
    assert await books.has_orders(BIG_CHAT) and not await books.has_orders(7)
