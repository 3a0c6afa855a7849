"""The guide's six sections, in order: each discovers, plans and tears down its resources."""

from runbook.steps.base import Observed, Resource, Step
from runbook.steps.cluster import ClusterStep
from runbook.steps.database import DatabaseStep
from runbook.steps.load_balancer import LoadBalancerStep
from runbook.steps.security_groups import SecurityGroupsStep
from runbook.steps.service import ServiceStep
from runbook.steps.task_definition import TaskDefinitionStep

STEPS: tuple[Step, ...] = (
    SecurityGroupsStep(),
    LoadBalancerStep(),
    ClusterStep(),
    DatabaseStep(),
    TaskDefinitionStep(),
    ServiceStep(),
)

__all__ = ["STEPS", "Observed", "Resource", "Step"]
