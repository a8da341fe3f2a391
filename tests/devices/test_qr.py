"""QR decoding on generated frames, payload bytes, the wedge classifier, frame and serial
sources."""

from __future__ import annotations

import os
import random
import threading
import tty

import cv2
import numpy as np
import pytest

from devices.errors import DeviceError
from devices.qr.corpus import DEGRADATIONS, corpus, make_frame, render_code
from devices.qr.decoders import (
    DEFAULT_DECODERS,
    DecoderChain,
    QrDecoder,
    ZbarDecoder,
    ZxingDecoder,
    decode_image_file,
)
from devices.qr.payload import MAX_SCAN_CHARS, ScanRejected, check_scanned_text, text_from_bytes
from devices.qr.sources import FrameScanner, FrameSource, OpenCvCamera, SerialQrScanner
from devices.qr.wedge import WedgeClassifier


def clean_frame(payload: bytes, module_px: int = 5) -> np.ndarray:
    code = render_code(payload, module_px)
    frame = np.full((480, 640), 140, dtype=np.uint8)
    frame[20 : 20 + code.shape[0], 40 : 40 + code.shape[1]] = code
    return frame


@pytest.fixture(scope="module")
def chain() -> DecoderChain:
    return DecoderChain.from_names(DEFAULT_DECODERS)


def test_both_decoders_are_usable_and_zxing_reads_model_2_only():
    assert ZxingDecoder.is_usable() and ZbarDecoder.is_usable()
    import zxingcpp

    assert ZxingDecoder()._formats == zxingcpp.BarcodeFormat.QRCodeModel2


@pytest.mark.parametrize("text", ["张三", "社保", "鄂汇办身份码：王小明", "赤壁市金鸡路8号"])
@pytest.mark.parametrize("decoder", [ZxingDecoder, ZbarDecoder])
def test_utf8_chinese_payload_bytes_survive_exactly(decoder, text):
    """Short UTF-8 Chinese strings are where zbar's character-set guess garbled them."""
    payload = text.encode("utf-8")
    assert decoder().decode(clean_frame(payload)) == [payload]
    assert text_from_bytes(payload) == text


@pytest.mark.parametrize("decoder", [ZxingDecoder, ZbarDecoder])
def test_gb18030_and_binary_bytes_come_back_untouched(decoder):
    gbk = "医保电子凭证".encode("gb18030")
    assert decoder().decode(clean_frame(gbk)) == [gbk]
    assert text_from_bytes(gbk) == "医保电子凭证"
    binary = bytes([0x00, 0x81, 0xFE, 0x10, 0x7F, 0xC3, 0x28, 0xFF] * 4)
    assert decoder().decode(clean_frame(binary)) == [binary]
    with pytest.raises(ScanRejected) as exc:
        text_from_bytes(binary)
    assert "二进制" in exc.value.message


def test_zbar_reads_a_colour_frame_once_it_is_grey(chain):
    payload = b"EHBID1.colour-frame-test"
    colour = cv2.cvtColor(clean_frame(payload), cv2.COLOR_GRAY2BGR)
    colour[..., 0] = 255  # a saturated blue channel: pyzbar alone would read nothing there
    found = chain.decode(colour)
    assert found is not None and found.payload == payload


def test_chain_reads_degraded_frames_and_never_invents_a_code(chain):
    hits = total = false = 0
    per_kind: dict[str, list[int]] = {}
    for frame in corpus(120, seed=11):
        found = chain.decode(frame.image)
        if frame.payload is None:
            false += found is not None
            continue
        total += 1
        ok = found is not None and found.payload == frame.payload
        hits += ok
        per_kind.setdefault(frame.degradation, []).append(ok)
        assert found is None or found.payload == frame.payload  # no wrong payload, ever
    assert false == 0
    assert hits / total >= 0.85, per_kind
    assert set(per_kind) == set(DEGRADATIONS)


@pytest.mark.parametrize("degradation", ["rotation", "perspective", "noise", "small_modules",
                                         "moire", "jpeg"])
def test_each_degradation_is_read(chain, degradation):
    rng = random.Random(degradation)
    frames = [make_frame(rng, (1280, 720), degradation) for _ in range(6)]
    hits = sum((f := chain.decode(fr.image)) is not None and f.payload == fr.payload
               for fr in frames)
    assert hits >= 4


def test_no_code_frames(chain):
    rng = random.Random(3)
    for _ in range(10):
        assert chain.decode(make_frame(rng, (640, 480), "noise", with_code=False).image) is None


def test_image_file(tmp_path, chain):
    path = tmp_path / "code.png"
    cv2.imwrite(str(path), clean_frame("二维码图片".encode()))
    found = decode_image_file(path, chain)
    assert found is not None and found.payload.decode() == "二维码图片"
    with pytest.raises(DeviceError):
        decode_image_file(tmp_path / "missing.png", chain)


@pytest.mark.parametrize(("text", "code"), [
    ("A" * (MAX_SCAN_CHARS + 1), "too_long"),
    ("EHBID1.abc\x07def", "control_chars"),
    ("EHBID1.\x1b[2J", "control_chars"),
    ("\ufffd\ufffd垃圾", "binary"),
    ("   ", "empty"),
])
def test_scanned_text_refusals(text, code):
    with pytest.raises(ScanRejected) as exc:
        check_scanned_text(text)
    assert exc.value.code == code and exc.value.message


def test_scanned_text_is_trimmed():
    assert check_scanned_text("  EHBID1.a.b\r\n") == "EHBID1.a.b"


# -- wedge classifier (injected timestamps) ---------------------------------------------------


def feed(classifier: WedgeClassifier, text: str, start: float, gap: float) -> list:
    return [classifier.key(ch, start + i * gap) for i, ch in enumerate(text)]


def test_scanner_burst_is_a_scan():
    c = WedgeClassifier()
    results = feed(c, "EHBID1.abcdef\r", 10.0, 0.004)
    assert all(r.held for r in results[:-1]) and results[-1].scan == "EHBID1.abcdef"
    assert sum(r.replay for r in results) == 0


def test_a_loaded_machine_s_28_ms_gaps_still_scan():
    c = WedgeClassifier()
    assert feed(c, "EHBID1.slow-burst\r", 0.0, 0.028)[-1].scan == "EHBID1.slow-burst"


def test_typing_is_handed_back_in_order():
    c = WedgeClassifier()
    results = feed(c, "wangfang\r", 0.0, 0.12)
    # each key is held until the next shows it was too slow, then given back
    assert [r.replay for r in results] == [0, 1, 1, 1, 1, 1, 1, 1, 1]
    assert all(r.scan is None for r in results)


def test_short_fast_burst_with_enter_is_not_a_scan():
    c = WedgeClassifier()
    results = feed(c, "1234\r", 0.0, 0.01)
    assert results[-1].scan is None and results[-1].replay == 4


def test_stalled_burst_is_released_by_the_timer():
    c = WedgeClassifier()
    feed(c, "EHBID1", 0.0, 0.005)
    assert c.idle(0.03) == 0  # not stalled yet
    assert c.idle(0.2) == 6 and c.holding == 0


def test_a_pause_inside_a_burst_breaks_it():
    c = WedgeClassifier()
    feed(c, "EHBID1.ab", 0.0, 0.005)
    later = c.key("c", 1.0)
    assert later.replay == 9 and later.held
    assert feed(c, "defghij\r", 1.004, 0.004)[-1].scan == "cdefghij"


# -- frame scanner: one decode in flight, repeats ignored ------------------------------------


class FakeDecoder(QrDecoder):
    name = "fake"

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.release = threading.Event()
        self.started = threading.Event()

    @classmethod
    def is_usable(cls) -> bool:
        return True

    def decode(self, gray: np.ndarray) -> list[bytes]:
        self.started.set()
        self.release.wait(10)
        return [self.payload]


def test_one_decode_in_flight_and_the_same_code_is_ignored_for_a_while():
    now = [100.0]
    codes: list[bytes] = []
    got = threading.Event()
    decoder = FakeDecoder(b"EHBID1.same")
    scanner = FrameScanner(DecoderChain([decoder]), lambda p: (codes.append(p), got.set()),
                           repeat_after_s=3.0, clock=lambda: now[0])
    frame = np.zeros((10, 10), np.uint8)
    assert scanner.offer(frame)
    decoder.started.wait(5)
    assert not scanner.offer(frame)  # dropped: one decode in flight
    decoder.release.set()
    got.wait(5)
    scanner.close()
    assert codes == [b"EHBID1.same"] and scanner.dropped == 1
    assert not scanner.deliver(b"EHBID1.same")  # the phone is still in front of the camera
    now[0] += 3.5
    assert scanner.deliver(b"EHBID1.same")
    assert scanner.deliver(b"EHBID1.other")


def test_camera_scanner_reads_frames_off_the_caller_s_thread(chain):
    from devices.qr.sources import CameraScanner

    payload = "摄像头".encode()
    codes: list[tuple[bytes, str]] = []
    got = threading.Event()

    def on_code(p: bytes) -> None:
        codes.append((p, threading.current_thread().name))
        got.set()

    scanner = FrameScanner(chain, on_code)
    cam = CameraScanner(FrameSource([clean_frame(payload)]), scanner)
    cam.start()
    assert got.wait(10) and cam.finished.wait(10)
    cam.stop()
    scanner.close()
    assert codes[0][0] == payload and codes[0][1].startswith("qr-decode")


def test_camera_backend_reports_a_missing_camera():
    assert OpenCvCamera.is_usable()
    with pytest.raises(DeviceError) as exc:
        OpenCvCamera(97).open()
    assert "摄像头" in exc.value.message


def test_serial_scanner_with_configurable_terminator():
    master, slave = os.openpty()
    tty.setraw(slave)
    codes: list[bytes] = []
    two = threading.Event()

    def on_code(payload: bytes) -> None:
        codes.append(payload)
        if len(codes) == 2:
            two.set()

    scanner = SerialQrScanner(os.ttyname(slave), on_code, terminator=b"\n")
    scanner.start()
    try:
        os.write(master, "EHBID1.一二三\n".encode() + b"EHBID1.x\n")
        assert two.wait(10)
    finally:
        scanner.stop()
        os.close(master)
        os.close(slave)
    assert codes == ["EHBID1.一二三".encode(), b"EHBID1.x"]
