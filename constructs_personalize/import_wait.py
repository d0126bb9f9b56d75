"""``ImportWait``: how long ``cdk deploy`` holds for an import job (docs/personalize.md, "CloudFormation and CDK").

ImportWait.within_deployment()          # default: the custom resource waits, at most 1 hour
ImportWait.up_to(Duration.hours(8))     # a WaitCondition holds the deployment up to 12 hours
ImportWait.do_not_wait()                # start the job and go on; wait elsewhere
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Token

# AWS::CloudFormation::WaitCondition's Timeout ceiling.
MAX_SIGNAL_WAIT_SECONDS = 43_200
# A Step Functions standard execution keeps at most 25,000 history events; each poll of the waiter
# (task, choice, wait) writes 9, so an execution may poll at most this many times.
MAX_WAITER_POLLS = 2_500


@dataclass(frozen=True)
class ImportWait:
    """How long the deployment holds for the import job. Create one with a factory method."""

    mode: str
    """``COMPLETION`` (the custom resource waits), ``SIGNAL`` (a wait condition waits) or ``NONE``."""
    timeout: Duration | None = None
    """``up_to``: how long the wait condition waits."""

    @classmethod
    def within_deployment(cls) -> ImportWait:
        """The custom resource holds the deployment until the job ends, at most ``total_timeout`` (1 hour)."""
        return cls("COMPLETION")

    @classmethod
    def up_to(cls, timeout: Duration) -> ImportWait:
        """Hold the deployment up to ``timeout`` (at most 12 hours) with an ``AWS::CloudFormation::WaitCondition``.

        The custom resource starts the job (waiting its turn as usual) and returns; a shared Step Functions
        waiter polls the job every ``query_interval`` and signals the wait condition: success when the job is
        ACTIVE, failure with Personalize's ``failureReason``, or failure when ``timeout`` is spent.
        """
        if not isinstance(timeout, Duration):
            raise TypeError(f"ImportWait.up_to takes a Duration (e.g. Duration.hours(6)), got {timeout!r}")
        if not Token.is_unresolved(timeout):
            seconds = timeout.to_seconds()
            if not 60 <= seconds <= MAX_SIGNAL_WAIT_SECONDS:
                raise ValueError(
                    f"ImportWait.up_to takes 1 minute to 12 hours (a WaitCondition's Timeout is at most "
                    f"{MAX_SIGNAL_WAIT_SECONDS:,} s), got {timeout.to_human_string()}"
                )
        return cls("SIGNAL", timeout)

    @classmethod
    def do_not_wait(cls) -> ImportWait:
        """Start the job and complete; the job ARN and name are attributes.

        Wait for it later, e.g. ``python -m constructs_personalize wait <job-arn>`` as the next pipeline step.
        """
        return cls("NONE")

    def check_polls(self, query_interval: Duration, requested_by: str) -> None:
        """A long wait must fit Step Functions' history: at most MAX_WAITER_POLLS polls."""
        if self.mode != "SIGNAL" or self.timeout is None or Token.is_unresolved(self.timeout):
            return
        polls = self.timeout.to_seconds() / query_interval.to_seconds()
        if polls > MAX_WAITER_POLLS:
            raise ValueError(
                f"{requested_by}: waiting {self.timeout.to_human_string()} every {query_interval.to_human_string()} "
                f"is {polls:,.0f} polls, more than the {MAX_WAITER_POLLS:,} a Step Functions execution's history "
                "holds: use a longer query_interval"
            )
