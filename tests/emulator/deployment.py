"""How CloudFormation walks a template: dependency order, concurrency, stop on the first failure.

``Engine.run`` starts every resource whose dependencies are all complete, at once: a resource that
completes instantly (most of them) may make others ready at the same virtual moment; one that
completes later (a Personalize dataset group waiting for ACTIVE) sets a timer; a custom resource
runs as a Provider-framework execution alongside all the others (``Executions``); a wait condition
waits ``Until`` its check says so (signals arrived) or its deadline (timeout). Work of the region
that belongs to no stack operation runs in between (``background``: Step Functions executions,
which signal wait conditions). The clock moves to the earliest timer, is_complete call, deadline or
background step, and so on until nothing of the operation is left (background work may go on). When a resource
fails, nothing new starts and what is still in progress is cancelled (CloudFormation's "Resource
creation cancelled"; the work itself, e.g. an import job, runs on in the emulated service). No
rollback is emulated. Deleting is the other way round (``Engine(..., keep_going=True)``): a failed
delete stops only what waits for it; every other resource is still deleted, as CloudFormation does.

``Deployment`` is the record of one stack operation, per logical id, for tests to assert on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.emulator.clock import VirtualClock
from tests.emulator.provider_framework import Executions, Outcome, ProviderFramework

NOT_STARTED, IN_PROGRESS, COMPLETE, FAILED, CANCELLED = "NOT_STARTED", "IN_PROGRESS", "COMPLETE", "FAILED", "CANCELLED"
SUCCESS = "SUCCESS"


@dataclass
class ResourceRecord:
    logical_id: str
    resource_type: str
    action: str = ""  # Create, Update, NoChange (nothing sent), Delete or Retain (DeletionPolicy: kept)
    status: str = NOT_STARTED
    started_at: float | None = None
    completed_at: float | None = None
    physical_id: str | None = None
    outcome: Outcome | None = None  # what the Provider framework answered (custom resources)
    reason: str = ""

    @property
    def resource_status(self) -> str:
        """CloudFormation's name for where the resource is, e.g. DELETE_FAILED or DELETE_SKIPPED (retained)."""
        if self.action == "Retain":
            return "DELETE_SKIPPED"
        if self.status == NOT_STARTED or self.action == "NoChange":
            return self.status  # CloudFormation leaves it as it was
        # A cancelled resource is FAILED too ("Resource creation cancelled").
        return f"{self.action.upper()}_{FAILED if self.status == CANCELLED else self.status}"


@dataclass
class Deployment:
    """One stack operation (create, update or delete) of one stack instance."""

    stack_id: str
    stack_name: str
    operation: str  # Create, Update or Delete
    started_at: float
    finished_at: float = 0.0
    records: dict[str, ResourceRecord] = field(default_factory=dict)
    # Update only: Deletes after every resource was updated (replaced physical ids, removed resources).
    cleanup: dict[str, ResourceRecord] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # custom-resource events sent, in order
    outputs: dict[str, Any] = field(default_factory=dict)
    stack_reason: str = ""  # a failure of the stack itself (e.g. an export name taken)
    # A failed update rolled back (``EmulatedStack.update(..., roll_back=True)``): that operation.
    rollback: Deployment | None = None

    @property
    def stack_status(self) -> str:
        """CREATE_COMPLETE, DELETE_FAILED, UPDATE_ROLLBACK_COMPLETE ... (a failed create stays CREATE_FAILED)."""
        if self.rollback is not None:
            return f"UPDATE_ROLLBACK_{COMPLETE if self.rollback.succeeded else FAILED}"
        return f"{self.operation.upper()}_{COMPLETE if self.succeeded else FAILED}"

    @property
    def failures(self) -> list[ResourceRecord]:
        every = [*self.records.values(), *self.cleanup.values()]
        return [record for record in every if record.status == FAILED]

    @property
    def succeeded(self) -> bool:
        """Every resource complete. A failed cleanup Delete does not count: CloudFormation only warns of it."""
        return not self.stack_reason and all(record.status == COMPLETE for record in self.records.values())

    def completed_at(self, logical_id: str) -> float:
        record = self.records[logical_id]
        if record.completed_at is None:
            raise AssertionError(f"{logical_id} did not complete: {record.status} {record.reason}")
        return record.completed_at

    def outcome(self, logical_id: str) -> Outcome:
        outcome = self.records[logical_id].outcome
        if outcome is None:
            raise AssertionError(f"no event was sent for {logical_id} ({self.records[logical_id].action})")
        return outcome

    def physical_id(self, logical_id: str) -> str:
        physical_id = self.records[logical_id].physical_id
        if physical_id is None:
            raise AssertionError(f"{logical_id} has no physical id ({self.records[logical_id].status})")
        return physical_id


@dataclass(frozen=True)
class Now:
    """The resource completed when it started."""


@dataclass(frozen=True)
class At:
    """The resource completes at this virtual time."""

    time: float


@dataclass(frozen=True)
class Await:
    """A custom resource: the event goes to the framework; ``then`` sees a SUCCESS outcome, ``failed`` a FAILED one."""

    framework: ProviderFramework
    event: dict[str, Any]
    then: Callable[[Outcome], None]
    failed: Callable[[Outcome], None] | None = None


@dataclass(frozen=True)
class Until:
    """The resource completes once ``check()`` is true; it raises ResourceFailed when the resource failed.

    Checked when the resource starts and after anything happened on the clock; ``deadline`` is
    when the engine wakes at the latest to check again (a wait condition's timeout).
    """

    check: Callable[[], bool]
    deadline: float


Started = Now | At | Await | Until
Start = Callable[[ResourceRecord], Started]


class ResourceFailed(Exception):
    """Raised by a start callback: the resource fails now with this reason."""


class Background(Protocol):
    """Work of the region that runs while a stack operation does (``StepFunctions``)."""

    def next_due(self) -> float | None: ...

    def step_due(self) -> object: ...


class Engine:
    """One walk of a template (or of the cleanup phase): ``run`` fills in the records.

    ``keep_going``: a failure stops only the resources that wait for the failed one (a delete);
    otherwise it stops the walk and cancels what is in progress (a create or update).
    """

    def __init__(
        self,
        clock: VirtualClock,
        records: dict[str, ResourceRecord],
        dependencies: Mapping[str, set[str]],
        *,
        keep_going: bool = False,
        background: Background | None = None,
    ) -> None:
        self.clock = clock
        self.background = background
        self.records = records
        self.dependencies = dependencies
        self.keep_going = keep_going
        self._failed = False
        self._executions = Executions(clock)
        self._timers: dict[str, float] = {}
        self._awaiting: dict[str, Await] = {}
        self._until: dict[str, Until] = {}
        self._waiting = list(records)  # in the order given: ties start in that order

    @property
    def _stopped(self) -> bool:
        return self._failed and not self.keep_going

    def run(self, start: Start) -> None:
        self._start_ready(start)
        while not self._stopped and (self._timers or self._executions or self._until):
            candidates = [*self._timers.values(), *(until.deadline for until in self._until.values())]
            for due in (self._executions.next_due(), self.background.next_due() if self.background else None):
                if due is not None:
                    candidates.append(due)
            self.clock.advance(max(0.0, min(candidates) - self.clock()))
            for logical_id in [lid for lid, at in self._timers.items() if at <= self.clock()]:
                del self._timers[logical_id]
                self._complete(self.records[logical_id])
            for key, outcome in self._executions.step_due():
                self._finish_custom(self.records[str(key)], outcome, self._awaiting.pop(str(key)))
            if self.background is not None:
                self.background.step_due()
            for logical_id, until in list(self._until.items()):
                if not self._stopped and self._settle(self.records[logical_id], until):
                    del self._until[logical_id]
            self._start_ready(start)
        for logical_id in [*self._timers, *self._awaiting, *self._until]:
            if logical_id in self._executions:
                self._executions.cancel(logical_id)
            record = self.records[logical_id]
            record.status, record.reason = CANCELLED, "Resource creation cancelled"

    def _ready(self, logical_id: str) -> bool:
        # A dependency outside this walk (a resource whose Condition is false) does not hold it back.
        deps = self.dependencies.get(logical_id, ())
        return all(self.records[dep].status == COMPLETE for dep in deps if dep in self.records)

    def _start_ready(self, start: Start) -> None:
        """Start everything ready, again while instant completions make more ready, until stopped."""
        progress = True
        while progress and not self._stopped:
            progress = False
            for logical_id in [lid for lid in self._waiting if self._ready(lid)]:
                self._waiting.remove(logical_id)
                progress = True
                self._start(self.records[logical_id], start)
                if self._stopped:
                    return

    def _start(self, record: ResourceRecord, start: Start) -> None:
        record.status, record.started_at = IN_PROGRESS, self.clock()
        try:
            started = start(record)
        except ResourceFailed as error:
            record.status, record.reason, record.completed_at = FAILED, str(error), self.clock()
            self._failed = True
            return
        if isinstance(started, Now) or (isinstance(started, At) and started.time <= self.clock()):
            self._complete(record)
        elif isinstance(started, At):
            self._timers[record.logical_id] = started.time
        elif isinstance(started, Until):
            if not self._settle(record, started):
                self._until[record.logical_id] = started
        else:
            outcome = self._executions.start(record.logical_id, started.framework, started.event)
            if outcome is not None:
                self._finish_custom(record, outcome, started)
            else:
                self._awaiting[record.logical_id] = started

    def _settle(self, record: ResourceRecord, until: Until) -> bool:
        """Check a waiting resource: True if it completed or failed (recorded), False if it still waits."""
        try:
            if not until.check():
                return False
        except ResourceFailed as error:
            record.status, record.reason, record.completed_at = FAILED, str(error), self.clock()
            self._failed = True
            return True
        self._complete(record)
        return True

    def _complete(self, record: ResourceRecord) -> None:
        record.status, record.completed_at = COMPLETE, self.clock()

    def _finish_custom(self, record: ResourceRecord, outcome: Outcome, sent: Await) -> None:
        """Record a framework answer (a failure stops the walk, or what waits for it)."""
        record.outcome, record.physical_id, record.completed_at = outcome, outcome.physical_id, self.clock()
        if outcome.status != SUCCESS:
            record.status, record.reason = FAILED, outcome.reason
            self._failed = True
            if sent.failed is not None:
                sent.failed(outcome)
            return
        sent.then(outcome)
        record.status = COMPLETE
