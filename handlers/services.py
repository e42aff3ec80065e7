"""The bot's long-lived services, created in post_init and reached through bot_data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from telegram.ext import ContextTypes

from providers.base import ProviderClient
from providers.models import ProviderId
from providers.registry import ProviderEndpoints, make_client
from storage.chats import ChatStore
from storage.conversations import ConversationStore
from storage.credentials import CredentialStore
from storage.feed_recovery import FeedRecoveryStore
from storage.hooks import HookStore
from storage.database import Database
from storage.messages import MessageStore
from storage.orders import OrderStore
from storage.purchases import PurchaseStore

SERVICES_KEY = "services"


@dataclass
class Services:
    allowed_user_ids: frozenset[int]
    poll_interval_seconds: float
    db: Database
    http: httpx.AsyncClient
    chats: ChatStore
    credentials: CredentialStore
    orders: OrderStore
    purchases: PurchaseStore
    messages: MessageStore
    conversations: ConversationStore
    feed_recovery: FeedRecoveryStore
    endpoints: ProviderEndpoints
    hooks: HookStore
    # PUBLIC_URL: where providers' callbacks reach this bot (None = polling only, no callbacks).
    public_url: str | None = None
    # How long a sender holds an outbox row, and a Confirm tap its purchase, before another may
    # take over (the holder died). Longer than any send / purchase request can take.
    outbox_lease: timedelta = timedelta(seconds=60)
    purchase_lease: timedelta = timedelta(seconds=60)
    # Decrypted clients, so a poll tick does not decrypt every account again (a cache only).
    _clients: dict[tuple[int, ProviderId], ProviderClient] = field(default_factory=dict)

    async def client_for(self, chat_id: int, provider: ProviderId) -> ProviderClient | None:
        key = (chat_id, provider)
        client = self._clients.get(key)
        if client is None:
            credentials = await self.credentials.load(chat_id, provider)
            if credentials is None:
                return None
            client = make_client(provider, credentials, self.http, self.endpoints)
            self._clients[key] = client
        return client

    def client_from(self, provider: ProviderId, credentials: dict[str, str]) -> ProviderClient:
        """A client for credentials not stored yet (the /connect check)."""
        return make_client(provider, credentials, self.http, self.endpoints)

    def forget_client(self, chat_id: int, provider: ProviderId) -> None:
        """After connect or disconnect: the next use decrypts the new credentials."""
        self._clients.pop((chat_id, provider), None)


    def hook_url(self, provider: ProviderId, token: str) -> str | None:
        """The callback URL of an account (`/hooks/<provider>/<token>`), None without PUBLIC_URL."""
        if self.public_url is None:
            return None
        return f"{self.public_url.rstrip('/')}/hooks/{provider.value}/{token}"


def get_services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data[SERVICES_KEY]
