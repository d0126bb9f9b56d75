"""``DataSource``: where an import's data is, as one value (like ``lambda_.Code`` or ``s3_deployment.Source``).

    DataSource.from_asset("data/interactions")                     # local CSVs, checked at synth, uploaded
    DataSource.from_bucket(lake, "personalize/interactions/")      # already in S3 (any IBucket, tokens allowed)
    DataSource.from_uri("s3://acme-lake/personalize/interactions/") # already in S3, by its URI

A folder location imports the CSV files at the first level of the folder (docs/personalize.md,
"Import jobs"); a key not ending in ``/`` is one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_s3 as s3

from constructs_personalize import validators


@dataclass(frozen=True)
class DataSource:
    """Where the training data of a ``DatasetImport`` is. Create one with a factory method."""

    local_path: Path | None = None
    """The local folder to upload (``from_asset``), else None."""
    key_prefix: str | None = None
    """``from_asset``: the prefix to upload to in the data store's bucket (None: derived from the import)."""
    exclude: tuple[str, ...] = ()
    """``from_asset``: glob patterns of files not to upload."""
    bucket: s3.IBucket | None = None
    """``from_bucket``: the bucket that holds the data."""
    uri: str | None = None
    """``from_bucket`` / ``from_uri``: the ``s3://`` location; its bucket part may be a token."""

    @classmethod
    def from_asset(
        cls, path: str | Path, *, key_prefix: str | None = None, exclude: Sequence[str] | None = None
    ) -> DataSource:
        """A local folder of CSV files, checked at synth and uploaded into the data store before the import.

        :param path: The folder; it must hold CSV files at its first level and nothing else (after ``exclude``).
            A relative path is resolved against the working directory, as CDK's own assets are: the folder
            ``cdk`` runs the app in (where ``cdk.json`` is). It is resolved here, once.
        :param key_prefix: Where in the data store's bucket (ending in ``/``, at most 102 characters).
            Default: - ``<construct id>-<8 hex of the construct address>/``
        :param exclude: Glob patterns (as ``Source.asset``'s) of files to leave out of the upload. Default: - none
        """
        folder = Path(path)
        working_directory = Path.cwd()
        absolute = folder if folder.is_absolute() else working_directory / folder
        if not absolute.is_dir():
            problem = "is not a folder" if absolute.exists() else "does not exist"
            raise ValueError(
                f"DataSource.from_asset needs a local folder of CSV files: {str(path)!r} is {absolute}, which "
                f"{problem}. Relative paths are resolved against the working directory, {working_directory} (the "
                "folder `cdk` runs the app in); pass a path built from your app file, e.g. "
                "Path(__file__).parent / 'data', to be independent of it"
            )
        if key_prefix is not None:
            validators.validate_key_prefix(key_prefix)
        return cls(local_path=absolute, key_prefix=key_prefix, exclude=tuple(exclude or ()))

    @classmethod
    def from_bucket(cls, bucket: s3.IBucket, key: str) -> DataSource:
        """Data already in ``bucket``: one CSV file (``key``), or a folder (``key`` ending in ``/``).

        The bucket's policy gets Personalize's read statement for ``key`` if this app manages the bucket;
        otherwise the synth warns with the statement to add.
        """
        if not validators.is_token(key) and key.startswith("/"):
            raise ValueError(f"DataSource.from_bucket key must not start with '/', got {key!r}")
        return cls(bucket=bucket, uri=f"s3://{bucket.bucket_name}/{key}")

    @classmethod
    def from_uri(cls, uri: str) -> DataSource:
        """Data already in S3 at ``s3://bucket/key`` (a file) or ``s3://bucket/prefix/`` (a folder).

        The bucket part may be a token (``f"s3://{bucket.bucket_name}/events/"``); the literal key then
        still scopes the grants. Pass an ``IBucket`` with ``from_bucket`` when the whole URI is a token.
        """
        parts = validators.split_data_location(uri)
        if parts.bucket_name is None:
            raise ValueError(
                f"DataSource.from_uri cannot tell the bucket of {uri!r} before deploy time: use "
                "DataSource.from_bucket(bucket, key)"
            )
        return cls(uri=uri)
