"""Just enough CloudFormation to run a synthesized ``DatasetImport`` against the emulated region.

``EmulatedStack`` reads a stack from a cloud assembly and "deploys" what the import needs before
its custom resource runs: S3 buckets (moto), Personalize dataset groups, schemas and datasets (the
emulator, from the template's own properties), IAM role ARNs, and each ``BucketDeployment`` (the
staged asset files copied under the destination prefix). Then ``import_event`` hands out the
``Custom::PersonalizeDatasetImport`` properties with every token (Ref, Fn::GetAtt, Fn::Join)
replaced by those physical values, and ``framework`` the provider's query interval and timeout as
synthesized in the waiter state machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from constructs_personalize.handlers.dataset_import import index
from tests.cloudformation_events import RESOURCE_TYPE, custom_resource_event, service_token
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.service import ACCOUNT
from tests.emulator.world import World

PERSONALIZE_ORDER = ("AWS::Personalize::DatasetGroup", "AWS::Personalize::Schema", "AWS::Personalize::Dataset")


class EmulatedStack:
    def __init__(self, assembly_dir: Path, stack_name: str, world: World) -> None:
        self.name = stack_name
        self.world = world
        self._dir = assembly_dir
        self.template: dict[str, Any] = json.loads((assembly_dir / f"{stack_name}.template.json").read_text())
        self._assets: dict[str, Any] = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text())["files"]
        self._physical: dict[str, dict[str, str]] = {}

    # -- deployment of what the import depends on ---------------------------------------------------
    def deploy_dependencies(self) -> EmulatedStack:
        for logical_id, _ in self._resources("AWS::S3::Bucket"):
            name = f"{self.name}-{logical_id}".lower()[:63]
            self.world.bucket(name)
            self._physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}
        for logical_id, _ in self._resources("AWS::IAM::Role"):
            self._physical[logical_id] = {"Ref": logical_id, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"}
        for resource_type in PERSONALIZE_ORDER:
            for logical_id, resource in self._resources(resource_type):
                self._create_personalize(logical_id, resource_type, self.resolve(resource["Properties"]))
        self._upload_all()
        return self

    def update_to(self, assembly_dir: Path) -> EmulatedStack:
        """A later synth of the same stack: keep the deployed resources, upload its data again."""
        self._dir = assembly_dir
        self.template = json.loads((assembly_dir / f"{self.name}.template.json").read_text())
        self._assets = json.loads((assembly_dir / f"{self.name}.assets.json").read_text())["files"]
        self._upload_all()
        return self

    def _upload_all(self) -> None:
        wanted = ("DestinationBucketName", "DestinationBucketKeyPrefix", "SourceObjectKeys", "Prune")
        for _, resource in self._resources("Custom::CDKBucketDeployment"):
            self._upload({key: self.resolve(resource["Properties"].get(key)) for key in wanted})

    def _resources(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(k, v) for k, v in self.template["Resources"].items() if v["Type"] == resource_type]

    def _create_personalize(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> None:
        client = self.world.personalize()
        if resource_type == "AWS::Personalize::DatasetGroup":
            arn = client.create_dataset_group(name=props["Name"])["datasetGroupArn"]
            self.world.clock.advance(self.world.emulator.dataset_group_seconds)
            self._physical[logical_id] = {"Ref": arn, "DatasetGroupArn": arn}
        elif resource_type == "AWS::Personalize::Schema":
            arn = client.create_schema(name=props["Name"], schema=props["Schema"])["schemaArn"]
            self._physical[logical_id] = {"Ref": arn, "SchemaArn": arn}
        else:
            arn = client.create_dataset(
                name=props["Name"],
                schemaArn=props["SchemaArn"],
                datasetGroupArn=props["DatasetGroupArn"],
                datasetType=props["DatasetType"],
            )["datasetArn"]
            self._physical[logical_id] = {"Ref": arn, "DatasetArn": arn}

    def _upload(self, props: dict[str, Any]) -> None:
        # BucketDeployment unzips each source asset under the prefix; the staged directory is that content.
        prefix = props["DestinationBucketKeyPrefix"] or ""
        bucket = props["DestinationBucketName"]
        if props.get("Prune") in (True, "true"):
            stale = self.world.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            for item in stale:
                self.world.s3.delete_object(Bucket=bucket, Key=item["Key"])
        for key in props["SourceObjectKeys"]:
            source = self._dir / self._assets[key.removesuffix(".zip")]["source"]["path"]
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                relative = path.relative_to(source).as_posix()
                self.world.put_object(bucket, prefix + relative, path.read_bytes())

    # -- the custom resource -------------------------------------------------------------------------
    def import_ids(self) -> list[str]:
        return [logical_id for logical_id, _ in self._resources(RESOURCE_TYPE)]

    def import_id(self, construct_id: str) -> str:
        """Logical id of the custom resource of the DatasetImport ``construct_id`` (a top-level construct)."""
        path = f"{self.name}/{construct_id}/Resource/Default"
        (logical_id,) = [
            logical_id
            for logical_id, resource in self._resources(RESOURCE_TYPE)
            if resource.get("Metadata", {}).get("aws:cdk:path") == path
        ]
        return logical_id

    def import_properties(self, logical_id: str) -> dict[str, Any]:
        resource = self.template["Resources"][logical_id]
        properties = dict(resource["Properties"])
        properties["ServiceToken"] = service_token(self.world.emulator.region, ACCOUNT)
        resolved: dict[str, Any] = self.resolve(properties)
        return resolved

    def event(
        self,
        logical_id: str,
        request_type: str = "Create",
        *,
        properties: dict[str, Any] | None = None,
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        """A CloudFormation request for the import resource, as CloudFormation sends it."""
        return custom_resource_event(
            request_type,
            properties if properties is not None else self.import_properties(logical_id),
            logical_id=logical_id,
            stack_name=self.name,
            region=self.world.emulator.region,
            account=ACCOUNT,
            old_properties=old_properties,
            physical_id=physical_id,
        )

    def wait_settings(self) -> tuple[float, float, float]:
        """(query interval, total timeout, handler wait budget) as synthesized."""
        (_, machine), *_ = self._resources("AWS::StepFunctions::StateMachine")
        definition = "".join(
            part for part in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(part, str)
        )
        retry = json.loads(re.sub(r'"Resource":"[^"]*"', '"Resource":""', definition))
        retry = retry["States"]["framework-isComplete-task"]["Retry"][0]
        budgets = {
            resource["Properties"]["Environment"]["Variables"].get(index.WAIT_BUDGET_ENV)
            for _, resource in self._resources("AWS::Lambda::Function")
            if resource["Properties"].get("Handler") == "index.on_event"
        }
        (budget,) = budgets
        interval = float(retry["IntervalSeconds"])
        return interval, interval * retry["MaxAttempts"], float(budget)

    def framework(self, log: Callable[[str], None] | None = None, **overrides: Any) -> ProviderFramework:
        """The provider as synthesized, with a handler whose client and clock are the emulated region's."""
        interval, timeout, budget = self.wait_settings()
        handler = index.DatasetImportHandler(
            self.world.personalize(),
            start_client=self.world.personalize_single_attempt(),
            clock=self.world.clock,
            wait_budget_seconds=budget,
            emit=log or _discard,
        )
        settings: dict[str, Any] = {
            "on_event": handler.on_event,
            "is_complete": handler.is_complete,
            "clock": self.world.clock,
            "query_interval": interval,
            "total_timeout": timeout,
        }
        settings.update(overrides)
        return ProviderFramework(**settings)

    # -- intrinsic functions -------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                return self._physical[argument[0]][argument[1]]
            if key == "Fn::Join":
                return argument[0].join(str(self.resolve(part)) for part in argument[1])
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not emulated (in {value!r})")
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": self.world.emulator.region, "AWS::AccountId": ACCOUNT}
        if name in pseudo:
            return pseudo[name]
        return self._physical[name]["Ref"]


def _discard(_line: str) -> None:
    pass
