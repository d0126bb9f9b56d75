"""The emulated Personalize's records and error type (no behaviour beyond status-by-time here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

PENDING, IN_PROGRESS, ACTIVE, FAILED = "CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE", "CREATE FAILED"
IN_FLIGHT = frozenset({PENDING, IN_PROGRESS})
DELETE_PENDING = "DELETE PENDING"
MAX_JOBS_IN_FLIGHT = 5
DATASET_TYPES = frozenset({"INTERACTIONS", "ITEMS", "USERS", "ACTIONS", "ACTION_INTERACTIONS"})
FULL, INCREMENTAL = "FULL", "INCREMENTAL"


class ServiceError(Exception):
    """An error response: ``code`` becomes the JSON ``__type``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class JobTiming:
    """How long an import job stays in each state, in virtual seconds."""

    pending: float = 30.0
    running: float = 300.0


@dataclass
class Resource:
    """A dataset group, schema or dataset."""

    arn: str
    name: str
    created: float
    ready_at: float  # CREATE PENDING until then, ACTIVE after
    body: dict[str, Any] = field(default_factory=dict)
    # Deleted: DELETE PENDING from ``delete_started``, gone (name free again) from ``gone_at``.
    delete_started: float | None = None
    gone_at: float | None = None
    # Tells this resource from a later one created under the same name, hence the same ARN.
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def status(self, now: float) -> str:
        if self.delete_started is not None:
            return DELETE_PENDING
        return ACTIVE if now >= self.ready_at else PENDING

    def last_updated(self, now: float) -> float:
        if self.delete_started is not None:
            return self.delete_started
        return max(self.created, min(now, self.ready_at))


@dataclass
class Job:
    arn: str
    request: dict[str, Any]
    created: float
    started_at: float  # CREATE IN_PROGRESS from here
    ends_at: float  # terminal from here
    outcome: str | None = None  # ACTIVE or CREATE FAILED once settled
    failure_reason: str | None = None
    finished: float | None = None
    # The dataset it imports into (``Resource.uid``): a dataset deleted and created again under the
    # same name has the same ARN, but none of the old one's data or jobs.
    dataset_uid: str = ""

    @property
    def import_mode(self) -> str:
        return str(self.request.get("importMode", FULL))  # FULL is the service's default

    def status(self, now: float) -> str:
        if self.outcome is not None:
            return self.outcome
        return PENDING if now < self.started_at else IN_PROGRESS


@dataclass
class Fault:
    code: str
    message: str
    remaining: int
    operations: frozenset[str] | None

    def applies(self, operation: str) -> bool:
        return self.remaining > 0 and (self.operations is None or operation in self.operations)
