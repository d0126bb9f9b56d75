"""Enough CloudFormation to deploy a synthesized stack into the emulated region.

``EmulatedStack`` is one stack instance (a unique StackId) read from a cloud assembly. ``deploy``
creates every resource in dependency order (DependsOn plus every Ref, Fn::GetAtt and Fn::Sub
reference), concurrently on the virtual clock, as CloudFormation does (``deployment.py``): native
resources act on the emulated region (``cfn_resources.py``: buckets, keys, roles and policies into
the access model, Personalize resources through its API, BucketDeployment uploads), and every
``Custom::PersonalizeDatasetImport`` goes through the Provider framework with the real handler.
``update`` deploys a later synth of the same stack instance: unchanged import properties send
no event, changed ones an Update, a new physical id a Delete of the old one after the update.
``delete`` deletes the stack in reverse dependency order (``stack_delete.py``).
Custom-resource events and the provider come from ``stack_events.py``.

Long imports: Lambda functions and state machines of the template exist in the region
(``cfn_states.py``), wait condition handles and wait conditions wait for signals (``cfn_wait.py``),
and the region's Step Functions executions run while an operation runs (``deployment.Engine``'s
background), so a WaitCondition completes when an execution's Task signals it. The Python code of
the template's Lambda functions is bound per ``Handler`` string: ``framework()`` binds the real
handler's, a ``ProviderFramework`` passed to deploy / update / delete binds its ``functions``, and
``bind_functions`` binds any others. Executions left running when an operation ends (or started by
events a test sends by hand) run on in the next operation, or with ``world.states.run_until``.

The older step-by-step API (``deploy_dependencies``, ``update_to``, ``import_properties``, ``event``,
``framework``) serves tests that send the import's events themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cloudformation_events import RESOURCE_TYPE
from tests.emulator import cfn_resources, intrinsics
from tests.emulator.cfn_types import Deployed, ResourceFailure
from tests.emulator.deployment import (
    COMPLETE,
    At,
    Deployment,
    Engine,
    Now,
    ResourceFailed,
    ResourceRecord,
    Started,
    Until,
)
from tests.emulator.provider_framework import Outcome, ProviderFramework
from tests.emulator.stack_delete import StackDeletion, retains
from tests.emulator.stack_template import Template
from tests.emulator.world import Export


class EmulatedStack(StackDeletion):
    """One deployed stack instance: ``deploy`` it, ``update`` it with later synths, ``delete`` it."""

    # -- whole-stack operations ------------------------------------------------------------------------
    def deploy(self, framework: ProviderFramework | None = None) -> Deployment:
        """Create the stack: every resource in dependency order, imports through ``framework``."""
        self._check_live()
        if self._deployed:
            raise RuntimeError(f"stack {self.name} is already deployed: update() it")
        self._bind(framework)
        self._imported.clear()
        deployment = Deployment(self.stack_id, self.name, "Create", self.world.clock())
        self._walk(deployment, self._ids(), lambda record: self._create(record, deployment, framework))
        self._export(deployment)
        self._publish_imports(deployment)
        deployment.finished_at = self.world.clock()
        return deployment

    def update(
        self, assembly_dir: Path, framework: ProviderFramework | None = None, *, roll_back: bool = False
    ) -> Deployment:
        """Deploy a later synth of this stack instance (same StackId) over what is deployed.

        With ``roll_back``, a failed update is rolled back as CloudFormation does (``deployment.rollback``):
        every resource goes back to the previous template (a custom resource whose update completed gets
        an Update with the old properties; one whose update failed kept them), then the resources the
        failed update created and the physical ids the rollback replaced are deleted.
        """
        self._check_live()
        self._bind(framework)
        self._imported.clear()
        old, old_dir = self.spec, self._dir
        self._load(assembly_dir)
        deployment = Deployment(self.stack_id, self.name, "Update", self.world.clock())
        replaced: dict[str, Deployed] = {}
        self._walk(deployment, self._ids(), lambda record: self._update(record, deployment, framework, replaced))
        if deployment.succeeded:
            self._cleanup(deployment, old, replaced, framework)
            self._export(deployment)
        elif roll_back:
            deployment.rollback = self._roll_back(old_dir, framework)
        self._publish_imports(deployment)
        deployment.finished_at = self.world.clock()
        return deployment

    def _roll_back(self, old_dir: Path, framework: ProviderFramework | None) -> Deployment:
        failed = self.spec
        self._load(old_dir)
        rollback = Deployment(self.stack_id, self.name, "Rollback", self.world.clock())
        replaced: dict[str, Deployed] = {}
        self._walk(rollback, self._ids(), lambda record: self._update(record, rollback, framework, replaced))
        self._cleanup(rollback, failed, replaced, framework)
        rollback.finished_at = self.world.clock()
        return rollback

    def _ids(self) -> list[str]:
        """The resources to deploy: all but those whose Condition is false."""
        return [
            lid
            for lid in self.spec.resource_ids()
            if "Condition" not in self.spec.resources[lid] or self.condition(self.spec.resources[lid]["Condition"])
        ]

    def _walk(self, deployment: Deployment, ids: list[str], start: Callable[[ResourceRecord], Started]) -> None:
        records = {lid: ResourceRecord(lid, self.spec.resource_type(lid)) for lid in ids}
        deployment.records.update(records)
        Engine(self.world.clock, records, self.spec.dependencies(), background=self.world.states).run(start)
        for logical_id, record in records.items():
            deployed = self._deployed.get(logical_id)
            created = record.action == "Create" and deployed is not None and deployed.pending is not None
            if created and record.status != COMPLETE:
                # A wait created now that failed or was cancelled is not deployed: a later update waits again.
                del self._deployed[logical_id]

    def _properties(self, logical_id: str) -> dict[str, Any]:
        try:
            resolved: dict[str, Any] = self.resolve(self.spec.resources[logical_id].get("Properties") or {})
        except intrinsics.Unresolvable as error:
            raise ResourceFailed(str(error)) from error
        return resolved

    def _create(self, record: ResourceRecord, deployment: Deployment, framework: ProviderFramework | None) -> Started:
        record.action = "Create"
        props = self._properties(record.logical_id)
        if record.resource_type == RESOURCE_TYPE:
            event = self._custom_event(record.logical_id, "Create", props)
            return self._send(
                record,
                deployment,
                framework,
                event,
                lambda outcome: self._custom_done(record, props, outcome),
                failed=lambda outcome: self._custom_failed(record, props, outcome),
            )
        create, _, _ = cfn_resources.handlers(record.resource_type)
        try:
            deployed = create(self, record.logical_id, props)
        except ResourceFailure as error:
            raise ResourceFailed(str(error)) from error
        return self._settled(record, deployed)

    def _update(
        self,
        record: ResourceRecord,
        deployment: Deployment,
        framework: ProviderFramework | None,
        replaced: dict[str, Deployed],
    ) -> Started:
        old = self._deployed.get(record.logical_id)
        if old is None:
            return self._create(record, deployment, framework)
        if old.resource_type != record.resource_type:
            raise NotImplementedError(f"{record.logical_id}: changing a resource's type is not emulated")
        record.action = "Update"
        props = self._properties(record.logical_id)
        if record.resource_type == RESOURCE_TYPE:
            if props == old.properties:
                record.action, record.physical_id = "NoChange", old.physical_id  # CloudFormation sends nothing
                return Now()
            event = self._custom_event(record.logical_id, "Update", props, old.properties, old.physical_id)

            def updated(outcome: Outcome) -> None:
                if outcome.physical_id != old.physical_id:
                    replaced[record.logical_id] = old  # deleted in the cleanup phase
                self._custom_done(record, props, outcome)

            return self._send(record, deployment, framework, event, updated)
        if props == old.properties and record.resource_type != cfn_resources.BUCKET_DEPLOYMENT:
            record.action, record.physical_id = "NoChange", old.physical_id
            return Now()
        _, update, _ = cfn_resources.handlers(record.resource_type)
        try:
            deployed = update(self, record.logical_id, old, props)
        except ResourceFailure as error:
            raise ResourceFailed(str(error)) from error
        return self._settled(record, deployed)

    def _cleanup(
        self, deployment: Deployment, old: Template, replaced: dict[str, Deployed], framework: ProviderFramework | None
    ) -> None:
        """Delete the old physical ids of replaced resources and the resources no longer in the template."""
        present = set(self._ids())
        removed = [lid for lid in old.resource_ids() if lid not in present and lid in self._deployed]
        gone = {lid: self._deployed.pop(lid) for lid in removed} | replaced
        old_dependencies = old.dependencies()
        # Reverse order: a removed resource goes only after the removed resources that depend on it.
        waits = {lid: {other for other in removed if lid in old_dependencies.get(other, ())} for lid in gone}
        # A removed resource keeps by its DeletionPolicy, a replaced one's old id by UpdateReplacePolicy.
        retained = {lid for lid in removed if retains(old, lid, "DeletionPolicy")}
        retained |= {lid for lid in replaced if retains(self.spec, lid, "UpdateReplacePolicy")}
        self._delete_resources(
            deployment, deployment.cleanup, gone=gone, waits=waits, retained=retained, framework=framework, forget=_keep
        )

    def _settled(self, record: ResourceRecord, deployed: Deployed) -> Now | At | Until:
        self._deployed[record.logical_id] = deployed
        record.physical_id = deployed.physical_id
        if deployed.pending is not None:
            return Until(_failing(deployed.pending.check), deployed.pending.deadline)
        return Now() if deployed.ready_at is None else At(deployed.ready_at)

    def _custom_done(self, record: ResourceRecord, props: dict[str, Any], outcome: Outcome) -> None:
        # A custom resource's Fn::GetAtt values are the Data it answered with.
        self._deployed[record.logical_id] = Deployed(record.resource_type, outcome.physical_id, outcome.data, props)
        self._failed_creates.pop(record.logical_id, None)

    def _custom_failed(self, record: ResourceRecord, props: dict[str, Any], outcome: Outcome) -> None:
        # A failed Create answered with a physical id (a job ARN, or the framework's CREATE_FAILED marker).
        if outcome.physical_id:
            self._failed_creates[record.logical_id] = Deployed(record.resource_type, outcome.physical_id, {}, props)

    def _export(self, deployment: Deployment) -> None:
        if not deployment.succeeded:
            return
        exports = {name: export for name, export in self.world.exports.items() if export.stack_id != self.stack_id}
        for name, output in self.spec.outputs.items():
            value = self.resolve(output["Value"])
            deployment.outputs[name] = value
            if "Export" not in output:
                continue
            export_name = str(self.resolve(output["Export"]["Name"]))
            if export_name in exports:
                deployment.stack_reason = (
                    f"Export with name {export_name} is already exported by stack {exports[export_name].stack_id}"
                )
                return
            exports[export_name] = Export(str(value), self.stack_id)
        self.world.exports.clear()
        self.world.exports.update(exports)

    def _publish_imports(self, deployment: Deployment) -> None:
        """Record which exports this stack imports; after a failed operation the earlier ones may still be used."""
        imported = set(self._imported)
        if not deployment.succeeded:
            imported |= self.world.imports.get(self.stack_id, set())
        self.world.imports[self.stack_id] = imported

    # -- the step-by-step API -------------------------------------------------------------------------
    def deploy_dependencies(self) -> EmulatedStack:
        """Create everything except the import custom resources and what depends on them."""
        self._check_live()
        skipped = self.spec.dependents(set(self.import_ids()))
        ids = [lid for lid in self._ids() if lid not in skipped]
        deployment = Deployment(self.stack_id, self.name, "Create", self.world.clock())
        self._walk(deployment, ids, lambda record: self._create(record, deployment, None))
        if not deployment.succeeded:
            raise RuntimeError(f"deploying {self.name}'s dependencies failed: {deployment.failures}")
        return self

    def update_to(self, assembly_dir: Path) -> EmulatedStack:
        """A later synth of the same stack: keep the deployed resources, upload its data again."""
        self._load(assembly_dir)
        _, upload, _ = cfn_resources.handlers(cfn_resources.BUCKET_DEPLOYMENT)
        for logical_id in self.spec.of_type(cfn_resources.BUCKET_DEPLOYMENT):
            old = self._deployed.get(logical_id) or Deployed(cfn_resources.BUCKET_DEPLOYMENT, logical_id)
            self._deployed[logical_id] = upload(self, logical_id, old, self.resolve(self.spec.properties(logical_id)))
        return self


def _failing(check: Callable[[], bool]) -> Callable[[], bool]:
    """A resource's check, its ResourceFailure reported to the engine as ResourceFailed."""

    def checked() -> bool:
        try:
            return check()
        except ResourceFailure as error:
            raise ResourceFailed(str(error)) from error

    return checked


def _keep(_logical_id: str) -> None:
    # An update's cleanup deletes what the stack no longer holds: nothing to forget.
    pass
