"""The bot's long-lived services, created in post_init and reached through bot_data."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from telegram.ext import ContextTypes

from providers.base import ProviderClient
from providers.models import ProviderId
from providers.registry import ProviderEndpoints, make_client
from storage.chats import ChatStore
from storage.credentials import CredentialStore
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
    endpoints: ProviderEndpoints
    # Decrypted clients, so a poll tick does not decrypt every account again.
    _clients: dict[tuple[int, ProviderId], ProviderClient] = field(default_factory=dict)
    # Orders a handler is acting on right now: the poller leaves them alone meanwhile.
    busy_orders: set[int] = field(default_factory=set)
    # Accounts whose credentials the provider refused while polling (mirrored in the database).
    rejected_accounts: set[tuple[int, ProviderId]] = field(default_factory=set)

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
        self.rejected_accounts.discard((chat_id, provider))


def get_services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data[SERVICES_KEY]
