"""The Provider framework's executions, started while others run (what the emulated deployment needs)."""

from __future__ import annotations

from typing import Any

from tests.emulator.clock import VirtualClock
from tests.emulator.provider_framework import Executions, Outcome, ProviderFramework


def _framework(clock: VirtualClock, ready_at: dict[str, float], calls: list[tuple[float, str]]) -> ProviderFramework:
    # Stand-in handlers: each resource is complete from a virtual time of its own.
    def on_event(event: dict[str, Any]) -> dict[str, Any]:
        return {"PhysicalResourceId": f"id-{event['LogicalResourceId']}"}

    def is_complete(event: dict[str, Any]) -> dict[str, Any]:
        calls.append((clock(), event["LogicalResourceId"]))
        return {"IsComplete": clock() >= ready_at[event["LogicalResourceId"]]}

    return ProviderFramework(on_event, is_complete, clock, query_interval=30, total_timeout=300)


def _event(logical_id: str) -> dict[str, Any]:
    return {"RequestType": "Create", "LogicalResourceId": logical_id, "RequestId": "r", "ResourceProperties": {}}


def _drain(executions: Executions) -> dict[object, Outcome]:
    finished: dict[object, Outcome] = {}
    while executions:
        executions.advance_to_next()
        finished.update(executions.step_due())
    return finished


def test_an_execution_starts_while_another_runs() -> None:
    clock = VirtualClock()
    t0 = clock()
    calls: list[tuple[float, str]] = []
    framework = _framework(clock, {"A": t0 + 90, "B": t0 + 100}, calls)
    executions = Executions(clock)
    assert executions.start("A", framework, _event("A")) is None
    assert executions.next_due() == t0 + 30
    clock.advance(10)  # the scheduler had other work; now B joins, on its own poll grid
    assert executions.start("B", framework, _event("B")) is None
    finished = _drain(executions)
    assert {key: outcome.finished_at for key, outcome in finished.items()} == {"A": t0 + 90, "B": t0 + 100}
    assert [(when - t0, who) for when, who in calls] == [
        (0, "A"),
        (10, "B"),
        (30, "A"),
        (40, "B"),
        (60, "A"),
        (70, "B"),
        (90, "A"),
        (100, "B"),
    ]
    assert finished["B"].physical_id == "id-B" and finished["B"].is_complete_calls == 4


def test_an_execution_that_completes_at_once_is_not_kept() -> None:
    clock = VirtualClock()
    executions = Executions(clock)
    outcome = executions.start("now", _framework(clock, {"now": clock()}, []), _event("now"))
    assert outcome is not None and outcome.status == "SUCCESS" and len(executions) == 0


def test_a_cancelled_execution_is_no_longer_polled() -> None:
    clock = VirtualClock()
    calls: list[tuple[float, str]] = []
    framework = _framework(clock, {"A": clock() + 60, "B": clock() + 1000}, calls)
    executions = Executions(clock)
    executions.start("A", framework, _event("A"))
    executions.start("B", framework, _event("B"))
    executions.cancel("B")
    assert set(_drain(executions)) == {"A"}
    assert [who for _, who in calls].count("B") == 1  # only the first is_complete, at the start


def test_run_all_is_executions_started_together() -> None:
    clock = VirtualClock()
    framework = _framework(clock, {"A": clock() + 30, "B": clock() + 60, "C": clock() + 400}, [])
    outcomes = framework.run_all([_event("A"), _event("B"), _event("C")])
    assert [outcome.status for outcome in outcomes] == ["SUCCESS", "SUCCESS", "FAILED"]
    assert outcomes[2].reason == "Operation timed out" and outcomes[2].finished_at == clock()
