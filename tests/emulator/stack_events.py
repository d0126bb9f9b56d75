"""The events a stack instance sends its import custom resources, and the Provider framework they go to.

``StackEvents`` adds to ``StackScope`` what both the whole-stack operations (deploy, update,
delete) and tests that send events by hand need: the import's properties and events as
CloudFormation sends them, and the provider as synthesized with the real handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cloudformation_events import RESOURCE_TYPE, custom_resource_event, service_token
from tests.emulator import intrinsics, provider_settings
from tests.emulator.deployment import Await, Deployment, ResourceRecord
from tests.emulator.provider_framework import Outcome, ProviderFramework
from tests.emulator.stack_scope import StackScope


class StackEvents(StackScope):
    """Custom-resource events of one stack instance, and its provider."""

    _provider: ProviderFramework | None = None

    def _bind(self, framework: ProviderFramework | None) -> None:
        """The Lambda code a framework brings (the handler's wait_step ...) serves this stack's functions."""
        if framework is not None:
            self.bind_functions(framework.functions)

    def _send(
        self,
        record: ResourceRecord,
        deployment: Deployment,
        framework: ProviderFramework | None,
        event: dict[str, Any],
        then: Callable[[Outcome], None],
        *,
        failed: Callable[[Outcome], None] | None = None,
    ) -> Await:
        deployment.events.append(event)
        if framework is None:
            # The provider as synthesized, built once per stack: one handler serves all its imports.
            if self._provider is None:
                self._provider = self.framework()
            framework = self._provider
        return Await(framework, event, then, failed)

    def _custom_event(
        self,
        logical_id: str,
        request_type: str,
        properties: dict[str, Any],
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        return self.event(
            logical_id, request_type, properties=properties, old_properties=old_properties, physical_id=physical_id
        )

    def import_ids(self) -> list[str]:
        return self.spec.of_type(RESOURCE_TYPE)

    def import_id(self, construct_id: str) -> str:
        """Logical id of the custom resource of the DatasetImport ``construct_id`` (a top-level construct)."""
        path = f"{self._template_name}/{construct_id}/Resource/Default"
        (logical_id,) = [
            lid for lid in self.import_ids() if self.spec.resources[lid].get("Metadata", {}).get("aws:cdk:path") == path
        ]
        return logical_id

    def import_properties(self, logical_id: str) -> dict[str, Any]:
        """The import's properties as CloudFormation would send them now."""
        properties = dict(self.spec.properties(logical_id))
        try:
            properties["ServiceToken"] = self.resolve(properties.get("ServiceToken"))
        except intrinsics.Unresolvable:  # the provider is not deployed (a test sends events by hand)
            properties["ServiceToken"] = service_token(self.world.region, self.world.account)
        resolved: dict[str, Any] = self.resolve(properties)
        return resolved

    def event(
        self,
        logical_id: str,
        request_type: str = "Create",
        *,
        properties: dict[str, Any] | None = None,
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        """A CloudFormation request for the import resource, as CloudFormation sends it."""
        return custom_resource_event(
            request_type,
            properties if properties is not None else self.import_properties(logical_id),
            logical_id=logical_id,
            stack_name=self.name,
            stack_id=self.stack_id,
            region=self.world.region,
            account=self.world.account,
            old_properties=old_properties,
            physical_id=physical_id,
        )

    def wait_settings(self) -> tuple[float, float, float]:
        """(query interval, total timeout, handler wait budget) as synthesized."""
        return provider_settings.wait_settings(self.spec)

    def framework(self, log: Callable[[str], None] | None = None, **overrides: Any) -> ProviderFramework:
        """The provider as synthesized (its settings read from the template), with the real handler.

        The handler gets the region's ``start_waiter``, ``stop_waiter`` and ``signal``, and its
        ``wait_step`` is bound to this stack's ``contract.WAIT_STEP`` functions. ``overrides`` replace
        the framework's other arguments (``on_event``, ``is_complete`` ...).
        """
        query_interval, total_timeout, wait_budget = self.wait_settings()
        framework = provider_settings.handler_framework(
            self.world,
            query_interval=query_interval,
            total_timeout=total_timeout,
            wait_budget=wait_budget,
            log=log,
            **overrides,
        )
        self._bind(framework)
        return framework
