"""Tags of Personalize resources: what TagResource, UntagResource and ListTagsForResource act on.

Personalize keeps the ``tags`` given at creation (CreateDatasetImportJob, CreateDatasetGroup,
CreateDataset) and lets them change later; a job's tags are the one thing about it that can change.
A resource has at most 50 tags (AWS's per-resource tag quota, which Personalize documents): more,
at creation or by TagResource, is TooManyTagsException. Keys are case-sensitive; tagging an
existing key replaces its value; untagging a key that is not there is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.emulator.state import ServiceError

MAX_TAGS_PER_RESOURCE = 50


class TagStore:
    def __init__(self) -> None:
        self._tags: dict[str, dict[str, str]] = {}

    def check(self, arn: str, tags: Iterable[dict[str, Any]]) -> dict[str, str]:
        """The resource's tags once ``tags`` are applied; TooManyTagsException beyond the quota."""
        merged = dict(self._tags.get(arn, {}))
        merged.update({str(tag["tagKey"]): str(tag.get("tagValue", "")) for tag in tags})
        if len(merged) > MAX_TAGS_PER_RESOURCE:
            raise ServiceError(
                "TooManyTagsException",
                f"Resource {arn} would have {len(merged)} tags; at most {MAX_TAGS_PER_RESOURCE} are allowed",
            )
        return merged

    def tag(self, arn: str, tags: Iterable[dict[str, Any]]) -> None:
        self._tags[arn] = self.check(arn, tags)

    def untag(self, arn: str, keys: Iterable[str]) -> None:
        current = self._tags.get(arn, {})
        for key in keys:
            current.pop(key, None)

    def drop(self, arn: str) -> None:
        """The resource is gone: a later one under the same ARN starts with no tags."""
        self._tags.pop(arn, None)

    def listed(self, arn: str) -> list[dict[str, str]]:
        return [{"tagKey": key, "tagValue": value} for key, value in self._tags.get(arn, {}).items()]
