"""Which job ARNs and regions the ``wait`` command accepts, checked before it calls anything.

The ARN's shape needs only the standard library (it is checked before boto3 is needed); the partition
and region are checked against botocore's own endpoint data.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from constructs_personalize.handlers.dataset_import.contract import JOB_NAME_MAX, JOB_NAME_PATTERN

ARN_SHAPE: Final = "arn:<partition>:personalize:<region>:<12-digit account>:dataset-import-job/<job name>"
_RESOURCE_PREFIX: Final = "dataset-import-job/"
_ACCOUNT: Final = re.compile(r"[0-9]{12}")


def arn_region(job_arn: str) -> str:
    parts = job_arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def arn_problem(job_arn: str) -> str | None:
    """What is wrong with the shape of ``job_arn`` (standard library only: checked before boto3 is needed)."""
    parts = job_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return f"expected {ARN_SHAPE}"
    _, partition, service, region, account, resource = parts
    if service != "personalize":
        return f"its service is {service!r}, not 'personalize'"
    if not partition:
        return "it names no partition"
    if not region:
        return "it names no region"
    if not _ACCOUNT.fullmatch(account):
        return f"its account {account!r} is not 12 digits"
    if not resource.startswith(_RESOURCE_PREFIX):
        return f"its resource {resource!r} is not dataset-import-job/<job name>"
    name = resource.removeprefix(_RESOURCE_PREFIX)
    if not name:
        return "it names no job after dataset-import-job/"
    if len(name) > JOB_NAME_MAX or not JOB_NAME_PATTERN.fullmatch(name):
        return (
            f"its job name {name!r} is not a job name (letters, digits, '-' and '_', "
            f"a letter or digit first, at most {JOB_NAME_MAX} characters)"
        )
    return None


def region_problem(partition: str, region: str) -> str | None:
    """Whether botocore knows ``partition``, and ``region`` as one of its regions (needs botocore).

    A region is accepted if botocore lists Personalize there, or if it has the shape of the
    partition's region names (``regionRegex``): botocore's Personalize list lags new regions, and a
    region without Personalize is then named when its endpoint cannot be reached.
    """
    partitions = _partitions()
    if partition not in partitions:
        return f"unknown partition {partition!r} (botocore knows {', '.join(sorted(partitions))})"
    if region in personalize_regions(partition) or re.fullmatch(partitions[partition], region):
        return None
    return f"{region!r} is not a region of partition {partition!r}"


@functools.cache
def _partitions() -> dict[str, str]:
    """Each partition of botocore's endpoints.json with its region-name pattern."""
    return {str(entry["partition"]): str(entry["regionRegex"]) for entry in _endpoints()["partitions"]}


@functools.cache
def personalize_regions(partition: str | None = None) -> frozenset[str]:
    """The regions botocore lists Personalize in (what ``Session.get_available_regions`` answers)."""
    from botocore.regions import EndpointResolver  # noqa: PLC0415 - optional extra, see wait_for_job

    resolver = EndpointResolver(_endpoints())
    names = [partition] if partition else resolver.get_available_partitions()
    return frozenset(r for p in names for r in resolver.get_available_endpoints("personalize", p))


@functools.cache
def _endpoints() -> dict[str, Any]:
    # botocore's loader, not a botocore Session: a Session reads the AWS profile first, and a missing
    # AWS_PROFILE would then fail the region check with ProfileNotFound instead of exiting CREDENTIALS.
    from botocore.loaders import create_loader  # noqa: PLC0415 - optional extra, see wait_for_job

    data: dict[str, Any] = create_loader().load_data("endpoints")
    return data
