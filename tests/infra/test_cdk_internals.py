"""Each aws-cdk-lib internal the library relies on (``cdk_internals.py``), found on the real constructs.

A failure here means an aws-cdk-lib release moved a private id or changed a convention: fix the one
lookup in ``cdk_internals.py`` before anything else, since the provider's tracing, the cdk-nag
acknowledgements, the uploads' shared layer and the data check all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, AssetStaging, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from aws_cdk.lambda_layer_awscli import AwsCliLayer
from constructs import Construct, IConstruct

from constructs_personalize import cdk_internals
from tests.constants import ROLE_ARN, SAMPLE_DIR
from tests.infra.helpers import ENV

ENTRYPOINTS: tuple[cdk_internals.FrameworkEntrypoint, ...] = ("onEvent", "isComplete", "onTimeout")


@dataclass
class Built:
    """The real aws-cdk-lib constructs, one synthesized stack, and what was looked up before synth."""

    stack: Stack
    template: dict[str, Any]
    provider: cr.Provider
    role: iam.Role
    imported_role: iam.IRole
    bucket: s3.Bucket
    deployments: list[s3_deployment.BucketDeployment]
    layer_before_removal: IConstruct | None
    bound_scope: Construct
    bound: s3_deployment.SourceConfig
    asset: s3_assets.Asset


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    app = App(outdir=str(tmp_path_factory.mktemp("internals")))
    stack = Stack(app, "Internals", env=ENV)
    code = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
    on_event, is_complete = (
        lambda_.Function(stack, name, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler", code=code)
        for name in ("OnEvent", "IsComplete")
    )
    provider = cr.Provider(
        stack,
        "Provider",
        on_event_handler=on_event,
        is_complete_handler=is_complete,
        query_interval=Duration.minutes(1),
    )
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), role_name="fixed-name")
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"]))
    imported_role = iam.Role.from_role_arn(stack, "Imported", ROLE_ARN)
    imported_role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    bucket = s3.Bucket(stack, "Bucket")
    source = s3_deployment.Source.asset(str(SAMPLE_DIR))
    # Two deployments of one size share one upload function; a third of another size gets its own.
    deployments = [
        s3_deployment.BucketDeployment(stack, name, sources=[source], destination_bucket=bucket, memory_limit=memory)
        for name, memory in (("First", None), ("Second", None), ("Larger", 2048))
    ]
    layer_before_removal = cdk_internals.bucket_deployment_cli_layer(deployments[1])
    cdk_internals.remove_bucket_deployment_cli_layer(deployments[1])
    bound_scope = Construct(stack, "Bound")
    bound = s3_deployment.Source.asset(str(SAMPLE_DIR)).bind(bound_scope, handler_role=role)
    asset = s3_assets.Asset(stack, "Asset", path=str(SAMPLE_DIR))
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    return Built(
        stack,
        template,
        provider,
        role,
        imported_role,
        bucket,
        deployments,
        layer_before_removal,
        bound_scope,
        bound,
        asset,
    )


def resources_of(built: Built, type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in built.template["Resources"].items() if v["Type"] == type_name}


def test_default_policy_is_the_policy_a_role_writes_to(built: Built) -> None:
    policy = cdk_internals.default_policy(built.role)
    assert isinstance(policy, iam.Policy)
    document = built.stack.resolve(policy.document.to_json())
    assert document["Statement"][0]["Action"] == "s3:GetObject"


@pytest.mark.parametrize("kind", ["created", "imported"])
def test_the_policy_of_a_created_or_imported_role_lies_under_the_role(built: Built, kind: str) -> None:
    role = built.role if kind == "created" else built.imported_role
    scope = cdk_internals.principal_policy_scope(role)
    assert [c for c in scope.node.find_all() if isinstance(c, iam.Policy)], f"no policy under {scope.node.path}"


def test_role_resource_is_the_cfn_role_of_a_created_role_and_none_for_an_imported_one(built: Built) -> None:
    resource = cdk_internals.role_resource(built.role)
    assert isinstance(resource, iam.CfnRole)
    assert resource.role_name == "fixed-name"
    assert cdk_internals.role_resource(built.imported_role) is None


def test_provider_waiter_is_the_providers_state_machine(built: Built) -> None:
    resource = cdk_internals.provider_waiter_resource(built.provider)
    assert isinstance(resource, sfn.CfnStateMachine)
    assert resource.node.scope is not None
    assert resource.node.scope.node.path == cdk_internals.provider_waiter(built.provider).node.path
    assert list(resources_of(built, "AWS::StepFunctions::StateMachine")) == [built.stack.get_logical_id(resource)]


def test_provider_waiter_role_is_the_role_the_state_machine_runs_as(built: Built) -> None:
    role = cdk_internals.provider_waiter_role(built.provider)
    assert isinstance(role, iam.Role)
    machine = built.stack.resolve(cdk_internals.provider_waiter_resource(built.provider).role_arn)
    assert machine == built.stack.resolve(role.role_arn)


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_framework_function_runs_that_entrypoint_of_the_framework(
    built: Built, entrypoint: cdk_internals.FrameworkEntrypoint
) -> None:
    function = cdk_internals.framework_function(built.provider, entrypoint)
    assert isinstance(function, lambda_.Function)
    resource = built.template["Resources"][built.stack.get_logical_id(_cfn(function))]
    assert resource["Properties"]["Handler"] == f"framework.{entrypoint}"


def test_bucket_deployment_functions_are_the_upload_functions_one_per_size(built: Built) -> None:
    functions = cdk_internals.bucket_deployment_functions(built.stack)
    assert all(isinstance(function, lambda_.Function) for function in functions)
    ids = {built.stack.get_logical_id(_cfn(function)) for function in functions}
    tokens = {
        resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        for resource in resources_of(built, "Custom::CDKBucketDeployment").values()
    }
    assert len(functions) == 2
    assert ids == tokens


def test_bucket_deployment_cli_layer_is_the_layer_each_deployment_creates(built: Built) -> None:
    assert isinstance(built.layer_before_removal, AwsCliLayer)
    first, removed, larger = built.deployments
    assert isinstance(cdk_internals.bucket_deployment_cli_layer(first), AwsCliLayer)
    assert isinstance(cdk_internals.bucket_deployment_cli_layer(larger), AwsCliLayer)
    assert cdk_internals.bucket_deployment_cli_layer(removed) is None
    # The removed layer is gone from the template; the shared function keeps the first deployment's.
    layers = set(resources_of(built, "AWS::Lambda::LayerVersion"))
    assert len(layers) == 2
    for function in cdk_internals.bucket_deployment_functions(built.stack):
        used = built.template["Resources"][built.stack.get_logical_id(_cfn(function))]["Properties"]["Layers"]
        assert {ref["Ref"] for ref in used} <= layers


def test_source_assets_are_the_assets_a_source_binds_under_its_scope(built: Built) -> None:
    assets = cdk_internals.source_assets(built.bound_scope)
    assert len(assets) == 1
    assert isinstance(assets[0], s3_assets.Asset)
    assert assets[0].asset_hash in built.stack.resolve(built.bound.zip_object_key)


def test_asset_staging_is_the_assets_staged_copy(built: Built) -> None:
    staging = cdk_internals.asset_staging(built.asset)
    assert isinstance(staging, AssetStaging)
    assert Path(staging.source_path) == SAMPLE_DIR.resolve()
    assert staging.asset_hash == built.asset.asset_hash
    assert {p.name for p in Path(staging.absolute_staged_path).iterdir()} == {p.name for p in SAMPLE_DIR.iterdir()}


def test_bucket_of_resource_is_the_bucket_of_its_cfn_bucket(built: Built) -> None:
    resource = built.bucket.node.default_child
    assert isinstance(resource, s3.CfnBucket)
    assert cdk_internals.bucket_of_resource(resource) is built.bucket
    assert cdk_internals.bucket_of_resource(s3.CfnBucket(Stack(), "Bare")) is None


def _cfn(function: lambda_.Function) -> lambda_.CfnFunction:
    resource = function.node.default_child
    assert isinstance(resource, lambda_.CfnFunction)
    return resource
