"""PC/SC fixtures: a private pcscd with a vpcd reader, and the virtual card process.

How the private pcscd is reached: libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process,
at its first PC/SC call, so the test session decides the folder of its pcscd when this module
is imported (from tests/conftest.py, before any test imports pyscard) and exports the socket
path right away. ``pcsc_stack`` (session scope) then starts pcscd in its own mount namespace
with /run bind-mounted to that folder, on free high ports, plus the virtual card process; the
whole suite shares them, every PC/SC test runs in the pytest process itself. Missing packages
(pcscd, vsmartcard-vpcd) are a failure, not a skip.

``virtual_card`` (function scope) gives a test an empty reader and a control client, and
empties the reader again afterwards, waiting for pcscd to report it (an event, not a delay).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devices.cards.pcscd import SOCKET_ENV, PrivatePcscd, free_port_pair, reader_names
from devices.cards.simulated import SocialSecurityCardProfile
from devices.cards.virtual_card import VirtualCardControl, VirtualCardProcess

PCSC_DIR = Path(tempfile.mkdtemp(prefix="mzpc-", dir="/tmp"))
os.environ[SOCKET_ENV] = str(PCSC_DIR / "run" / "pcscd" / "pcscd.comm")
atexit.register(shutil.rmtree, PCSC_DIR, True)  # also when no test started the stack

READER = reader_names(0)[0]

# A card holder for the device tests (synthetic; the ID number's check character is valid).
PROFILE = SocialSecurityCardProfile(
    card_id="421200D15600000500A1B2C3D4E5F601",
    card_number="A12345678",
    issued_on=dt.date(2021, 6, 1),
    expires_on=dt.date(2031, 6, 1),
    ssn="11010519491231002X",
    name="欧阳建国",
    sex="男",
    nation="土家",
)


@dataclass
class PcscStack:
    pcscd: PrivatePcscd
    card_process: VirtualCardProcess
    reader: str

    @property
    def control(self) -> VirtualCardControl:
        return self.card_process.control


def wait_reader(present: bool, reader: str = READER, timeout_s: float = 10.0) -> None:
    """Block until pcscd reports the reader with (or without) a card: SCardGetStatusChange
    wakes up on the change itself."""
    import time

    import smartcard.scard as s

    hr, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    assert hr == s.SCARD_S_SUCCESS, f"no PC/SC context: {hr:08X}"
    try:
        current = s.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout_s
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            assert left > 0, f"reader never became {'full' if present else 'empty'}"
            hr, states = s.SCardGetStatusChange(ctx, left, [(reader, current)])
            assert hr in (s.SCARD_S_SUCCESS, s.SCARD_E_TIMEOUT), f"{hr:08X}"
            if hr == s.SCARD_E_TIMEOUT:
                continue
            _, event, _ = states[0]
            if bool(event & s.SCARD_STATE_PRESENT) == present:
                return
            current = event & ~s.SCARD_STATE_CHANGED
    finally:
        s.SCardReleaseContext(ctx)


@pytest.fixture(scope="session")
def pcsc_stack() -> Iterator[PcscStack]:
    if not PrivatePcscd.is_usable():
        pytest.fail("pcscd, unshare or the vpcd driver is missing: install the Debian packages "
                    "pcscd vsmartcard-vpcd (make test does)", pytrace=False)
    port = free_port_pair()
    pcscd = PrivatePcscd(ports=[port], base_dir=PCSC_DIR)
    pcscd.start()
    card = VirtualCardProcess(port, PCSC_DIR / "card.sock")
    try:
        card.start()
        yield PcscStack(pcscd, card, READER)
    finally:
        card.stop()
        pcscd.stop()
        shutil.rmtree(PCSC_DIR, ignore_errors=True)


@pytest.fixture
def virtual_card(pcsc_stack: PcscStack) -> Iterator[VirtualCardControl]:
    control = pcsc_stack.control
    control.remove()
    wait_reader(False)
    yield control
    control.remove()
    wait_reader(False)
