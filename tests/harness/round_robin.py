"""The round-robin balancer of deploy/round_robin.py, recording which upstream answered which
request, so a test can show that consecutive updates of one conversation were handled by
different `python -m bot web` processes."""

from __future__ import annotations

from deploy.round_robin import RoundRobinProxy as _DeployedProxy
from deploy.round_robin import Routed

__all__ = ["RoundRobinProxy", "Routed"]


class RoundRobinProxy(_DeployedProxy):
    """On 127.0.0.1 and a free port, recording every request (`routed`)."""

    def __init__(self, upstreams: list[str]) -> None:
        super().__init__(upstreams, record=True)
