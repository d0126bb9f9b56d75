"""Settings every test shares."""

import os
import tempfile

# aws-cdk-lib's jsii runtime prints a banner on Node 20; it is noise in test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest_plugins = ["tests.emulator.fixtures"]

# The pre-flight cache of the synths the tests run goes to a throw-away folder, not ~/.cache.
os.environ.setdefault("CONSTRUCTS_PERSONALIZE_CACHE_DIR", tempfile.mkdtemp(prefix="constructs-personalize-cache-"))
