"""``python -m constructs_personalize wait <job-arn>``: wait for an import job, e.g. as a pipeline step.

For imports deployed with ``ImportWait.do_not_wait()``: the deployment started the job and went on;
this command waits for it, printing the status and the elapsed time as they change (and at least
every ``--progress`` seconds). It needs boto3 (the ``cli`` extra) and AWS credentials for the job's
account; it calls the region of the job ARN unless ``--region`` says otherwise.

Every outcome has an exit code of its own, none shared with another outcome or with a usage error, so
a pipeline can branch on it. ``exit_codes.EXIT_CODES`` is the one table of them: ``wait --help`` prints it and
the docs point there. Each failure prints one line to stderr naming the problem and the ARN or region;
only an unexpected exception (a bug) prints a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from constructs_personalize.exit_codes import (
    CREDENTIAL_ERROR_CODES,
    NOT_FOUND_CODE,
    ExitCode,
    render_exit_codes,
)
from constructs_personalize.handlers.dataset_import.contract import (
    ACTIVE,
    CREATE_FAILED,
    WAIT_CODES,
)
from constructs_personalize.job_arns import ARN_SHAPE, arn_problem, arn_region, personalize_regions, region_problem

if TYPE_CHECKING:
    from botocore.exceptions import BotoCoreError
    from mypy_boto3_personalize import PersonalizeClient

PROG: Final = "python -m constructs_personalize"


_INSTALL: Final = "pip install 'constructs-personalize[cli]'"


def wait_for_job(
    client: PersonalizeClient,
    job_arn: str,
    *,
    interval: float = 30.0,
    timeout: float = 12 * 3600.0,
    progress: float = 300.0,
    region: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> ExitCode:
    """Poll the job every ``interval`` seconds until it ends, ``timeout`` is spent or it cannot be described.

    Progress and ACTIVE go to ``out``; every other outcome is one line on ``err``. ``region`` (default:
    the ARN's) is the region ``client`` calls, named when Personalize cannot be reached there.
    """
    # botocore comes with boto3, an optional extra: main() checks it is there before calling this.
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    # Looked up per call, not bound as defaults: whoever redirects sys.stdout later (pytest's capsys) is heard.
    out, err = out or sys.stdout, err or sys.stderr
    region = region or arn_region(job_arn)
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
                return _refused(error, code, job_arn, region, err)
            status = last_status or "unknown (throttled)"
        except BotoCoreError as error:
            return _unreachable(error, job_arn, region, err)
        else:
            status = str(job.get("status", ""))
            if status == ACTIVE:
                print(f"{_clock(elapsed)}  {job_arn} is ACTIVE", file=out, flush=True)
                return ExitCode.ACTIVE
            if status == CREATE_FAILED:
                reason = _one_line(job.get("failureReason") or "no failureReason given")
                print(f"{_clock(elapsed)}  {job_arn} ended CREATE FAILED: {reason}", file=err, flush=True)
                return ExitCode.CREATE_FAILED
        if status != last_status or clock() - last_print >= progress:
            print(f"{_clock(elapsed)}  {status}", file=out, flush=True)
            last_status, last_print = status, clock()
        if elapsed >= timeout:
            print(
                f"{_clock(elapsed)}  gave up after {_clock(elapsed)}: {job_arn} is still {status}", file=err, flush=True
            )
            return ExitCode.TIMEOUT
        # The last wait is cut short so the last look lands on the timeout, not an interval before it.
        sleep(min(interval, timeout - elapsed))


def _refused(error: Exception, code: str, job_arn: str, region: str, err: TextIO) -> ExitCode:
    """A ClientError Personalize answered: bad credentials, no such job, or anything else."""
    detail = _one_line(str(error))
    if code in CREDENTIAL_ERROR_CODES:
        print(f"cannot describe {job_arn}: credentials refused in {region}: {detail}", file=err, flush=True)
        return ExitCode.CREDENTIALS
    if code == NOT_FOUND_CODE:
        print(f"no such job in {region}: {job_arn} ({code}): wrong account or region?", file=err, flush=True)
        return ExitCode.NOT_FOUND
    print(f"cannot describe {job_arn}: {detail}", file=err, flush=True)
    return ExitCode.SERVICE_ERROR


def _unreachable(error: BotoCoreError, job_arn: str, region: str, err: TextIO) -> ExitCode:
    """botocore's own errors, raised before any answer: no credentials, or no connection.

    Any other (a parameter botocore refuses, say) is a bug of this command: re-raised, for its traceback.
    """
    from botocore.exceptions import (  # noqa: PLC0415 - optional extra, see wait_for_job
        ConnectionClosedError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
        SSOError,
        TokenRetrievalError,
    )
    from botocore.exceptions import ConnectionError as BotocoreConnectionError  # noqa: PLC0415 - not the builtin

    name = f"{type(error).__name__}: {_one_line(str(error))}"
    if isinstance(
        error, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError | SSOError | TokenRetrievalError
    ):
        print(f"cannot describe {job_arn}: no usable AWS credentials: {name}", file=err, flush=True)
        return ExitCode.CREDENTIALS
    # botocore's ConnectionError covers EndpointConnectionError, ConnectTimeoutError, proxy and TLS failures.
    if isinstance(error, BotocoreConnectionError | ReadTimeoutError | ConnectionClosedError):
        hint = "" if region in personalize_regions() else f" (botocore lists no Personalize endpoint in {region})"
        print(f"cannot reach Personalize in {region} for {job_arn}: {name}{hint}", file=err, flush=True)
        return ExitCode.NETWORK
    raise error


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _one_line(text: str) -> str:
    # A failureReason or an error message may span lines; the outcome stays one line a log can grep.
    return " ".join(text.split())


# -- arguments ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits ``ExitCode.USAGE``: its own 2 is ``ExitCode.TIMEOUT`` here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def _positive_seconds(text: str) -> float:
    """An ``argparse`` type: a finite number of seconds above 0 (time.sleep refuses a negative one)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description=f"See `{PROG} wait --help` for its options and exit codes.")
    # Subparsers are built with the parent's class, so their usage errors exit ExitCode.USAGE too.
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser(
        "wait",
        help="wait for a dataset import job to end",
        description="Wait for a dataset import job to end, printing its status and the elapsed time.",
        epilog=render_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    wait.add_argument("job_arn", metavar="job-arn", help=ARN_SHAPE)
    wait.add_argument(
        "--interval", type=_positive_seconds, default=30.0, metavar="SECONDS", help="between polls (default 30)"
    )
    wait.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=12 * 3600.0,
        metavar="SECONDS",
        help="to wait at most (default 43200, 12 h)",
    )
    wait.add_argument(
        "--progress",
        type=_positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="print the status at least this often (default 300)",
    )
    wait.add_argument("--region", help="the region to call (default: the job ARN's)")
    return parser


# -- the job ARN and the region ------------------------------------------------------------------------


# -- the command ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    """Run the command; return its exit code (``client`` replaces the boto3 client, for tests)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (ExitCode.USAGE), already printed
        return done.code if isinstance(done.code, int) else ExitCode.USAGE
    job_arn: str = args.job_arn
    problem = arn_problem(job_arn)
    if problem:
        return _fail(ExitCode.BAD_ARN, f"not a dataset import job ARN: {job_arn!r}: {problem}")
    try:
        import botocore  # noqa: F401, PLC0415 - optional: the library itself needs no boto3

        if client is None:
            import boto3  # noqa: PLC0415
    except ImportError as missing:
        return _fail(ExitCode.NO_BOTO3, f"the wait command needs boto3 ({missing}): {_INSTALL}")
    partition = job_arn.split(":")[1]
    region: str = args.region or arn_region(job_arn)
    # The ARN's own region is part of the job's identity, so it must be real even when --region overrides it.
    problem = region_problem(partition, arn_region(job_arn)) or region_problem(partition, region)
    if problem:
        return _fail(ExitCode.BAD_ARN, f"cannot wait for {job_arn}: {problem}")
    if client is None:
        from botocore.exceptions import ProfileNotFound  # noqa: PLC0415

        try:
            # A session of its own: it reads AWS_PROFILE and the like now, not when boto3 first ran.
            client = boto3.session.Session().client("personalize", region_name=region)
        except ProfileNotFound as error:
            return _fail(ExitCode.CREDENTIALS, f"cannot describe {job_arn}: no usable AWS credentials: {error}")
    return wait_for_job(
        client, job_arn, interval=args.interval, timeout=args.timeout, progress=args.progress, region=region
    )


def _fail(code: ExitCode, message: str) -> ExitCode:
    print(message, file=sys.stderr, flush=True)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """``main`` for ``python -m``: an unexpected exception prints its traceback and exits ``ExitCode.BUG``."""
    try:
        return main(argv)
    except Exception:  # noqa: BLE001 - the one place a bug is reported, with a code no outcome uses
        traceback.print_exc()
        print(f"{PROG}: unexpected error (a bug): please report it with the traceback above", file=sys.stderr)
        return ExitCode.BUG
