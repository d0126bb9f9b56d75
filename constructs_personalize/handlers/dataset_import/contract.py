"""The construct <-> handler contract: the one place its names and values are written.

Standard library only. The handler (shipped as a Lambda asset) imports it relatively; the construct,
the CLI and the tests import it as ``constructs_personalize.handlers.dataset_import.contract``, which
imports neither boto3 nor aws-cdk-lib. Nothing here is restated anywhere else.
"""

from __future__ import annotations

import re
from typing import Final

RESOURCE_TYPE: Final = "Custom::PersonalizeDatasetImport"

# -- custom resource properties (CloudFormation sends every value as a string) --------------------------
DATASET_ARN: Final = "DatasetArn"
ROLE_ARN: Final = "RoleArn"
DATA_LOCATION: Final = "DataLocation"
IMPORT_MODE: Final = "ImportMode"
PUBLISH_ATTRIBUTION: Final = "PublishAttributionMetricsToS3"
TAGS: Final = "Tags"  # a list of {"Key": ..., "Value": ...}
JOB_NAME: Final = "JobName"  # an explicit name; otherwise the handler derives one from:
JOB_NAME_PREFIX: Final = "JobNamePrefix"
DATA_VERSION: Final = "DataVersion"  # the content hash of local data
AFTER_JOB: Final = "AfterJob"  # the job of the FULL import ordered before this one in its dataset
WAIT_MODE: Final = "WaitMode"
WAIT_HANDLE: Final = "WaitHandle"
WAITER_STATE_MACHINE_ARN: Final = "WaiterStateMachineArn"
WAIT_TIMEOUT_SECONDS: Final = "WaitTimeoutSeconds"
WAIT_INTERVAL_SECONDS: Final = "WaitIntervalSeconds"

# Every key the handler reads: a key the construct writes outside this set would be silently ignored.
PROPERTIES: Final = frozenset(
    {
        DATASET_ARN,
        ROLE_ARN,
        DATA_LOCATION,
        IMPORT_MODE,
        PUBLISH_ATTRIBUTION,
        TAGS,
        JOB_NAME,
        JOB_NAME_PREFIX,
        DATA_VERSION,
        AFTER_JOB,
        WAIT_MODE,
        WAIT_HANDLE,
        WAITER_STATE_MACHINE_ARN,
        WAIT_TIMEOUT_SECONDS,
        WAIT_INTERVAL_SECONDS,
    }
)
REQUIRED_PROPERTIES: Final = frozenset({DATASET_ARN, ROLE_ARN, DATA_LOCATION})
# With WaitMode SIGNAL these are required too.
SIGNAL_PROPERTIES: Final = frozenset(
    {WAIT_HANDLE, WAITER_STATE_MACHINE_ARN, WAIT_TIMEOUT_SECONDS, WAIT_INTERVAL_SECONDS}
)
# Not what a job imports: a change of these keeps the job (replacing the role reads the same data, tags
# are re-applied, the wait is how the deployment waits), and they do not name wait conditions.
NOT_IDENTITY: Final = frozenset(
    {ROLE_ARN, TAGS, WAIT_MODE, WAIT_HANDLE, WAITER_STATE_MACHINE_ARN, WAIT_INTERVAL_SECONDS, AFTER_JOB}
)

# -- values ------------------------------------------------------------------------------------------
FULL: Final = "FULL"
INCREMENTAL: Final = "INCREMENTAL"
IMPORT_MODES: Final = (FULL, INCREMENTAL)

# How the deployment waits for the job: the custom resource holds it (at most 1 hour), a WaitCondition
# signalled by the waiter state machine holds it (at most 12 hours), or nothing does.
WAIT_COMPLETION: Final = "COMPLETION"
WAIT_SIGNAL: Final = "SIGNAL"
WAIT_NONE: Final = "NONE"
WAIT_MODES: Final = (WAIT_COMPLETION, WAIT_SIGNAL, WAIT_NONE)

# -- what the resource answers (Fn::GetAtt) ----------------------------------------------------------------
ATTR_JOB_ARN: Final = "DatasetImportJobArn"
ATTR_JOB_NAME: Final = "JobName"

# -- the Lambda functions --------------------------------------------------------------------------------
# The asset is the ``handlers`` folder, so the package imports the same way in Lambda and installed.
HANDLER_PACKAGE: Final = "dataset_import"
ON_EVENT: Final = f"{HANDLER_PACKAGE}.index.on_event"
IS_COMPLETE: Final = f"{HANDLER_PACKAGE}.index.is_complete"
WAIT_STEP: Final = f"{HANDLER_PACKAGE}.index.wait_step"
# The handler's own deadline, set by the construct: total_timeout less its margin.
WAIT_BUDGET_ENV: Final = "WAIT_BUDGET_SECONDS"
DEFAULT_WAIT_BUDGET_SECONDS: Final = 3300.0

# -- the waiter state machine: the state wait_step returns is the input of its next step -----------------
WAITER_DONE: Final = "Done"  # true once the wait condition is signalled: the machine ends
WAITER_WAIT_SECONDS: Final = "WaitIntervalSeconds"  # the next Wait state's SecondsPath (an integer)

# -- Personalize ---------------------------------------------------------------------------------------------
ACTIVE: Final = "ACTIVE"
CREATE_FAILED: Final = "CREATE FAILED"
CREATE_PENDING: Final = "CREATE PENDING"
CREATE_IN_PROGRESS: Final = "CREATE IN_PROGRESS"
TERMINAL_STATUSES: Final = frozenset({ACTIVE, CREATE_FAILED})
# Answers that mean "ask again later": throttling (which boto3 retries a few times itself) ...
THROTTLING_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
    }
)
# ... plus the 5-jobs-in-flight quota (also LimitExceededException) and a dataset that is not ACTIVE yet.
WAIT_CODES: Final = THROTTLING_CODES | {"LimitExceededException", "ResourceInUseException"}
MAX_JOBS_IN_FLIGHT: Final = 5

# -- job names ---------------------------------------------------------------------------------------------
# Derived names are <prefix>-<10 hex identity><6 hex generation>, at most 63 characters.
JOB_NAME_MAX: Final = 63
JOB_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
JOB_NAME_HASH_CHARS: Final = 16
JOB_NAME_PREFIX_MAX: Final = JOB_NAME_MAX - JOB_NAME_HASH_CHARS - 1
_UNSAFE_NAME_CHARS: Final = re.compile(r"[^a-zA-Z0-9\-_]+")


def clean_job_name_prefix(text: str) -> str:
    """A valid job-name prefix from any text: unsafe runs become "-", at most 46 characters, alphanumeric first."""
    prefix = _UNSAFE_NAME_CHARS.sub("-", text).strip("-_")[:JOB_NAME_PREFIX_MAX].rstrip("-_")
    if not prefix or not prefix[0].isalnum():
        prefix = f"import-{prefix}"[:JOB_NAME_PREFIX_MAX].rstrip("-_")
    return prefix
