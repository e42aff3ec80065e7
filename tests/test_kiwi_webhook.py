"""kiwiSMS webhooks: signatures, payloads, and a signed delivery from the simulator."""

from __future__ import annotations


import httpx
import pytest
from starlette.requests import Request

from providers.errors import OrderNotFound, UnexpectedResponse
from providers.kiwi.client import KiwiClient
from providers.kiwi.schema import sms_identity
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.kiwi.webhook import parse_sms_received, sign, verify_signature
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import callback_receiver, first_callback, http
from tests.clients.kiwi import buy, first_offer, key, kiwi, _no_secret_in_logs, raises, shared_sim, sim

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_signature_good_and_bad() -> None:
    body = b'{"event":"sms.received"}'
    good = sign(body, "s3cret")
    assert verify_signature(body, good, "s3cret")
    assert verify_signature(body, "sha256=" + good.upper(), "s3cret")
    assert not verify_signature(body, good, "other")
    assert not verify_signature(body + b" ", good, "s3cret")
    assert not verify_signature(body, "", "s3cret")
    assert not verify_signature(body, good, "")
    assert not verify_signature(body, "é" * 64, "s3cret")


async def test_parse_rejects_bad_payloads() -> None:
    for bad in (b"nope", b"[]", b'{"event":"other"}',
                b'{"event":"sms.received","receivedAt":"2030-01-01T00:00:00Z"}',
                b'{"event":"sms.received","rentalId":"r","receivedAt":"yesterday"}'):
        with pytest.raises(UnexpectedResponse):
            parse_sms_received(bad)


async def test_signed_webhook_from_simulator(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    async def signed(request: Request) -> tuple[bytes, str]:
        return await request.body(), request.headers.get("x-webhook-signature", "")

    async with callback_receiver(signed, status_code=204) as (url, received):
        sim.add_account(key + "-hook", webhook_url=url, webhook_secret="whsec")
        client = KiwiClient(http, sim.base_url, key + "-hook", retry_delay=0.01)
        order = await buy(client, await first_offer(client), "k")
        sim.receive_sms(order.order_id, "Your verification code is 246810")
        await first_callback(received)
    (body, signature), = received
    assert verify_signature(body, signature, "whsec")
    assert not verify_signature(body, signature, "wrong")
    rental_id, message = parse_sms_received(body)
    assert rental_id == order.order_id
    assert message.code == "246810" and "246810" in message.text
    assert message.service_name == order.service_name
    assert message.received_at is not None
    assert parse_sms_received(body)[1].message_id == message.message_id  # redelivery: same id
    # The poll knows the same SMS by the same identity: stored once whichever path comes first.
    (polled,) = (await client.get_order(order.order_id)).messages
    assert message.message_id == polled.message_id == sms_identity("246810")


async def test_cancel_unknown_order(kiwi: KiwiClient) -> None:
    await raises(OrderNotFound, kiwi.cancel("does-not-exist"))
