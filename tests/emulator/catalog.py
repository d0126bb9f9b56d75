"""Dataset groups, schemas and datasets of the emulated Personalize: create, describe and delete.

``CatalogOperations`` is a part of ``PersonalizeEmulator`` (which holds the tables and dispatches
``_op_<Operation>`` methods). Deletion, as the Personalize API reference describes it:
- DeleteDataset fails with ResourceInUseException while one of the dataset's import jobs is
  CREATE PENDING or CREATE IN_PROGRESS (a job can be neither stopped nor deleted, so a stack's
  rollback or delete that reaches the dataset before its import ended fails there);
- DeleteSchema fails with ResourceInUseException while a dataset uses the schema;
- DeleteDatasetGroup fails with ResourceInUseException while the group still has datasets;
- a deleted dataset group or dataset is DELETE PENDING for ``delete_seconds`` of virtual time (the
  name still taken, the ARN still described), then gone: its name can be created again, and the new
  resource has the same ARN. A schema goes at once (it has no status);
- import jobs are never deleted: a job of a deleted dataset still describes, unchanged, and its
  name stays taken for good.
"""

from __future__ import annotations

from typing import Any

from tests.constants import ACCOUNT
from tests.emulator import importer
from tests.emulator.clock import VirtualClock
from tests.emulator.state import ACTIVE, DATASET_TYPES, DELETE_PENDING, IN_FLIGHT, Job, Resource, ServiceError
from tests.emulator.tagging import TagStore


class CatalogOperations:
    """The operations on dataset groups, schemas and datasets (a base of ``PersonalizeEmulator``)."""

    clock: VirtualClock
    region: str
    dataset_group_seconds: float
    dataset_seconds: float
    delete_seconds: float  # how long a deleted dataset group or dataset stays DELETE PENDING
    _tags: TagStore
    _groups: dict[str, Resource]
    _schemas: dict[str, Resource]
    _datasets: dict[str, Resource]
    _jobs: dict[str, Job]

    # -- helpers -------------------------------------------------------------------------------
    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:personalize:{self.region}:{ACCOUNT}:{kind}/{name}"

    @staticmethod
    def _find(table: dict[str, Any], arn: str, what: str) -> Any:
        found = table.get(arn)
        if found is None:
            raise ServiceError("ResourceNotFoundException", f"Could not find the {what} with ARN {arn}")
        return found

    @staticmethod
    def _unique(table: dict[str, Any], arn: str, what: str) -> None:
        if arn in table:
            raise ServiceError("ResourceAlreadyExistsException", f"A {what} with ARN {arn} already exists")

    def _purge_deleted(self, now: float) -> None:
        """Remove what finished deleting: from now on its name is free and its ARN not found."""
        for table in (self._datasets, self._groups):
            for arn in [arn for arn, item in table.items() if item.gone_at is not None and now >= item.gone_at]:
                del table[arn]
                self._tags.drop(arn)  # a later resource of the same name starts untagged

    def _start_delete(self, resource: Resource, what: str) -> None:
        if resource.delete_started is not None:
            raise ServiceError("ResourceInUseException", f"The {what} {resource.arn} is in {DELETE_PENDING} state")
        now = self.clock()
        resource.delete_started, resource.gone_at = now, now + self.delete_seconds
        self._purge_deleted(now)

    # -- dataset groups --------------------------------------------------------------------------
    def _op_CreateDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("dataset-group", params["name"])
        self._unique(self._groups, arn, "dataset group")
        now = self.clock()
        body = {"name": params["name"], "domain": params.get("domain")}
        self._tags.tag(arn, params.get("tags", []))
        self._groups[arn] = Resource(arn, params["name"], now, now + self.dataset_group_seconds, body)
        result = {"datasetGroupArn": arn}
        if params.get("domain"):
            result["domain"] = params["domain"]
        return result

    def _op_DescribeDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        group: Resource = self._find(self._groups, params["datasetGroupArn"], "dataset group")
        now = self.clock()
        description = {
            "name": group.name,
            "datasetGroupArn": group.arn,
            "status": group.status(now),
            "creationDateTime": group.created,
            "lastUpdatedDateTime": group.last_updated(now),
        }
        if group.body.get("domain"):
            description["domain"] = group.body["domain"]
        return {"datasetGroup": description}

    def _op_DeleteDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        group: Resource = self._find(self._groups, params["datasetGroupArn"], "dataset group")
        # Datasets still being deleted count: they are the group's until they are gone.
        members = sorted(arn for arn, dataset in self._datasets.items() if dataset.body["datasetGroupArn"] == group.arn)
        if members:
            raise ServiceError(
                "ResourceInUseException",
                f"Dataset group {group.arn} still has datasets: {', '.join(members)}. Delete them first.",
            )
        self._start_delete(group, "dataset group")
        return {}

    # -- schemas -----------------------------------------------------------------------------------
    def _op_CreateSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("schema", params["name"])
        self._unique(self._schemas, arn, "schema")
        try:
            fields = importer.parse_schema(params["schema"])
        except ValueError as error:
            raise ServiceError("InvalidInputException", f"Invalid schema: {error}") from error
        now = self.clock()
        body = {"schema": params["schema"], "domain": params.get("domain"), "fields": fields}
        self._schemas[arn] = Resource(arn, params["name"], now, now, body)
        return {"schemaArn": arn}

    def _op_DescribeSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        schema: Resource = self._find(self._schemas, params["schemaArn"], "schema")
        description = {
            "name": schema.name,
            "schemaArn": schema.arn,
            "schema": schema.body["schema"],
            "creationDateTime": schema.created,
            "lastUpdatedDateTime": schema.created,
        }
        if schema.body.get("domain"):
            description["domain"] = schema.body["domain"]
        return {"schema": description}

    def _op_DeleteSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        schema: Resource = self._find(self._schemas, params["schemaArn"], "schema")
        users = sorted(arn for arn, dataset in self._datasets.items() if dataset.body["schemaArn"] == schema.arn)
        if users:
            raise ServiceError("ResourceInUseException", f"Schema {schema.arn} is used by datasets: {', '.join(users)}")
        del self._schemas[schema.arn]
        return {}

    # -- datasets ----------------------------------------------------------------------------------
    def _op_CreateDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        group: Resource = self._find(self._groups, params["datasetGroupArn"], "dataset group")
        self._find(self._schemas, params["schemaArn"], "schema")
        dataset_type = params["datasetType"].upper()
        if dataset_type not in DATASET_TYPES:
            raise ServiceError(
                "InvalidInputException",
                f"Invalid datasetType {params['datasetType']!r}: use one of {', '.join(sorted(DATASET_TYPES))}",
            )
        if group.status(self.clock()) != ACTIVE:
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} is not in ACTIVE state")
        arn = self._arn("dataset", f"{group.name}/{dataset_type}")
        self._unique(self._datasets, arn, "dataset")
        now = self.clock()
        body = {"schemaArn": params["schemaArn"], "datasetGroupArn": group.arn, "datasetType": dataset_type}
        self._tags.tag(arn, params.get("tags", []))
        self._datasets[arn] = Resource(arn, params["name"], now, now + self.dataset_seconds, body)
        return {"datasetArn": arn}

    def _op_DescribeDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        dataset: Resource = self._find(self._datasets, params["datasetArn"], "dataset")
        now = self.clock()
        return {
            "dataset": {
                "name": dataset.name,
                "datasetArn": dataset.arn,
                "datasetGroupArn": dataset.body["datasetGroupArn"],
                "datasetType": dataset.body["datasetType"],
                "schemaArn": dataset.body["schemaArn"],
                "status": dataset.status(now),
                "creationDateTime": dataset.created,
                "lastUpdatedDateTime": dataset.last_updated(now),
            }
        }

    def _op_DeleteDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        dataset: Resource = self._find(self._datasets, params["datasetArn"], "dataset")
        now = self.clock()
        running = sorted(
            job.request["jobName"]
            for job in self._jobs.values()
            if job.dataset_uid == dataset.uid and job.status(now) in IN_FLIGHT
        )
        if running:
            raise ServiceError(
                "ResourceInUseException",
                f"Dataset {dataset.arn} cannot be deleted while its dataset import jobs are CREATE PENDING or "
                f"CREATE IN_PROGRESS: {', '.join(running)}",
            )
        self._start_delete(dataset, "dataset")
        return {}
