"""Local data into the data bucket: the user's sources, checked, sized and uploaded by ``BucketDeployment``.

The sources are bound once, here, so the library knows their files before it creates the upload:
the folder rule and the data check read exactly what is uploaded, the upload function is sized for
it, and the job name follows the data's content hash (never the hash of ``BucketDeployment``'s own
assets, which change with every aws-cdk-lib release).

Uploads live under one stack-level construct, not under their import: aws-cdk-lib's shared upload
function takes the AwsCliLayer of the first ``BucketDeployment`` it serves, so an upload under import
``b`` would let ``b.node.add_dependency(a)`` close a cycle through ``a``'s upload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import Annotations, AssetStaging, Size, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize.local_data import LocalFolder, inspect_folder, size_upload
from constructs_personalize.provider import DatasetImportProvider

UPLOADS_ID = "ConstructsPersonalizeUploads"
# What aws-cdk-lib's upload function gets when nothing is set; passing these explicitly would give
# the stack a second upload function, so they are left unset.
DEFAULT_MEMORY_MIB = 1024
DEFAULT_STORAGE_MIB = 512


@dataclass(frozen=True)
class BoundSources:
    """The user's sources, bound: the local folders among them and the version of their content."""

    configs: list[s3_deployment.SourceConfig]
    folders: list[LocalFolder]
    not_local: list[str]
    data_version: str


def bind_sources(
    imp: Construct, sources: Sequence[s3_deployment.ISource], provider: DatasetImportProvider
) -> BoundSources:
    """Bind ``sources`` under the stack's uploads construct and check each local folder (folder rule)."""
    scope = Construct(_uploads(imp), f"{_upload_id(imp)}Sources")
    configs = [source.bind(scope, handler_role=provider.deployment_role) for source in sources]
    folders: list[LocalFolder] = []
    not_local: list[str] = []
    hashes: list[str] = []
    for asset in (child for child in scope.node.children if isinstance(child, s3_assets.Asset)):
        hashes.append(asset.asset_hash)
        paths = _paths(asset)
        if paths is not None and paths[1].is_dir():
            folders.append(_inspect(*paths, subject=f"DatasetImport {imp.node.path!r}"))
        else:
            not_local.append(str(paths[0] if paths else asset.node.path))
    # Sources already in S3 (Source.bucket) bind to no asset; they are neither folders nor assets.
    not_local += ["in S3"] * (len(configs) - len(hashes))
    version = hashlib.sha256("+".join(hashes).encode("utf-8")).hexdigest()[:32] if hashes else ""
    return BoundSources(configs, folders, not_local, version)


def upload(
    imp: Construct,
    bound: BoundSources,
    *,
    bucket: s3.IBucket,
    prefix: str,
    provider: DatasetImportProvider,
    memory_limit_mib: int | None,
    ephemeral_storage_mib: int | None,
) -> s3_deployment.BucketDeployment:
    subject = f"DatasetImport {imp.node.path!r}"
    if not Token.is_unresolved(prefix):
        provider.claim_prefix(bucket, prefix, imp.node.path)
    size = size_upload(
        sum(folder.total_bytes for folder in bound.folders),
        memory_limit_mib=memory_limit_mib,
        ephemeral_storage_mib=ephemeral_storage_mib,
        subject=subject,
    )
    if bound.not_local:
        Annotations.of(imp).add_warning_v2(
            "constructs_personalize:uploadNotSized",
            f"sources {', '.join(bound.not_local)} are not local folders: the upload is sized for the local data "
            f"only ({size.ephemeral_storage_mib} MiB of storage); set upload_ephemeral_storage_mib if they are large",
        )
    memory = None if size.memory_limit_mib == DEFAULT_MEMORY_MIB else size.memory_limit_mib
    storage = None if size.ephemeral_storage_mib == DEFAULT_STORAGE_MIB else size.ephemeral_storage_mib
    deployment = s3_deployment.BucketDeployment(
        _uploads(imp),
        _upload_id(imp),
        sources=[_Bound(config) for config in bound.configs],
        destination_bucket=bucket,
        destination_key_prefix=prefix,
        role=provider.deployment_role,
        log_group=provider.deployment_logs,
        memory_limit=memory,
        ephemeral_storage_size=Size.mebibytes(storage) if storage else None,
        # The job imports every CSV at the prefix: stale files from an older upload must go.
        prune=True,
    )
    provider.acknowledge_upload(bucket, [config.bucket for config in bound.configs])
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


def _paths(asset: s3_assets.Asset) -> tuple[Path, Path] | None:
    """(source, staged copy) of a file asset. The staged copy reflects the source's ``exclude`` patterns."""
    staging = asset.node.try_find_child("Stage")
    if not isinstance(staging, AssetStaging):
        return None
    return Path(staging.source_path), Path(staging.absolute_staged_path)


def _inspect(source: Path, staged: Path, *, subject: str) -> LocalFolder:
    """The folder rule on exactly what is uploaded (the staged copy), in terms of the user's folder."""
    try:
        folder = inspect_folder(staged, subject=subject)
    except ValueError as error:
        raise ValueError(str(error).replace(str(staged), str(source))) from None
    files = tuple(source / path.relative_to(staged) for path in folder.csv_files)
    return LocalFolder(source, files, folder.total_bytes)


def _upload_id(imp: Construct) -> str:
    # The import's path inside its stack (readable) and its address (unique), as the upload's id.
    stack = Stack.of(imp)
    return "".join(scope.node.id for scope in imp.node.scopes[len(stack.node.scopes) :])[:200] + imp.node.addr[:8]


def _uploads(scope: Construct) -> Construct:
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(UPLOADS_ID)
    return existing if isinstance(existing, Construct) else Construct(stack, UPLOADS_ID)
