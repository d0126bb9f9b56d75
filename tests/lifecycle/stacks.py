"""Stacks synthesized for the lifecycle tests: real ``DatasetImport`` constructs, emulated deploys."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_personalize as personalize

from app import INTERACTIONS_SCHEMA, build_app
from constructs_personalize import DatasetImport, DatasetSchema, DataSource, ImportWait, TrainingDataset
from tests.constants import SAMPLE_DIR
from tests.emulator.samples import interactions_csv
from tests.infra.helpers import ENV

STACK = "LifecycleStack"
EXAMPLE_STACK = "PersonalizeImportExample"
BATCH = 6  # one more than Personalize's 5 import jobs in flight


def _app(outdir: Path) -> App:
    # Path metadata (as the CDK CLI adds it) lets the tests find each import's custom resource.
    return App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})


def _dataset_arn(stack: Stack, suffix: str = "") -> str:
    # One dataset per import: imports of one dataset run one after the other (the library orders them),
    # and these tests send each import's events themselves, side by side.
    name = f"lifecycle{suffix}"
    group = personalize.CfnDatasetGroup(stack, f"DatasetGroup{suffix}", name=name)
    schema = personalize.CfnSchema(
        stack, f"Schema{suffix}", name=f"{name}-interactions", schema=INTERACTIONS_SCHEMA.to_json()
    )
    dataset = personalize.CfnDataset(
        stack,
        f"Interactions{suffix}",
        name=f"{name}-interactions",
        dataset_group_arn=group.attr_dataset_group_arn,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    )
    return dataset.attr_dataset_arn


def _write(directory: Path, body: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "interactions.csv").write_bytes(body)
    return directory


def synth_lifecycle(outdir: Path, data_dir: Path, *, good_data: Path = SAMPLE_DIR, only_good: bool = False) -> Path:
    """The lifecycle stack: Good, Bad (millisecond timestamps) and BATCH imports of the sample."""
    app = _app(outdir)
    stack = Stack(app, STACK, env=ENV)
    DatasetImport(stack, "Good", dataset_arn=_dataset_arn(stack), data=DataSource.from_asset(good_data))
    if not only_good:
        bad = _write(data_dir / "bad", interactions_csv(timestamp_scale=1000))
        DatasetImport(stack, "Bad", dataset_arn=_dataset_arn(stack, "-bad"), data=DataSource.from_asset(bad))
        for index in range(BATCH):
            DatasetImport(
                stack,
                f"Batch{index}",
                dataset_arn=_dataset_arn(stack, f"-batch{index}"),
                data=DataSource.from_asset(SAMPLE_DIR),
            )
    app.synth()
    return outdir


def synth_changed_good(outdir: Path, data_dir: Path) -> Path:
    """The same Good import after its data changed (one more row): a new synth of the same construct."""
    body = (SAMPLE_DIR / "interactions.csv").read_bytes() + b"user-0,item-0,1700000000,click\n"
    return synth_lifecycle(outdir, data_dir, good_data=_write(data_dir / "changed", body), only_good=True)


def synth_example(outdir: Path) -> Path:
    build_app(_app(outdir)).synth()
    return outdir


def independent_imports(stack: Stack, prefix: str, imports: int, wait: ImportWait) -> None:
    """``imports`` TrainingDatasets of the sample, each in a dataset group of its own: nothing orders them.

    Personalize holds one interactions dataset per dataset group, so each import gets a group, and the
    imports compete only for the region's 5 import slots.
    """
    for index in range(imports):
        group = personalize.CfnDatasetGroup(stack, f"Group{index}", name=f"{prefix}-{index}")
        TrainingDataset(
            stack,
            f"Interactions{index}",
            name=f"{prefix}-{index}-interactions",
            dataset_group_arn=group.attr_dataset_group_arn,
            schema=DatasetSchema.interactions(),
            data=DataSource.from_asset(SAMPLE_DIR),
            wait=wait,
        )
