"""Synthesis, cdk-nag and cfn-lint helpers for the infrastructure tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from constructs_personalize import DataSource
from constructs_personalize.nag import SKIP_CONTEXT_KEY
from tests.constants import ACCOUNT, REGION, SAMPLE_DIR

ENV = Environment(account=ACCOUNT, region=REGION)
ACK_METADATA = "aws:cdk:acknowledged-rules"


def sample_source() -> DataSource:
    return DataSource.from_asset(SAMPLE_DIR)


def new_app(outdir: Path, *, nag: bool = False, skip_acknowledgements: bool = False) -> App:
    context: dict[str, Any] = {"@aws-cdk/core:validationReportJson": True}
    if skip_acknowledgements:
        context[SKIP_CONTEXT_KEY] = True
    app = App(outdir=str(outdir), context=context)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def nag_findings(app: App) -> list[tuple[str, str]]:
    """Synthesize ``app`` with its cdk-nag plugin and return (rule, construct path) per finding."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    report = Path(app.outdir) / "validation-report.json"
    if not report.exists():
        return []
    data = json.loads(report.read_text())
    return [
        (violation["ruleName"], construct["constructPath"])
        for plugin in data.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]


def acknowledgements(app: App) -> list[tuple[str, str]]:
    """(rule id, construct path) of every acknowledgement recorded in the app's tree."""
    found = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK_METADATA:
                for rule in entry.data:
                    found.append((rule.removeprefix("Annotation::"), construct.node.path))
    return found


def cfn_lint_errors(template: Mapping[str, Any]) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id.startswith("E")]


def iter_policy_statements(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every IAM policy, role inline policy, bucket and key policy."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = [props.get("PolicyDocument"), props.get("KeyPolicy")]
        documents += [p.get("PolicyDocument") for p in props.get("Policies", [])]
        for document in documents:
            if document:
                for statement in document["Statement"]:
                    yield logical_id, statement


def stack_in(app: App, build: Callable[[Stack], object], name: str = "Test") -> Stack:
    stack = Stack(app, name, env=ENV)
    build(stack)
    return stack


def evaluate(value: Any, stack_id: str) -> str:
    """A name built from intrinsics (Fn::Join / Fn::Select / Fn::Split of AWS::StackId), as deployed."""
    if isinstance(value, str):
        return value
    if value == {"Ref": "AWS::StackId"}:
        return stack_id
    if "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(evaluate(part, stack_id) for part in parts)
    if "Fn::Select" in value:
        index, items = value["Fn::Select"]
        return evaluate(items, stack_id).split("\x00")[int(index)]
    if "Fn::Split" in value:
        delimiter, source = value["Fn::Split"]
        return "\x00".join(evaluate(source, stack_id).split(delimiter))
    raise AssertionError(f"not a name built from the stack id: {value!r}")
