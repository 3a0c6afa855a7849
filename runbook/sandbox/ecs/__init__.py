"""ECS in the sandbox: a service's tasks as real processes, started from the registered task
definition (entry point, working directory, environment, secrets), as ECS would.

In parts, each seeing only what it needs of its account and region: the service scheduler
(scheduler: desired counts, rolling updates; circuit_breaker), the tasks themselves (task,
moved through ECS's lifecycle by lifecycle), and the container runtime (runtime: a task's
process started and stopped). ECS's records (records) and the target groups (targets) are
reached through small views; none of them knows the data plane.
"""

from runbook.sandbox.ecs.records import Records
from runbook.sandbox.ecs.region import Region
from runbook.sandbox.ecs.runtime import Host, Runtime
from runbook.sandbox.ecs.scheduler import Services
from runbook.sandbox.ecs.targets import Targets

__all__ = ["Host", "Records", "Region", "Runtime", "Services", "Targets"]
