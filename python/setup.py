# For pips that install without PEP 517 (no wheel package): the metadata is in pyproject.toml.
from setuptools import setup

setup()
