"""Long imports in the template: a wait condition per job, one shared waiter, the import the dependency target."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_personalize as personalize
from aws_cdk.assertions import Template

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, ImportMode, ImportWait
from tests.constants import DATASET_ARN, ITEMS_ARN, SAMPLE_DIR
from tests.infra.helpers import ENV, cfn_lint_errors, nag_findings, new_app

GROUP = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop"


def _long_stack(app: App, *, imports: int = 2, data: Path = SAMPLE_DIR, **extra: Any) -> Stack:
    stack = Stack(app, "Long", env=ENV)
    done = [
        DatasetImport(
            stack,
            f"Import{index}",
            dataset_arn=[DATASET_ARN, ITEMS_ARN][index % 2].replace("shop", f"shop{index}"),
            data=DataSource.from_asset(data),
            wait=ImportWait.up_to(Duration.hours(12)),
            **extra,
        )
        for index in range(imports)
    ]
    solution = personalize.CfnSolution(
        stack, "Solution", name="s", dataset_group_arn=GROUP, recipe_arn="arn:aws:personalize:::recipe/aws-sims"
    )
    solution.node.add_dependency(*done)
    return stack


def _of_type(template: Mapping[str, Any], type_name: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


@pytest.fixture(scope="module")
def long_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Mapping[str, Any], list[tuple[str, str]]]:
    app = new_app(tmp_path_factory.mktemp("long"), nag=True)
    stack = _long_stack(app)
    findings = nag_findings(app)
    return Template.from_stack(stack).to_json(), findings


def test_each_long_import_gets_a_wait_condition_that_waits_for_its_custom_resource(
    long_template: tuple[Mapping[str, Any], list[tuple[str, str]]],
) -> None:
    template, _ = long_template
    imports = _of_type(template, RESOURCE_TYPE)
    conditions = _of_type(template, "AWS::CloudFormation::WaitCondition")
    handles = _of_type(template, "AWS::CloudFormation::WaitConditionHandle")
    assert len(imports) == len(conditions) == len(handles) == 2
    for condition in conditions.values():
        assert condition["Properties"]["Timeout"] == "43200" and condition["Properties"]["Count"] == 1
        (handle_id,) = [h for h in handles if condition["Properties"]["Handle"] == {"Ref": h}]
        (import_id,) = condition["DependsOn"]
        properties = imports[import_id]["Properties"]
        assert properties["WaitMode"] == "SIGNAL" and properties["WaitHandle"] == {"Ref": handle_id}
        assert properties["WaitTimeoutSeconds"] == "43200" and properties["WaitIntervalSeconds"] == "30"


def test_the_solution_starts_after_every_wait_condition(
    long_template: tuple[Mapping[str, Any], list[tuple[str, str]]],
) -> None:
    template, _ = long_template
    (solution,) = _of_type(template, "AWS::Personalize::Solution").values()
    assert set(_of_type(template, "AWS::CloudFormation::WaitCondition")) <= set(solution["DependsOn"])


def test_long_imports_share_one_waiter_and_add_no_function_beyond_the_first(tmp_path: Path) -> None:
    def count(imports: int) -> tuple[int, int]:
        template = Template.from_stack(_long_stack(App(outdir=str(tmp_path / str(imports))), imports=imports)).to_json()
        return len(_of_type(template, "AWS::Lambda::Function")), len(
            _of_type(template, "AWS::StepFunctions::StateMachine")
        )

    one, five = count(1), count(5)
    assert one == five
    assert one[1] == 2  # the Provider framework's waiter and the long waiter


def test_long_imports_are_cfn_lint_and_cdk_nag_clean(
    long_template: tuple[Mapping[str, Any], list[tuple[str, str]]],
) -> None:
    template, findings = long_template
    assert findings == []
    assert cfn_lint_errors(template) == []


def _handle_ids(stack: Stack) -> set[str]:
    return set(_of_type(Template.from_stack(stack).to_json(), "AWS::CloudFormation::WaitConditionHandle"))


def test_an_unchanged_synth_keeps_the_handle_and_a_changed_job_gets_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "v2").mkdir()
    changed = (SAMPLE_DIR / "interactions.csv").read_text() + "user-0,item-0,1700000000,click\n"
    (tmp_path / "v2" / "interactions.csv").write_text(changed)
    first = _handle_ids(_long_stack(App(), imports=1))
    assert first == _handle_ids(_long_stack(App(), imports=1))
    assert first != _handle_ids(_long_stack(App(), imports=1, data=tmp_path / "v2"))
    assert first != _handle_ids(_long_stack(App(), imports=1, import_mode=ImportMode.INCREMENTAL))
    assert first == _handle_ids(_long_stack(App(), imports=1, tags={"team": "recs"}))


def test_do_not_wait_adds_no_wait_condition_and_the_resource_says_so(tmp_path: Path) -> None:
    stack = Stack(App(), "NoWait", env=ENV)
    DatasetImport(
        stack, "Imp", dataset_arn=DATASET_ARN, data=DataSource.from_asset(SAMPLE_DIR), wait=ImportWait.do_not_wait()
    )
    template = Template.from_stack(stack).to_json()
    assert not _of_type(template, "AWS::CloudFormation::WaitCondition")
    (properties,) = [r["Properties"] for r in _of_type(template, RESOURCE_TYPE).values()]
    assert properties["WaitMode"] == "NONE"


@pytest.mark.parametrize("timeout", [Duration.seconds(30), Duration.hours(13)])
def test_fails_when_a_long_wait_is_outside_one_minute_to_twelve_hours(timeout: Duration) -> None:
    with pytest.raises(ValueError, match=r"ImportWait\.up_to takes 1 minute to 12 hours"):
        ImportWait.up_to(timeout)


def test_fails_when_a_long_wait_would_overflow_the_waiters_history() -> None:
    stack = Stack(App(), "Long", env=ENV)
    DatasetImport.configure(stack, query_interval=Duration.seconds(10), total_timeout=Duration.minutes(10))
    with pytest.raises(ValueError, match=r"is 4,320 polls, more than the 2,500 a Step Functions execution"):
        DatasetImport(
            stack,
            "Imp",
            dataset_arn=DATASET_ARN,
            data=DataSource.from_asset(SAMPLE_DIR),
            wait=ImportWait.up_to(Duration.hours(12)),
        )


def test_fails_when_an_import_of_the_same_dataset_follows_one_that_does_not_wait() -> None:
    stack = Stack(App(), "NoWait", env=ENV)
    DatasetImport(
        stack, "Bulk", dataset_arn=DATASET_ARN, data=DataSource.from_asset(SAMPLE_DIR), wait=ImportWait.do_not_wait()
    )
    with pytest.raises(
        ValueError, match=r"NoWait/Batch imports into the same dataset after NoWait/Bulk, which does not wait"
    ):
        DatasetImport(
            stack,
            "Batch",
            dataset_arn=DATASET_ARN,
            data=DataSource.from_uri("s3://lake-bucket/batch/"),
            import_mode=ImportMode.INCREMENTAL,
        )
