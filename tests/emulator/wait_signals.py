"""Wait condition handles of the emulated region: the presigned URLs CloudFormation hands out, and their signals.

``Ref`` of an ``AWS::CloudFormation::WaitConditionHandle`` is a presigned S3 URL; whoever has it
signals the wait condition with an HTTP PUT of a JSON body. ``WaitHandles.issue`` makes a unique URL
shaped like CloudFormation's (``https://cloudformation-waitcondition-<region>.s3.amazonaws.com/``
``<url-encoded stack id>/<logical id>/<uuid>?X-Amz-...``);
``signal`` is the PUT (the callable the world gives the handler, ``World.signal``); ``signals``
lists what a URL received, in order. What CloudFormation makes of the signals is the
WaitCondition's business (``cfn_wait.py``).

A signal body is checked as CloudFormation reads it: Status SUCCESS or FAILURE, a non-empty UniqueId,
Reason and Data strings if present. The whole JSON body may have at most ``SIGNAL_BODY_LIMIT``
(4,096) bytes: that limit is the emulator's choice (CloudFormation documents none for the body;
an S3 PUT takes far more), picked so a handler that puts unbounded text (a failureReason, a list of
errors) into a signal finds out here. A rejected PUT raises ``SignalRejected``, an
``urllib.error.HTTPError`` (400; 403 for a URL that was never issued), which is what a handler
PUTting with urllib sees; nothing is recorded then. A handle deleted with its stack still takes
signals (the URL stays signed); nothing reads them any more.
"""

from __future__ import annotations

import email.message
import hashlib
import json
import urllib.error
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.emulator.clock import VirtualClock

SIGNAL_BODY_LIMIT = 4096
STATUSES = ("SUCCESS", "FAILURE")


class SignalRejected(urllib.error.HTTPError):
    """The signal's PUT failed: nothing was recorded."""

    def __init__(self, url: str, code: int, message: str) -> None:
        super().__init__(url, code, message, email.message.Message(), None)
        self.message = message

    def __str__(self) -> str:
        return f"HTTP Error {self.code}: {self.message}"


@dataclass(frozen=True)
class Signal:
    status: str
    unique_id: str
    reason: str
    data: str
    received_at: float
    body: dict[str, str] = field(default_factory=dict)


@dataclass
class _Handle:
    stack_id: str
    logical_id: str
    received: list[Signal] = field(default_factory=list)
    deleted: bool = False


class WaitHandles:
    """Every wait condition handle URL issued in the region, and the signals each received."""

    def __init__(self, clock: VirtualClock, region: str) -> None:
        self.clock = clock
        self.region = region
        self._handles: dict[str, _Handle] = {}

    def issue(self, stack_id: str, logical_id: str) -> str:
        """A new presigned-looking URL for the handle ``logical_id`` of the stack ``stack_id``."""
        key = f"{quote(stack_id, safe='')}/{logical_id}/{uuid.uuid4()}"
        signature = hashlib.sha256(key.encode()).hexdigest()
        url = (
            f"https://cloudformation-waitcondition-{self.region}.s3.amazonaws.com/{key}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )
        self._handles[url] = _Handle(stack_id, logical_id)
        return url

    def release(self, url: str) -> None:
        """The handle was deleted with its stack (or an update's cleanup)."""
        if url in self._handles:
            self._handles[url].deleted = True

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and url in self._handles

    def signal(self, url: str, body: Mapping[str, str]) -> None:
        """PUT ``body`` (as JSON) to the handle's URL; raises SignalRejected as the HTTP request would fail."""
        handle = self._handles.get(url)
        if handle is None:
            raise SignalRejected(url, 403, "AccessDenied: the URL is not a wait condition handle this region issued")
        problem = _problem(body)
        if problem:
            raise SignalRejected(url, 400, problem)
        handle.received.append(
            Signal(
                status=body["Status"],
                unique_id=body["UniqueId"],
                reason=body.get("Reason", ""),
                data=body.get("Data", ""),
                received_at=self.clock(),
                body=dict(body),
            )
        )

    def received(self, url: str) -> list[Signal]:
        """What the URL received, in order (an unknown URL received nothing)."""
        handle = self._handles.get(url)
        return list(handle.received) if handle is not None else []

    def signals(self, url: str) -> list[dict[str, str]]:
        """The bodies the URL received, in order."""
        return [dict(signal.body) for signal in self.received(url)]


def _problem(body: Any) -> str:
    if not isinstance(body, Mapping):
        return f"the signal must be a JSON object, got {type(body).__name__}"
    try:
        size = len(json.dumps(dict(body)).encode())
    except (TypeError, ValueError) as error:
        return f"the signal is not JSON: {error}"
    if size > SIGNAL_BODY_LIMIT:
        return f"the signal body has {size} bytes; the emulator takes at most {SIGNAL_BODY_LIMIT}"
    if body.get("Status") not in STATUSES:
        return f"Status must be one of {', '.join(STATUSES)}, got {body.get('Status')!r}"
    if not isinstance(body.get("UniqueId"), str) or not body["UniqueId"]:
        return "UniqueId is required (a non-empty string)"
    for name in ("Reason", "Data"):
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string, got {type(body[name]).__name__}"
    return ""
