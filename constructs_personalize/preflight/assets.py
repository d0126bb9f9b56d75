"""Run the pre-flight check on the local folders of a ``DatasetImport``'s sources, at synth."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Annotations
from constructs import Construct

from constructs_personalize.preflight import DataSummary, cache, validate_data
from constructs_personalize.schema import DatasetSchema

if TYPE_CHECKING:
    from constructs_personalize.uploads import BoundSources


def check_sources(scope: Construct, bound: BoundSources, schema: DatasetSchema, import_mode: str) -> DataSummary | None:
    """Validate the local folders against ``schema``; raise DataValidationError on bad data."""
    for other in bound.not_local:
        Annotations.of(scope).add_warning_v2(
            "constructs_personalize:preflightSkipped",
            f"source {other} is not a local folder, so its data is not checked at synth",
        )
    if not bound.folders:
        return None
    cache_key = cache.key(bound.data_version, schema, import_mode)
    summary = cache.load(cache_key)
    if summary is None:
        summary = validate_data(
            [folder.path for folder in bound.folders],
            schema,
            import_mode,
            subject=f"DatasetImport {scope.node.path!r}",
        )
        cache.store(cache_key, summary)
    return summary
