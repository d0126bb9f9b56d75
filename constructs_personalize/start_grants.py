"""What the functions that start import jobs may do: one constant grant per role, for the whole stack.

The provider's handler starts each import's job, and the long waiter's wait step starts it too when
Personalize's 5-jobs quota was busy. Both need to pass the import's role to Personalize and to create
jobs in the import's dataset (docs/personalize.md, "Access").
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from constructs_personalize.nag import acknowledge, flatten_reference

PERSONALIZE = "personalize.amazonaws.com"


@dataclass(frozen=True)
class StartWildcards:
    """The ARN patterns of ``grant_start_imports``: what its cdk-nag findings name."""

    jobs: str
    datasets: str
    roles: str


def grant_start_imports(role: iam.Role, *, untag: bool) -> StartWildcards:
    """Let ``role`` start, describe and tag import jobs of this account and region.

    Constant and stack-level on purpose. A shared policy that named one import's role or dataset
    would make ``b.node.add_dependency(a)`` a circular template (two TrainingDatasets ordered one
    after the other, each with its dataset inside: a's import waits for the shared policy, which
    waits for b's dataset, which waits for a). A policy per import instead grows the role by about
    500 characters an import, past IAM's 10,240 for all inline policies of a role at about 20 imports.
    """
    stack = Stack.of(role)
    wildcards = StartWildcards(
        jobs=stack.format_arn(service="personalize", resource="dataset-import-job", resource_name="*"),
        datasets=stack.format_arn(service="personalize", resource="dataset", resource_name="*"),
        roles=stack.format_arn(service="iam", region="", resource="role", resource_name="*"),
    )
    job_actions = ["CreateDatasetImportJob", "DescribeDatasetImportJob", "TagResource"]
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="StartDescribeAndTagImportJobs",
            actions=[f"personalize:{action}" for action in (*job_actions, *(["UntagResource"] if untag else []))],
            resources=[wildcards.jobs],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="PassImportRolesToPersonalizeOnly",
            actions=["iam:PassRole"],
            resources=[wildcards.roles],
            conditions={"StringEquals": {"iam:PassedToService": PERSONALIZE}},
        )
    )
    if untag:  # the handler: it names an INCREMENTAL batch after the dataset's latest FULL job
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindTheBulkDataABatchAddsTo", actions=["personalize:ListDatasetImportJobs"], resources=["*"]
            )
        )
    # DescribeDataset: a job found under a taken name must not predate the dataset.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ImportIntoDatasets",
            actions=["personalize:CreateDatasetImportJob", "personalize:DescribeDataset"],
            resources=[wildcards.datasets],
        )
    )
    return wildcards


def acknowledge_start_imports(policy: IConstruct, wildcards: StartWildcards, *, lists: bool = False) -> None:
    if lists:
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "personalize:ListDatasetImportJobs supports no resource-level permissions; it lists job summaries "
            "(names, statuses) and changes nothing.",
        )
    for resource, reason in (
        (
            wildcards.jobs,
            "Import job names are derived at deploy time and their ARNs are known only by name; the function "
            "may create/describe/tag dataset-import-job resources of this account and region only.",
        ),
        (
            wildcards.datasets,
            "One stack-level grant for every import of the stack: a grant naming each dataset would grow the "
            "role with every import and make ordered imports a circular template. Datasets of this account "
            "and region only; import jobs are the only thing the function creates in them.",
        ),
        (
            wildcards.roles,
            "The role each import passes is chosen per import (the store's or the user's); one stack-level "
            "grant keeps the role's policy constant. Roles of this account only, and only when passed to "
            "personalize.amazonaws.com (iam:PassedToService condition).",
        ),
    ):
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{flatten_reference(policy, resource)}]", reason)
