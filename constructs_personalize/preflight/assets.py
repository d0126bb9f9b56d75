"""Run the pre-flight check on the local sources of a ``DatasetImport``'s upload, at synth."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, AssetStaging
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize.preflight import DataSummary, cache, validate_data
from constructs_personalize.schema import DatasetSchema


def source_directories(deployment: s3_deployment.BucketDeployment) -> tuple[list[tuple[Path, str]], list[str]]:
    """(folder, content hash) of each local source folder; and the sources that are not local folders."""
    folders, others = [], []
    for child in deployment.node.children:
        if not isinstance(child, s3_assets.Asset):
            continue
        staging = child.node.try_find_child("Stage")
        source = Path(staging.source_path) if isinstance(staging, AssetStaging) else None
        if source is not None and source.is_dir():
            folders.append((source, child.asset_hash))
        else:
            others.append(str(source or child.node.path))
    return folders, others


def check_sources(
    scope: Construct,
    deployment: s3_deployment.BucketDeployment,
    source_count: int,
    schema: DatasetSchema,
    import_mode: str,
) -> DataSummary | None:
    """Validate the upload's local folders against ``schema``; raise DataValidationError on bad data."""
    folders, others = source_directories(deployment)
    # Sources in S3 (Source.bucket) add no asset: they are neither folders nor "others".
    others += ["in S3"] * (source_count - len(folders) - len(others))
    for other in others:
        Annotations.of(scope).add_warning_v2(
            "constructs_personalize:preflightSkipped",
            f"source {other} is not a local folder, so its data is not checked at synth",
        )
    if not folders:
        return None
    cache_key = cache.key("+".join(content_hash for _, content_hash in folders), schema, import_mode)
    summary = cache.load(cache_key)
    if summary is None:
        summary = validate_data(
            [folder for folder, _ in folders], schema, import_mode, subject=f"DatasetImport {scope.node.path!r}"
        )
        cache.store(cache_key, summary)
    return summary
