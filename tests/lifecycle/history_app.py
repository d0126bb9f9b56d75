"""The stack the history test deploys again and again: one dataset, a main import and an optional batch.

A ``Config`` is one synth of it: the main import's mode and data, an optional INCREMENTAL batch, the
jobs' tags, and whether the update breaks (an import of bad data into a second dataset, ordered after
the others, fails it, so CloudFormation rolls the whole update back). Names Personalize keeps unique
per account and region carry the stack name, so one synth deploys as several copies in one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, Aws, Duration, Fn, Stack
from aws_cdk import aws_personalize as personalize

from app import INTERACTIONS_SCHEMA
from constructs_personalize import DatasetImport, DataSource, ImportMode, ImportWait
from tests.emulator.samples import HEADER, interactions_csv
from tests.infra.helpers import ENV

TEMPLATE = "RecsHistory"
# Data versions: FULL data "a" and "b", INCREMENTAL data "m" (the main import switched to INCREMENTAL),
# batches "x" and "y". Each is valid on its own (1,000 rows or more) and shares no record with another.
ROWS = {"a": 1200, "b": 1100, "m": 1000, "x": 1050, "y": 1000}


@dataclass(frozen=True)
class Config:
    main: str  # "a" or "b" (FULL), or "m" (INCREMENTAL)
    batch: str | None  # "x" or "y" (INCREMENTAL), or None
    tags: str  # the jobs' tag value
    broken: bool = False
    long: bool = False  # the main import and the batch wait with ImportWait.up_to (a wait condition each)

    @property
    def main_mode(self) -> str:
        return "INCREMENTAL" if self.main == "m" else "FULL"

    def key(self) -> str:
        wait = "-long" if self.long else ""
        return f"{self.main}-{self.batch or 'none'}-{self.tags}-{'broken' if self.broken else 'ok'}{wait}"


def csv_body(version: str, *, timestamp_scale: int = 1) -> bytes:
    """The records of one data version: users and items named after it, so versions never share a record."""
    body = interactions_csv(rows=ROWS[version], timestamp_scale=timestamp_scale).decode("utf-8")
    lines = body.splitlines()
    renamed = [lines[0]] + [
        line.replace("user-", f"{version}-user-").replace("item-", f"{version}-item-") for line in lines[1:]
    ]
    assert renamed[0] == HEADER
    return ("\n".join(renamed) + "\n").encode("utf-8")


def data_dirs(root: Path) -> dict[str, Path]:
    """One folder per data version (and "bad": millisecond timestamps), each with one CSV file."""
    folders = {}
    for version in [*ROWS, "bad"]:
        folder = root / version
        folder.mkdir(parents=True, exist_ok=True)
        body = csv_body("a", timestamp_scale=1000) if version == "bad" else csv_body(version)
        (folder / "interactions.csv").write_bytes(body)
        folders[version] = folder
    return folders


def _dataset(stack: Stack, id: str) -> personalize.CfnDataset:
    # Unique per stack instance: two copies of the stack live side by side in one account.
    name = Fn.join("-", [id.lower(), Aws.STACK_NAME])
    group = personalize.CfnDatasetGroup(stack, f"{id}Group", name=name)
    schema = personalize.CfnSchema(stack, f"{id}Schema", name=name, schema=INTERACTIONS_SCHEMA.to_json())
    return personalize.CfnDataset(
        stack,
        id,
        name=name,
        dataset_group_arn=group.attr_dataset_group_arn,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    )


def synth(config: Config, data: dict[str, Path], outdir: Path) -> Path:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, TEMPLATE, env=ENV)
    dataset_arn = _dataset(stack, "Interactions").attr_dataset_arn
    tags = {"team": config.tags}
    wait = ImportWait.up_to(Duration.hours(2)) if config.long else None
    imports = [
        DatasetImport(
            stack,
            "Main",
            dataset_arn=dataset_arn,
            data=DataSource.from_asset(data[config.main]),
            import_mode=ImportMode(config.main_mode),
            schema=INTERACTIONS_SCHEMA,
            tags=tags,
            wait=wait,
        )
    ]
    if config.batch is not None:
        imports.append(
            DatasetImport(
                stack,
                "Batch",
                dataset_arn=dataset_arn,
                data=DataSource.from_asset(data[config.batch]),
                import_mode=ImportMode.INCREMENTAL,
                schema=INTERACTIONS_SCHEMA,
                tags=tags,
                wait=wait,
            )
        )
    if config.broken:
        breaker = DatasetImport(
            stack,
            "Breaker",
            dataset_arn=_dataset(stack, "Probe").attr_dataset_arn,
            data=DataSource.from_asset(data["bad"]),
            validate_data=False,
        )
        breaker.node.add_dependency(*imports)
    app.synth()
    return outdir
