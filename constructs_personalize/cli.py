"""``python -m constructs_personalize wait <job-arn>``: wait for an import job, e.g. as a pipeline step.

For imports deployed with ``ImportWait.do_not_wait()``: the deployment started the job and went on;
this command waits for it, printing the status and the elapsed time as they change (and at least
every ``--progress`` seconds), and exits 0 when the job is ACTIVE, 1 with Personalize's
``failureReason`` when it ends CREATE FAILED, 2 when ``--timeout`` is spent, 3 when the job cannot be
described. It needs boto3 and AWS credentials for the job's account and region (``AWS_REGION``, or
the region of the job ARN).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from constructs_personalize.handlers.dataset_import.contract import ACTIVE, CREATE_FAILED, WAIT_CODES

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient


def wait_for_job(
    client: PersonalizeClient,
    job_arn: str,
    *,
    interval: float = 30.0,
    timeout: float = 12 * 3600.0,
    progress: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    out: TextIO = sys.stdout,
) -> int:
    """Poll the job every ``interval`` seconds; return the exit code (0 ACTIVE, 1 failed, 2 timeout, 3 error)."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore comes with boto3, an optional extra

    started = clock()
    last_status, last_print = "", started
    while True:
        elapsed = clock() - started
        try:
            job = client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            # The answers the handler polls on through (Personalize throttles with LimitExceededException too).
            if code not in WAIT_CODES:
                print(f"cannot describe {job_arn}: {code}: {error}", file=out)
                return 3
            status = last_status or "unknown (throttled)"
        else:
            status = str(job.get("status", ""))
            if status == ACTIVE:
                print(f"{_clock(elapsed)}  {job_arn} is ACTIVE", file=out)
                return 0
            if status == CREATE_FAILED:
                reason = job.get("failureReason") or "no failureReason given"
                print(f"{_clock(elapsed)}  {job_arn} ended CREATE FAILED: {reason}", file=out)
                return 1
        if status != last_status or clock() - last_print >= progress:
            print(f"{_clock(elapsed)}  {status}", file=out, flush=True)
            last_status, last_print = status, clock()
        if elapsed + interval > timeout:
            print(f"{_clock(elapsed)}  gave up after {_clock(timeout)}: the job is still {status}", file=out)
            return 2
        sleep(interval)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constructs_personalize")
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("wait", help="wait for a dataset import job to end")
    wait.add_argument("job_arn", help="arn:<partition>:personalize:<region>:<account>:dataset-import-job/<name>")
    wait.add_argument("--interval", type=float, default=30.0, help="seconds between polls (default 30)")
    wait.add_argument("--timeout", type=float, default=12 * 3600.0, help="seconds to wait at most (default 12 h)")
    wait.add_argument(
        "--progress", type=float, default=300.0, help="print the status at least this often, in seconds (default 300)"
    )
    args = parser.parse_args(argv)
    parts = args.job_arn.split(":")
    if len(parts) < 6 or parts[2] != "personalize" or not parts[5].startswith("dataset-import-job/"):
        print(f"not a dataset import job ARN: {args.job_arn!r}", file=sys.stderr)
        return 3
    if client is None:
        try:
            import boto3  # noqa: PLC0415 - optional: the library itself needs no boto3
        except ImportError:
            print("the wait command needs boto3: pip install boto3", file=sys.stderr)
            return 3
        client = boto3.client("personalize", region_name=parts[3] or None)
    return wait_for_job(client, args.job_arn, interval=args.interval, timeout=args.timeout, progress=args.progress)
