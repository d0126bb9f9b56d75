"""Who may read what: the policies that decide whether an import job can read its S3 data.

Personalize reads a dataset import's data with the job's role and as the service itself, so a
read succeeds only if ALL of these allow it (the developer guide's pages on S3 and KMS access):
- the role's identity policies: ``s3:GetObject`` on each object read, and ``s3:ListBucket`` on the
  bucket for a folder location;
- the bucket policy, for the principal ``{"Service": "personalize.amazonaws.com"}``: the same actions;
- if the bucket's default encryption uses a KMS key, that key's KEY POLICY for both the role and the
  service principal: ``kms:Decrypt``, ``kms:GenerateDataKey``, ``kms:DescribeKey``,
  ``kms:CreateGrant``, ``kms:ListGrants`` (for dataset import jobs only the key policy counts).
An explicit Deny in any of them wins. ``AccessModel`` is the registry (one per World): the emulated
CloudFormation registers what a template declares, tests register exact policies by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.policy import ALLOWED, DENIED, Principal, Request, check_document, evaluate

SERVICE_PRINCIPAL = "personalize.amazonaws.com"
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants")
# SSE-KMS without a key id uses the AWS managed key aws/s3, whose key policy nobody can edit: it
# cannot name Personalize, so such a bucket is unreadable for an import (registered under this id).
AWS_MANAGED_S3_KEY = "alias/aws/s3"
DENIED_PREFIX = "Insufficient privileges for accessing data in Amazon S3"


def _doc(document: Mapping[str, Any]) -> dict[str, Any]:
    check_document(document)
    return dict(document)


def read_policy(bucket: str, prefix: str = "", *, service: bool = False) -> dict[str, Any]:
    """A policy allowing GetObject under ``prefix`` and ListBucket: for a role, or (``service``) a bucket."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
    ]
    if service:
        for statement in statements:
            statement["Principal"] = {"Service": SERVICE_PRINCIPAL}
    return {"Version": "2012-10-17", "Statement": statements}


def key_policy(*role_arns: str, service: bool = True, actions: tuple[str, ...] = KEY_ACTIONS) -> dict[str, Any]:
    """AWS's documented key-policy statement for dataset imports (for ``role_arns`` and the service)."""
    principal: dict[str, Any] = {}
    if role_arns:
        principal["AWS"] = list(role_arns)
    if service:
        principal["Service"] = SERVICE_PRINCIPAL
    statement = {"Effect": "Allow", "Principal": principal, "Action": list(actions), "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


@dataclass
class AccessModel:
    """Bucket policies, bucket keys, key policies and role policies of one emulated account."""

    account: str
    region: str
    bucket_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    bucket_keys: dict[str, str] = field(default_factory=dict)  # bucket → key ARN (or AWS_MANAGED_S3_KEY)
    key_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # key ARN → key policy
    role_arns: dict[str, str] = field(default_factory=dict)  # role name → ARN (names are unique per account)
    inline_policies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # role ARN → name → doc
    managed_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy ARN → doc
    attachments: dict[str, set[str]] = field(default_factory=dict)  # role ARN → managed policy ARNs

    # -- registration --------------------------------------------------------------------------
    def put_bucket_policy(self, bucket: str, document: Mapping[str, Any]) -> None:
        self.bucket_policies[bucket] = _doc(document)  # a bucket has one policy: put replaces it

    def delete_bucket_policy(self, bucket: str) -> None:
        self.bucket_policies.pop(bucket, None)

    def set_bucket_key(self, bucket: str, key: str | None) -> None:
        """Default encryption of ``bucket`` with the KMS key ``key`` (ARN or key id); None: not KMS."""
        if key is None:
            self.bucket_keys.pop(bucket, None)
        else:
            self.bucket_keys[bucket] = self._key_arn(key)

    def put_key_policy(self, key_arn: str, document: Mapping[str, Any]) -> None:
        self.key_policies[key_arn] = _doc(document)

    def register_role(self, role_arn: str) -> None:
        name = _role_name(role_arn)
        if self.role_arns.get(name, role_arn) != role_arn:
            raise ValueError(f"a role named {name} already exists: {self.role_arns[name]}")
        self.role_arns[name] = role_arn
        self.inline_policies.setdefault(role_arn, {})

    def role_arn(self, name_or_arn: str) -> str:
        """The ARN of a role given by name (as AWS::IAM::Policy's Roles list gives them) or ARN."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        if name_or_arn not in self.role_arns:
            raise KeyError(f"no role named {name_or_arn} in this account")
        return self.role_arns[name_or_arn]

    def delete_role(self, role_arn: str) -> None:
        self.role_arns.pop(_role_name(role_arn), None)
        self.inline_policies.pop(role_arn, None)
        self.attachments.pop(role_arn, None)

    def put_role_policy(self, role: str, name: str, document: Mapping[str, Any]) -> None:
        self.inline_policies.setdefault(self.role_arn(role), {})[name] = _doc(document)

    def delete_role_policy(self, role: str, name: str) -> None:
        self.inline_policies.get(self.role_arn(role), {}).pop(name, None)

    def put_managed_policy(self, policy_arn: str, document: Mapping[str, Any]) -> None:
        self.managed_policies[policy_arn] = _doc(document)

    def delete_managed_policy(self, policy_arn: str) -> None:
        self.managed_policies.pop(policy_arn, None)
        for attached in self.attachments.values():
            attached.discard(policy_arn)

    def attach_role_policy(self, role: str, policy_arn: str) -> None:
        # An ARN not registered (e.g. an AWS managed policy) is attached but grants nothing here.
        self.attachments.setdefault(self.role_arn(role), set()).add(policy_arn)

    def detach_role_policy(self, role: str, policy_arn: str) -> None:
        self.attachments.get(self.role_arn(role), set()).discard(policy_arn)

    def identity_policies(self, role_arn: str) -> list[dict[str, Any]]:
        inline = list(self.inline_policies.get(role_arn, {}).values())
        attached = sorted(self.attachments.get(role_arn, ()))
        return inline + [self.managed_policies[arn] for arn in attached if arn in self.managed_policies]

    def _key_arn(self, key: str) -> str:
        if key.startswith(("arn:", "alias/")):
            return key
        return f"arn:aws:kms:{self.region}:{self.account}:key/{key}"

    # -- decisions -----------------------------------------------------------------------------
    def reader(self, role_arn: str | None) -> ImportReader:
        return ImportReader(self, role_arn)


@dataclass(frozen=True)
class ImportReader:
    """What one import job (its role, and the service) may read; each method returns a denial or None."""

    model: AccessModel
    role_arn: str | None

    def list_denied(self, bucket: str, prefix: str, location: str) -> str | None:
        # The listing asks for the folder's key: policies may limit ListBucket with s3:prefix.
        return self._s3_denied("s3:ListBucket", f"arn:aws:s3:::{bucket}", bucket, location, {"s3:prefix": prefix})

    def get_denied(self, bucket: str, key: str, location: str) -> str | None:
        return self._s3_denied("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", bucket, location)

    def _context(self, principal: Principal, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        # Personalize calls S3 over TLS; a role session carries its principal's ARN and account.
        context = {"aws:SecureTransport": "true", **(extra or {})}
        if principal.arn:
            context.update({"aws:PrincipalArn": principal.arn, "aws:PrincipalAccount": self.model.account})
        if principal.service:
            context["aws:PrincipalServiceName"] = principal.service
        return context

    def _s3_denied(
        self, action: str, resource: str, bucket: str, location: str, extra: Mapping[str, str] | None = None
    ) -> str | None:
        where = f"{DENIED_PREFIX} at {location}"
        if self.role_arn is None:
            return f"{where}: the job has no roleArn to read it with"
        role, service = Principal(arn=self.role_arn), Principal(service=SERVICE_PRINCIPAL)
        bucket_policy = [self.model.bucket_policies[bucket]] if bucket in self.model.bucket_policies else []
        identity = self.model.identity_policies(self.role_arn)
        role_request = Request(action, resource, role, self._context(role, extra))
        service_request = Request(action, resource, service, self._context(service, extra))
        if evaluate(identity, role_request) != ALLOWED:
            return f"{where}: the role {self.role_arn} is not allowed {action} on {resource}"
        for request in (role_request, service_request):
            if evaluate(bucket_policy, request, resource_policy=True) == DENIED:
                return f"{where}: the bucket policy of {bucket} denies {request.principal} {action} on {resource}"
        if evaluate(bucket_policy, service_request, resource_policy=True) != ALLOWED:
            return f"{where}: the bucket policy of {bucket} does not allow {SERVICE_PRINCIPAL} {action} on {resource}"
        return None

    def key_denied(self, bucket: str, location: str) -> str | None:
        """Denial of the bucket's KMS key (None when the bucket is not KMS-encrypted, or both may use it)."""
        key_arn = self.model.bucket_keys.get(bucket)
        if key_arn is None:
            return None
        where = f"{DENIED_PREFIX} at {location}: objects are encrypted with KMS key {key_arn}"
        document = self.model.key_policies.get(key_arn)
        policy = [document] if document is not None else []
        principals = [Principal(service=SERVICE_PRINCIPAL)]
        if self.role_arn is not None:
            principals.insert(0, Principal(arn=self.role_arn))
        for principal in principals:
            context = {
                **self._context(principal),
                "kms:ViaService": f"s3.{self.model.region}.amazonaws.com",
                "kms:CallerAccount": self.model.account,
            }
            missing = [
                action
                for action in KEY_ACTIONS
                if evaluate(policy, Request(action, key_arn, principal, context), resource_policy=True) != ALLOWED
            ]
            if missing:
                return f"{where} and the key policy does not allow {principal} {', '.join(missing)}"
        return None
