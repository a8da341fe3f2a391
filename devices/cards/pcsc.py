"""The PC/SC card-reader backend (pyscard's ``smartcard.scard``, over pcscd).

The low-level API is used directly so every failure keeps its PC/SC code, which maps to one
clear message: no service, no reader, reader unplugged, no card, card pulled mid-read,
unresponsive card. A handle whose card was pulled never recovers: it is disconnected and the
whole read starts again from SELECT on the next insertion (never a half identity).

libpcsclite finds pcscd through ``PCSCLITE_CSOCK_NAME``, read once per process at the first
PC/SC call: a private pcscd (``devices.cards.pcscd``) must be exported before this backend is
first used.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from devices.cards.model import (
    CardError,
    CardPulled,
    CardUnresponsive,
    NoCard,
    NoReader,
    PcscServiceUnavailable,
    ReaderState,
    ReaderUnplugged,
    SocialSecurityCardData,
)
from devices.cards.reader import CardEvent, CardEventKind, CardListener, SmartCardReader
from devices.cards.sscard import read_social_security_card

log = logging.getLogger(__name__)

PNP_READER = "\\\\?PnP?\\Notification"
POLL_MS = 1000  # longest a monitor wait lasts before it looks at stop() again


def _scard() -> Any:
    import smartcard.scard as scard  # deferred: loads libpcsclite

    return scard


def error_for(hresult: int, step: str = "") -> CardError:
    """The CardError for a PC/SC return code."""
    s = _scard()
    code = hresult & 0xFFFFFFFF
    if code in (s.SCARD_E_NO_SERVICE, s.SCARD_E_SERVICE_STOPPED):
        return PcscServiceUnavailable()
    if code == s.SCARD_E_NO_READERS_AVAILABLE:
        return NoReader()
    if code in (s.SCARD_E_READER_UNAVAILABLE, s.SCARD_E_UNKNOWN_READER):
        return ReaderUnplugged()
    if code == s.SCARD_E_NO_SMARTCARD:
        return NoCard()
    if code in (s.SCARD_W_REMOVED_CARD, s.SCARD_E_NOT_TRANSACTED, s.SCARD_W_RESET_CARD,
                s.SCARD_E_INVALID_HANDLE, s.SCARD_E_COMM_DATA_LOST):
        return CardPulled()
    if code in (s.SCARD_W_UNRESPONSIVE_CARD, s.SCARD_W_UNPOWERED_CARD):
        return CardUnresponsive()
    return CardError(f"读卡失败（{step}，PC/SC 错误 {code:08X}），请重新插卡", code="pcsc")


class PcscCardReader(SmartCardReader):
    """A reader on pcscd, chosen by name (exact, or the start of the name) or the first one."""

    kind = "社保卡读卡器（PC/SC）"
    label = "社保卡读卡器"

    def __init__(self, reader: str | None = None) -> None:
        super().__init__()
        self.wanted = reader or None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._monitor_ctx: int | None = None
        self._ctx_lock = threading.Lock()

    @classmethod
    def is_usable(cls) -> bool:
        try:
            _scard()
        except Exception:  # ImportError, or libpcsclite missing (OSError)
            return False
        return True

    # -- contexts and readers ---------------------------------------------------------------

    @staticmethod
    def _establish() -> int:
        s = _scard()
        hresult, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        if hresult != s.SCARD_S_SUCCESS:
            raise error_for(hresult, "连接智能卡服务")
        return int(ctx)

    @staticmethod
    def _release(ctx: int) -> None:
        with contextlib.suppress(Exception):
            _scard().SCardReleaseContext(ctx)

    def list_readers(self, ctx: int | None = None) -> list[str]:
        s = _scard()
        own = ctx is None
        ctx = self._establish() if ctx is None else ctx
        try:
            hresult, readers = s.SCardListReaders(ctx, [])
            if hresult == s.SCARD_E_NO_READERS_AVAILABLE:
                return []
            if hresult != s.SCARD_S_SUCCESS:
                raise error_for(hresult, "列出读卡器")
            return list(readers)
        finally:
            if own:
                self._release(ctx)

    def resolve(self, ctx: int) -> str:
        """The configured reader's full name; NoReader when it is not connected."""
        readers = self.list_readers(ctx)
        if not readers:
            raise NoReader()
        if self.wanted is None:
            return readers[0]
        for name in readers:
            if name == self.wanted:
                return name
        for name in readers:
            if name.lower().startswith(self.wanted.lower()):
                return name
        raise NoReader(f"找不到配置的读卡器“{self.wanted}”，已连接：{'、'.join(readers)}")

    # -- reading ----------------------------------------------------------------------------

    def _read(self, ctx: int, reader: str) -> SocialSecurityCardData:
        s = _scard()
        hresult, card, protocol = s.SCardConnect(
            ctx, reader, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
        )
        if hresult != s.SCARD_S_SUCCESS:
            raise error_for(hresult, "连接卡片")
        pulled = False
        try:
            hresult, _name, _state, _proto, atr = s.SCardStatus(card)
            if hresult != s.SCARD_S_SUCCESS:
                raise error_for(hresult, "读取卡片状态")

            def transmit(apdu: bytes) -> tuple[bytes, int]:
                hr, response = s.SCardTransmit(card, protocol, list(apdu))
                if hr != s.SCARD_S_SUCCESS:
                    raise error_for(hr, "与卡片通信")
                if len(response) < 2:
                    # vpcd (and some USB readers) answer the first command after the card
                    # left with "success" and no status word at all: the card is gone.
                    raise CardPulled()
                return bytes(response[:-2]), response[-2] << 8 | response[-1]

            return read_social_security_card(transmit, bytes(atr))
        except CardPulled:
            pulled = True
            raise
        finally:
            # A pulled card's handle never recovers: let go of it without touching the card.
            s.SCardDisconnect(card, s.SCARD_LEAVE_CARD if pulled else s.SCARD_RESET_CARD)

    def read_identity(self) -> SocialSecurityCardData:
        ctx = self._establish()
        try:
            reader = self.resolve(ctx)
            self.reader_name = reader
            return self._read(ctx, reader)
        finally:
            self._release(ctx)

    def wait_for_identity(self, timeout_s: float) -> SocialSecurityCardData:
        s = _scard()
        deadline = time.monotonic() + timeout_s
        ctx = self._establish()
        try:
            reader = self.resolve(ctx)
            self.reader_name = reader
            current = s.SCARD_STATE_UNAWARE
            last_error: CardError = NoCard()
            while True:
                remaining_ms = int((deadline - time.monotonic()) * 1000)
                if remaining_ms <= 0:
                    raise last_error
                hresult, states = s.SCardGetStatusChange(ctx, remaining_ms, [(reader, current)])
                if hresult == s.SCARD_E_TIMEOUT:
                    raise last_error
                if hresult != s.SCARD_S_SUCCESS:
                    raise error_for(hresult, "等待插卡")
                _, event, _atr = states[0]
                current = event & ~s.SCARD_STATE_CHANGED
                if event & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_UNAVAILABLE):
                    raise ReaderUnplugged()
                if not event & s.SCARD_STATE_PRESENT or event & s.SCARD_STATE_MUTE:
                    continue
                try:
                    return self._read(ctx, reader)
                except (CardPulled, NoCard) as exc:  # start over once the card is back
                    last_error = exc
        finally:
            self._release(ctx)

    # -- monitoring -------------------------------------------------------------------------

    def start(self, listener: CardListener) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._monitor, args=(listener,),
                                        name="pcsc-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._ctx_lock:
            if self._monitor_ctx is not None:
                with contextlib.suppress(Exception):
                    _scard().SCardCancel(self._monitor_ctx)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10)

    def _emit(self, listener: CardListener, kind: CardEventKind, state: ReaderState,
              **extra: Any) -> None:
        self._set_state(state)
        try:
            listener(CardEvent(kind, state, self.reader_name, **extra))
        except Exception:  # a broken listener must not stop the monitor
            log.exception("card event listener failed")

    def _change_state(self, listener: CardListener, state: ReaderState,
                      error: CardError | None = None) -> None:
        if state != self.state:
            self._emit(listener, CardEventKind.STATE, state, error=error)

    def _monitor(self, listener: CardListener) -> None:
        while not self._stopping.is_set():
            try:
                ctx = self._establish()
            except CardError as exc:
                self._change_state(listener, ReaderState.UNAVAILABLE, exc)
                self._stopping.wait(1.0)  # pcscd may come back: try again every second
                continue
            with self._ctx_lock:
                self._monitor_ctx = ctx
            try:
                self._watch(ctx, listener)
            finally:
                with self._ctx_lock:
                    self._monitor_ctx = None
                self._release(ctx)

    def _watch(self, ctx: int, listener: CardListener) -> None:
        """Watch the reader on ``ctx`` until the service goes away or stop() is called."""
        s = _scard()
        while not self._stopping.is_set():
            try:
                reader = self.resolve(ctx)
            except NoReader as exc:
                self._change_state(listener, ReaderState.NO_READER, exc)
                # wait for a reader to be plugged in (or the service to go away)
                hresult, _ = s.SCardGetStatusChange(ctx, POLL_MS, [(PNP_READER, 0)])
                if hresult not in (s.SCARD_S_SUCCESS, s.SCARD_E_TIMEOUT):
                    self._lost_service(listener, hresult)
                    return
                continue
            except CardError as exc:
                self._change_state(listener, ReaderState.UNAVAILABLE, exc)
                return
            self.reader_name = reader
            if not self._watch_reader(ctx, reader, listener):
                return

    def _lost_service(self, listener: CardListener, hresult: int) -> None:
        if hresult == _scard().SCARD_E_CANCELLED:
            return
        error = error_for(hresult, "监视读卡器")
        self._change_state(listener, ReaderState.UNAVAILABLE, error)
        self._stopping.wait(0.5)

    def _watch_reader(self, ctx: int, reader: str, listener: CardListener) -> bool:
        """Follow one reader; False when the context is unusable (service gone, cancelled),
        True when the reader went away (look for it again)."""
        s = _scard()
        current = s.SCARD_STATE_UNAWARE
        present = False
        while not self._stopping.is_set():
            hresult, states = s.SCardGetStatusChange(ctx, POLL_MS, [(reader, current)])
            if hresult == s.SCARD_E_TIMEOUT:
                continue
            if hresult in (s.SCARD_E_UNKNOWN_READER, s.SCARD_E_READER_UNAVAILABLE):
                self._reader_lost(listener, present)
                return True
            if hresult != s.SCARD_S_SUCCESS:
                if present:
                    self._emit(listener, CardEventKind.REMOVED, ReaderState.UNAVAILABLE)
                self._lost_service(listener, hresult)
                return False
            _, event, _atr = states[0]
            previous, current = current, event & ~s.SCARD_STATE_CHANGED
            if event & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_UNAVAILABLE):
                self._reader_lost(listener, present)
                return True
            now_present = bool(event & s.SCARD_STATE_PRESENT)
            # The upper 16 bits count insertions and removals: a card pulled and put back
            # between two looks is a new card all the same.
            swapped = present and now_present and (previous >> 16) != (event >> 16)
            if present and (not now_present or swapped):
                present = False
                self._emit(listener, CardEventKind.REMOVED, ReaderState.EMPTY)
            if not now_present:
                self._change_state(listener, ReaderState.EMPTY)
                continue
            if present:
                continue
            present = True
            self._emit(listener, CardEventKind.INSERTED, ReaderState.READING)
            if event & s.SCARD_STATE_MUTE:
                self._emit(listener, CardEventKind.READ_FAILED, ReaderState.ERROR,
                           error=CardUnresponsive())
                continue
            try:
                identity = self._read(ctx, reader)
            except CardError as exc:
                # Nothing of a failed read is kept: the next insertion (seen as a removal, then
                # an insertion) starts the whole read again from SELECT.
                self._emit(listener, CardEventKind.READ_FAILED, ReaderState.ERROR, error=exc)
                continue
            self._emit(listener, CardEventKind.IDENTITY, ReaderState.CARD, identity=identity)
        return False

    def _reader_lost(self, listener: CardListener, present: bool) -> None:
        if present:
            self._emit(listener, CardEventKind.REMOVED, ReaderState.NO_READER)
        self._change_state(listener, ReaderState.NO_READER, ReaderUnplugged())
