"""Worst-case sizes of the policies that grow with every import, checked as each import is declared.

Each import adds its objects to its read role's policy and to its bucket's policy. IAM allows 10,240
characters for all inline policies of one role and S3 20 KB for a bucket policy, both counted as the
account stores them: every reference resolved, whitespace removed (docs/personalize.md, "Limits that
grow with imports"). A deploy that crosses either fails halfway, so the synth refuses the import that
would cross one, counting every reference at its longest: the ``aws-us-gov`` partition, a 14-character
region, a generated role name of 64 and a bucket name of 63 characters.

Only what this library adds is counted; a bucket's own statements get a fixed allowance.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass

from aws_cdk import Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

ROLE_INLINE_MAX = 10_240
BUCKET_POLICY_MAX = 20_480
PARTITION = "aws-us-gov"
REGION = "ap-southeast-2"
ACCOUNT = "123456789012"
# {"Version":"2012-10-17","Statement":[]}: the document around the statements.
DOCUMENT = len('{"Version":"2012-10-17","Statement":[]}')
# A created bucket's TLS-only Deny and auto-delete statements come to about 600 characters resolved.
BUCKET_OWN_STATEMENTS = 1_024


def compact_length(value: object) -> int:
    """Characters of ``value`` as JSON without whitespace."""
    return len(json.dumps(value, separators=(",", ":")))


def _literal_or(value: str, worst: str) -> str:
    return worst if Token.is_unresolved(value) else value


def bucket_arn(bucket: s3.IBucket) -> str:
    """The longest ARN ``bucket`` may have."""
    return f"arn:{PARTITION}:s3:::{_literal_or(bucket.bucket_name, 'b' * 63)}"


def role_arn(role: iam.IRole) -> str:
    """The longest ARN ``role`` may have: its own when literal, else a 64-character name in aws-us-gov."""
    return _literal_or(role.role_arn, f"arn:{PARTITION}:iam::{ACCOUNT}:role/{'r' * 64}")


def key_arn(key: kms.IKey) -> str:
    return _literal_or(key.key_arn, f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{'k' * 36}")


def statement_length(actions: list[str], resources: list[str], **extra: object) -> int:
    """One statement with ``resources`` (always a list: the longer form), and its separating comma."""
    return compact_length({"Action": actions, "Effect": "Allow", "Resource": resources, **extra}) + 1


def added_resource_length(resource: str) -> int:
    """One more entry in a statement's Resource list: the quoted ARN and its comma."""
    return len(resource) + 3


@dataclass
class _Tally:
    characters: int
    imports: int = 0


class PolicyBudget:
    """What the app's imports have added so far to each role's inline policies and each bucket policy."""

    def __init__(self) -> None:
        self._roles: dict[str, _Tally] = {}
        self._buckets: dict[str, _Tally] = {}
        self._listings: set[tuple[str, str]] = set()

    @classmethod
    def of(cls, scope: IConstruct) -> PolicyBudget:
        # One per app: a store's role and bucket take grants from every stack that imports with them.
        root = scope.node.root
        budget = _BUDGETS.get(root)
        if budget is None:
            budget = _BUDGETS[root] = cls()
        return budget

    def charge_read(
        self,
        role: iam.IRole | None,
        bucket: s3.IBucket | None,
        key_pattern: str,
        requested_by: str,
        *,
        source: s3.IBucket,
        first: bool,
    ) -> None:
        """Count one import's read grant in ``role``'s policy and ``bucket``'s (None: not changed by the library).

        The first grant of a (role, bucket) pair adds its statements, every further one its objects.
        """
        arn = bucket_arn(source)
        objects = f"{arn}/{key_pattern}"
        more = added_resource_length(objects)
        if role is not None:
            length = statement_length(["s3:GetObject"], [objects]) if first else more
            # CDK renders equal statements once: ListBucket on a bucket named literally by many imports.
            listing = (role.node.path, arn if not Token.is_unresolved(source.bucket_name) else source.node.path)
            if first and listing not in self._listings:
                self._listings.add(listing)
                length += statement_length(["s3:ListBucket"], [arn])
            self.add_to_role(role, length, requested_by, new_import=True)
        if bucket is not None:
            service = {"Service": "personalize.amazonaws.com"}
            read = statement_length(["s3:GetObject", "s3:ListBucket"], [arn, objects], Principal=service)
            self.add_to_bucket(bucket, read if first else more, requested_by, new_import=True)

    def add_to_role(self, role: iam.IRole, characters: int, requested_by: str, *, new_import: bool = False) -> None:
        tally = _charge(self._roles, role.node.path, DOCUMENT, characters, new_import)
        if tally.characters > ROLE_INLINE_MAX:
            raise ValueError(
                f"{requested_by} would bring the read grants in the inline policies of role {role.node.path!r} to "
                f"{tally.characters:,} characters once resolved (worst case, {tally.imports} imports), over the "
                f"{ROLE_INLINE_MAX:,} characters IAM allows for all inline policies of one role. Give further "
                "imports another DataStore with its own role (store=DataStore(self, 'More'), without role= or "
                "with another role)"
            )

    def add_to_bucket(
        self, bucket: s3.IBucket, characters: int, requested_by: str, *, new_import: bool = False
    ) -> None:
        tally = _charge(self._buckets, bucket.node.path, DOCUMENT + BUCKET_OWN_STATEMENTS, characters, new_import)
        if tally.characters > BUCKET_POLICY_MAX:
            raise ValueError(
                f"{requested_by} would bring the policy of bucket {bucket.node.path!r} to {tally.characters:,} "
                f"bytes once resolved (worst case, {tally.imports} imports' grants to Personalize), over the "
                f"{BUCKET_POLICY_MAX:,} bytes S3 allows for a bucket policy. Give further imports another "
                "DataStore with a bucket of its own (store=DataStore(self, 'More'))"
            )


_BUDGETS: weakref.WeakKeyDictionary[IConstruct, PolicyBudget] = weakref.WeakKeyDictionary()


def _charge(tallies: dict[str, _Tally], path: str, empty: int, characters: int, new_import: bool) -> _Tally:
    """Add ``characters`` to the document at ``path`` (``empty``: its size with no grant yet)."""
    tally = tallies.setdefault(path, _Tally(empty))
    tally.characters += characters
    tally.imports += int(new_import)
    return tally
