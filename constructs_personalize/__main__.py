"""``python -m constructs_personalize wait <job-arn>`` (see ``cli.py``)."""

import sys

from constructs_personalize.cli import run

sys.exit(run())
