"""Fixtures for the sandbox platforms over real HTTP on 127.0.0.1.

They live in the public pytest plugin ``workstation.testing`` (plugin authors use them too):

- ``sandbox_server`` (session): one SandboxServer on a free port, stopped at the end.
- ``sandbox`` (function): the same server, reset (no faults, real clock, empty access log,
  default signing key) so that tests do not see each other's switches.
- ``platform_client``: a PlatformClient with the sandbox's demo credential.
"""

from __future__ import annotations

from workstation.testing import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET"]
