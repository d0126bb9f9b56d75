"""The limits public docstrings state are the limits the code enforces (where a regex can find them).

A docstring that says "at most 104 characters" while the code refuses 103 sends a user to a synth
error the documentation said could not happen.
"""

from __future__ import annotations

import inspect
import re

import pytest

from constructs_personalize import (
    DatasetImport,
    DatasetSchema,
    DataSource,
    ImportWait,
    TrainingDataset,
    import_settings,
    import_wait,
    schema_rules,
    validators,
)
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.schema_types import DatasetType


def _doc(obj: object) -> str:
    return " ".join((inspect.getdoc(obj) or "").split())


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found.group(1).replace(",", ""))


def test_key_prefix_length() -> None:
    stated = _number(r"key_prefix: .*?at most (\d+) characters", _doc(DataSource.from_asset))
    assert stated == validators.KEY_PREFIX_MAX
    validators.validate_key_prefix("p" * (stated - 1) + "/")
    with pytest.raises(ValueError):
        validators.validate_key_prefix("p" * stated + "/")


def test_dataset_name_length() -> None:
    stated = _number(r"name: Name of the dataset \(1-(\d+) chars", _doc(TrainingDataset.__init__))
    assert stated == contract.JOB_NAME_MAX
    validators.validate_personalize_name("name", "n" * stated)
    with pytest.raises(ValueError):
        validators.validate_personalize_name("name", "n" * (stated + 1))


def test_long_wait_ceiling() -> None:
    stated = _number(r"at most (\d+) hours", _doc(ImportWait.up_to))
    assert stated * 3600 == import_wait.MAX_SIGNAL_WAIT_SECONDS
    module = _number(r"up to (\d+) hours", inspect.getdoc(import_wait) or "")
    assert module == stated


def test_custom_resource_wait_ceiling_and_defaults() -> None:
    doc = _doc(DatasetImport.configure)
    assert _number(r"total_timeout: .*?at most (\d+) hour", doc) * 3600 == validators.MAX_TOTAL_TIMEOUT_SECONDS
    assert _number(r"query_interval: .*?Default: - (\d+) seconds", doc) == (
        import_settings.DEFAULT_QUERY_INTERVAL.to_seconds()
    )
    assert _number(r"total_timeout: .*?Default: - (\d+) hour", doc) * 3600 == (
        import_settings.DEFAULT_TOTAL_TIMEOUT.to_seconds()
    )


@pytest.mark.parametrize(
    ("factory", "pattern", "dataset_type", "bound"),
    [
        (DatasetSchema.interactions, r"up to (\d+) metadata fields", DatasetType.INTERACTIONS, 1),
        (DatasetSchema.users, r"1 to (\d+) metadata fields", DatasetType.USERS, 1),
    ],
)
def test_schema_metadata_bounds(factory: object, pattern: str, dataset_type: DatasetType, bound: int) -> None:
    assert _number(pattern, _doc(factory)) == schema_rules.METADATA_LIMITS[dataset_type][bound]
