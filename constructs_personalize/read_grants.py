"""The read grants of a stack's imports: the read role's policy, the bucket policy and the key policy.

Stack-level, never under one import: a shared role, bucket or key policy that named a resource of import
``b`` would turn ``b.node.add_dependency(a)`` into a circular template. Each import adds only its own
objects (docs/personalize.md, "Access", says what Personalize needs; "Limits that grow with imports"
says why ``limits.py`` watches the sizes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable

from constructs_personalize import cdk_internals, limits
from constructs_personalize.for_people import pseudo_parameters, readable_policy
from constructs_personalize.key_grants import PERSONALIZE, grant_key
from constructs_personalize.nag import acknowledge_at_synth


@dataclass
class _BucketGrants:
    """The statements one role and Personalize hold on one bucket; each import adds its objects to them."""

    role_read: iam.PolicyStatement
    service_read: iam.PolicyStatement
    service_added: bool
    role_added: bool
    waits: list[IDependable]
    wildcards: list[str] = field(default_factory=list)


class ReadGrants:
    """The read grants of a stack's imports: one set of statements per (role, bucket), built once.

    Every import adds only its objects (``add_resources``) to the same statements, so the role's policy
    and the bucket policy grow by one resource per import, not by whole statements (a key policy not at all);
    ``limits.py`` refuses the import that would take the role's or the bucket's policy past its size limit.
    """

    def __init__(self) -> None:
        self._grants: dict[tuple[str, str], _BucketGrants] = {}

    def grant(self, imp: Construct, bucket: s3.IBucket, key_pattern: str, role: iam.IRole) -> list[IDependable]:
        """Let Personalize (as ``role`` and as the service) read ``key_pattern`` in ``bucket``.

        Returns what the import must wait for. What this stack cannot change (an imported bucket or key)
        gets a synth warning that shows the statement to add.
        """
        objects = bucket.arn_for_objects(key_pattern)
        pair = (role.node.path, bucket.node.path)
        grants = self._grants.get(pair)
        first = grants is None
        if grants is None:
            grants = self._grants[pair] = self._first_grant(imp, bucket, objects, role)
        else:
            grants.role_read.add_resources(objects)
            if grants.service_added:
                grants.service_read.add_resources(objects)
        limits.PolicyBudget.of(imp).charge_read(
            role if grants.role_added else None,
            bucket if grants.service_added else None,
            key_pattern,
            imp.node.path,
            source=bucket,
            first=first,
        )
        if not grants.service_added:
            _cannot_change(imp, "bucket policy", "the bucket", _service_read(bucket, objects))
        if "*" in key_pattern:
            grants.wildcards.append(objects)
        return grants.waits

    def _first_grant(self, imp: Construct, bucket: s3.IBucket, objects: str, role: iam.IRole) -> _BucketGrants:
        role_read = iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects])
        waits: list[IDependable] = []
        role_added = False
        for statement in (role_read, iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])):
            result = role.add_to_principal_policy(statement)
            role_added = role_added or result.statement_added
            if result.policy_dependable is not None:
                waits.append(result.policy_dependable)
        service_read = _service_read(bucket, objects)
        added = bucket.add_to_resource_policy(service_read).statement_added
        if added and isinstance(bucket, s3.Bucket) and bucket.policy is not None:
            waits.append(bucket.policy)
        key = bucket.encryption_key
        if key is not None:
            waits += grant_key(imp, key, role)
        grants = _BucketGrants(role_read, service_read, added, role_added, waits)
        # On the role: its DefaultPolicy, or the Policy CDK attaches to an imported mutable role.
        acknowledge_at_synth(
            cdk_internals.principal_policy_scope(role),
            "AwsSolutions-IAM5",
            lambda: grants.wildcards,
            "Personalize imports every CSV at the data location's prefix; the role reads only the imports' prefixes.",
        )
        return grants


def _service_read(bucket: s3.IBucket, objects: str) -> iam.PolicyStatement:
    # Personalize's documented bucket policy has no condition keys (the service may not send them);
    # it is scoped to the imports' objects, so on a shared bucket it opens nothing else.
    return iam.PolicyStatement(
        principals=[iam.ServicePrincipal(PERSONALIZE)],
        actions=["s3:GetObject", "s3:ListBucket"],
        resources=[bucket.bucket_arn, objects],
    )


def _cannot_change(imp: Construct, what: str, owner: str, statement: iam.PolicyStatement) -> None:
    stack = Stack.of(imp)
    rendered = json.dumps(
        readable_policy(stack.resolve(statement.to_statement_json()), pseudo_parameters(stack)), sort_keys=True
    )
    Annotations.of(imp).add_warning_v2(
        f"constructs_personalize:{what.replace(' ', '-')}",
        f"{owner} is not managed by this stack, so its {what} cannot be changed here: make sure it holds "
        f"this statement, or the import job fails with 'Insufficient privileges': {rendered}",
    )
