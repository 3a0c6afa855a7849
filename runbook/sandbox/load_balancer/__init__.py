"""Load balancer -> loopback listeners that health-check and forward as an ALB does.

health: target groups and their health checks; head: a request's head classed as ALB's
desync mitigation classes it; forwarding: one client connection, parsed with h11 and streamed
to a healthy target; pages: the answers ALB writes itself; listener: a listener on the
sandbox's one edge loop; balancers: the reconciler that opens and closes listeners.
"""

from runbook.sandbox.load_balancer.balancers import LoadBalancers
from runbook.sandbox.load_balancer.forwarding import Settings
from runbook.sandbox.load_balancer.health import HealthCheck, Target, TargetGroup, matches
from runbook.sandbox.load_balancer.listener import Listener

__all__ = [
    "HealthCheck",
    "Listener",
    "LoadBalancers",
    "Settings",
    "Target",
    "TargetGroup",
    "matches",
]
