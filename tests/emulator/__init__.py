"""An emulated Amazon Personalize for tests: HTTP front end, service behaviour, virtual clock.

Entry point for tests and benchmarks: ``personalize_world()`` (in ``world.py``) starts moto's S3
in-process and the emulator on a loopback port, and points boto3 at it.

Modules: ``service.py`` (operations; ``catalog.py`` dataset groups, schemas and datasets and their
deletion, ``state.py`` records, ``jobs.py`` import jobs, ``tagging.py`` tags, ``shapes.py`` input
checks), ``importer.py`` (what a job reads and checks), ``access.py`` and ``policy.py`` (who may read
what), ``server.py`` (the wire protocol), ``clock.py``. The emulated CloudFormation:
``cloudformation.py`` (``EmulatedStack``: deploy, update), ``stack_delete.py`` (delete),
``stack_events.py`` (custom-resource events), ``deployment.py`` (order, concurrency, records),
``stack_template.py`` / ``stack_scope.py`` / ``intrinsics.py`` (templates and their functions),
``cfn_resources.py`` / ``cfn_iam.py`` / ``cfn_types.py`` (resource types),
``provider_framework.py`` / ``provider_settings.py`` (the CDK Provider framework and its handler).
Long imports: ``step_functions.py`` / ``asl.py`` (Lambda functions and Step Functions STANDARD
executions on the virtual clock), ``wait_signals.py`` (wait condition handle URLs and their signals),
``cfn_states.py`` / ``cfn_wait.py`` (their resource types).
``templates.py`` writes CloudFormation-only templates for the emulator's own tests; what the library
synthesizes is never written by hand: tests synthesize it.
"""
