"""A stand-in for the handler's long mode, written to the contract the library is being built to.

For the emulator's own tests of wait conditions and waiter executions, before the real handler has
them (``provider_settings.handler_framework`` wires the real one once it does):
- ``on_event`` (Create, Update): starts the job with the single-attempt client; the 5-jobs quota
  (LimitExceededException) defers the start to is_complete; a job that exists is taken as is;
- ``is_complete``: until the job exists, tries to start it again; then starts the waiter execution
  (``start_waiter(WaiterStateMachineArn, <job name>, input)``) and answers complete at once;
- ``wait_step`` (the waiter's Task): describes the job and signals the handle (``signal``) when the job
  is ACTIVE (SUCCESS), CREATE FAILED (FAILURE, the failureReason) or its deadline passed (FAILURE),
  returning ``{"Done": true}`` then, else its input with ``"Done": false``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from constructs_personalize.handlers.dataset_import import contract
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.world import World

Signal = Callable[[str, Mapping[str, str]], None]
StartWaiter = Callable[[str, str, str], None]


class FakeLongImport:
    def __init__(
        self,
        world: World,
        *,
        start_waiter: StartWaiter | None = None,
        signal: Signal | None = None,
        data: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.world = world
        self.start_waiter = start_waiter or world.start_waiter
        self.signal = signal or world.signal
        self.data = data or (lambda job: str(job["datasetImportJobArn"]))
        self.client = world.personalize()
        self.start_client = world.personalize_single_attempt()
        self.steps: list[tuple[float, str]] = []  # (virtual time, job name) of every wait_step call
        self.deferred: list[tuple[float, str]] = []  # (virtual time, job name) of every start the quota refused

    def framework(self, *, query_interval: float = 30.0, total_timeout: float = 3600.0) -> ProviderFramework:
        return ProviderFramework(
            self.on_event,
            self.is_complete,
            self.world.clock,
            query_interval=query_interval,
            total_timeout=total_timeout,
            functions={contract.WAIT_STEP: self.wait_step},
        )

    def _arn(self, name: str) -> str:
        return f"arn:aws:personalize:{self.world.region}:{self.world.account}:dataset-import-job/{name}"

    def _start(self, props: Mapping[str, Any]) -> None:
        try:
            self.start_client.create_dataset_import_job(
                jobName=props["JobName"],
                datasetArn=props["DatasetArn"],
                dataSource={"dataLocation": props["DataLocation"]},
                roleArn=props["RoleArn"],
                importMode=props.get("ImportMode", "FULL"),
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "LimitExceededException":
                self.deferred.append((self.world.clock(), str(props["JobName"])))
            elif code != "ResourceAlreadyExistsException":
                raise

    def on_event(self, event: dict[str, Any]) -> dict[str, Any]:
        if event["RequestType"] == "Delete":
            return {"PhysicalResourceId": event["PhysicalResourceId"]}
        props = event["ResourceProperties"]
        self._start(props)
        return {"PhysicalResourceId": self._arn(props["JobName"])}

    def is_complete(self, event: dict[str, Any]) -> dict[str, Any]:
        if event["RequestType"] == "Delete":
            return {"IsComplete": True}
        props, arn = event["ResourceProperties"], event["PhysicalResourceId"]
        try:
            self.client.describe_dataset_import_job(datasetImportJobArn=arn)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            self._start(props)
            return {"IsComplete": False}
        waiter_input = {
            "JobArn": arn,
            "JobName": props["JobName"],
            "WaitHandle": props["WaitHandle"],
            "WaitIntervalSeconds": int(props["WaitIntervalSeconds"]),
            "Deadline": self.world.clock() + int(props["WaitTimeoutSeconds"]),
        }
        self.start_waiter(props["WaiterStateMachineArn"], props["JobName"], json.dumps(waiter_input))
        return {"IsComplete": True, "Data": {"DatasetImportJobArn": arn}}

    def wait_step(self, event: dict[str, Any]) -> dict[str, Any]:
        now, name = self.world.clock(), str(event["JobName"])
        self.steps.append((now, name))
        job = dict(self.client.describe_dataset_import_job(datasetImportJobArn=event["JobArn"])["datasetImportJob"])
        status = job["status"]
        if status == "ACTIVE":
            body = {"Status": "SUCCESS", "UniqueId": name, "Reason": "import job ACTIVE", "Data": self.data(job)}
        elif status == "CREATE FAILED":
            body = {"Status": "FAILURE", "UniqueId": name, "Reason": str(job.get("failureReason", ""))}
        elif now >= float(event["Deadline"]):
            body = {"Status": "FAILURE", "UniqueId": name, "Reason": f"import job still {status} at the deadline"}
        else:
            return {**event, "Done": False}
        self.signal(str(event["WaitHandle"]), body)
        return {**event, "Done": True}
