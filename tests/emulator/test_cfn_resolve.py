"""The emulated CloudFormation's intrinsic functions, stack identity, exports and dependency graph."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.cloudformation_events import RESOURCE_TYPE
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import COMPLETE, FAILED, NOT_STARTED
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.stack_template import Template
from tests.emulator.templates import bucket, get_att, parameter, ref, write
from tests.emulator.world import World

PARAMETER = parameter("x")


def test_pseudo_parameters_and_functions(world: World, tmp_path: Path) -> None:
    resources = {"Data": bucket(), "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}
    outputs = {
        "StackId": {"Value": ref("AWS::StackId")},
        "Names": {"Value": {"Fn::Sub": "${AWS::StackName}|${AWS::Region}|${AWS::AccountId}|${AWS::Partition}"}},
        "Url": {"Value": {"Fn::Sub": "https://${Data.DomainName}.${AWS::URLSuffix}/${!Literal}"}},
        "Vars": {"Value": {"Fn::Sub": ["${Name}/${Data}", {"Name": {"Fn::GetAtt": "Data.Arn"}}]}},
        "Select": {"Value": {"Fn::Select": ["1", {"Fn::Split": ["/", ref("AWS::StackId")]}]}},
        "FunctionArn": {"Value": get_att("Fn")},
        "BucketArn": {"Value": get_att("Data")},
    }
    stack = EmulatedStack(write(tmp_path, "Shop", resources, Outputs=outputs), "Shop", world)
    deployment = stack.deploy()
    out, name = deployment.outputs, stack.ref("Data")
    assert deployment.succeeded and deployment.stack_id == stack.stack_id == out["StackId"]
    assert re.fullmatch(r"arn:aws:cloudformation:eu-west-1:123456789012:stack/Shop/[0-9a-f-]{36}", stack.stack_id)
    assert out["Names"] == "Shop|eu-west-1|123456789012|aws"
    assert out["Url"] == f"https://{name}.s3.amazonaws.com.amazonaws.com/${{Literal}}"
    assert out["Vars"] == f"arn:aws:s3:::{name}/{name}"
    assert out["Select"] == "Shop" and out["BucketArn"] == f"arn:aws:s3:::{name}"
    assert re.fullmatch(r"shop-data-[0-9a-f]{12}", name)  # CloudFormation's <stack>-<logical id>-<suffix>
    assert out["FunctionArn"].startswith("arn:aws:lambda:eu-west-1:123456789012:function:Shop-Fn-")


def test_each_stack_instance_has_its_own_id_and_names(world: World, tmp_path: Path) -> None:
    for name in ("Shop", "Blog"):
        write(tmp_path, name, {"Data": bucket(), "ImportRole": {"Type": "AWS::IAM::Role", "Properties": {}}})
    shop, blog = EmulatedStack(tmp_path, "Shop", world), EmulatedStack(tmp_path, "Blog", world)
    assert shop.deploy().succeeded and blog.deploy().succeeded
    assert shop.stack_id != blog.stack_id
    assert shop.ref("Data") != blog.ref("Data")
    assert shop.get_att("ImportRole", "Arn") != blog.get_att("ImportRole", "Arn")
    assert shop.get_att("ImportRole", "Arn").startswith("arn:aws:iam::123456789012:role/Shop-ImportRole-")
    event = shop.event("Anything", properties={"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:f"})
    assert event["StackId"] == shop.stack_id and event["ServiceToken"].endswith(":function:f")
    with pytest.raises(RuntimeError, match="already deployed"):
        shop.deploy()


def test_exports_are_imported_by_other_stacks(world: World, tmp_path: Path) -> None:
    export = {"Value": ref("Data"), "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-bucket"}}}
    write(tmp_path, "Producer", {"Data": bucket()}, Outputs={"Bucket": export})
    consumer_resources = {"Setting": parameter({"Fn::ImportValue": "Producer-bucket"})}
    write(tmp_path, "Consumer", consumer_resources, Outputs={"Seen": {"Value": {"Fn::ImportValue": "Producer-bucket"}}})
    write(
        tmp_path,
        "Early",
        {"Setting": parameter({"Fn::ImportValue": "Nobody-bucket"}), "After": {**PARAMETER, "DependsOn": "Setting"}},
    )
    producer = EmulatedStack(tmp_path, "Producer", world)
    producer.deploy()
    assert world.exports["Producer-bucket"].value == producer.ref("Data")
    assert world.exports["Producer-bucket"].stack_id == producer.stack_id
    assert EmulatedStack(tmp_path, "Consumer", world).deploy().outputs["Seen"] == producer.ref("Data")
    early = EmulatedStack(tmp_path, "Early", world).deploy()
    assert (early.records["Setting"].status, early.records["Setting"].reason) == (
        FAILED,
        "No export named Nobody-bucket found",
    )
    assert early.records["After"].status == NOT_STARTED and not early.succeeded


def test_an_export_name_is_taken_across_stacks(world: World, tmp_path: Path) -> None:
    for name in ("One", "Two"):
        write(tmp_path, name, {"Data": bucket()}, Outputs={"B": {"Value": ref("Data"), "Export": {"Name": "shared"}}})
    one = EmulatedStack(tmp_path, "One", world)
    one.deploy()
    second = EmulatedStack(tmp_path, "Two", world).deploy()
    assert (
        not second.succeeded
        and second.stack_reason == f"Export with name shared is already exported by stack {one.stack_id}"
    )
    assert world.exports["shared"].stack_id == one.stack_id


def test_conditions_and_no_value(world: World, tmp_path: Path) -> None:
    conditions = {
        "InIreland": {"Fn::Equals": [ref("AWS::Region"), "eu-west-1"]},
        "Elsewhere": {"Fn::Not": [{"Condition": "InIreland"}]},
        "Either": {"Fn::Or": [{"Condition": "InIreland"}, {"Condition": "Elsewhere"}]},
    }
    resources = {
        "Kept": parameter({"Fn::If": ["InIreland", "ireland", "other"]}),
        "Skipped": {**parameter("never"), "Condition": "Elsewhere"},
        "Both": {**parameter({"Fn::If": ["Either", ref("AWS::NoValue"), "x"]}), "Condition": "Either"},
    }
    stack = EmulatedStack(write(tmp_path, "Cond", resources, Conditions=conditions), "Cond", world)
    deployment = stack.deploy()
    assert set(deployment.records) == {"Kept", "Both"}
    assert stack.deployed("Kept").properties["Value"] == "ireland"
    assert "Value" not in stack.deployed("Both").properties


def test_attributes_of_a_custom_resource_are_its_data(world: World, tmp_path: Path) -> None:
    # A stand-in handler: the engine, not the import handler, is under test here.
    def on_event(event: dict[str, Any]) -> dict[str, Any]:
        return {"PhysicalResourceId": "answer-1"}

    def is_complete(event: dict[str, Any]) -> dict[str, Any]:
        return {"IsComplete": True, "Data": {"Answer": "42"}}

    framework = ProviderFramework(on_event, is_complete, world.clock)
    resources = {
        "Oracle": {"Type": RESOURCE_TYPE, "Properties": {"Question": "?"}},
        "Reader": parameter(get_att("Oracle", "Answer")),
        "Missing": parameter(get_att("Oracle", "Nope")),
    }
    outputs = {"Ref": {"Value": ref("Oracle")}}
    stack = EmulatedStack(write(tmp_path, "Custom", resources, Outputs=outputs), "Custom", world)
    deployment = stack.deploy(framework)
    assert deployment.records["Reader"].status == COMPLETE
    assert stack.deployed("Reader").properties["Value"] == "42"
    assert deployment.records["Missing"].status == FAILED
    assert "Vendor response doesn't contain Nope key" in deployment.records["Missing"].reason
    assert deployment.physical_id("Oracle") == "answer-1"


def test_the_graph_follows_depends_on_and_every_reference(tmp_path: Path) -> None:
    resources = {
        "A": bucket(),
        "B": {**PARAMETER, "DependsOn": "A"},
        "C": parameter({"Fn::Sub": ["${B}-${X}-${!Not}-${AWS::Region}", {"X": get_att("D", "Arn")}]}),
        "D": parameter({"Fn::Join": ["", [{"Fn::GetAtt": "A.Arn"}]]}),
        "E": parameter({"Fn::Sub": "${D.Arn}"}),
    }
    graph = Template.load(write(tmp_path, "G", resources), "G").dependencies()
    assert graph == {"A": set(), "B": {"A"}, "C": {"B", "D"}, "D": {"A"}, "E": {"D"}}


def test_circular_dependencies_and_unknown_functions_are_refused(world: World, tmp_path: Path) -> None:
    loop = {"A": {**PARAMETER, "DependsOn": "B"}, "B": parameter(ref("A"))}
    with pytest.raises(ValueError, match="Circular dependency between resources"):
        Template.load(write(tmp_path, "Loop", loop), "Loop").dependencies()
    odd = {"A": parameter({"Fn::Base64": "x"})}
    with pytest.raises(NotImplementedError, match="Fn::Base64 is not emulated"):
        EmulatedStack(write(tmp_path, "Odd", odd), "Odd", world).deploy()
