"""The shapes shared by the emulated CloudFormation's resource handlers and the stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tests.emulator.step_functions import TaskFn
from tests.emulator.world import World


class ResourceFailure(Exception):
    """CloudFormation reports the resource failed, with this reason."""


class Site(Protocol):
    """What a resource handler needs from the stack being deployed."""

    world: World
    stack_id: str

    def physical_name(self, logical_id: str, max_length: int, *, lower: bool = False) -> str: ...

    def asset_source(self, object_key: str) -> Path: ...

    def function_code(self, handler: str) -> TaskFn | None:
        """The Python callable bound to a Lambda ``Handler`` string of this stack (None: none bound)."""
        ...


@dataclass(frozen=True)
class Pending:
    """A resource that completes once ``check()`` is true (a wait condition).

    The engine calls ``check`` whenever something happened on the clock; it raises ResourceFailure
    when the resource failed. ``deadline``: the engine wakes then at the latest, to check again.
    """

    check: Callable[[], bool]
    deadline: float


@dataclass
class Deployed:
    """A resource as deployed: its Ref (the physical id), its Fn::GetAtt values, its resolved properties."""

    resource_type: str
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    generic: bool = False  # attributes not listed are made up (see ``generic_attribute``)
    ready_at: float | None = None  # completes at this virtual time (None: at once)
    pending: Pending | None = None  # completes when this says so (wins over ready_at)


Create = Callable[[Site, str, dict[str, Any]], Deployed]
Update = Callable[[Site, str, Deployed, dict[str, Any]], Deployed]
# Returns the virtual time the delete completes at (None: at once).
Delete = Callable[[Site, Deployed], float | None]
