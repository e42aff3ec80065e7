"""kiwiSMS `sms.received` webhooks: signed with the account's secret, for the account's own rental.

Nothing changes unless the body is signed with THIS account's secret (HMAC-SHA256 of the raw body,
compared in constant time) and names one of this account's rentals: a body signed for another
account, or replayed to another account's URL, is refused. The code goes the way a poll's does,
with the identity a poll gives it (`otp:<code>`), so a redelivery or a later poll is no news.
"""

from __future__ import annotations

from bot.hooks.common import ACCEPTED, UNREADABLE, HookAnswer, Spawn, store_sms
from handlers.delivery import Delivery
from handlers.services import Services
from providers.errors import ProviderError
from providers.kiwi.webhook import parse_sms_received, verify_signature
from providers.models import ProviderId
from storage.hooks import AccountHook

NO_SECRET = HookAnswer(401, "no webhook secret set for this account")
BAD_SIGNATURE = HookAnswer(401, "missing or bad signature")
UNKNOWN_RENTAL = HookAnswer(404, "not a rental of this account")


class KiwiHooks:
    def __init__(self, services: Services, delivery: Delivery, spawn: Spawn) -> None:
        self._services = services
        self._delivery = delivery
        self._spawn = spawn

    async def receive(self, hook: AccountHook, body: bytes, signature: str | None) -> HookAnswer:
        if not hook.webhook_secret:
            return NO_SECRET  # unsigned hooks are never trusted
        if not signature or not verify_signature(body, signature, hook.webhook_secret):
            return BAD_SIGNATURE
        try:
            rental_id, sms = parse_sms_received(body)
        except ProviderError:
            return UNREADABLE
        order = await self._services.orders.by_remote_id(hook.chat_id, ProviderId.KIWI, rental_id)
        if order is None:
            return UNKNOWN_RENTAL
        follow = await store_sms(self._delivery, order, sms)
        if follow is not None:
            self._spawn(follow)  # the code goes out while the answer is written
        await self._services.hooks.mark_callback(hook.chat_id, ProviderId.KIWI)
        return ACCEPTED

