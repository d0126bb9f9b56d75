"""A stack's template and assets as synthesized into a cloud assembly, and its dependency graph."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.emulator.intrinsics import references


@dataclass(frozen=True)
class Template:
    document: dict[str, Any]
    assets: dict[str, Any]  # the assets manifest's "files", by asset hash

    @classmethod
    def load(cls, assembly_dir: Path, stack_name: str) -> Template:
        document = json.loads((assembly_dir / f"{stack_name}.template.json").read_text())
        assets = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text()).get("files", {})
        return cls(document, assets)

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.document.get("Resources", {})
        return resources

    @property
    def parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = self.document.get("Parameters", {})
        return parameters

    @property
    def conditions(self) -> dict[str, Any]:
        conditions: dict[str, Any] = self.document.get("Conditions", {})
        return conditions

    @property
    def outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = self.document.get("Outputs", {})
        return outputs

    def resource_ids(self) -> list[str]:
        return list(self.resources)

    def resource_type(self, logical_id: str) -> str:
        return str(self.resources[logical_id]["Type"])

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resources[logical_id].get("Properties") or {}
        return properties

    def of_type(self, resource_type: str) -> list[str]:
        return [lid for lid in self.resources if self.resource_type(lid) == resource_type]

    def dependencies(self) -> dict[str, set[str]]:
        """Per resource, the resources it waits for: DependsOn and every reference in its properties."""
        cached = _dependencies(json.dumps(self.resources, sort_keys=True))
        return {logical_id: set(deps) for logical_id, deps in cached.items()}

    def dependents(self, roots: set[str]) -> set[str]:
        """``roots`` and every resource that depends on one of them, directly or not."""
        graph = self.dependencies()
        found = set(roots)
        grew = True
        while grew:
            grew = False
            for logical_id, deps in graph.items():
                if logical_id not in found and deps & found:
                    found.add(logical_id)
                    grew = True
        return found


@functools.cache
def _dependencies(resources_json: str) -> dict[str, set[str]]:
    resources = json.loads(resources_json)
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        referenced = references(resource.get("Properties") or {})
        graph[logical_id] = {name for name in explicit | referenced if name in resources and name != logical_id}
        missing = explicit - set(resources)
        if missing:
            raise ValueError(f"Template format error: {logical_id} DependsOn unknown resources {sorted(missing)}")
    _check_acyclic(graph)
    return graph


def _check_acyclic(graph: dict[str, set[str]]) -> None:
    # CloudFormation rejects a template whose resources wait for each other before deploying anything.
    done: set[str] = set()
    remaining = dict(graph)
    while remaining:
        ready = [lid for lid, deps in remaining.items() if deps <= done]
        if not ready:
            raise ValueError(f"Template format error: Circular dependency between resources: {sorted(remaining)}")
        for logical_id in ready:
            done.add(logical_id)
            del remaining[logical_id]
