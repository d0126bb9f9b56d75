"""The library's order of the imports of one dataset, against user dependencies: refused at synth, or kept.

The library runs the imports of one dataset FULL first, then in declaration order. A user dependency
the other way round would make a circular template; any other dependency must synthesize cleanly.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk.assertions import Template
from constructs import Construct

from constructs_personalize import (
    DatasetImport,
    DatasetSchema,
    DataSource,
    ImportMode,
    ImportWait,
    TrainingDataset,
)
from tests.constants import DATASET_ARN, ITEMS_ARN
from tests.infra.helpers import ENV, cfn_lint_errors

GROUP = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop"
ORDER = "FULL first, then in declaration order"


def _stack() -> Stack:
    return Stack(App(), "Ordered", env=ENV)


def _import(
    scope: Construct, id: str, *, mode: ImportMode = ImportMode.FULL, dataset_arn: str = DATASET_ARN, **extra: Any
) -> DatasetImport:
    # Data already in S3: nothing is read or uploaded at synth, the order is all there is.
    return DatasetImport(
        scope,
        id,
        dataset_arn=dataset_arn,
        data=DataSource.from_uri(f"s3://existing-training-data/{id.lower()}/"),
        import_mode=mode,
        **extra,
    )


def _synth_fails(stack: Stack) -> str:
    app = stack.node.root
    assert isinstance(app, App)
    with pytest.raises(RuntimeError, match="Validation failed") as error:
        app.synth()
    return str(error.value)


def _synthesizes_cleanly(stack: Stack) -> None:
    assert cfn_lint_errors(Template.from_stack(stack).to_json()) == []


@pytest.mark.parametrize("wait", [None, ImportWait.up_to(Duration.hours(6))], ids=["within-deployment", "long-wait"])
def test_full_made_to_wait_for_an_incremental_of_its_dataset_fails_the_synth(wait: ImportWait | None) -> None:
    stack = _stack()
    full = _import(stack, "Full", wait=wait)
    batch = _import(stack, "Batch", mode=ImportMode.INCREMENTAL, wait=wait)
    full.node.add_dependency(batch)
    message = _synth_fails(stack)
    assert "Ordered/Full (FULL) depends on Ordered/Batch (INCREMENTAL)" in message
    assert ORDER in message and "Ordered/Batch waits for Ordered/Full" in message
    assert "Drop the dependency" in message
    assert "a FULL import of a dataset always runs before its INCREMENTAL imports" in message


def test_the_same_through_a_training_dataset_and_a_construct_holding_the_batch() -> None:
    stack = _stack()
    interactions = TrainingDataset(
        stack,
        "Interactions",
        dataset_group_arn=GROUP,
        schema=DatasetSchema.interactions(),
        data=DataSource.from_uri("s3://existing-training-data/full/"),
    )
    later = Construct(stack, "Later")
    _import(later, "Batch", mode=ImportMode.INCREMENTAL, dataset_arn=interactions.dataset_arn)
    interactions.node.add_dependency(later)
    message = _synth_fails(stack)
    assert "Ordered/Interactions/Import (FULL) depends on Ordered/Later/Batch (INCREMENTAL)" in message


def test_the_same_through_constructs_holding_each_import() -> None:
    stack = _stack()
    bulk, batches = Construct(stack, "Bulk"), Construct(stack, "Batches")
    _import(bulk, "Full")
    _import(batches, "Batch", mode=ImportMode.INCREMENTAL)
    bulk.node.add_dependency(batches)
    assert "Ordered/Bulk/Full (FULL) depends on Ordered/Batches/Batch (INCREMENTAL)" in _synth_fails(stack)


def test_incrementals_against_their_declaration_order_name_the_way_to_run_one_first() -> None:
    stack = _stack()
    _import(stack, "Full")
    first = _import(stack, "First", mode=ImportMode.INCREMENTAL)
    second = _import(stack, "Second", mode=ImportMode.INCREMENTAL)
    first.node.add_dependency(second)
    message = _synth_fails(stack)
    assert "Ordered/First (INCREMENTAL) depends on Ordered/Second (INCREMENTAL)" in message
    assert "to run Ordered/Second first, declare it before Ordered/First" in message


def test_only_the_dependency_the_user_added_is_named() -> None:
    # Full runs before First and Second; only Full -> Second is the user's, Full -> First is not named.
    stack = _stack()
    full = _import(stack, "Full")
    _import(stack, "First", mode=ImportMode.INCREMENTAL)
    second = _import(stack, "Second", mode=ImportMode.INCREMENTAL)
    full.node.add_dependency(second)
    message = _synth_fails(stack)
    assert re.findall(r"Ordered/\w+ \(\w+\) depends on Ordered/\w+", message) == [
        "Ordered/Full (FULL) depends on Ordered/Second"
    ]


def test_a_dependency_in_the_library_order_synthesizes_cleanly() -> None:
    stack = _stack()
    batch = _import(stack, "Batch", mode=ImportMode.INCREMENTAL)
    full = _import(stack, "Full")
    batch.node.add_dependency(full)
    _synthesizes_cleanly(stack)


@pytest.mark.parametrize(
    ("source", "target"), [("Full", "Items"), ("Items", "Full"), ("Batch", "Items"), ("Items", "Batch")]
)
def test_imports_of_different_datasets_synthesize_in_any_user_order(source: str, target: str) -> None:
    stack = _stack()
    imports = {
        "Full": _import(stack, "Full"),
        "Batch": _import(stack, "Batch", mode=ImportMode.INCREMENTAL),
        "Items": _import(stack, "Items", dataset_arn=ITEMS_ARN),
    }
    imports[source].node.add_dependency(imports[target])
    _synthesizes_cleanly(stack)


def test_a_loop_through_an_import_of_another_dataset_fails_the_synth() -> None:
    # Each dependency alone is fine; together, with the library's Batch -> Full, they close a loop.
    stack = _stack()
    full = _import(stack, "Full")
    batch = _import(stack, "Batch", mode=ImportMode.INCREMENTAL)
    items = _import(stack, "Items", dataset_arn=ITEMS_ARN)
    full.node.add_dependency(items)
    items.node.add_dependency(batch)
    assert "Ordered/Full (FULL) depends on Ordered/Batch (INCREMENTAL)" in _synth_fails(stack)
