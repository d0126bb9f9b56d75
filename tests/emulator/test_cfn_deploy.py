"""Deploying and updating a stack: stop on the first failure, resources that take time, policies into access.

CloudFormation-only templates; the library's stacks are deployed in ``tests/lifecycle/test_synthesized_stacks.py`` and
``tests/lifecycle/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cloudformation_events import RESOURCE_TYPE
from tests.emulator.cfn_wait import HANDLE, WAIT_CONDITION
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import CANCELLED, COMPLETE, FAILED, NOT_STARTED
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.templates import get_att, parameter, ref, write
from tests.emulator.world import INTERACTIONS_SCHEMA, World

GROUP = {"Type": "AWS::Personalize::DatasetGroup", "Properties": {"Name": "shop"}}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def test_the_first_failure_stops_the_deploy_and_cancels_what_is_in_progress(world: World, tmp_path: Path) -> None:
    world.emulator.dataset_group_seconds = 120

    # A custom resource whose provider never reports it complete.
    def on_event(event: dict[str, Any]) -> dict[str, Any]:
        return {"PhysicalResourceId": "never-answered"}

    def is_complete(event: dict[str, Any]) -> dict[str, Any]:
        return {"IsComplete": False}

    resources = {
        "Group": GROUP,
        "AfterGroup": {**parameter("x"), "DependsOn": "Group"},
        "Handle": {"Type": HANDLE},
        "Wait": {"Type": WAIT_CONDITION, "Properties": {"Handle": ref("Handle"), "Timeout": "600"}},
        "Custom": {"Type": RESOURCE_TYPE, "Properties": {}},
        "Broken": {**parameter({"Fn::ImportValue": "nobody"}), "DependsOn": "Handle"},
    }
    stack = EmulatedStack(write(tmp_path, "Shop", resources), "Shop", world)
    deployment = stack.deploy(ProviderFramework(on_event, is_complete, world.clock))
    broken = deployment.records["Broken"]
    assert (broken.status, broken.reason) == (FAILED, "No export named nobody found")
    assert deployment.stack_status == "CREATE_FAILED" and deployment.finished_at == broken.completed_at
    # Nothing new starts; what is in progress is cancelled; CloudFormation never heard back from the
    # custom resource (no physical id), whatever its provider started goes on in the region.
    assert {lid: deployment.records[lid].status for lid in ("Group", "Wait", "Custom")} == {
        "Group": CANCELLED,
        "Wait": CANCELLED,
        "Custom": CANCELLED,
    }
    assert deployment.records["Custom"].physical_id is None
    assert deployment.records["Group"].resource_status == "CREATE_FAILED"
    assert (deployment.records["AfterGroup"].status, deployment.records["Handle"].status) == (NOT_STARTED, COMPLETE)


def test_a_dataset_group_holds_its_datasets_until_it_is_active(world: World, tmp_path: Path) -> None:
    world.emulator.dataset_group_seconds = 120
    resources = {
        "Group": GROUP,
        "Schema": {"Type": "AWS::Personalize::Schema", "Properties": {"Name": "shop", "Schema": INTERACTIONS_SCHEMA}},
        "Dataset": {
            "Type": "AWS::Personalize::Dataset",
            "Properties": {
                "Name": "shop",
                "DatasetType": "Interactions",
                "DatasetGroupArn": get_att("Group", "DatasetGroupArn"),
                "SchemaArn": get_att("Schema", "SchemaArn"),
            },
        },
    }
    started = world.clock()
    deployment = EmulatedStack(write(tmp_path, "Shop", resources), "Shop", world).deploy()
    assert deployment.succeeded, deployment.failures
    assert deployment.completed_at("Schema") == started  # independent of the group
    assert deployment.completed_at("Group") == started + 120 == deployment.records["Dataset"].started_at


def test_the_templates_policies_and_keys_decide_access_until_an_update_removes_them(
    world: World, tmp_path: Path
) -> None:
    encryption = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": get_att("Key")}
    service = {"Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"}, "Action": "s3:GetObject"}
    trust = {"Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]}}
    kept = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Data": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Reader": {"Type": "AWS::IAM::Role", "Properties": role},
    }
    resources = {
        **kept,
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": encryption}]
                }
            },
        },
        "Reader": {
            "Type": "AWS::IAM::Role",
            "Properties": {**role, "Policies": [{"PolicyName": "inline", "PolicyDocument": READ}]},
        },
        "DataPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("Data"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{**service, "Resource": "*"}]},
            },
        },
        "ReaderPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyName": "attached", "PolicyDocument": READ, "Roles": [ref("Reader")]},
        },
        "Managed": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": READ, "Roles": [ref("Reader")]},
        },
    }
    stack = EmulatedStack(write(tmp_path / "v1", "Shop", resources), "Shop", world)
    assert stack.deploy().succeeded
    access, bucket, role_arn = world.access, stack.ref("Data"), stack.get_att("Reader", "Arn")
    assert role_arn == f"arn:aws:iam::123456789012:role/{stack.ref('Reader')}"
    # The role's inline policies, its AWS::IAM::Policy and its managed policy all count as its own.
    assert set(access.inline_policies[role_arn]) == {"inline", "attached"}
    assert access.attachments[role_arn] == {stack.ref("Managed")} and len(access.identity_policies(role_arn)) == 3
    assert access.bucket_policies[bucket]["Statement"][0]["Principal"] == {"Service": "personalize.amazonaws.com"}
    # The bucket's default encryption names the key: the key's policy decides who may decrypt its objects.
    assert (
        access.bucket_keys[bucket] == stack.get_att("Key", "Arn") and access.bucket_keys[bucket] in access.key_policies
    )

    update = stack.update(write(tmp_path / "v2", "Shop", kept))
    assert update.succeeded and set(update.cleanup) == {"DataPolicy", "ReaderPolicy", "Managed"}
    assert access.identity_policies(role_arn) == [] and bucket not in access.bucket_policies
    assert bucket not in access.bucket_keys
