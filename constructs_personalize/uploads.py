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
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import AssetStaging, Size, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize.job_name import Place
from constructs_personalize.local_data import LocalFolder, inspect_folder, size_upload
from constructs_personalize.provider import DatasetImportProvider

UPLOADS_ID = "ConstructsPersonalizeUploads"
# Each stack's uploads construct, found without a walk of the construct tree.
_UPLOADS: weakref.WeakKeyDictionary[Stack, Construct] = weakref.WeakKeyDictionary()
# What aws-cdk-lib's upload function gets when nothing is set; passing these explicitly would give
# the stack a second upload function, so they are left unset.
DEFAULT_MEMORY_MIB = 1024
DEFAULT_STORAGE_MIB = 512


@dataclass(frozen=True)
class BoundSources:
    """A local folder, bound as an asset: its checked files and the version of its content."""

    configs: list[s3_deployment.SourceConfig]
    folders: list[LocalFolder]
    data_version: str


def bind_local(
    imp: Construct, place: Place, path: Path, exclude: Sequence[str], provider: DatasetImportProvider
) -> BoundSources:
    """Bind the local folder under the stack's uploads construct and check it (the folder rule)."""
    scope = Construct(_uploads(place.stack), f"{_upload_id(place)}Sources")
    source = s3_deployment.Source.asset(str(path), exclude=list(exclude) or None)
    configs = [source.bind(scope, handler_role=provider.deployment_role)]
    folders: list[LocalFolder] = []
    hashes: list[str] = []
    for asset in (child for child in scope.node.children if isinstance(child, s3_assets.Asset)):
        hashes.append(asset.asset_hash)
        source_path, staged = _paths(asset)
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
    provider: DatasetImportProvider,
    memory_limit_mib: int | None,
    ephemeral_storage_mib: int | None,
) -> s3_deployment.BucketDeployment:
    subject = f"DatasetImport {place.path!r}"
    if not Token.is_unresolved(prefix):
        provider.claim_prefix(bucket, prefix, place.path)
    size = size_upload(
        sum(folder.total_bytes for folder in bound.folders),
        memory_limit_mib=memory_limit_mib,
        ephemeral_storage_mib=ephemeral_storage_mib,
        subject=subject,
    )
    memory = None if size.memory_limit_mib == DEFAULT_MEMORY_MIB else size.memory_limit_mib
    storage = None if size.ephemeral_storage_mib == DEFAULT_STORAGE_MIB else size.ephemeral_storage_mib
    deployment = s3_deployment.BucketDeployment(
        _uploads(place.stack),
        _upload_id(place),
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
    if not provider.first_upload_of_size(size.memory_limit_mib, size.ephemeral_storage_mib):
        # aws-cdk-lib's upload function (one per size) takes the AwsCliLayer of the first deployment; every
        # later deployment creates its own that nothing uses (aws-cdk issue 32907): 22 MB published per deploy.
        deployment.node.try_remove_child("AwsCliLayer")
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


def _paths(asset: s3_assets.Asset) -> tuple[Path, Path]:
    """(source, staged copy) of a file asset. The staged copy reflects the source's ``exclude`` patterns."""
    staging = asset.node.find_child("Stage")
    assert isinstance(staging, AssetStaging)
    return Path(staging.source_path), Path(staging.absolute_staged_path)


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


def _uploads(stack: Stack) -> Construct:
    existing = _UPLOADS.get(stack)
    if existing is None:
        found = stack.node.try_find_child(UPLOADS_ID)
        existing = found if isinstance(found, Construct) else Construct(stack, UPLOADS_ID)
        _UPLOADS[stack] = existing
    return existing
