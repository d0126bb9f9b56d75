"""What a stack instance knows while it deploys: its id, template, deployed resources and names.

``StackScope`` is the ``intrinsics.Scope`` of a stack (Ref of pseudo parameters, parameters and
resources; Fn::GetAtt of deployed resources, a custom resource's being the Data it answered;
Fn::ImportValue of the World's exports; Conditions) and the ``cfn_types.Site`` its resources
are created in (CloudFormation-style physical names, asset directories).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.emulator import cfn_resources, intrinsics
from tests.emulator.cfn_types import Deployed
from tests.emulator.stack_template import Template
from tests.emulator.step_functions import TaskFn
from tests.emulator.world import World


class StackScope:
    """One stack instance's identity, template and deployed resources; resolves its intrinsic functions."""

    def __init__(self, assembly_dir: Path, stack_name: str, world: World, *, template_name: str | None = None) -> None:
        """``template_name``: the synthesized stack to deploy under ``stack_name`` (default: the same name), as
        ``cdk deploy`` does for a copy of a stack whose name comes from the environment (stages, PR stacks)."""
        self.name = stack_name
        self._template_name = template_name or stack_name
        self.world = world
        # One deployed stack instance: CloudFormation gives each a new id, kept across updates.
        self.stack_id = f"arn:aws:cloudformation:{world.region}:{world.account}:stack/{stack_name}/{uuid.uuid4()}"
        self._deployed: dict[str, Deployed] = {}
        # Custom resources whose Create answered FAILED with a physical id: CloudFormation keeps that
        # id (CREATE_FAILED) and sends it a Delete when the stack is deleted.
        self._failed_creates: dict[str, Deployed] = {}
        self._imported: set[str] = set()  # export names Fn::ImportValue read (published by a deploy)
        # The Python code of the stack's Lambda functions, by Handler string (what a Task runs).
        self._functions: dict[str, TaskFn] = {}
        self._load(assembly_dir)

    def _load(self, assembly_dir: Path) -> None:
        self._dir = assembly_dir
        self.spec = Template.load(assembly_dir, self._template_name)
        self.template: dict[str, Any] = self.spec.document

    def deployed(self, logical_id: str) -> Deployed:
        """A deployed resource: physical id, attributes, the properties it was last deployed with."""
        return self._deployed[logical_id]

    # -- what resources need from the stack (cfn_types.Site) -------------------------------------
    def physical_name(self, logical_id: str, max_length: int, *, lower: bool = False) -> str:
        suffix = uuid.uuid4().hex[:12].upper()
        name = f"{self.name}-{logical_id}"[: max_length - len(suffix) - 1] + "-" + suffix
        return name.lower() if lower else name

    def asset_source(self, object_key: str) -> Path:
        return self._dir / str(self.spec.assets[object_key.removesuffix(".zip")]["source"]["path"])

    def function_code(self, handler: str) -> TaskFn | None:
        return self._functions.get(handler)

    def bind_functions(self, functions: Mapping[str, TaskFn]) -> None:
        """Bind Python callables to the Handler strings of the stack's Lambda functions (``{contract.WAIT_STEP: ...}``).

        Looked up when a Step Functions Task invokes the function, so a later binding replaces an earlier one.
        """
        self._functions.update(functions)

    # -- intrinsic functions (intrinsics.Scope) -------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        return intrinsics.resolve(value, self)

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.world.account,
            "AWS::Partition": "aws",
            "AWS::Region": self.world.region,
            "AWS::StackId": self.stack_id,
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.spec.parameters:
            return self.spec.parameters[name].get("Default")
        if name in self._deployed:
            return self._deployed[name].physical_id
        raise intrinsics.Unresolvable(f"Ref {name}: no such parameter, or the resource is not created")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        deployed = self._deployed.get(logical_id)
        if deployed is None:
            raise intrinsics.Unresolvable(f"Fn::GetAtt {logical_id}.{attribute}: the resource is not created")
        if attribute in deployed.attributes:
            return deployed.attributes[attribute]
        if deployed.generic:
            return cfn_resources.generic_attribute(self, deployed, attribute)
        if deployed.resource_type.startswith("Custom::"):
            raise intrinsics.Unresolvable(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute} key "
                f"in object {self.stack_id}|{logical_id}|{deployed.physical_id}"
            )
        raise intrinsics.Unresolvable(
            f"Fn::GetAtt {logical_id}.{attribute}: {deployed.resource_type} has no such attribute"
        )

    def import_value(self, name: str) -> Any:
        if name not in self.world.exports:
            raise intrinsics.Unresolvable(f"No export named {name} found")
        self._imported.add(name)
        return self.world.exports[name].value

    def condition(self, name: str) -> bool:
        return intrinsics.holds(self.spec.conditions[name], self)
