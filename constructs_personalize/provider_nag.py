"""The provider's acknowledgements of cdk-nag findings: what the CDK Provider framework grants on its own.

Each names one exact finding on the provider's roles (``nag.py``); the grants themselves are
aws-cdk-lib's, reached through ``cdk_internals.py``.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr

from constructs_personalize import cdk_internals
from constructs_personalize.nag import acknowledge, flatten_reference
from constructs_personalize.start_grants import StartWildcards, acknowledge_start_imports

STEP_FUNCTIONS_WILDCARDS = (
    "X-Ray trace segment/sampling actions and CloudWatch Logs delivery actions (used by Step Functions "
    "logging) do not support resource-level permissions."
)


def invoke_finding(fn: lambda_.Function) -> str:
    """The finding of ``lambda:InvokeFunction`` on "<function arn>:*" (any version or alias), as CDK grants it."""
    return f"AwsSolutions-IAM5[Resource::{flatten_reference(fn, fn.function_arn)}:*]"


def acknowledge_provider(
    provider: cr.Provider,
    *,
    handler_role: iam.Role,
    framework_roles: tuple[iam.Role, ...],
    handlers: tuple[lambda_.Function, ...],
    wildcards: StartWildcards,
) -> None:
    """Acknowledge the handler role's start grants and the framework's invoke and logging grants."""
    acknowledge_start_imports(cdk_internals.default_policy(handler_role), wildcards, lists=True)
    for role in framework_roles:
        policy = cdk_internals.default_policy(role)
        for handler in handlers:
            acknowledge(
                policy,
                invoke_finding(handler),
                "Granted by the CDK Provider framework: it invokes any version/alias of its own handler function.",
            )
    waiter_policy = cdk_internals.default_policy(cdk_internals.provider_waiter_role(provider))
    entrypoints: tuple[cdk_internals.FrameworkEntrypoint, ...] = ("isComplete", "onTimeout")
    for entrypoint in entrypoints:
        acknowledge(
            waiter_policy,
            invoke_finding(cdk_internals.framework_function(provider, entrypoint)),
            "Granted by the CDK Provider framework: the waiter invokes any version of its own framework function.",
        )
    acknowledge(waiter_policy, "AwsSolutions-IAM5[Resource::*]", STEP_FUNCTIONS_WILDCARDS)
