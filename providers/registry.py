"""Builds the right client for a provider from stored credentials."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from providers.base import ProviderClient
from providers.models import ProviderId


@dataclass(frozen=True)
class ProviderEndpoints:
    nonvoip: str
    kiwi: str
    gotsms: str


class UnsupportedProvider(Exception):
    pass


def make_client(
    provider: ProviderId,
    credentials: dict[str, str],
    http: httpx.AsyncClient,
    endpoints: ProviderEndpoints,
) -> ProviderClient:
    if provider is ProviderId.KIWI:
        from providers.kiwi import KiwiClient

        return KiwiClient(http, endpoints.kiwi, credentials["api_key"])
    if provider is ProviderId.NONVOIP:
        from providers.nonvoip import NonVoipClient

        return NonVoipClient(http, endpoints.nonvoip, credentials["email"], credentials["password"])
    if provider is ProviderId.GOTSMS:
        from providers.gotsms import GotSmsClient

        return GotSmsClient(http, endpoints.gotsms, credentials["token"])
    raise UnsupportedProvider(provider.value)
