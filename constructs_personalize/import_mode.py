"""Enums of the public API."""

from __future__ import annotations

from enum import StrEnum


class ImportMode(StrEnum):
    """How a dataset import job adds its records (``importMode`` in the API)."""

    FULL = "FULL"
    """Replace all existing bulk data in the dataset with the imported records."""

    INCREMENTAL = "INCREMENTAL"
    """Append records, replacing those with the same id. Needs an earlier FULL import."""
