"""cdk-nag AwsSolutions and cfn-lint on every synthesized stack: app.py's and the test stacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

import app as example
from constructs_personalize import DatasetImport, DataStore
from tests.constants import DATASET_ARN
from tests.infra.helpers import acknowledgements, cfn_lint_errors, nag_findings, new_app, sample_source, stack_in
from tests.infra.test_template import three_imports


def existing_bucket_and_role(stack: Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Shared", "shared-training-data")
    role = iam.Role.from_role_arn(stack, "PersonalizeRole", "arn:aws:iam::123456789012:role/personalize-import")
    DatasetImport(
        stack,
        "Imp",
        dataset_arn=DATASET_ARN,
        store=DataStore(stack, "Store", bucket=bucket),
        role=role,
        data=sample_source(),
    )


BUILDERS = {"three-imports": three_imports, "existing-bucket-and-role": existing_bucket_and_role}


def build(outdir: Path, name: str, *, skip_acknowledgements: bool = False) -> App:
    app = new_app(outdir, nag=True, skip_acknowledgements=skip_acknowledgements)
    if name == "app.py":
        example.build_app(app)
    else:
        stack_in(app, BUILDERS[name])
    return app


@pytest.fixture(scope="module", params=["app.py", *BUILDERS])
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[App, list[tuple[str, str]]]:
    app = build(tmp_path_factory.mktemp("nag"), request.param)
    return app, nag_findings(app)


def test_cdk_nag_aws_solutions_finds_nothing_without_user_acknowledgements(
    synthesized: tuple[App, list[tuple[str, str]]],
) -> None:
    _, findings = synthesized
    assert findings == []


def test_cfn_lint_finds_no_errors(synthesized: tuple[App, list[tuple[str, str]]]) -> None:
    app, _ = synthesized
    for stack in (c for c in app.node.children if isinstance(c, Stack)):
        assert cfn_lint_errors(Template.from_stack(stack).to_json()) == []


@pytest.mark.parametrize("name", ["app.py", "three-imports"])
def test_every_acknowledgement_names_a_real_finding_with_a_reason(name: str, tmp_path: Path) -> None:
    acknowledged = build(tmp_path / "ack", name)
    # Only the library's cdk-nag acknowledgements; aws-cdk-lib records some of its own (cfn-lint W3045).
    acks = [(rule, path) for rule, path in acknowledgements(acknowledged) if rule.startswith("AwsSolutions-")]
    assert acks, "the library acknowledges its unavoidable findings"
    raw = nag_findings(build(tmp_path / "raw", name, skip_acknowledgements=True))
    for rule, path in acks:
        assert any(r == rule and p.startswith(path) for r, p in raw), f"{rule} at {path} acknowledges nothing"
    for construct in acknowledged.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                assert all(len(reason) > 40 for rule, reason in entry.data.items() if "AwsSolutions-" in rule)


def test_example_app_template_is_written_by_synth(tmp_path: Path) -> None:
    assembly = example.build_app(App(outdir=str(tmp_path))).synth()
    template = assembly.get_stack_by_name("PersonalizeImportExample").template
    assert "Custom::PersonalizeDatasetImport" in {r["Type"] for r in template["Resources"].values()}
    assert (tmp_path / "PersonalizeImportExample.template.json").exists()
