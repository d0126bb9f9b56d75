"""Deleting a stack instance (and an update's cleanup deletes), as CloudFormation does it.

- Reverse dependency order: a resource is deleted once every resource that depends on it
  (DependsOn, Ref, Fn::GetAtt, Fn::Sub) is, concurrently on the virtual clock otherwise.
- DeletionPolicy Retain (or RetainExceptOnCreate: ``delete`` is never a rollback) keeps the resource
  as it is (DELETE_SKIPPED); on stack delete UpdateReplacePolicy plays no part, it decides only for
  the old physical id of a resource an update replaced.
- An import custom resource gets a Delete event through the Provider framework (the real handler),
  also one whose Create failed with a physical id (e.g. the job ARN, when the job outlasted the
  handler's wait budget); every other type its delete in ``cfn_resources.py``. A custom resource
  whose Create was never answered (cancelled) has no physical id CloudFormation knows: no Delete.
- A failed delete leaves that resource DELETE_FAILED with the reason; CloudFormation goes on with
  every resource that does not wait for it, and leaves what it depends on undeleted. The stack
  is then DELETE_FAILED ("The following resource(s) failed to delete: [...]"): it keeps what was not
  deleted and its exports, and ``delete`` may be called again once the cause is gone.
- A stack whose export another stack imports cannot be deleted: it fails before touching anything.
- Once deleted, the instance is gone for good (deploy, update or delete raise); deploying the
  same stack name again is a new instance: ``EmulatedStack(assembly, name, world)``, a new StackId.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cloudformation_events import RESOURCE_TYPE
from tests.emulator import cfn_resources
from tests.emulator.cfn_types import Deployed, ResourceFailure
from tests.emulator.deployment import (
    FAILED,
    NOT_STARTED,
    At,
    Deployment,
    Engine,
    Now,
    ResourceFailed,
    ResourceRecord,
    Started,
)
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.stack_events import StackEvents
from tests.emulator.stack_template import Template

RETAIN_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})


def retains(template: Template, logical_id: str, attribute: str) -> bool:
    """Whether the resource's ``attribute`` (DeletionPolicy or UpdateReplacePolicy) keeps it."""
    return template.resources.get(logical_id, {}).get(attribute, "Delete") in RETAIN_POLICIES


class StackDeletion(StackEvents):
    """``delete`` of a stack instance, and the walk of deletes an update's cleanup phase shares."""

    deleted = False  # the instance was deleted: nothing more can be done with it

    def _check_live(self) -> None:
        if self.deleted:
            raise RuntimeError(
                f"stack {self.name} ({self.stack_id}) was deleted: deploy a new EmulatedStack of it instead"
            )

    def delete(self, framework: ProviderFramework | None = None) -> Deployment:
        """Delete every resource of the stack in reverse dependency order; imports get Delete through ``framework``."""
        self._check_live()
        self._bind(framework)
        deployment = Deployment(self.stack_id, self.name, "Delete", self.world.clock())
        deployment.stack_reason = self._exports_in_use()
        if not deployment.stack_reason:
            held = {**self._failed_creates, **self._deployed}
            in_template = [lid for lid in reversed(self.spec.resource_ids()) if lid in held]
            gone = {lid: held[lid] for lid in in_template + [lid for lid in held if lid not in in_template]}
            dependencies = self.spec.dependencies()
            waits = {lid: {other for other in gone if lid in dependencies.get(other, ())} for lid in gone}
            retained = {lid for lid in gone if retains(self.spec, lid, "DeletionPolicy")}
            self._delete_resources(
                deployment,
                deployment.records,
                gone=gone,
                waits=waits,
                retained=retained,
                framework=framework,
                forget=self._forget,
            )
            failed = [lid for lid, record in deployment.records.items() if record.status == FAILED]
            if failed:
                deployment.stack_reason = f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
            else:
                self._gone()
        deployment.finished_at = self.world.clock()
        return deployment

    def _forget(self, logical_id: str) -> None:
        self._deployed.pop(logical_id, None)
        self._failed_creates.pop(logical_id, None)

    def _gone(self) -> None:
        self.deleted = True
        world = self.world
        for name in [name for name, export in world.exports.items() if export.stack_id == self.stack_id]:
            del world.exports[name]
        world.imports.pop(self.stack_id, None)

    def _exports_in_use(self) -> str:
        world = self.world
        for name, export in world.exports.items():
            if export.stack_id != self.stack_id:
                continue
            users = sorted(stack for stack, names in world.imports.items() if name in names and stack != self.stack_id)
            if users:
                return f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
        return ""

    def _delete_resources(
        self,
        deployment: Deployment,
        into: dict[str, ResourceRecord],
        *,
        gone: dict[str, Deployed],
        waits: dict[str, set[str]],
        retained: set[str],
        framework: ProviderFramework | None,
        forget: Callable[[str], Any],
    ) -> None:
        """Delete ``gone`` (each after what ``waits`` names), recording into ``into``; ``forget`` each deleted id."""
        records = {
            lid: ResourceRecord(lid, deployed.resource_type, action="Delete", physical_id=deployed.physical_id)
            for lid, deployed in gone.items()
        }
        into.update(records)

        def delete(record: ResourceRecord) -> Started:
            logical_id, deployed = record.logical_id, gone[record.logical_id]
            if logical_id in retained:
                record.action = "Retain"
                forget(logical_id)
                return Now()
            if deployed.resource_type == RESOURCE_TYPE:
                event = self._custom_event(logical_id, "Delete", deployed.properties, physical_id=deployed.physical_id)
                return self._send(record, deployment, framework, event, lambda _outcome: forget(logical_id))
            _, _, remove = cfn_resources.handlers(deployed.resource_type)
            try:
                done_at = remove(self, deployed)
            except ResourceFailure as error:
                raise ResourceFailed(str(error)) from error
            forget(logical_id)
            return Now() if done_at is None else At(done_at)

        Engine(self.world.clock, records, waits, keep_going=True, background=self.world.states).run(delete)
        for record in records.values():
            if record.status == NOT_STARTED:
                record.reason = "Not deleted: a resource that depends on it failed to delete"
