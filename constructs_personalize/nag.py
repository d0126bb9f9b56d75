"""Acknowledgements of cdk-nag findings on the library's own resources.

Uses aws-cdk-lib's ``Validations`` API, so the library has no runtime dependency on cdk-nag.
Each acknowledgement names one exact finding (``Rule[Finding]``) and carries the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct, IValidation

# Set this context key to true to see the raw findings the library would otherwise acknowledge
# (an audit of the acknowledgements; the test suite uses it to prove each one names a real finding).
SKIP_CONTEXT_KEY = "constructs_personalize:skipNagAcknowledgements"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    if scope.node.try_get_context(SKIP_CONTEXT_KEY) in (True, "true"):
        return
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_at_synth(scope: IConstruct, rule: str, resources: Callable[[], Sequence[str]], reason: str) -> None:
    """Acknowledge ``rule[Resource::<resource>]`` for each resource, once the app is prepared.

    A reference to another stack's resource becomes ``Fn::ImportValue`` only when CDK prepares the
    app, and cdk-nag names the finding after that form; validations run after that step.
    """
    scope.node.add_validation(_AcknowledgeLater(scope, rule, resources, reason))


def acknowledge_later(scope: IConstruct, run: Callable[[], None]) -> None:
    """Run ``run`` (which acknowledges) at synth, once the whole app is declared."""
    scope.node.add_validation(_Run(run))


@jsii.implements(IValidation)
class _Run:
    def __init__(self, run: Callable[[], None]) -> None:
        self._run = run

    def validate(self) -> list[str]:
        self._run()
        return []


@jsii.implements(IValidation)
class _AcknowledgeLater:
    def __init__(self, scope: IConstruct, rule: str, resources: Callable[[], Sequence[str]], reason: str) -> None:
        self._scope = scope
        self._rule = rule
        self._resources = resources
        self._reason = reason

    def validate(self) -> list[str]:
        for resource in self._resources():
            acknowledge(
                self._scope, f"{self._rule}[Resource::{flatten_reference(self._scope, resource)}]", self._reason
            )
        return []


def flatten_reference(scope: IConstruct, value: str) -> str:
    """The form cdk-nag gives a resource in a finding id (its ``flattenCfnReference``)."""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: object) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
