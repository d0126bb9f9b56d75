"""Settings every test shares."""

import os

# aws-cdk-lib's jsii runtime prints a banner on Node 20; it is noise in test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest_plugins = ["tests.emulator.fixtures"]
