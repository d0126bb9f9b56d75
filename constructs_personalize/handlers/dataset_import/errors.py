"""How the handler fails: the messages CloudFormation shows, kept within what it accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

# CloudFormation rejects responses over 4,096 bytes. The framework adds the stack id, request id,
# logical and physical ids and a JavaScript stack trace to our message, so the message keeps to half.
MAX_MESSAGE_BYTES = 2048
TRUNCATION_MARK = " [...truncated]"

# A start the service asked to wait for; "deferred: LimitExceededException" is the 5-jobs quota (or throttling).
DEFERRED = "deferred"
QUOTA_ADVICE = (
    "Personalize runs at most 5 import jobs per account and region at once (a quota that cannot be raised, "
    "shared with every stack and person there), and every slot stayed busy."
)


class SignalFailed(Exception):
    """The wait condition could not be signalled; the waiter state machine retries the step."""


class ImportFailed(Exception):
    """The deployment must fail; the message is what CloudFormation shows."""

    def __init__(self, message: str) -> None:
        super().__init__(truncate(message))


def _json_size(text: str) -> int:
    # Bytes the text takes inside the framework's JSON response (Node's JSON.stringify leaves
    # non-ASCII as UTF-8 but escapes quotes, backslashes and control characters).
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def truncate(message: str, limit: int = MAX_MESSAGE_BYTES, size: Callable[[str], int] = _json_size) -> str:
    """Cut ``message`` so its ``size`` (default: JSON-encoded UTF-8 bytes) is at most ``limit``, marking the cut."""
    if size(message) <= limit:
        return message
    budget = limit - size(TRUNCATION_MARK)
    low, high = 0, len(message)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if size(message[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return message[:low] + TRUNCATION_MARK


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)
