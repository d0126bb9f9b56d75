#!/usr/bin/env python3
"""Integration test: ``DatasetImport`` against the real Amazon Personalize (needs an AWS account).

Two test cases, each its own stack plus the assertion stack ``IntegTest`` adds:

``PersonalizeIntegImport`` (``DatasetImportIntegTest``)
    A dataset group, the interactions schema, a dataset and a ``DatasetImport`` of the sample in
    ``data/interactions/`` (1,500 rows, ``DataSource.from_asset``, pre-flight check on). The deploy
    itself holds until the job is ACTIVE; the assertions then check, through the Personalize API,
    that ``DescribeDatasetImportJob`` says ``ACTIVE``, that the dataset is ``ACTIVE`` and that
    ``ListDatasetImportJobs`` lists that job, ACTIVE, for that dataset (the dataset has data).

``PersonalizeIntegBadTimestamps`` (``DatasetImportFailureIntegTest``)
    The same resources, importing ``integ/data/millisecond_timestamps/`` (the sample with every
    TIMESTAMP multiplied by 1,000) with ``validate_data=False`` so that the synth lets it through.
    Personalize must fail that job with a ``failureReason`` about the timestamp. integ-runner has no
    "expect this deploy to fail": a stack whose deploy fails fails the test, and it would not tell a
    rejected import from a missing permission. So this stack starts the job with
    ``ImportWait.do_not_wait()`` (the deploy succeeds as soon as the job is created) and an assertion
    polls ``DescribeDatasetImportJob`` (``wait_for_assertions``, up to 1 hour) until the job is
    ``CREATE FAILED`` with a ``failureReason`` that mentions the timestamp. What that checks is the
    thing ``ImportWait.within_deployment()`` turns into a failed deploy: the job's own status and
    reason, which the tests of the handler (``tests/runtime``, ``tests/lifecycle``) show being
    reported as the CloudFormation failure. Should the real service accept millisecond timestamps
    after all, the job ends ACTIVE, the assertion never matches and the test fails after its hour.

Run it for real (an AWS account with credentials in the environment, a CDK-bootstrapped region) with
``make integ-deploy`` (``scripts/integ_run.py``): it prints the account, region and what the run creates,
asks, deploys every stack with the pinned CDK CLI (the assertions are custom resources that run during
that deploy) and always destroys them; ``make integ-dry-run`` prints the same plan offline. The
assertions need no runner: ``@aws-cdk/integ-runner`` (2.197.10, the newest on npm) cannot read cloud
assemblies written by aws-cdk-lib 2.258 or later (schema 55, it knows 53), so it is optional, for when a
runner that reads schema 55 is released.

Time and cost: creating the dataset group and dataset takes a minute or two; each import job of
1,500 rows (55 KB) typically takes 5 to 20 minutes, the failing one about as long before it fails;
count 30 to 60 minutes for the run. Personalize charges data ingestion per GB (55 KB is a
fraction of a cent); the Lambda functions, Step Functions waiters, S3 and CloudWatch Logs add a
few cents at most. The dataset groups hold no solutions or campaigns, which is where Personalize
costs add up; the run destroys the stacks (dataset groups included), but check after a failed
or interrupted run that no ``personalizeinteg*`` dataset group is left in the region.

Offline, ``tests/integ/test_integ_snapshot.py`` synthesizes this app and compares every stack's
template, asset hashes normalized, with ``integ/snapshot/``. After an intended change refresh it:

    .venv/bin/python integ/integ_dataset_import.py --update-snapshot
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # integ-runner runs this file as a script, from wherever
    sys.path.insert(0, str(ROOT))

from aws_cdk import App, Duration, Stack  # noqa: E402
from aws_cdk import aws_personalize as personalize  # noqa: E402
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest, Match  # noqa: E402
from constructs import Construct  # noqa: E402

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, ImportWait  # noqa: E402

SAMPLE_DATA = ROOT / "data" / "interactions"
MILLISECOND_DATA = Path(__file__).resolve().parent / "data" / "millisecond_timestamps"
SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"

IMPORT_STACK = "PersonalizeIntegImport"
BAD_TIMESTAMPS_STACK = "PersonalizeIntegBadTimestamps"
# Case-insensitive "timestamp" for a JavaScript RegExp (no inline flags there).
MENTIONS_TIMESTAMP = "[Tt][Ii][Mm][Ee][Ss][Tt][Aa][Mm][Pp]"


class ImportStack(Stack):
    """A dataset group, schema and interactions dataset, filled by one ``DatasetImport``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data: DataSource,
        validate_data: bool = True,
        wait: ImportWait | None = None,
    ) -> None:
        super().__init__(scope, id, stack_name=id, description=f"constructs_personalize integ test {id}")
        # Personalize names are unique per account and region: derive them from the stack name.
        prefix = self.stack_name.lower()[:40]
        schema = DatasetSchema.interactions()
        group = personalize.CfnDatasetGroup(self, "DatasetGroup", name=prefix)
        schema_resource = personalize.CfnSchema(self, "Schema", name=f"{prefix}-schema", schema=schema.to_json())
        self.dataset = personalize.CfnDataset(
            self,
            "Dataset",
            name=f"{prefix}-interactions",
            dataset_group_arn=group.attr_dataset_group_arn,
            dataset_type=schema.dataset_type.value,
            schema_arn=schema_resource.attr_schema_arn,
        )
        self.data_import = DatasetImport(
            self,
            "Interactions",
            dataset_arn=self.dataset.attr_dataset_arn,
            schema=schema,
            data=data,
            validate_data=validate_data,
            wait=wait or ImportWait.within_deployment(),
        )


def build_app(app: App | None = None) -> App:
    """Both test cases and their assertions."""
    app = app or App()

    imported = ImportStack(app, IMPORT_STACK, data=DataSource.from_asset(SAMPLE_DATA))
    # One deploy per run: the update workflow (deploy the stored snapshot, then this) would run a
    # second import job for nothing.
    integ = IntegTest(app, "DatasetImportIntegTest", test_cases=[imported], stack_update_workflow=False)
    job = {"datasetImportJobArn": imported.data_import.job_arn}
    integ.assertions.aws_api_call("Personalize", "describeDatasetImportJob", job).expect(
        ExpectedResult.object_like(
            {"datasetImportJob": {"datasetImportJobArn": imported.data_import.job_arn, "status": "ACTIVE"}}
        )
    )
    dataset = {"datasetArn": imported.dataset.attr_dataset_arn}
    integ.assertions.aws_api_call("Personalize", "describeDataset", dataset).expect(
        ExpectedResult.object_like({"dataset": {"datasetArn": imported.dataset.attr_dataset_arn, "status": "ACTIVE"}})
    )
    integ.assertions.aws_api_call("Personalize", "listDatasetImportJobs", dataset).expect(
        ExpectedResult.object_like(
            {
                "datasetImportJobs": Match.array_with(
                    [{"datasetImportJobArn": imported.data_import.job_arn, "status": "ACTIVE"}]
                )
            }
        )
    )

    rejected = ImportStack(
        app,
        BAD_TIMESTAMPS_STACK,
        data=DataSource.from_asset(MILLISECOND_DATA),
        validate_data=False,  # the pre-flight check would stop this data at synth
        wait=ImportWait.do_not_wait(),  # the deploy succeeds; the assertion below waits for the failure
    )
    failing = IntegTest(app, "DatasetImportFailureIntegTest", test_cases=[rejected], stack_update_workflow=False)
    failing.assertions.aws_api_call(
        "Personalize", "describeDatasetImportJob", {"datasetImportJobArn": rejected.data_import.job_arn}
    ).expect(
        ExpectedResult.object_like(
            {
                "datasetImportJob": {
                    "status": "CREATE FAILED",
                    "failureReason": Match.string_like_regexp(MENTIONS_TIMESTAMP),
                }
            }
        )
    ).wait_for_assertions(total_timeout=Duration.hours(1), interval=Duration.minutes(1), backoff_rate=1)
    return app


# --- Offline snapshot (tests/integ/test_integ_snapshot.py) -------------------------------------------

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
# What differs between two synths of an unchanged app, or after a CDK-internal asset change: asset
# hashes (S3 keys, parameters), the import's DataVersion (a digest of its asset hashes) and the
# assertion provider's "salt" (the synth time, so that assertions run again on every deploy).
_VOLATILE_KEYS = frozenset({"salt", "DataVersion"})


def normalize(value: Any) -> Any:
    """A template with asset hashes replaced by ``<asset-hash>`` and ``_VOLATILE_KEYS`` by ``<volatile>``."""
    if isinstance(value, Mapping):
        return {
            normalize(key): ("<volatile>" if key in _VOLATILE_KEYS else normalize(item)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, str):
        return _ASSET_HASH.sub("<asset-hash>", value)
    return value


def synth_templates(outdir: Path) -> dict[str, Any]:
    """Synthesize the app into ``outdir``: each stack's normalized template, by artifact id."""
    assembly = build_app(App(outdir=str(outdir))).synth()
    return {stack.id: normalize(stack.template) for stack in assembly.stacks}


def snapshot_text(template: Any) -> str:
    return json.dumps(template, indent=1, sort_keys=True) + "\n"


def read_snapshot() -> dict[str, Any]:
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in sorted(SNAPSHOT_DIR.glob("*.template.json"))
    }


def update_snapshot() -> list[Path]:
    """Rewrite ``integ/snapshot/`` from a fresh synth; return the files written."""
    with tempfile.TemporaryDirectory() as outdir:
        templates = synth_templates(Path(outdir))
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    for stale in SNAPSHOT_DIR.glob("*.template.json"):
        stale.unlink()
    written = []
    for artifact_id, template in sorted(templates.items()):
        path = SNAPSHOT_DIR / f"{artifact_id}.template.json"
        path.write_text(snapshot_text(template))
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--update-snapshot"]:
        for path in update_snapshot():
            print(path.relative_to(ROOT))
    elif sys.argv[1:]:
        sys.exit(f"usage: {sys.argv[0]} [--update-snapshot]")
    else:
        build_app().synth()
