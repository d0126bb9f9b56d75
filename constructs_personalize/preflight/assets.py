"""Run the pre-flight check on the local folders of a ``DatasetImport``'s sources, at synth."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from constructs import Construct

from constructs_personalize.local_data import LocalFolder
from constructs_personalize.preflight import DataSummary, cache, csv_files, validate_data
from constructs_personalize.schema import DatasetSchema

if TYPE_CHECKING:
    from constructs_personalize.uploads import BoundSources


def check_sources(scope: Construct, bound: BoundSources, schema: DatasetSchema, import_mode: str) -> DataSummary:
    """Validate the local folders against ``schema``; raise DataValidationError on bad data."""
    cache_key = cache.key(bound.data_version, schema, import_mode)
    summary = cache.load(cache_key)
    if summary is None:
        summary = validate_data(
            [path for folder in bound.folders for path in _what_is_uploaded(folder)],
            schema,
            import_mode,
            subject=f"DatasetImport {scope.node.path!r}",
        )
        cache.store(cache_key, summary)
    return summary


def _what_is_uploaded(folder: LocalFolder) -> Sequence[Path]:
    # The folder itself, unless the source excludes some of its CSVs: then exactly the uploaded files.
    return [folder.path] if list(folder.csv_files) == csv_files(folder.path) else folder.csv_files
