"""The guide's six sections, in order: each discovers, plans and tears down its resources."""

from runbook.steps.auto_scaling import AutoScalingStep
from runbook.steps.base import Observed, Resource, Step
from runbook.steps.cluster import ClusterStep
from runbook.steps.database import DatabaseStep
from runbook.steps.domain import DomainStep
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
    # Beyond the guide: its own to-do list; each plans nothing until its settings turn it on.
    DomainStep(),
    AutoScalingStep(),
)

__all__ = ["STEPS", "Observed", "Resource", "Step"]
