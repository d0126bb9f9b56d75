"""An emulated Amazon Personalize for tests: HTTP front end, service behaviour, virtual clock.

Entry point for tests and benchmarks: ``personalize_world()`` (in ``world.py``) starts moto's S3
in-process and the emulator on a loopback port, and points boto3 at it.
"""
