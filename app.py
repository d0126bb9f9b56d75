#!/usr/bin/env python3
"""Example: a Personalize dataset group whose interactions are imported during ``cdk deploy``.

Copy this stack: it creates the dataset group and a ``TrainingDataset`` (the typed interactions
schema, the dataset, and a ``DatasetImport`` that checks ``data/interactions/`` against the schema
at synth, uploads it and holds the deployment until the import job is ACTIVE). Regenerate the
sample with ``python scripts/generate_sample_data.py``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, CfnOutput, Stack
from aws_cdk import aws_personalize as personalize
from constructs import Construct

from constructs_personalize import DatasetSchema, DataSource, ImportMode, TrainingDataset, instance_name

DATA_DIR = Path(__file__).resolve().parent / "data" / "interactions"

# USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE: the interactions every recommender can use.
INTERACTIONS_SCHEMA = DatasetSchema.interactions()


class PersonalizeExampleStack(Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, description="constructs_personalize example: deploy-time interactions import")
        # Personalize keeps dataset group and schema names unique per account and region: names derived
        # per stack instance let copies of this stack (stages, pull-request environments) and a stack
        # deployed again after a delete live side by side in one account.
        prefix = self.stack_name.lower()[:40]
        group = personalize.CfnDatasetGroup(self, "DatasetGroup", name=instance_name(prefix))
        # Schema, dataset and import in one; every CSV is checked against the schema at synth.
        self.interactions = TrainingDataset(
            self,
            "Interactions",
            name=f"{prefix}-interactions",
            dataset_group_arn=group.attr_dataset_group_arn,
            schema=INTERACTIONS_SCHEMA,
            data=DataSource.from_asset(DATA_DIR),
            import_mode=ImportMode.FULL,
            tags={"project": "constructs-personalize-example"},
        )
        self.interactions_import = self.interactions.data_import
        CfnOutput(self, "ImportJobArn", value=self.interactions_import.job_arn)
        CfnOutput(self, "DataBucketName", value=self.interactions_import.bucket.bucket_name)


def build_app(app: App | None = None) -> App:
    app = app or App()
    PersonalizeExampleStack(app, "PersonalizeImportExample")
    return app


if __name__ == "__main__":
    build_app().synth()
