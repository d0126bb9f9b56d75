"""Deleting a stack: exports in use, DeletionPolicy on delete and on an update's removals.

CloudFormation-only templates. Reverse dependency order, DELETE_FAILED and deleting again, and an
import's Delete through the real handler are checked on the library's stacks
(``tests/lifecycle/test_synthesized_stacks.py`` and the other lifecycle tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.templates import bucket, ref, write
from tests.emulator.world import World


def _gone(world: World, name: str) -> bool:
    with pytest.raises(ClientError) as caught:
        world.s3.head_bucket(Bucket=name)
    return str(caught.value.response["Error"]["Code"]) in ("404", "NoSuchBucket")


def _deployed(world: World, directory: Path, name: str) -> EmulatedStack:
    stack = EmulatedStack(directory, name, world)
    deployment = stack.deploy()
    assert deployment.succeeded, deployment.failures
    return stack


def test_a_stack_whose_export_is_imported_cannot_be_deleted(world: World, tmp_path: Path) -> None:
    producer_outputs = {"DataName": {"Value": ref("Data"), "Export": {"Name": "shop-data"}}}
    producer = _deployed(world, write(tmp_path / "p", "Data", {"Data": bucket()}, Outputs=producer_outputs), "Data")
    reader = {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Fn::ImportValue": "shop-data"}}}
    consumer = _deployed(world, write(tmp_path / "c", "Reader", {"Reader": reader}), "Reader")
    refused = producer.delete()
    assert refused.stack_status == "DELETE_FAILED" and refused.records == {}
    assert refused.stack_reason == f"Export shop-data cannot be deleted as it is in use by {consumer.stack_id}"
    assert world.s3.head_bucket(Bucket=producer.ref("Data"))
    assert consumer.delete().succeeded
    assert producer.delete().succeeded and "shop-data" not in world.exports


def test_only_the_deletion_policy_keeps_a_resource_an_update_removes_or_the_stack_deletes(
    world: World, tmp_path: Path
) -> None:
    kept, replaced_only = bucket(), bucket()
    kept["DeletionPolicy"] = "RetainExceptOnCreate"  # a delete is no rollback of a create: kept
    replaced_only["UpdateReplacePolicy"] = "Retain"  # applies to replacements during updates only
    resources = {"Kept": kept, "Gone": replaced_only, "KeptOnUpdate": kept, "GoneOnUpdate": replaced_only}
    stack = _deployed(world, write(tmp_path / "v1", "Buckets", resources), "Buckets")
    names = {lid: stack.ref(lid) for lid in resources}
    update = stack.update(write(tmp_path / "v2", "Buckets", {"Kept": kept, "Gone": replaced_only}))
    assert update.succeeded
    assert {lid: record.resource_status for lid, record in update.cleanup.items()} == {
        "KeptOnUpdate": "DELETE_SKIPPED",
        "GoneOnUpdate": "DELETE_COMPLETE",
    }
    deployment = stack.delete()
    assert deployment.succeeded
    assert {lid: record.action for lid, record in deployment.records.items()} == {"Kept": "Retain", "Gone": "Delete"}
    assert world.s3.head_bucket(Bucket=names["Kept"]) and world.s3.head_bucket(Bucket=names["KeptOnUpdate"])
    assert _gone(world, names["Gone"]) and _gone(world, names["GoneOnUpdate"])
