"""Builds the right client for a provider, and tells what each provider can do."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from providers.base import ProviderClient
from providers.gotsms.capabilities import CAPABILITIES as GOTSMS_CAPABILITIES
from providers.kiwi.capabilities import CAPABILITIES as KIWI_CAPABILITIES
from providers.models import Capabilities, ProviderId
from providers.nonvoip.capabilities import CAPABILITIES as NONVOIP_CAPABILITIES

_CAPABILITIES: dict[ProviderId, Capabilities] = {
    ProviderId.KIWI: KIWI_CAPABILITIES,
    ProviderId.NONVOIP: NONVOIP_CAPABILITIES,
    ProviderId.GOTSMS: GOTSMS_CAPABILITIES,
}


@dataclass(frozen=True)
class ProviderEndpoints:
    nonvoip: str
    kiwi: str
    gotsms: str


class UnsupportedProvider(Exception):
    pass


def capabilities_of(provider: ProviderId) -> Capabilities:
    """A provider's capabilities without building a client (the order card, the poller)."""
    return _CAPABILITIES[provider]


def make_client(
    provider: ProviderId,
    credentials: dict[str, str],
    http: httpx.AsyncClient,
    endpoints: ProviderEndpoints,
) -> ProviderClient:
    if provider is ProviderId.KIWI:
        from providers.kiwi.client import KiwiClient

        return KiwiClient(http, endpoints.kiwi, credentials["api_key"])
    if provider is ProviderId.NONVOIP:
        from providers.nonvoip.client import NonVoipClient

        return NonVoipClient(http, endpoints.nonvoip, credentials["email"], credentials["password"])
    if provider is ProviderId.GOTSMS:
        from providers.gotsms.client import GotSmsClient

        return GotSmsClient(http, endpoints.gotsms, credentials["token"])
    raise UnsupportedProvider(provider.value)
