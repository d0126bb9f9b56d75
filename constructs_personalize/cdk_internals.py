"""Every place the library relies on aws-cdk-lib's private construct ids and naming conventions.

aws-cdk-lib gives no public handle on some constructs the library must reach: the Provider
framework's waiter and functions, a role's default policy, ``BucketDeployment``'s shared upload
functions and CLI layer, an asset's staging. Each lookup is one function here, with the aws-cdk-lib
source it depends on (paths under ``packages/aws-cdk-lib/`` of github.com/aws/aws-cdk, checked
against aws-cdk-lib 2.275), and ``tests/infra/test_cdk_internals.py`` builds the real constructs and
fails when an aws-cdk-lib release moves one.
"""

from __future__ import annotations

from typing import Literal

from aws_cdk import AssetStaging, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import IConstruct

# The entry points of the Provider framework's own functions: the FRAMEWORK_*_HANDLER_NAME constants of
# custom-resources/lib/provider-framework/runtime/consts.ts.
FrameworkEntrypoint = Literal["onEvent", "isComplete", "onTimeout"]


def default_policy(role: iam.IRole) -> iam.Policy:
    """The policy ``role.add_to_principal_policy`` writes to, once a statement was added.

    aws-iam/lib/role.ts, ``addToPrincipalPolicy``: ``this.defaultPolicy = new Policy(this, 'DefaultPolicy')``.
    """
    policy = role.node.find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy)
    return policy


def principal_policy_scope(role: iam.IRole) -> IConstruct:
    """The construct under which ``role.add_to_principal_policy`` puts the policy it writes to: the role.

    aws-iam/lib/role.ts puts ``DefaultPolicy`` under the role; aws-iam/lib/private/imported-role.ts puts
    the ``Policy`` (or ``Policy<unique id>``) of a mutable imported role under the imported role. An
    acknowledgement on the role therefore covers the policy, whichever kind of role it is.
    """
    return role


def role_resource(role: iam.IRole) -> iam.CfnRole | None:
    """The ``AWS::IAM::Role`` of a role the app creates, or None for an imported role.

    aws-iam/lib/role.ts: ``new CfnRole(this, 'Resource', ...)``, which constructs' ``defaultChild`` finds.
    """
    cfn = role.node.default_child
    return cfn if isinstance(cfn, iam.CfnRole) else None


def provider_waiter(provider: cr.Provider) -> IConstruct:
    """The waiter state machine of a Provider with an ``is_complete_handler`` (not exposed by the Provider).

    custom-resources/lib/provider-framework/provider.ts: ``new WaiterStateMachine(this, 'waiter-state-machine',
    ...)``; the class (waiter-state-machine.ts) is not exported.
    """
    return provider.node.find_child("waiter-state-machine")


def provider_waiter_resource(provider: cr.Provider) -> sfn.CfnStateMachine:
    """The ``AWS::StepFunctions::StateMachine`` of the Provider's waiter.

    custom-resources/lib/provider-framework/waiter-state-machine.ts: ``new CfnStateMachine(this, 'Resource', ...)``.
    """
    cfn = provider_waiter(provider).node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    return cfn


def provider_waiter_role(provider: cr.Provider) -> iam.Role:
    """The role the Provider's waiter state machine runs as.

    custom-resources/lib/provider-framework/waiter-state-machine.ts: ``const role = new iam.Role(this, 'Role', ...)``.
    """
    role = provider_waiter(provider).node.find_child("Role")
    assert isinstance(role, iam.Role)
    return role


def framework_function(provider: cr.Provider, entrypoint: FrameworkEntrypoint) -> lambda_.Function:
    """One of the Provider framework's own functions (``onEvent``; with ``is_complete_handler`` also
    ``isComplete`` and ``onTimeout``).

    custom-resources/lib/provider-framework/provider.ts, ``createFunction(entrypoint, ...)``:
    ``new lambda.Function(this, `framework-${entrypoint}`, ...)``.
    """
    function = provider.node.find_child(f"framework-{entrypoint}")
    assert isinstance(function, lambda_.Function)
    return function


def bucket_deployment_functions(stack: Stack) -> list[lambda_.Function]:
    """The upload functions of the stack's ``BucketDeployment`` s: one per memory / storage / VPC setting.

    aws-s3-deployment/lib/bucket-deployment.ts creates them as ``SingletonFunction`` s with
    ``lambdaPurpose: 'Custom::CDKBucketDeployment'``; aws-lambda/lib/singleton-lambda.ts puts the function
    at the stack's top level under the id ``lambdaPurpose + slugify(uuid)``.
    """
    return [
        child
        for child in stack.node.children
        if child.node.id.startswith("Custom::CDKBucketDeployment") and isinstance(child, lambda_.Function)
    ]


def bucket_deployment_cli_layer(deployment: s3_deployment.BucketDeployment) -> IConstruct | None:
    """The AWS CLI layer a ``BucketDeployment`` creates for its upload function.

    aws-s3-deployment/lib/bucket-deployment.ts: ``layers: [new AwsCliLayer(this, 'AwsCliLayer')]``, under the
    deployment, even when the (singleton) upload function already exists and keeps its first layer.
    """
    return deployment.node.try_find_child("AwsCliLayer")


def remove_bucket_deployment_cli_layer(deployment: s3_deployment.BucketDeployment) -> None:
    """Drop the CLI layer a ``BucketDeployment`` created for an upload function that already had one."""
    deployment.node.try_remove_child("AwsCliLayer")


def source_assets(scope: IConstruct) -> list[s3_assets.Asset]:
    """The assets ``s3_deployment.Source.asset(...).bind(scope, ...)`` created under ``scope``.

    aws-s3-deployment/lib/source.ts, ``Source.asset``: ``new s3_assets.Asset(scope, `Asset${id}`, ...)`` with
    the first free ``id``, directly under the scope it is bound to.
    """
    return [child for child in scope.node.children if isinstance(child, s3_assets.Asset)]


def asset_staging(asset: s3_assets.Asset) -> AssetStaging:
    """The staging of a file asset: its source path and the staged copy (``exclude`` applied).

    aws-s3-assets/lib/asset.ts: ``const staging = new cdk.AssetStaging(this, 'Stage', ...)``.
    """
    staging = asset.node.find_child("Stage")
    assert isinstance(staging, AssetStaging)
    return staging


def bucket_of_resource(resource: s3.CfnBucket) -> s3.Bucket | None:
    """The ``s3.Bucket`` an ``AWS::S3::Bucket`` belongs to, or None for a bare ``CfnBucket``.

    aws-s3/lib/bucket.ts: ``const resource = new CfnBucket(this, 'Resource', ...)``, directly under the bucket.
    """
    bucket = resource.node.scope
    return bucket if isinstance(bucket, s3.Bucket) else None
