"""Who may use a data store's KMS key: the key policy and the read role's own grant.

For a dataset import job only the key policy counts: AWS documents one statement naming both the
job's role and ``personalize.amazonaws.com`` (docs/personalize.md, "Access"); the role also needs
``kms:Decrypt`` in its own policy to read what the key encrypts.
"""

from __future__ import annotations

import json
import weakref

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct, IDependable

from constructs_personalize import cdk_internals, limits
from constructs_personalize.for_people import pseudo_parameters

PERSONALIZE = "personalize.amazonaws.com"
# AWS's key-policy statement for dataset import jobs: these five actions, for the role and the service.
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants")
# What the role itself needs to read objects encrypted under the key (no new data keys for reading).
KMS_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")


def same_stack(one: IConstruct, other: IConstruct) -> bool:
    return Stack.of(one) is Stack.of(other) or Stack.of(one).node.path == Stack.of(other).node.path


def grant_key(scope: Construct, key: kms.IKey, role: iam.IRole, *, warn: bool = True) -> list[IDependable]:
    """Let ``role`` and Personalize use ``key``, once per key and role in the app; what ``scope`` waits for.

    For an import job only the key policy counts, naming both the role and the service; the role's own
    policy also needs kms:Decrypt. A key policy may name the role only from the role's stack (or when
    the role's ARN is literal): naming it from another stack makes the key's stack depend on that one.
    """
    done = _KEY_GRANTS.setdefault(scope.node.root, {})
    pair = (key.node.path, role.node.path)
    if pair not in done:
        statement = iam.PolicyStatement(
            sid="PersonalizeDatasetImportUseOfTheKey",
            principals=[iam.ServicePrincipal(PERSONALIZE), iam.ArnPrincipal(role.role_arn)],
            actions=list(KMS_ACTIONS),
            resources=["*"],  # in a key policy "*" means this key
        )
        may_name = not Token.is_unresolved(role.role_arn) or same_stack(key, role)
        done[pair] = may_name and key.add_to_resource_policy(statement).statement_added
        read = iam.PolicyStatement(actions=list(KMS_READ_ACTIONS), resources=[key.key_arn])
        if role.add_to_principal_policy(read).statement_added:
            length = limits.statement_length(list(KMS_READ_ACTIONS), [limits.key_arn(key)])
            limits.PolicyBudget.of(scope).add_to_role(role, length, scope.node.path)
    if done[pair]:
        return [key] if same_stack(key, scope) else []
    if warn:
        _cannot_change_key(scope, key, role)
    return []


# The (key, role) pairs of each app whose grants exist: True when the key policy names the role.
_KEY_GRANTS: weakref.WeakKeyDictionary[IConstruct, dict[tuple[str, str], bool]] = weakref.WeakKeyDictionary()


def _cannot_change_key(scope: Construct, key: kms.IKey, role: iam.IRole) -> None:
    # Real principals only: whoever reads this edits a key policy in the console or another repository.
    arn = _arn_for_people(role)
    statement = {
        "Sid": "PersonalizeDatasetImportUseOfTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": arn or f"<ARN of role {role.node.path}>", "Service": PERSONALIZE},
        "Action": list(KMS_ACTIONS),
        "Resource": "*",
    }
    named = key.key_arn if not Token.is_unresolved(key.key_arn) else f"at {key.node.path}"
    unknown = (
        ""
        if arn
        else f"{role.node.path} gets its name at deploy time; give the store role= an iam.Role with a fixed "
        "role_name and its ARN is known at synth. "
    )
    Annotations.of(scope).add_warning_v2(
        "constructs_personalize:key-policy",
        f"the key policy of the KMS key {named} cannot be changed here (an imported key, or a key of another stack "
        f"than {role.node.path}): {unknown}Make sure it holds this statement, or the import job fails with "
        f"'Insufficient privileges': {json.dumps(statement, sort_keys=True)}",
    )


def _arn_for_people(role: iam.IRole) -> str | None:
    """The role's ARN when the synth knows it: literal, or a fixed role_name in a stack with a concrete env."""
    if not Token.is_unresolved(role.role_arn):
        return role.role_arn
    cfn = cdk_internals.role_resource(role)
    if cfn is None or cfn.role_name is None or Token.is_unresolved(cfn.role_name):
        return None
    known = pseudo_parameters(Stack.of(role))
    if "AWS::Partition" not in known or "AWS::AccountId" not in known:
        return None
    path = cfn.path if cfn.path and not Token.is_unresolved(cfn.path) else "/"
    return f"arn:{known['AWS::Partition']}:iam::{known['AWS::AccountId']}:role{path}{cfn.role_name}"
