"""The import provider as synthesized: its waiter's timing, and a framework running the real handler.

CDK's Provider synthesizes a Step Functions waiter whose ``framework-isComplete-task`` retries every
``IntervalSeconds`` up to ``MaxAttempts`` times, and the construct sets the handler's wait budget
in the on_event function's environment. ``handler_framework`` wires the real handler to the
emulated region's client and virtual clock with those settings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from constructs_personalize.handlers.dataset_import import index
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.stack_template import Template
from tests.emulator.world import World


def wait_settings(spec: Template) -> tuple[float, float, float]:
    """(query interval, total timeout, handler wait budget) as synthesized."""
    machines = spec.of_type("AWS::StepFunctions::StateMachine")
    if not machines:
        raise LookupError("the template has no waiter state machine: give the framework its settings")
    machine = spec.resources[machines[0]]
    definition = "".join(
        part for part in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(part, str)
    )
    retry = json.loads(re.sub(r'"Resource":"[^"]*"', '"Resource":""', definition))
    retry = retry["States"]["framework-isComplete-task"]["Retry"][0]
    budgets = {
        spec.resources[lid]["Properties"]["Environment"]["Variables"].get(index.WAIT_BUDGET_ENV)
        for lid in spec.of_type("AWS::Lambda::Function")
        if spec.resources[lid]["Properties"].get("Handler") == "index.on_event"
    }
    (budget,) = budgets
    interval = float(retry["IntervalSeconds"])
    return interval, interval * retry["MaxAttempts"], float(budget)


def handler_framework(
    world: World,
    *,
    query_interval: float,
    total_timeout: float,
    wait_budget: float,
    log: Callable[[str], None] | None = None,
    **overrides: Any,
) -> ProviderFramework:
    """The Provider framework with the real handler, on the emulated region's client and clock."""
    handler = index.DatasetImportHandler(
        world.personalize(),
        start_client=world.personalize_single_attempt(),
        clock=world.clock,
        wait_budget_seconds=wait_budget,
        emit=log or _discard,
    )
    settings: dict[str, Any] = {
        "on_event": handler.on_event,
        "is_complete": handler.is_complete,
        "clock": world.clock,
        "query_interval": query_interval,
        "total_timeout": total_timeout,
    }
    settings.update(overrides)
    return ProviderFramework(**settings)


def _discard(_line: str) -> None:
    pass
