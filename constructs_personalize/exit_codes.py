"""The ``wait`` command's exit codes: one per outcome, the one table of them (``wait --help`` prints it)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


@enum.unique  # one code per outcome: an alias would make two outcomes indistinguishable to a pipeline
class ExitCode(enum.IntEnum):
    ACTIVE = 0
    CREATE_FAILED = 1
    # 0-2 are the codes the first release documented for these outcomes; pipelines may test them.
    TIMEOUT = 2
    BAD_ARN = 3
    CREDENTIALS = 4
    NETWORK = 5
    NOT_FOUND = 6
    SERVICE_ERROR = 7
    NO_BOTO3 = 8
    # argparse exits 2 on a usage error, which is TIMEOUT here: the parser exits with sysexits' EX_USAGE.
    USAGE = 64
    # An uncaught exception would exit 1, which is CREATE_FAILED: ``run`` maps it to EX_SOFTWARE.
    BUG = 70


EXIT_CODES: Final[Mapping[ExitCode, str]] = {
    ExitCode.ACTIVE: "the job is ACTIVE",
    ExitCode.CREATE_FAILED: "the job ended CREATE FAILED (Personalize's failureReason on stderr)",
    ExitCode.TIMEOUT: "--timeout was spent while the job was still pending or in progress",
    ExitCode.BAD_ARN: "not a dataset import job ARN, or not a region of its partition (checked before any call)",
    ExitCode.CREDENTIALS: "cannot describe the job: AWS credentials missing, expired, invalid or denied",
    ExitCode.NETWORK: "cannot describe the job: Personalize's endpoint cannot be reached (network, DNS, timeout)",
    ExitCode.NOT_FOUND: "no such job in that account and region (ResourceNotFoundException)",
    ExitCode.SERVICE_ERROR: "cannot describe the job: any other error answered by Personalize",
    ExitCode.NO_BOTO3: "boto3 is not installed: pip install 'constructs-personalize[cli]'",
    ExitCode.USAGE: "usage error: a missing or bad argument (a duration must be a positive number)",
    ExitCode.BUG: "unexpected error: a bug in this command, reported with a traceback",
}

# ClientError codes that mean the caller's credentials, not the job, are the problem.
CREDENTIAL_ERROR_CODES: Final = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "RequestExpired",
        "AccessDenied",
        "AccessDeniedException",
    }
)
NOT_FOUND_CODE: Final = "ResourceNotFoundException"


def render_exit_codes() -> str:
    """The exit-code table as ``wait --help`` prints it."""
    width = max(len(str(int(code))) for code in EXIT_CODES)
    rows = "\n".join(f"  {int(code):>{width}}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"exit codes:\n{rows}"
