"""The CDK Provider framework's calling pattern, re-enacted on the virtual clock.

Mirrors aws-cdk-lib's ``custom-resources/lib/provider-framework/runtime/framework.js`` and the
waiter state machine CDK synthesizes:
- on_event's result is merged over the CloudFormation event (a Delete may not change the physical id);
- is_complete is invoked at once, then retried every ``query_interval`` (Step Functions Retry with
  BackoffRate 1) for at most ``total_timeout / query_interval`` retries, then "Operation timed out";
- is_complete answering ``IsComplete: false`` with ``Data`` is an error;
- a handler exception makes the resource FAILED with the exception text; a failed Create with no
  physical id gets the framework's CREATE_FAILED marker, and a Delete of that marker succeeds at once.

Several events can run at once (``run_all``): each is a generator that yields the virtual time of
its next is_complete call, and the scheduler moves the clock to the earliest one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.clock import VirtualClock

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

    def run(self, event: dict[str, Any]) -> Outcome:
        """Deliver one CloudFormation event and wait for the answer, as the framework would."""
        return self.run_all([event])[0]

    def run_all(self, events: list[dict[str, Any]]) -> list[Outcome]:
        """Deliver several events at the same moment (e.g. sibling resources) and wait for all."""
        running: dict[int, tuple[Execution, float]] = {}
        outcomes: dict[int, Outcome] = {}
        for index, event in enumerate(events):
            self._step(index, self._execute(event), running, outcomes)
        while running:
            due = min(when for _, when in running.values())
            self.clock.advance(max(0.0, due - self.clock()))
            for index in sorted(i for i, (_, when) in running.items() if when <= self.clock()):
                execution, _ = running.pop(index)
                self._step(index, execution, running, outcomes)
        return [outcomes[index] for index in range(len(events))]

    @staticmethod
    def _step(
        index: int, execution: Execution, running: dict[int, tuple[Execution, float]], outcomes: dict[int, Outcome]
    ) -> None:
        try:
            running[index] = (execution, next(execution))
        except StopIteration as done:
            outcomes[index] = done.value

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
        return Outcome("FAILED", physical_id, "Operation timed out", is_complete_calls=retries + 1)

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
