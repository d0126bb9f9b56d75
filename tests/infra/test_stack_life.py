"""What the template does over a stack's life: handles created when their import can begin, a new handle
for a new wait, later imports that follow the FULL import before them, a warning past the 5-jobs quota."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, Stack
from aws_cdk.assertions import Template

from constructs_personalize import DatasetImport, DataSource, ImportMode, ImportWait
from tests.constants import DATASET_ARN, SAMPLE_DIR, TEST_DATA
from tests.infra.helpers import ENV, cfn_lint_errors

INCREMENTAL_DIR = TEST_DATA / "interactions-incremental"


def _synth(tmp_path: Path, build: Any) -> Mapping[str, Any]:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Life", env=ENV)
    build(stack)
    return Template.from_stack(stack).to_json()


def _ids(template: Mapping[str, Any], type_name: str) -> list[str]:
    return sorted(k for k, v in template["Resources"].items() if v["Type"] == type_name)


def _depends(template: Mapping[str, Any], logical_id: str) -> set[str]:
    depends = template["Resources"][logical_id].get("DependsOn", [])
    return set([depends] if isinstance(depends, str) else depends)


def _bulk_then_batch(stack: Stack, *, hours: int = 12, full: Path = SAMPLE_DIR) -> None:
    DatasetImport(
        stack,
        "Bulk",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_asset(full),
        wait=ImportWait.up_to(Duration.hours(12)),
    )
    DatasetImport(
        stack,
        "Batch",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_asset(INCREMENTAL_DIR),
        import_mode=ImportMode.INCREMENTAL,
        wait=ImportWait.up_to(Duration.hours(hours)),
    )


def test_a_wait_handle_is_created_only_once_its_import_can_begin(tmp_path: Path) -> None:
    template = _synth(tmp_path, _bulk_then_batch)
    bulk_condition, _ = sorted(
        _ids(template, "AWS::CloudFormation::WaitCondition"), key=lambda lid: not lid.startswith("Bulk")
    )
    batch_handle = next(h for h in _ids(template, "AWS::CloudFormation::WaitConditionHandle") if h.startswith("Batch"))
    # Not when the deploy starts: after the import before it ended, and after its own data and grants exist.
    assert bulk_condition in _depends(template, batch_handle)
    assert any("UploadsBatch" in d for d in _depends(template, batch_handle))
    assert cfn_lint_errors(template) == []


def test_a_changed_wait_gets_a_new_handle_and_condition(tmp_path: Path) -> None:
    twelve = _synth(tmp_path / "12", _bulk_then_batch)
    eight = _synth(tmp_path / "8", lambda stack: _bulk_then_batch(stack, hours=8))
    for type_name in ("AWS::CloudFormation::WaitCondition", "AWS::CloudFormation::WaitConditionHandle"):
        batch = [lid for lid in _ids(twelve, type_name) if lid.startswith("Batch")]
        assert batch and not set(batch) & set(_ids(eight, type_name)), type_name


def test_imports_after_a_full_import_follow_its_job_and_its_data(tmp_path: Path) -> None:
    template = _synth(tmp_path / "a", _bulk_then_batch)
    (bulk,) = [lid for lid in _ids(template, "Custom::PersonalizeDatasetImport") if lid.startswith("Bulk")]
    (batch,) = [lid for lid in _ids(template, "Custom::PersonalizeDatasetImport") if lid.startswith("Batch")]
    assert template["Resources"][batch]["Properties"]["AfterJob"] == {"Fn::GetAtt": [bulk, "JobName"]}
    assert "AfterJob" not in template["Resources"][bulk]["Properties"]
    # New FULL data: the batch's wait condition is a new one too (the batch is added again and waited for).
    other = tmp_path / "other-full"
    other.mkdir()
    body = (SAMPLE_DIR / "interactions.csv").read_bytes() + b"user-0,item-0,1700000000,click\n"
    (other / "interactions.csv").write_bytes(body)
    changed = _synth(tmp_path / "b", lambda stack: _bulk_then_batch(stack, full=other))
    batch_conditions = [
        {lid for lid in _ids(t, "AWS::CloudFormation::WaitCondition") if lid.startswith("Batch")}
        for t in (template, changed)
    ]
    assert all(batch_conditions) and not batch_conditions[0] & batch_conditions[1]


def test_more_than_five_imports_waiting_within_the_deployment_warn_of_the_quota(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Busy", env=ENV)
    for index in range(6):
        arn = DATASET_ARN.replace("shop", f"shop{index}")
        DatasetImport(stack, f"Import{index}", dataset_arn=arn, data=DataSource.from_asset(SAMPLE_DIR))
    DatasetImport(
        stack,
        "Long",
        dataset_arn=DATASET_ARN.replace("shop", "long"),
        data=DataSource.from_asset(SAMPLE_DIR),
        wait=ImportWait.up_to(Duration.hours(3)),
    )
    warnings = [
        (message.id, str(message.entry.data))
        for message in app.synth().get_stack_by_name("Busy").messages
        if "importQuota" in str(message.entry.data)
    ]
    assert len(warnings) == 1
    (path, text) = warnings[0]
    assert path.endswith("Import5") and "5 import jobs per account and region" in text and "ImportWait.up_to" in text
