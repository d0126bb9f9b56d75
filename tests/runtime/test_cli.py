"""``python -m constructs_personalize wait <job-arn>``: one exit code per outcome, and no traceback for any.

The outcomes Personalize decides run against the emulated Personalize on its virtual clock; those
before or around a call (credentials, network, a bad ARN, bad arguments, no boto3) use a fake client,
since botocore's Stubber can only answer, not fail to connect or to sign.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from constructs_personalize import cli
from constructs_personalize.cli import main, run, wait_for_job
from constructs_personalize.exit_codes import EXIT_CODES, ExitCode, render_exit_codes
from tests.constants import REPO, ROLE_ARN
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.world import World

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient

ARN = "arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/cli-job"


def _job(world: World, body: bytes, timing: JobTiming) -> str:
    world.bucket("cli-data")
    dataset = world.interactions_dataset()
    world.emulator.set_job_timing("cli-job", timing)
    return world.personalize().create_dataset_import_job(
        jobName="cli-job",
        datasetArn=dataset,
        dataSource={"dataLocation": world.put_object("cli-data", "in/data.csv", body)},
        roleArn=ROLE_ARN,
    )["datasetImportJobArn"]


def _wait(world: World, arn: str, **settings: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = wait_for_job(
        world.personalize(), arn, clock=world.clock, sleep=world.clock.advance, out=out, err=err, **settings
    )
    return code, out.getvalue(), err.getvalue()


class FakeClient:
    """Answers DescribeDatasetImportJob from a script: a response dict, or an exception to raise."""

    def __init__(self, *script: dict[str, Any] | Exception) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    def describe_dataset_import_job(self, *, datasetImportJobArn: str) -> dict[str, Any]:
        self.calls.append(datasetImportJobArn)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def _status(status: str) -> dict[str, Any]:
    return {"datasetImportJob": {"datasetImportJobArn": ARN, "status": status}}


def _client_error(code: str, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeDatasetImportJob")


def _outcome(capsys: pytest.CaptureFixture[str], argv: list[str], client: object) -> tuple[int, str, str]:
    code = main(argv, client=client)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err


# -- the table ------------------------------------------------------------------------------------------------


def test_every_outcome_has_its_own_code_none_shared_with_a_usage_error() -> None:
    assert set(EXIT_CODES) == set(ExitCode)
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    # The numbers are the contract pipelines branch on: a change here is a breaking change.
    assert {code.name: int(code) for code in ExitCode} == {
        "ACTIVE": 0,
        "CREATE_FAILED": 1,
        "TIMEOUT": 2,  # argparse's own usage code: the parser must not exit with it
        "BAD_ARN": 3,
        "CREDENTIALS": 4,
        "NETWORK": 5,
        "NOT_FOUND": 6,
        "SERVICE_ERROR": 7,
        "NO_BOTO3": 8,
        "USAGE": 64,
        "BUG": 70,  # not 1, Python's code for an uncaught exception, which is CREATE_FAILED here
    }


def test_help_prints_the_exit_code_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wait", "--help"]) == 0
    out = capsys.readouterr().out
    assert render_exit_codes() in out
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code):>2}  {meaning}" in out


def test_the_docs_point_to_the_help_rather_than_restate_the_table() -> None:
    text = (REPO / "docs" / "long-imports.md").read_text(encoding="utf-8")
    assert "python -m constructs_personalize wait --help" in text
    assert not any(meaning in text for meaning in EXIT_CODES.values())


# -- outcomes Personalize decides -------------------------------------------------------------------------------


def test_active_exits_0_showing_status_and_elapsed_time(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=90, running=7200))
    code, out, err = _wait(world, arn, interval=30, progress=1800)
    assert code == ExitCode.ACTIVE and err == ""
    lines = out.splitlines()
    assert lines[0] == "0:00:00  CREATE PENDING"
    assert "0:01:30  CREATE IN_PROGRESS" in lines
    assert "0:31:30  CREATE IN_PROGRESS" in lines  # progress while nothing changes
    assert lines[-1] == f"2:01:30  {arn} is ACTIVE"


def test_create_failed_exits_1_with_personalizes_reason_on_stderr(world: World) -> None:
    arn = _job(world, interactions_csv(timestamp_scale=1000), JobTiming(pending=30, running=300))
    code, _, err = _wait(world, arn, interval=30)
    assert code == ExitCode.CREATE_FAILED
    (line,) = err.splitlines()
    assert f"{arn} ended CREATE FAILED: " in line and "milliseconds" in line


def test_timeout_exits_2_on_the_virtual_clock(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=30, running=50_000))
    started = world.clock()
    code, _, err = _wait(world, arn, interval=60, timeout=3600)
    assert code == ExitCode.TIMEOUT
    assert err.strip().endswith(f"gave up after 1:00:00: {arn} is still CREATE IN_PROGRESS")
    assert world.clock() - started <= 3600


def test_a_timeout_shorter_than_the_interval_looks_once_more_at_the_timeout(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=30, running=50_000))
    started = world.clock()
    code, _, err = _wait(world, arn, interval=30, timeout=10)
    assert code == ExitCode.TIMEOUT and world.clock() - started == 10
    assert err.strip().endswith(f"gave up after 0:00:10: {arn} is still CREATE PENDING")


def test_a_job_that_does_not_exist_exits_6(world: World) -> None:
    code, _, err = _wait(world, "arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/nope", interval=30)
    assert code == ExitCode.NOT_FOUND
    (line,) = err.splitlines()
    assert "dataset-import-job/nope" in line and "ResourceNotFoundException" in line and "eu-west-1" in line


def test_throttling_is_waited_through() -> None:
    client = FakeClient(_client_error("ThrottlingException"), _status("CREATE IN_PROGRESS"), _status("ACTIVE"))
    out, err = io.StringIO(), io.StringIO()
    code = wait_for_job(cast("PersonalizeClient", client), ARN, sleep=lambda _: None, out=out, err=err)
    assert code == ExitCode.ACTIVE and len(client.calls) == 3 and err.getvalue() == ""


def test_another_answer_from_personalize_exits_7_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(_client_error("InvalidInputException", "the ARN is\nnot valid"))
    code, _, err = _outcome(capsys, ["wait", ARN], client)
    assert code == ExitCode.SERVICE_ERROR
    assert err == (
        f"cannot describe {ARN}: An error occurred (InvalidInputException) when calling the "
        "DescribeDatasetImportJob operation: the ARN is not valid\n"
    )


# -- outcomes before an answer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        NoCredentialsError(),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        _client_error("ExpiredTokenException", "The security token included in the request is expired"),
        _client_error("UnrecognizedClientException", "The security token included in the request is invalid."),
        _client_error("InvalidClientTokenId"),
        _client_error("AccessDeniedException", "not authorized to perform: personalize:DescribeDatasetImportJob"),
    ],
    ids=lambda error: type(error).__name__ if not isinstance(error, ClientError) else error.response["Error"]["Code"],
)
def test_credentials_missing_or_refused_exit_4(capsys: pytest.CaptureFixture[str], error: Exception) -> None:
    code, _, err = _outcome(capsys, ["wait", ARN], FakeClient(error))
    assert code == ExitCode.CREDENTIALS
    (line,) = err.splitlines()
    assert line.startswith(f"cannot describe {ARN}: ") and "credentials" in line


def test_a_missing_profile_exits_4_before_any_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-for-constructs-personalize")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    code, _, err = _outcome(capsys, ["wait", ARN], None)
    assert code == ExitCode.CREDENTIALS and "no-such-profile-for-constructs-personalize" in err


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://personalize.eu-west-1.amazonaws.com/"),
        ConnectTimeoutError(endpoint_url="https://personalize.eu-west-1.amazonaws.com/"),
        ReadTimeoutError(endpoint_url="https://personalize.eu-west-1.amazonaws.com/"),
        ConnectionClosedError(endpoint_url="https://personalize.eu-west-1.amazonaws.com/"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_network_errors_exit_5_naming_the_region(capsys: pytest.CaptureFixture[str], error: Exception) -> None:
    code, _, err = _outcome(capsys, ["wait", ARN], FakeClient(error))
    assert code == ExitCode.NETWORK
    assert err == f"cannot reach Personalize in eu-west-1 for {ARN}: {type(error).__name__}: {error}\n"


def test_a_region_botocore_lists_no_personalize_in_is_named_when_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arn = ARN.replace("eu-west-1", "eu-north-1")
    error = EndpointConnectionError(endpoint_url="https://personalize.eu-north-1.amazonaws.com/")
    code, _, err = _outcome(capsys, ["wait", arn], FakeClient(error))
    assert code == ExitCode.NETWORK and "botocore lists no Personalize endpoint in eu-north-1" in err


# -- outcomes decided before any call ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("not-an-arn", "expected arn:<partition>:personalize:"),
        ("arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/", "it names no job"),
        ("arn:aws:s3:eu-west-1:123456789012:dataset-import-job/cli-job", "its service is 's3'"),
        ("arn:aws:personalize:eu-west-1:123456789012:dataset/shop/INTERACTIONS", "is not dataset-import-job/"),
        ("arn:aws:personalize:eu-west-1:12345678901:dataset-import-job/cli-job", "'12345678901' is not 12 digits"),
        ("arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/cli job", "'cli job' is not a job name"),
        ("arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/-leading-dash", "is not a job name"),
        (f"arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/{'j' * 64}", "at most 63 characters"),
        ("arn:aws:personalize::123456789012:dataset-import-job/cli-job", "it names no region"),
    ],
)
def test_a_bad_arn_exits_3_before_any_call(capsys: pytest.CaptureFixture[str], arn: str, problem: str) -> None:
    client = FakeClient()
    code, _, err = _outcome(capsys, ["wait", arn], client)
    assert code == ExitCode.BAD_ARN and client.calls == []
    (line,) = err.splitlines()
    assert line.startswith(f"not a dataset import job ARN: {arn!r}: ") and problem in line


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["wait", ARN.replace("eu-west-1", "xx-nowhere-9")], "'xx-nowhere-9' is not a region of partition 'aws'"),
        (["wait", ARN.replace("aws:", "aws-cn:", 1)], "'eu-west-1' is not a region of partition 'aws-cn'"),
        (["wait", ARN.replace("aws:", "aws-nowhere:", 1)], "unknown partition 'aws-nowhere'"),
        (["wait", ARN, "--region", "xx-nowhere-9"], "'xx-nowhere-9' is not a region of partition 'aws'"),
    ],
)
def test_a_bad_region_exits_3_before_any_call(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    client = FakeClient()
    code, _, err = _outcome(capsys, argv, client)
    assert code == ExitCode.BAD_ARN and client.calls == []
    (line,) = err.splitlines()
    assert line.startswith(f"cannot wait for {argv[1]}: ") and problem in line


@pytest.mark.parametrize(
    "arn",
    [
        ARN,
        ARN.replace("aws:personalize:eu-west-1", "aws-cn:personalize:cn-north-1"),
        ARN.replace("aws:personalize:eu-west-1", "aws-us-gov:personalize:us-gov-west-1"),
        ARN.replace("aws:personalize:eu-west-1", "aws-iso-b:personalize:us-isob-east-1"),
    ],
)
def test_a_good_arn_of_each_partition_is_described(capsys: pytest.CaptureFixture[str], arn: str) -> None:
    client = FakeClient(_status("ACTIVE"))
    code, out, _ = _outcome(capsys, ["wait", arn], client)
    assert code == ExitCode.ACTIVE and client.calls == [arn] and out.strip().endswith(f"{arn} is ACTIVE")


def test_region_overrides_the_region_called(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    regions: list[str] = []
    fake = FakeClient(_status("ACTIVE"), _status("ACTIVE"))

    def client(self: boto3.session.Session, service: str, *, region_name: str) -> FakeClient:
        regions.append(region_name)
        return fake

    monkeypatch.setattr(boto3.session.Session, "client", client)
    assert _outcome(capsys, ["wait", ARN], None)[0] == ExitCode.ACTIVE
    assert _outcome(capsys, ["wait", ARN, "--region", "us-east-1"], None)[0] == ExitCode.ACTIVE
    assert regions == ["eu-west-1", "us-east-1"]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["wait", ARN, "--interval", "-5"], "argument --interval: must be a positive number of seconds, got '-5'"),
        (["wait", ARN, "--interval", "abc"], "argument --interval: not a number of seconds: 'abc'"),
        (["wait", ARN, "--timeout", "0"], "argument --timeout: must be a positive number of seconds, got '0'"),
        (["wait", ARN, "--progress", "nan"], "argument --progress: must be a positive number of seconds, got 'nan'"),
        (["wait"], "the following arguments are required: job-arn"),
        (["wait", ARN, "--verbose"], "unrecognized arguments: --verbose"),
        ([], "the following arguments are required: command"),
        (["watch", ARN], "invalid choice: 'watch'"),
    ],
)
def test_bad_arguments_exit_with_the_usage_code(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    client = FakeClient()
    code, _, err = _outcome(capsys, argv, client)
    assert code == ExitCode.USAGE and client.calls == []
    assert err.startswith("usage: python -m constructs_personalize") and problem in err


def test_without_boto3_exits_8(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what `import boto3` finds when it is not installed
    code, _, err = _outcome(capsys, ["wait", ARN], None)
    assert code == ExitCode.NO_BOTO3
    assert err.startswith("the wait command needs boto3") and "pip install 'constructs-personalize[cli]'" in err


def test_a_bug_is_reported_with_a_traceback_and_its_own_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(argv: list[str] | None = None, *, client: object = None) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "main", broken)
    assert run(["wait", ARN]) == ExitCode.BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err and "a bug" in err


def test_the_module_entry_point_exits_with_the_code_and_one_line() -> None:
    arn = "arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/"
    done = subprocess.run(
        [sys.executable, "-m", "constructs_personalize", "wait", arn],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        timeout=120,
        check=False,
    )
    assert done.returncode == ExitCode.BAD_ARN
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert f"not a dataset import job ARN: {arn!r}: it names no job after dataset-import-job/" in done.stderr


@pytest.mark.parametrize("args", [["wait", "--help"], ["wait", "arn:aws:personalize:eu-west-1:123456789012:job/x"]])
def test_the_command_needs_neither_aws_cdk_lib_nor_node(args: list[str]) -> None:
    """A pipeline step with boto3 only: no jsii runtime starts, so no Node.js banner and no missing-node crash."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env["JSII_NODE"] = "/nonexistent/node"  # where jsii would look for Node.js, were it loaded
    done = subprocess.run(
        [sys.executable, "-m", "constructs_personalize", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode in (ExitCode.ACTIVE, ExitCode.BAD_ARN), done.stderr
    assert "Traceback" not in done.stderr and "node" not in done.stderr.lower(), done.stderr
    probe = (
        "import sys, constructs_personalize.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('aws_cdk', 'jsii'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert loaded.stdout.strip() == "[]"
