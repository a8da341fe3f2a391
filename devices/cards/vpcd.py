"""Putting a simulated card into a vsmartcard vpcd reader over its socket protocol.

vpcd (the pcscd reader driver from vsmartcard) listens on a TCP port; a card "is inserted" by
connecting to it and "removed" by closing the connection. Every message is a 2-byte big-endian
length and a payload. A 1-byte payload is a control: 0 power off, 1 power on, 2 reset (no
reply), 4 send the ATR. Longer payloads are command APDUs, answered with data + SW1 SW2.

vpcd writes the length and the body in two segments; with delayed ACKs every APDU would cost
~44 ms, so TCP_QUICKACK is set before each receive (see shared notes/pcsc.md).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from typing import Protocol

from devices.cards.simulated import CardVanished

log = logging.getLogger(__name__)


class VirtualCard(Protocol):
    @property
    def atr(self) -> bytes: ...

    def reset(self) -> None: ...

    def respond(self, apdu: bytes) -> bytes: ...


class VpcdCardSlot:
    """One vpcd reader slot: ``insert(card)`` connects to vpcd, ``remove()`` disconnects.

    The card is served on a thread of its own; ``on_vanished`` is called (on that thread) when
    the card leaves by itself (CardVanished) or vpcd closes the connection.
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.card: VirtualCard | None = None
        self.apdus = 0

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, card: VirtualCard, *, timeout_s: float = 5.0) -> None:
        """Connect the card to vpcd; an inserted card is removed first."""
        self.remove()
        sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sock = sock
            self.card = card
        card.reset()
        self._thread = threading.Thread(target=self._serve, args=(sock, card),
                                        name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Pull the card out (close the connection); idempotent."""
        with self._lock:
            sock, self._sock = self._sock, None
            self.card = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _serve(self, sock: socket.socket, card: VirtualCard) -> None:
        try:
            while True:
                with contextlib.suppress(OSError):  # Linux only; harmless elsewhere
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                (length,) = struct.unpack(">H", _recv_exact(sock, 2))
                message = _recv_exact(sock, length)
                if length == 1:
                    control = message[0]
                    if control == 4:
                        _send(sock, card.atr)
                    elif control in (1, 2):
                        card.reset()
                    continue
                reply = card.respond(message)
                self.apdus += 1
                _send(sock, reply)
        except CardVanished:
            log.debug("virtual card left the reader by itself")
        except (EOFError, OSError):
            pass
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
                    self.card = None
            with contextlib.suppress(OSError):
                sock.close()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        buf += chunk
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)
