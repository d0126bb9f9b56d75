"""Local data into the data bucket: the user's sources, checked, sized and uploaded by ``BucketDeployment``.

The sources are bound once, here, so the library knows their files before it creates the upload:
the folder rule and the data check read exactly what is uploaded, the upload function is sized for
it, and the job name follows the data's content hash (never the hash of ``BucketDeployment``'s own
assets, which change with every aws-cdk-lib release).

Uploads live under one stack-level construct, not under their import: aws-cdk-lib's shared upload
function takes the AwsCliLayer of the first ``BucketDeployment`` it serves, so an upload under import
``b`` would let ``b.node.add_dependency(a)`` close a cycle through ``a``'s upload. What the stack's
uploads share (one role, one log group, the prefixes taken, the function sizes seen, the cdk-nag
acknowledgements of what ``BucketDeployment`` grants) is ``StackUploads.of(stack)``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import Size, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize import cdk_internals, lambda_parts
from constructs_personalize.job_name import Place
from constructs_personalize.local_data import LocalFolder, inspect_folder, size_upload
from constructs_personalize.nag import acknowledge, acknowledge_at_synth, acknowledge_later
from constructs_personalize.provider import DatasetImportProvider

UPLOADS_ID = "ConstructsPersonalizeUploads"
# What aws-cdk-lib's upload function gets when nothing is set; passing these explicitly would give
# the stack a second upload function, so they are left unset.
DEFAULT_MEMORY_MIB = 1024
DEFAULT_STORAGE_MIB = 512
UPLOAD_REASON = (
    "Granted by aws_s3_deployment.BucketDeployment: it syncs whole prefixes, so it lists, reads, "
    "writes and prunes every object under them, in the CDK asset bucket and the data bucket."
)


class StackUploads:
    """What one stack's uploads share: their construct, role and log group, prefixes, sizes, acknowledgements."""

    @classmethod
    def of(cls, stack: Stack) -> StackUploads:
        existing = _STACK_UPLOADS.get(stack)
        if existing is None:
            existing = _STACK_UPLOADS[stack] = cls(stack)
        return existing

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._buckets: list[s3.IBucket] = []
        self._bucket_paths: set[str] = set()
        self._prefixes: dict[str, list[tuple[str, str]]] = {}
        self._sizes: set[tuple[int, int]] = set()
        self._kms_acknowledged = False

    @functools.cached_property
    def deployments(self) -> Construct:
        """The stack-level construct the uploads (and their bound sources) live under."""
        found = self._stack.node.try_find_child(UPLOADS_ID)
        return found if isinstance(found, Construct) else Construct(self._stack, UPLOADS_ID)

    @functools.cached_property
    def log_group(self) -> logs.LogGroup:
        """The log group of the stack's uploads; created with the first import that uploads local data."""
        return lambda_parts.log_group(self._owner, "UploadLogs")

    @functools.cached_property
    def role(self) -> iam.Role:
        """One role for every BucketDeployment of the stack's imports: they share aws-cdk-lib's singleton
        upload function, which takes the role of the first deployment."""
        return lambda_parts.lambda_role(self._owner, "UploadRole", self.log_group)

    @property
    def _owner(self) -> Construct:
        # The role and log group have always been the provider's children: under that scope, deployed
        # stacks keep their logical ids.
        provider = DatasetImportProvider.find(self._stack)
        if provider is None:
            raise RuntimeError(f"stack {self._stack.node.path} uploads local data before it has an import provider")
        return provider

    def first_of_size(self, memory_mib: int, storage_mib: int) -> bool:
        """True for the first of this stack's uploads with this function size (the one whose layer is used)."""
        first = (memory_mib, storage_mib) not in self._sizes
        self._sizes.add((memory_mib, storage_mib))
        return first

    def claim_prefix(self, bucket: s3.IBucket, prefix: str, requested_by: str) -> None:
        """Refuse an upload prefix that nests with another upload's in the same bucket.

        Each upload prunes its prefix: ``a/`` would delete what ``a/b/`` uploaded, and the import of
        ``a/`` would be granted ``b``'s objects.
        """
        claimed = self._prefixes.setdefault(bucket.node.path, [])
        for other, owner in claimed:
            if prefix.startswith(other) or other.startswith(prefix):
                raise ValueError(
                    f"{requested_by} uploads to prefix {prefix!r}, which nests with {other!r} of {owner} in the same "
                    "bucket: each upload prunes its prefix, so give them prefixes that do not contain each other"
                )
        claimed.append((prefix, requested_by))

    def acknowledge(self, bucket: s3.IBucket, source_buckets: list[s3.IBucket]) -> None:
        """Acknowledge, once per finding, the wildcards BucketDeployment grants the shared upload role."""
        first = not self._buckets
        for candidate in (bucket, *source_buckets):
            if candidate.node.path not in self._bucket_paths:
                self._bucket_paths.add(candidate.node.path)
                self._buckets.append(candidate)
        if not first:
            if bucket.encryption_key is not None:
                self._acknowledge_kms()
            return
        policy = cdk_internals.default_policy(self.role)
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"):
            acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]", UPLOAD_REASON)
        acknowledge_at_synth(
            policy, "AwsSolutions-IAM5", lambda: [b.arn_for_objects("*") for b in self._buckets], UPLOAD_REASON
        )
        # aws-cdk-lib's singleton upload functions (one per memory/storage size) exist only once every
        # import is declared, so they are looked up at synth, once.
        acknowledge_later(self._stack, self._acknowledge_functions)
        if bucket.encryption_key is not None:
            self._acknowledge_kms()

    def _acknowledge_kms(self) -> None:
        if self._kms_acknowledged:
            return
        self._kms_acknowledged = True
        policy = cdk_internals.default_policy(self.role)
        for finding in ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[{finding}]",
                "Granted by BucketDeployment's grantReadWrite for the data bucket's KMS key; the key "
                "resource is that one key, the wildcards cover its encrypt/re-encrypt variants.",
            )

    def _acknowledge_functions(self) -> None:
        for function in cdk_internals.bucket_deployment_functions(self._stack):
            acknowledge(
                function,
                "AwsSolutions-L1",
                "The runtime of BucketDeployment's upload function is set by aws-cdk-lib, not by this library.",
            )


# Each stack's uploads, found without a walk of the construct tree (each lookup is a jsii call).
_STACK_UPLOADS: weakref.WeakKeyDictionary[Stack, StackUploads] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class BoundSources:
    """A local folder, bound as an asset: its checked files and the version of its content."""

    configs: list[s3_deployment.SourceConfig]
    folders: list[LocalFolder]
    data_version: str


def bind_local(
    imp: Construct,
    place: Place,
    path: Path,
    exclude: Sequence[str],
) -> BoundSources:
    """Bind the local folder under the stack's uploads construct and check it (the folder rule)."""
    uploads = StackUploads.of(place.stack)
    scope = Construct(uploads.deployments, f"{_upload_id(place)}Sources")
    source = s3_deployment.Source.asset(str(path), exclude=list(exclude) or None)
    configs = [source.bind(scope, handler_role=uploads.role)]
    folders: list[LocalFolder] = []
    hashes: list[str] = []
    for asset in cdk_internals.source_assets(scope):
        hashes.append(asset.asset_hash)
        staging = cdk_internals.asset_staging(asset)
        source_path, staged = Path(staging.source_path), Path(staging.absolute_staged_path)
        # The staged copy reflects the source's ``exclude`` patterns: the check reads what is uploaded.
        folders.append(_inspect(source_path, staged, subject=f"DatasetImport {place.path!r}"))
    version = hashlib.sha256("+".join(hashes).encode("utf-8")).hexdigest()[:32]
    return BoundSources(configs, folders, version)


def upload(
    imp: Construct,
    place: Place,
    bound: BoundSources,
    *,
    bucket: s3.IBucket,
    prefix: str,
    memory_limit_mib: int | None,
    ephemeral_storage_mib: int | None,
) -> s3_deployment.BucketDeployment:
    """Upload the bound sources to ``prefix`` of ``bucket``."""
    uploads = StackUploads.of(place.stack)
    subject = f"DatasetImport {place.path!r}"
    if not Token.is_unresolved(prefix):
        uploads.claim_prefix(bucket, prefix, place.path)
    size = size_upload(
        sum(folder.total_bytes for folder in bound.folders),
        memory_limit_mib=memory_limit_mib,
        ephemeral_storage_mib=ephemeral_storage_mib,
        subject=subject,
    )
    memory = None if size.memory_limit_mib == DEFAULT_MEMORY_MIB else size.memory_limit_mib
    storage = None if size.ephemeral_storage_mib == DEFAULT_STORAGE_MIB else size.ephemeral_storage_mib
    deployment = s3_deployment.BucketDeployment(
        uploads.deployments,
        _upload_id(place),
        sources=[_Bound(config) for config in bound.configs],
        destination_bucket=bucket,
        destination_key_prefix=prefix,
        role=uploads.role,
        log_group=uploads.log_group,
        memory_limit=memory,
        ephemeral_storage_size=Size.mebibytes(storage) if storage else None,
        # The job imports every CSV at the prefix: stale files from an older upload must go.
        prune=True,
    )
    uploads.acknowledge(bucket, [config.bucket for config in bound.configs])
    if not uploads.first_of_size(size.memory_limit_mib, size.ephemeral_storage_mib):
        # aws-cdk-lib's upload function (one per size) takes the AwsCliLayer of the first deployment; every
        # later deployment creates its own that nothing uses (aws-cdk issue 32907): 22 MB published per deploy.
        cdk_internals.remove_bucket_deployment_cli_layer(deployment)
    return deployment


@jsii.implements(s3_deployment.ISource)
class _Bound:
    """A source bound once already: hands ``BucketDeployment`` its config and the read grant it needs."""

    def __init__(self, config: s3_deployment.SourceConfig) -> None:
        self._config = config

    def bind(
        self, scope: Construct, *, handler_role: iam.IRole | None = None, **_: object
    ) -> s3_deployment.SourceConfig:
        if handler_role is not None:
            self._config.bucket.grant_read(handler_role)
        return self._config


def _inspect(source: Path, staged: Path, *, subject: str) -> LocalFolder:
    """The folder rule on exactly what is uploaded (the staged copy), in terms of the user's folder."""
    try:
        folder = inspect_folder(staged, subject=subject)
    except ValueError as error:
        message = str(error)
        for shown in (str(staged), os.path.relpath(staged)):
            message = message.replace(shown, str(source))
        raise ValueError(message) from None
    files = tuple(source / path.relative_to(staged) for path in folder.csv_files)
    return LocalFolder(source, files, folder.total_bytes)


def _upload_id(place: Place) -> str:
    # The import's path inside its stack (readable) and its address (unique), as the upload's id.
    return "".join(place.relative_ids)[:200] + place.addr[:8]
