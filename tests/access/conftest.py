"""The Docker fixtures of the sandbox tests, for the battery that runs real skills."""

from tests.sandbox.conftest import docker_client, test_image

__all__ = ["docker_client", "test_image"]
