"""What a custom resource event asks for: the properties, converted back from CloudFormation's strings.

How a derived job name is made is ``job_names.py``'s job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import contract
from .errors import ImportFailed
from .job_names import GENERATION_HASH_CHARS, derive_job_name, replaces_by_id

Event = Mapping[str, Any]
Response = dict[str, Any]

# Keys added to on_event's result; the framework passes them to every is_complete call.
DEADLINE_KEY = "ImportWaitDeadline"
STARTED_KEY = "ImportStartTriedAt"
# Set when on_event found the job name taken: the job may belong to an earlier dataset of the same ARN.
ADOPTED_KEY = "ImportJobExisted"
# Set when on_event created the job: a mode that does not wait for the end can complete at once.
CREATED_KEY = "ImportJobCreated"
# The FULL job an INCREMENTAL import's name was derived with (found by on_event, kept for is_complete).
BASE_KEY = "ImportBaseJob"


def completed(job_arn: str, job_name: str) -> Response:
    """The answer that completes the resource, with the attributes Fn::GetAtt reads."""
    return {"IsComplete": True, "Data": {contract.ATTR_JOB_ARN: job_arn, contract.ATTR_JOB_NAME: job_name}}


def is_job_arn(value: str) -> bool:
    return value.startswith("arn:") and ":dataset-import-job/" in value


def _as_bool(name: str, value: Any) -> bool:
    # CloudFormation sends every property as a string.
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ImportFailed(f"property {name} must be 'true' or 'false', got {value!r}")


def _required(props: Mapping[str, Any], name: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value:
        raise ImportFailed(f"property {name} is required and must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class WaitSettings:
    """How the deployment waits for the job (not part of the job's identity)."""

    mode: str = contract.WAIT_COMPLETION
    handle: str = ""
    state_machine_arn: str = ""
    timeout_seconds: float = 0.0
    interval_seconds: float = 30.0

    @classmethod
    def from_properties(cls, props: Mapping[str, Any]) -> WaitSettings:
        mode = str(props.get(contract.WAIT_MODE) or contract.WAIT_COMPLETION).upper()
        if mode not in contract.WAIT_MODES:
            raise ImportFailed(
                f"property {contract.WAIT_MODE} must be one of {sorted(contract.WAIT_MODES)}, got {mode!r}"
            )
        if mode != contract.WAIT_SIGNAL:
            return cls(mode)
        try:
            timeout = float(props.get(contract.WAIT_TIMEOUT_SECONDS, ""))
            interval = float(props.get(contract.WAIT_INTERVAL_SECONDS, ""))
        except ValueError as error:
            raise ImportFailed(
                f"properties {contract.WAIT_TIMEOUT_SECONDS} and {contract.WAIT_INTERVAL_SECONDS} must be numbers: "
                f"{error}"
            ) from error
        handle = _required(props, contract.WAIT_HANDLE)
        return cls(mode, handle, _required(props, contract.WAITER_STATE_MACHINE_ARN), timeout, interval)


@dataclass(frozen=True)
class ImportRequest:
    """The custom resource properties, converted back from CloudFormation's strings."""

    job_name: str
    dataset_arn: str
    role_arn: str
    data_location: str
    import_mode: str
    publish_attribution_metrics_to_s3: bool | None
    tags: tuple[tuple[str, str], ...]
    # False when the name was derived (JobNamePrefix): a replaced role then reads the same data.
    explicit_name: bool = True
    wait: WaitSettings = WaitSettings()
    # The job of the FULL import ordered before this one in the stack (property AfterJob; empty when none).
    after_job: str = ""
    # INCREMENTAL: the dataset's latest ACTIVE FULL job when the request arrived (what the batch adds to).
    base: str = ""

    @classmethod
    def from_properties(
        cls, props: Mapping[str, Any], stack_id: str = "", request_id: str = "", base: str = ""
    ) -> ImportRequest:
        mode = str(props.get(contract.IMPORT_MODE) or contract.FULL).upper()
        if mode not in contract.IMPORT_MODES:
            raise ImportFailed(
                f"property {contract.IMPORT_MODE} must be {' or '.join(contract.IMPORT_MODES)}, got {mode!r}"
            )
        publish = props.get(contract.PUBLISH_ATTRIBUTION)
        tags = _tags(props.get(contract.TAGS) or [])
        dataset_arn = _required(props, contract.DATASET_ARN)
        data_location = _required(props, contract.DATA_LOCATION)
        flag = None if publish in (None, "") else _as_bool(contract.PUBLISH_ATTRIBUTION, publish)
        after_job = str(props.get(contract.AFTER_JOB) or "")
        # A derived name comes as JobNamePrefix (+ DataVersion); with neither, JobName is what is missing.
        explicit = contract.JOB_NAME_PREFIX not in props or props.get(contract.JOB_NAME) not in (None, "")
        if explicit:
            job_name = _required(props, contract.JOB_NAME)
        else:
            job_name = derive_job_name(
                _required(props, contract.JOB_NAME_PREFIX),
                stack_id=stack_id,
                dataset_arn=dataset_arn,
                data_location=data_location,
                import_mode=mode,
                publish_attribution_metrics_to_s3=flag,
                data_version=str(props.get(contract.DATA_VERSION) or ""),
                # A FULL import follows the FULL import before it: when that one imports again, it must too.
                # An INCREMENTAL batch belongs to the bulk data it was added to, wherever that came from.
                after_job=after_job if mode == contract.FULL else base,
                generation=request_id if mode == contract.FULL or replaces_by_id(dataset_arn) else "",
            )
        return cls(
            job_name=job_name,
            dataset_arn=dataset_arn,
            role_arn=_required(props, contract.ROLE_ARN),
            data_location=data_location,
            import_mode=mode,
            publish_attribution_metrics_to_s3=flag,
            tags=tags,
            explicit_name=explicit,
            wait=WaitSettings.from_properties(props),
            after_job=after_job,
            base=base,
        )

    @classmethod
    def from_event(cls, event: Event, properties_key: str = "ResourceProperties") -> ImportRequest:
        return cls.from_properties(
            event.get(properties_key) or {},
            stack_id=str(event.get("StackId") or ""),
            request_id=str(event.get("RequestId") or ""),
            base=str(event.get(BASE_KEY) or ""),
        )

    @property
    def needs_base(self) -> bool:
        return self.import_mode == contract.INCREMENTAL and not self.explicit_name

    def for_job(self, job_arn: str) -> ImportRequest:
        """This request, naming the job ``job_arn`` (the resource's current job, made by an earlier request)."""
        if not is_job_arn(job_arn):
            return self
        return dataclasses.replace(self, job_name=job_arn.rsplit("/", 1)[1])

    def made(self, job_arn: str) -> bool:
        """Whether the job ``job_arn`` was made for exactly what this request imports (any generation)."""
        if not is_job_arn(job_arn):
            return False
        if self.explicit_name:
            return job_arn == self.job_arn
        name = job_arn.rsplit("/", 1)[1]
        return (
            len(name) == len(self.job_name) and name[:-GENERATION_HASH_CHARS] == self.job_name[:-GENERATION_HASH_CHARS]
        )

    @property
    def job_arn(self) -> str:
        # Knowing it before the job exists keeps is_complete stateless.
        return self.arn_of_job(self.job_name)

    def arn_of_job(self, name: str) -> str:
        """arn:<partition>:personalize:<region>:<account>:dataset-import-job/<name>, in the dataset's account."""
        parts = self.dataset_arn.split(":", 5)
        if len(parts) < 6:
            raise ImportFailed(f"property {contract.DATASET_ARN} is not an ARN: {self.dataset_arn!r}")
        partition, region, account = parts[1], parts[3], parts[4]
        return f"arn:{partition}:personalize:{region}:{account}:dataset-import-job/{name}"

    @property
    def waits_for_full(self) -> str:
        """An INCREMENTAL import ordered after a FULL one: that job's ARN (it must be ACTIVE first), else ''."""
        if self.import_mode != contract.INCREMENTAL or not self.after_job:
            return ""
        return self.arn_of_job(self.after_job)

    def create_arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "jobName": self.job_name,
            "datasetArn": self.dataset_arn,
            "dataSource": {"dataLocation": self.data_location},
            "roleArn": self.role_arn,
            "importMode": self.import_mode,
        }
        if self.publish_attribution_metrics_to_s3 is not None:
            args["publishAttributionMetricsToS3"] = self.publish_attribution_metrics_to_s3
        if self.tags:
            args["tags"] = [{"tagKey": k, "tagValue": v} for k, v in self.tags]
        return args

    def mismatches(self, job: Mapping[str, Any]) -> list[str]:
        """Inputs of an existing job with this name that differ from this request."""
        found = {
            "datasetArn": job.get("datasetArn"),
            "dataLocation": (job.get("dataSource") or {}).get("dataLocation"),
            "importMode": job.get("importMode"),
            "publishAttributionMetricsToS3": job.get("publishAttributionMetricsToS3"),
        }
        wanted: dict[str, object] = {
            "datasetArn": self.dataset_arn,
            "dataLocation": self.data_location,
            "importMode": self.import_mode,
            # Not sent means the service default, false.
            "publishAttributionMetricsToS3": bool(self.publish_attribution_metrics_to_s3),
        }
        if self.explicit_name:
            found["roleArn"], wanted["roleArn"] = job.get("roleArn"), self.role_arn
        # A field the service did not return cannot be compared; it is not a mismatch.
        return [
            f"{key}: existing {found[key]!r}, requested {wanted[key]!r}"
            for key in wanted
            if found[key] is not None and found[key] != wanted[key]
        ]


def _tags(raw_tags: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw_tags, list):
        raise ImportFailed(f"property {contract.TAGS} must be a list of {{Key, Value}}, got {raw_tags!r}")
    tags = []
    for tag in raw_tags:
        if not isinstance(tag, Mapping) or "Key" not in tag:
            raise ImportFailed(f"property {contract.TAGS} must be a list of {{Key, Value}}, got item {tag!r}")
        tags.append((str(tag["Key"]), str(tag.get("Value", ""))))
    return tuple(tags)
