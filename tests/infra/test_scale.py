"""Many imports in one stack: nothing that grows per import outgrows an AWS limit below 100 imports.

Measured on the template with every reference resolved to its worst case (``worst_case.py``):
IAM counts at most 10,240 characters for all inline policies of one role and 6,144 for a managed
policy (whitespace not counted), a role takes 10 managed policies, a bucket policy 20 KB; a stack
takes 500 resources and a 1 MB template (docs/personalize.md, "Limits that grow with imports").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_personalize import DatasetImport, DataSource, DataStore, ImportWait
from tests.constants import SAMPLE_DIR
from tests.infra.worst_case import WorstCase, compact

ROLE_INLINE_MAX = 10_240
MANAGED_POLICY_MAX = 6_144
MANAGED_PER_ROLE_MAX = 10
BUCKET_POLICY_MAX = 20_480
RESOURCES_MAX = 500
TEMPLATE_MAX = 1_000_000
STORE_UPLOADS = 40  # every upload tags its bucket, and a bucket takes 50 tags


def _imports(stack: Stack, count: int, stores: list[DataStore]) -> None:
    for index in range(count):
        DatasetImport(
            stack,
            f"Import{index:03d}",
            dataset_arn=f"arn:aws:personalize:eu-west-1:123456789012:dataset/shop{index:03d}/INTERACTIONS",
            data=DataSource.from_asset(SAMPLE_DIR),
            store=stores[index // STORE_UPLOADS],
            wait=ImportWait.up_to(Duration.hours(2)) if index % 2 else ImportWait.within_deployment(),
        )


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    # One synth for the module: two env-agnostic stacks, so region and account are worst-case references too.
    app = App(outdir=str(tmp_path_factory.mktemp("scale")))
    forty = Stack(app, "Forty")
    _imports(forty, 40, [DataStore.of(forty)])
    hundred = Stack(app, "Hundred")
    _imports(hundred, 100, [DataStore.of(hundred), DataStore(hundred, "Second"), DataStore(hundred, "Third")])
    assembly = app.synth()
    figures = {}
    for count, stack in ((40, forty), (100, hundred)):
        artifact = assembly.get_stack_by_name(stack.stack_name)
        figures[count] = measure(artifact.template, Path(artifact.template_full_path).stat().st_size)
        print(f"{count} imports: {json.dumps({k: v for k, v in figures[count].items() if k != 'roles'})}")
    return figures


def measure(template: Mapping[str, Any], template_bytes: int) -> dict[str, Any]:
    """The largest figure of each limit in ``template``, resolved to its worst case."""
    worst = WorstCase(template)
    resources = template["Resources"]
    inline: dict[str, list[Any]] = {}
    managed: dict[str, int] = {}
    managed_sizes = [0]
    bucket_policies = [0]
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            inline.setdefault(logical_id, []).extend(p["PolicyDocument"] for p in props.get("Policies", []))
            managed[logical_id] = managed.get(logical_id, 0) + len(props.get("ManagedPolicyArns", []))
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in props.get("Roles", []):
                if kind == "AWS::IAM::Policy":
                    inline.setdefault(role["Ref"], []).append(props["PolicyDocument"])
                else:
                    managed[role["Ref"]] = managed.get(role["Ref"], 0) + 1
            if kind == "AWS::IAM::ManagedPolicy":
                managed_sizes.append(len(compact(worst.resolve(props["PolicyDocument"]))))
        elif kind == "AWS::S3::BucketPolicy":
            bucket_policies.append(len(compact(worst.resolve(props["PolicyDocument"])).encode("utf-8")))
    roles = {role: sum(len(compact(worst.resolve(doc))) for doc in docs) for role, docs in inline.items()}
    return {
        "roles": roles,
        "role_inline_chars": max(roles.values()),
        "managed_policy_chars": max(managed_sizes),
        "managed_per_role": max(managed.values(), default=0),
        "bucket_policy_bytes": max(bucket_policies),
        "resources": len(resources),
        "template_bytes": template_bytes,
    }


@pytest.mark.parametrize("count", [40, 100])
def test_every_roles_inline_policies_stay_within_iams_10240_characters(
    measured: dict[int, dict[str, Any]], count: int
) -> None:
    roles = measured[count]["roles"]
    assert measured[count]["role_inline_chars"] <= ROLE_INLINE_MAX, sorted(roles.items(), key=lambda kv: -kv[1])[:3]


@pytest.mark.parametrize("count", [40, 100])
def test_managed_policies_bucket_policies_resources_and_template_stay_within_their_limits(
    measured: dict[int, dict[str, Any]], count: int
) -> None:
    figures = measured[count]
    assert figures["managed_policy_chars"] <= MANAGED_POLICY_MAX
    assert figures["managed_per_role"] <= MANAGED_PER_ROLE_MAX
    assert figures["bucket_policy_bytes"] <= BUCKET_POLICY_MAX
    assert figures["resources"] <= RESOURCES_MAX
    assert figures["template_bytes"] <= TEMPLATE_MAX


def test_the_handlers_grants_do_not_grow_with_imports(measured: dict[int, dict[str, Any]]) -> None:
    # The shared handler role holds stack-level grants only: the same size at 40 and at 100 imports.
    def handler_role(count: int) -> int:
        (size,) = [size for role, size in measured[count]["roles"].items() if "HandlerRole" in role]
        return int(size)

    assert handler_role(40) == handler_role(100)


def _too_many_long_keys(stack: Stack) -> None:
    # One role reads them all: a data lake's files under long literal keys, each its own grant.
    store = DataStore(stack, "Lake")
    key = "personalize/" + "k" * 150
    for index in range(100):
        DatasetImport(
            stack,
            f"Import{index:03d}",
            dataset_arn=f"arn:aws:personalize:eu-west-1:123456789012:dataset/shop{index:03d}/INTERACTIONS",
            data=DataSource.from_uri(f"s3://acme-data-lake-with-a-long-name/{key}/{index:03d}.csv"),
            store=store,
        )


def _one_role_for_many_buckets(stack: Stack) -> None:
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    for index in range(100):
        store = DataStore(stack, f"Store{index:03d}", role=role)
        DatasetImport(
            stack,
            f"Import{index:03d}",
            dataset_arn=f"arn:aws:personalize:eu-west-1:123456789012:dataset/shop{index:03d}/INTERACTIONS",
            data=DataSource.from_uri(f"s3://team-bucket-{index:03d}/interactions/"),
            store=store,
        )


def _three_stores_on_one_lake(stack: Stack) -> None:
    # Each store's role stays small, but the lake's policy holds Personalize's grants of all three.
    lake = s3.Bucket(stack, "Lake", enforce_ssl=True)
    stores = [DataStore(stack, f"Team{team}", bucket=lake) for team in range(3)]
    for index in range(90):
        DatasetImport(
            stack,
            f"Import{index:03d}",
            dataset_arn=f"arn:aws:personalize:eu-west-1:123456789012:dataset/shop{index:03d}/INTERACTIONS",
            data=DataSource.from_bucket(lake, f"personalize/{'k' * 150}/{index:03d}.csv"),
            store=stores[index % 3],
        )


@pytest.mark.parametrize(
    ("build", "limit"),
    [
        (_too_many_long_keys, "10,240 characters IAM allows for all inline policies of one role"),
        (_one_role_for_many_buckets, "10,240 characters IAM allows for all inline policies of one role"),
        (_three_stores_on_one_lake, "20,480 bytes S3 allows for a bucket policy"),
    ],
)
def test_the_synth_refuses_an_import_that_would_outgrow_a_growing_policy(build: Any, limit: str) -> None:
    stack = Stack(App(), "TooBig")
    with pytest.raises(ValueError, match=limit) as error:
        build(stack)
    message = str(error.value)
    assert "TooBig/" in message and "store=DataStore(" in message and " imports" in message
