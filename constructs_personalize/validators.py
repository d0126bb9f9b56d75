"""Pure synth-time checks of the limits Amazon Personalize and CloudFormation enforce.

botocore's client checks only types, required fields and minimum lengths; the service checks
lengths, patterns and enums. These functions check them at ``cdk synth`` so a mistake costs
seconds instead of a rolled-back deployment. Every check skips values that are CDK tokens
(resolved only at deploy time), and every failure is a ``ValueError`` that names the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Token

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
JOB_NAME_MAX = 63
ARN_MAX = 256
DATASET_ARN_PATTERN = re.compile(r"^arn:([a-z\d-]+):personalize:.*:.*:.+$")
ROLE_ARN_PATTERN = re.compile(r"^arn:([a-z\d-]+):iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
DATA_LOCATION_MAX = 256
# Personalize also accepts http(s) locations, but this construct grants S3 access only.
DATA_LOCATION_PATTERN = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(.*)$")
TAG_COUNT_MAX = 200
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_EXTRA_CHARS = frozenset("_.:/=+-@")
# BucketDeployment tags the bucket aws-cdk:cr-owned:<prefix>:<8 chars>, and a tag key holds at most 128.
KEY_PREFIX_MAX = 102
MAX_TOTAL_TIMEOUT_SECONDS = 3600
# The handler stops waiting max(2 query intervals, 60 s) before total_timeout and needs a poll before that.
MIN_MARGIN_SECONDS = 60


def is_token(value: object) -> bool:
    return isinstance(value, str) and Token.is_unresolved(value)


def validate_job_name(name: str) -> None:
    validate_personalize_name("job_name", name)


def validate_personalize_name(label: str, name: str) -> None:
    """Personalize's names (jobs, datasets, schemas): 1-63 characters of JOB_NAME_PATTERN."""
    if is_token(name):
        return
    if not 1 <= len(name) <= JOB_NAME_MAX or not JOB_NAME_PATTERN.match(name):
        raise ValueError(
            f"{label} must be 1-{JOB_NAME_MAX} characters matching {JOB_NAME_PATTERN.pattern}, "
            f"got {name!r} ({len(name)} chars)"
        )


def validate_dataset_arn(arn: str) -> None:
    _validate_arn("dataset_arn", arn, DATASET_ARN_PATTERN)


def validate_schema_matches_dataset(dataset_type: str, dataset_arn: str) -> None:
    # Dataset ARNs end in /<DATASET_TYPE> (arn:...:dataset/<group>/INTERACTIONS).
    if is_token(dataset_arn) or ":dataset/" not in dataset_arn:
        return
    arn_type = dataset_arn.rsplit("/", 1)[-1]
    if arn_type.upper() != dataset_type.upper():
        raise ValueError(
            f"schema is for a {dataset_type} dataset, but dataset_arn {dataset_arn!r} is a {arn_type} dataset"
        )


def validate_role_arn(arn: str) -> None:
    _validate_arn("role_arn", arn, ROLE_ARN_PATTERN)


def _validate_arn(label: str, arn: str, pattern: re.Pattern[str]) -> None:
    if is_token(arn):
        return
    if len(arn) > ARN_MAX or not pattern.match(arn):
        raise ValueError(
            f"{label} must be at most {ARN_MAX} characters matching {pattern.pattern}, got {arn!r} ({len(arn)} chars)"
        )


def parse_data_location(location: str) -> tuple[str, str]:
    """Check an ``s3://bucket/key`` location and return ``(bucket_name, key)``."""
    match = DATA_LOCATION_PATTERN.match(location)
    bucket_name = location[len("s3://") :].partition("/")[0] if location.startswith("s3://") else ""
    if bucket_name and "/" in location[len("s3://") :] and not match and len(location) <= DATA_LOCATION_MAX:
        raise ValueError(
            f"the data location {location!r} names an invalid S3 bucket {bucket_name!r}: bucket names are 3-63 "
            "lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        )
    if len(location) > DATA_LOCATION_MAX or not match:
        raise ValueError(
            f"the data location must be an s3://<bucket>/<key or prefix/> URI of at most {DATA_LOCATION_MAX} "
            f"characters, got {location!r} ({len(location)} chars)"
        )
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class LocationParts:
    """An ``s3://`` data location split: ``None`` for a part that is only known at deploy time."""

    bucket_name: str | None
    key: str | None


def split_data_location(location: str) -> LocationParts:
    """Split ``location`` into bucket and key, keeping whatever is literal.

    ``f"s3://{bucket.bucket_name}/events/"`` keeps its literal key ``events/``: only the bucket is a
    token. A location that is a token as a whole, or whose key holds a token, keeps those parts unknown.
    """
    if not is_token(location):
        return LocationParts(*parse_data_location(location))
    if not location.startswith("s3://"):
        return LocationParts(None, None)
    bucket_name, slash, key = location[len("s3://") :].partition("/")
    if not slash or not bucket_name:
        raise ValueError(
            f"the data location must be an s3://<bucket>/<key or prefix/> URI, got {location!r}: "
            "no key after the bucket"
        )
    if not is_token(bucket_name) and not DATA_LOCATION_PATTERN.match(f"s3://{bucket_name}/"):
        raise ValueError(f"data_location names an invalid bucket {bucket_name!r} in {location!r}")
    return LocationParts(bucket_name, None if is_token(key) else key)


def validate_key_prefix(prefix: str) -> None:
    if is_token(prefix):
        return
    if not prefix.endswith("/") or prefix.startswith("/") or len(prefix) > KEY_PREFIX_MAX:
        raise ValueError(
            f"key_prefix must end with '/', not start with '/', and be at most {KEY_PREFIX_MAX} "
            f"characters, got {prefix!r} ({len(prefix)} chars)"
        )
    # BucketDeployment tags the bucket with the prefix (aws-cdk:cr-owned:<prefix>:<hash>): tag key characters
    # only. A glob character would also widen the read grants built on the prefix.
    if not _tag_text_ok(prefix) or any(ch in prefix for ch in "*?"):
        raise ValueError(
            f"key_prefix may hold letters, digits, spaces and _.:/=+-@ only (BucketDeployment puts it in a bucket "
            f"tag key), got {prefix!r}"
        )


def _tag_text_ok(text: str) -> bool:
    # The service's pattern is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; Python's re has no \p classes.
    return all(unicodedata.category(ch)[0] in "LZN" or ch in TAG_EXTRA_CHARS for ch in text)


def validate_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > TAG_COUNT_MAX:
        raise ValueError(f"tags may hold at most {TAG_COUNT_MAX} tags, got {len(tags)}")
    for key, value in tags.items():
        if not is_token(key):
            if not 1 <= len(key) <= TAG_KEY_MAX or not _tag_text_ok(key):
                raise ValueError(
                    f"tag key must be 1-{TAG_KEY_MAX} letters, digits, spaces or _.:/=+-@, "
                    f"got {key!r} ({len(key)} chars)"
                )
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key must not start with the reserved prefix 'aws:', got {key!r}")
        if not is_token(value) and (len(value) > TAG_VALUE_MAX or not _tag_text_ok(value)):
            raise ValueError(
                f"tag value for {key!r} must be 0-{TAG_VALUE_MAX} letters, digits, spaces or _.:/=+-@, "
                f"got {value!r} ({len(value)} chars)"
            )


def validate_wait(query_interval: Duration, total_timeout: Duration) -> None:
    if Token.is_unresolved(query_interval) or Token.is_unresolved(total_timeout):
        return
    interval_ms = query_interval.to_milliseconds()
    total_ms = total_timeout.to_milliseconds()
    if interval_ms % 1000 or total_ms % 1000:
        raise ValueError(
            f"query_interval and total_timeout must be whole seconds, got {query_interval.to_human_string()} "
            f"and {total_timeout.to_human_string()}"
        )
    interval, total = interval_ms // 1000, total_ms // 1000
    if interval <= 0:
        raise ValueError(f"query_interval must be positive, got {query_interval.to_human_string()}")
    if total > MAX_TOTAL_TIMEOUT_SECONDS:
        raise ValueError(
            "total_timeout must be at most 1 hour (the Provider framework's ceiling), "
            f"got {total_timeout.to_human_string()}"
        )
    if total < interval or total % interval != 0:
        raise ValueError(
            f"total_timeout must be a whole multiple of query_interval, got total_timeout "
            f"{total_timeout.to_human_string()} and query_interval {query_interval.to_human_string()}"
        )
    if total < interval + max(2 * interval, MIN_MARGIN_SECONDS):
        raise ValueError(
            f"total_timeout must leave the handler one query interval plus max(2 query intervals, "
            f"{MIN_MARGIN_SECONDS} s) to fail with its own message before CloudFormation's timeout, got total_timeout "
            f"{total_timeout.to_human_string()} and query_interval {query_interval.to_human_string()}"
        )
