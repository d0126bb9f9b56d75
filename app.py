#!/usr/bin/env python3
"""Example: a Personalize dataset group whose interactions are imported during ``cdk deploy``.

Copy this stack: it creates the dataset group, the interactions schema and dataset, and a
``DatasetImport`` that uploads ``data/interactions/`` and holds the deployment until the import
job is ACTIVE. Regenerate the sample with ``python scripts/generate_sample_data.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, CfnOutput, Stack
from aws_cdk import aws_personalize as personalize
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize import DatasetImport, ImportMode

DATA_DIR = Path(__file__).resolve().parent / "data" / "interactions"

INTERACTIONS_SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
    ],
    "version": "1.0",
}


class PersonalizeExampleStack(Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, description="constructs_personalize example: deploy-time interactions import")
        group = personalize.CfnDatasetGroup(self, "DatasetGroup", name="constructs-personalize-example")
        schema = personalize.CfnSchema(
            self,
            "InteractionsSchema",
            name="constructs-personalize-example-interactions",
            schema=json.dumps(INTERACTIONS_SCHEMA),
        )
        dataset = personalize.CfnDataset(
            self,
            "Interactions",
            name="constructs-personalize-example-interactions",
            dataset_group_arn=group.attr_dataset_group_arn,
            dataset_type="Interactions",
            schema_arn=schema.attr_schema_arn,
        )

        self.interactions_import = DatasetImport(
            self,
            "InteractionsImport",
            dataset_arn=dataset.attr_dataset_arn,
            sources=[s3_deployment.Source.asset(str(DATA_DIR))],
            import_mode=ImportMode.FULL,
            tags={"project": "constructs-personalize-example"},
        )
        CfnOutput(self, "ImportJobArn", value=self.interactions_import.job_arn)
        CfnOutput(self, "DataBucketName", value=self.interactions_import.bucket.bucket_name)


def build_app(app: App | None = None) -> App:
    app = app or App()
    PersonalizeExampleStack(app, "PersonalizeImportExample")
    return app


if __name__ == "__main__":
    build_app().synth()
