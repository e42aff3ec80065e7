"""What a provider scenario supplies to the one seeding / injection / reporting shape."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from bench.accounting import Delivered
from bench.config import Config, ScenarioSize
from providers.models import OrderRequest, ProviderId


class RecordingSimulator(Protocol):
    """What the runner needs of a provider simulator: a loopback server that logs every request."""

    requests: list[Any]

    @property
    def base_url(self) -> str: ...

    async def start(self, port: int = 0) -> None: ...

    async def stop(self) -> None: ...


SimT = TypeVar("SimT", bound=RecordingSimulator)


@dataclass(frozen=True)
class Account:
    """One chat connected to one provider account."""

    chat_id: int
    key: str  # how the simulator attributes this account's requests (API key, lower-cased email, token)
    credentials: dict[str, str] = field(repr=False)  # what the bot stores for the chat


@dataclass(frozen=True)
class Target:
    """One live order of one account; it gets one SMS."""

    remote_id: str
    account: Account


@dataclass(frozen=True)
class Phase:
    """The SMS phase the figures are measured over (time.monotonic())."""

    start: float
    end: float
    poll_interval: float
    bot_end: float  # when the bot process had stopped

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def intervals(self) -> float:
        return self.seconds / self.poll_interval


@dataclass(frozen=True)
class TargetRow:
    label: str
    figure: str
    ok: bool | None  # None: reported, no target
    note: str = ""


@dataclass
class Figures:
    latency_notes: list[str] = field(default_factory=list)  # printed under the scenario's latency line
    details: list[str] = field(default_factory=list)  # request counts, cadence, limits
    targets: list[TargetRow] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)


class Scenario(ABC, Generic[SimT]):
    """One provider: its simulator, how accounts and orders are made, how an SMS arrives, its figures."""

    provider: ClassVar[ProviderId]
    label: ClassVar[str]  # "kiwi": the prefix of its output lines
    env_var: ClassVar[str]  # the bot's base-URL variable for this provider
    first_chat_id: ClassVar[int]  # each scenario's chats live in their own id range
    stored_section: ClassVar[str]  # the orders.section the bot itself stores for such an order

    def __init__(self, size: ScenarioSize, cfg: Config) -> None:
        self.size = size
        self.sim: SimT = self.make_simulator(cfg)
        self.targets: list[Target] = []
        self.first_bot_request = 0
        self._polls_before_bot = 0

    @property
    def active(self) -> bool:
        return self.size.orders > 0

    @abstractmethod
    def make_simulator(self, cfg: Config) -> SimT:
        """The provider's simulator, set so that nothing expires during the run."""

    @property
    @abstractmethod
    def what(self) -> str:
        """What is seeded, for the output ("kiwiSMS rentals")."""

    def seed_note(self) -> str:
        return ""

    def prepare(self) -> None:
        """Simulator set-up before any account exists (stock for every order)."""

    @abstractmethod
    def open_account(self, index: int, orders_per_account: int) -> Account:
        """Create the account at the simulator, funded for its orders."""

    @abstractmethod
    def order_request(self) -> OrderRequest:
        """What every seeded order buys (the idempotency key is added per order)."""

    @abstractmethod
    def receive_sms(self, remote_id: str, code: str) -> None:
        """Make an SMS with `code` visible at the provider; ValueError when it cannot receive one."""

    @abstractmethod
    def visible_at(self, remote_id: str) -> float:
        """time.time() the order's first SMS became visible at the provider."""

    @abstractmethod
    def poll_count(self) -> int:
        """How many of the requests the bot polls this provider with the simulator has seen."""

    def poll_times(self, start: float, end: float) -> dict[Hashable, list[float]]:
        """Account key -> times of the bot's poll requests within [start, end] (time.monotonic()),
        for a provider polled with one request per account per tick; others raise."""
        raise NotImplementedError(f"{self.label} is not polled per account")

    def other_requests(self, start: float, end: float) -> int:
        """The bot's requests within [start, end] other than its per-account polls."""
        within = sum(1 for r in self.bot_requests() if start <= r.at <= end)
        return within - sum(len(times) for times in self.poll_times(start, end).values())

    @abstractmethod
    def figures(self, phase: Phase, delivered: Delivered) -> Figures:
        """The provider-specific figures, from the simulator's request log."""

    # -------------------------------------------------------------- shared

    def mark_bot_start(self) -> None:
        """Requests from here on are the bot's (seeding requests came before)."""
        self.first_bot_request = len(self.sim.requests)
        self._polls_before_bot = self.poll_count()

    def has_polled(self) -> bool:
        return self.poll_count() > self._polls_before_bot

    def bot_requests(self) -> list[Any]:
        return list(self.sim.requests[self.first_bot_request:])

    @property
    def account_keys(self) -> list[str]:
        return sorted({t.account.key for t in self.targets})

    @property
    def chat_ids(self) -> list[int]:
        return sorted({t.account.chat_id for t in self.targets})
