"""A new user's CDK app: copied out of the checkout by tests/packaging/test_consumer.py and run there.

It imports the installed wheel only; ``mypy --strict`` on this file checks that the public API is typed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_personalize as personalize
from constructs import Construct

import constructs_personalize
from constructs_personalize import DatasetImport, DatasetSchema, DataSource, ImportMode, TrainingDataset

DATA_DIR = Path(__file__).resolve().parent / "data" / "interactions"


class Recommendations(Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        group = personalize.CfnDatasetGroup(self, "Group", name=f"{self.stack_name.lower()}-recs")
        interactions = TrainingDataset(
            self,
            "Interactions",
            dataset_group_arn=group.attr_dataset_group_arn,
            schema=DatasetSchema.interactions(),
            data=DataSource.from_asset(DATA_DIR),
        )
        later: DatasetImport = DatasetImport(
            self,
            "Batch",
            dataset_arn=interactions.dataset_arn,
            schema=DatasetSchema.interactions(),
            data=DataSource.from_asset("data/interactions"),  # relative to the app's cwd, as in the README
            import_mode=ImportMode.INCREMENTAL,
        )
        later.node.add_dependency(interactions.data_import)


def main(out_dir: str) -> None:
    app = App(outdir=out_dir)
    Recommendations(app, "RecsDev")
    app.synth()
    # Where the library was imported from: the test asserts it is the fresh venv's site-packages.
    print(json.dumps({"module_file": constructs_personalize.__file__, "version": constructs_personalize.__version__}))


if __name__ == "__main__":
    main(sys.argv[1])
