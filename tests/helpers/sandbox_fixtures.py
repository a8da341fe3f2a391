"""Fixtures for the sandbox platforms over real HTTP on 127.0.0.1.

- ``sandbox_server`` (session): one SandboxServer on a free port, stopped at the end.
- ``sandbox`` (function): the same server, reset (no faults, real clock, empty access log,
  default signing key) so that tests do not see each other's switches.
- ``platform_client``: a PlatformClient with the sandbox's demo credential.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer
from workstation.services.platform import PlatformClient

SANDBOX_CLIENT_ID = "ws-demo"
SANDBOX_CLIENT_SECRET = "sandbox-secret"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, client_credentials={SANDBOX_CLIENT_ID: SANDBOX_CLIENT_SECRET})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def platform_client(sandbox: SandboxServer) -> Iterator[PlatformClient]:
    client = PlatformClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, timeout_s=5.0)
    yield client
    client.close()
