"""DeleteTaskDefinitions as AWS answers it, where moto 5.2.5 does not: numbering goes on.

moto implements DeleteTaskDefinitions, but forgets a deleted revision's number: once every
revision of a family is deleted, the next registration is revision 1 again. AWS keeps the
name: "The task definition name is retained by Amazon ECS and the revision is incremented the
next time you create a task definition with that name" (ECS API Reference,
DeleteTaskDefinitions). A reused `family:1` would name two different task definitions, and the
sandbox's data plane (and any cache of revisions) would take the new one for the old.
"""

from __future__ import annotations

from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend

from runbook.sandbox.once import once


@once
def install() -> None:
    """Make every ECS backend remember the highest revision each family ever had."""
    last = EC2ContainerServiceBackend._get_last_task_definition_revision_id
    delete = EC2ContainerServiceBackend.delete_task_definitions

    def highest(backend: Any, family: str) -> int:
        return getattr(backend, "_deleted_revisions", {}).get(family, 0)

    def last_revision(self: Any, family: str) -> Any:
        found = last(self, family)
        kept = highest(self, family)
        return max(found or 0, kept) or found

    def delete_and_remember(self: Any, task_definitions: list[str]) -> Any:
        for family, revisions in self.task_definitions.items():
            if revisions:
                remembered = self.__dict__.setdefault("_deleted_revisions", {})
                remembered[family] = max(remembered.get(family, 0), max(revisions))
        return delete(self, task_definitions)

    last_revision.__wrapped__ = last  # type: ignore[attr-defined]
    delete_and_remember.__wrapped__ = delete  # type: ignore[attr-defined]
    EC2ContainerServiceBackend._get_last_task_definition_revision_id = last_revision  # type: ignore[method-assign]
    EC2ContainerServiceBackend.delete_task_definitions = delete_and_remember  # type: ignore[method-assign]
