"""The CDK Provider framework's calling pattern, re-enacted on the virtual clock.

Mirrors aws-cdk-lib's ``custom-resources/lib/provider-framework/runtime/framework.js`` and the
waiter state machine CDK synthesizes:
- on_event's result is merged over the CloudFormation event (a Delete may not change the physical id);
- is_complete is invoked at once, then retried every ``query_interval`` (Step Functions Retry with
  BackoffRate 1) for at most ``total_timeout / query_interval`` retries, then "Operation timed out";
- is_complete answering ``IsComplete: false`` with ``Data`` is an error;
- a handler exception makes the resource FAILED with the exception text; a failed Create with no
  physical id gets the framework's CREATE_FAILED marker, and a Delete of that marker succeeds at once.

Several events can run at once: each execution is a generator that yields the virtual time of its
next is_complete call. ``Executions`` holds those in flight and lets a scheduler (``run_all``, or the
emulated CloudFormation's deployment) start new ones at any moment while others run, move the clock
to the earliest due call and step what is due.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.clock import VirtualClock
from tests.emulator.step_functions import TaskFn

CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
Handler = Callable[[dict[str, Any]], Mapping[str, Any]]
Execution = Generator[float, None, "Outcome"]


@dataclass
class Outcome:
    """What CloudFormation receives for one event."""

    status: str  # SUCCESS or FAILED
    physical_id: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    is_complete_calls: int = 0
    finished_at: float = 0.0


@dataclass
class ProviderFramework:
    on_event: Handler
    is_complete: Handler
    clock: VirtualClock
    query_interval: float = 30.0
    total_timeout: float = 3600.0
    # Python code for the stack's other Lambda functions, by Handler string (e.g. {contract.WAIT_STEP: ...}):
    # what a Step Functions Task of the template runs (``step_functions.py``).
    functions: Mapping[str, TaskFn] = field(default_factory=dict)

    def run(self, event: dict[str, Any]) -> Outcome:
        """Deliver one CloudFormation event and wait for the answer, as the framework would."""
        return self.run_all([event])[0]

    def run_all(self, events: list[dict[str, Any]]) -> list[Outcome]:
        """Deliver several events at the same moment (e.g. sibling resources) and wait for all."""
        executions = Executions(self.clock)
        outcomes: dict[Hashable, Outcome] = {}
        for index, event in enumerate(events):
            finished = executions.start(index, self, event)
            if finished is not None:
                outcomes[index] = finished
        while executions:
            executions.advance_to_next()
            outcomes.update(executions.step_due())
        return [outcomes[index] for index in range(len(events))]

    def start(self, event: dict[str, Any]) -> Execution:
        """One event's execution, not yet begun: ``Executions.start`` runs it."""
        return self._execute(event)

    def _execute(self, event: dict[str, Any]) -> Execution:
        if event["RequestType"] == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_MARKER:
            return Outcome("SUCCESS", CREATE_FAILED_MARKER, finished_at=self.clock())
        try:
            result = dict(self.on_event(dict(event)) or {})
        except Exception as error:  # noqa: BLE001 - the framework turns any handler error into FAILED
            return self._failed(event, error, 0)
        physical_id = result.get("PhysicalResourceId") or self._default_physical_id(event)
        if event["RequestType"] == "Delete" and physical_id != event.get("PhysicalResourceId"):
            return self._failed(event, RuntimeError("DELETE: cannot change the physical resource ID"), 0)
        merged = {**event, **result, "PhysicalResourceId": physical_id}
        retries = int(self.total_timeout // self.query_interval)
        for attempt in range(1, retries + 2):  # the first attempt, then MaxAttempts retries
            if attempt > 1:
                yield self.clock() + self.query_interval
            try:
                answer = self.is_complete(dict(merged))
            except Exception as error:  # noqa: BLE001
                return self._failed(merged, error, attempt)
            if answer.get("IsComplete"):
                data = {**merged.get("Data", {}), **answer.get("Data", {})}
                return Outcome("SUCCESS", physical_id, data=data, is_complete_calls=attempt, finished_at=self.clock())
            if answer.get("Data"):
                return self._failed(merged, RuntimeError('"Data" is not allowed if "IsComplete" is "False"'), attempt)
        return Outcome(
            "FAILED", physical_id, "Operation timed out", is_complete_calls=retries + 1, finished_at=self.clock()
        )

    @staticmethod
    def _default_physical_id(event: Mapping[str, Any]) -> str:
        if event["RequestType"] == "Create":
            return str(event["RequestId"])
        return str(event["PhysicalResourceId"])

    def _failed(self, event: Mapping[str, Any], error: Exception, calls: int) -> Outcome:
        physical_id = event.get("PhysicalResourceId") or (
            CREATE_FAILED_MARKER if event["RequestType"] == "Create" else ""
        )
        return Outcome("FAILED", str(physical_id), str(error), is_complete_calls=calls, finished_at=self.clock())


class Executions:
    """Framework executions in flight on one virtual clock, keyed by the caller's ids.

    ``start`` delivers an event now (on_event, then the first is_complete); ``next_due`` is the
    virtual time of the earliest pending is_complete call; ``step_due`` makes every call due at
    ``clock()`` and returns the executions that finished. The caller moves the clock (it may
    have its own timers), or ``advance_to_next`` does. Executions due at the same moment are
    stepped in the order they were started.
    """

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._running: dict[Hashable, tuple[Execution, float]] = {}
        self._order: dict[Hashable, int] = {}  # start order: ties at one moment go first-started first
        self._started = itertools.count()

    def __len__(self) -> int:
        return len(self._running)

    def __contains__(self, key: object) -> bool:
        return key in self._running

    def start(self, key: Hashable, framework: ProviderFramework, event: dict[str, Any]) -> Outcome | None:
        """Begin an execution; its Outcome if it finished at once, else None (it runs on)."""
        if key in self._running:
            raise ValueError(f"an execution {key!r} is already running")
        self._order[key] = next(self._started)
        return self._step(key, framework.start(event))

    def next_due(self) -> float | None:
        return min((when for _, when in self._running.values()), default=None)

    def advance_to_next(self) -> None:
        due = self.next_due()
        if due is not None:
            self.clock.advance(max(0.0, due - self.clock()))

    def step_due(self) -> list[tuple[Hashable, Outcome]]:
        finished = []
        now = self.clock()
        due = sorted((key for key, (_, when) in self._running.items() if when <= now), key=self._order.__getitem__)
        for key in due:
            execution, _ = self._running.pop(key)
            outcome = self._step(key, execution)
            if outcome is not None:
                finished.append((key, outcome))
        return finished

    def cancel(self, key: Hashable) -> None:
        """Stop waiting for an execution (CloudFormation cancelled the resource); its work runs on."""
        execution, _ = self._running.pop(key)
        execution.close()

    def _step(self, key: Hashable, execution: Execution) -> Outcome | None:
        try:
            self._running[key] = (execution, next(execution))
        except StopIteration as done:
            outcome: Outcome = done.value
            return outcome
        return None
