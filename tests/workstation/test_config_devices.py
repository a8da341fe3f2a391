"""[devices] configuration keys: defaults, backends by "kind:argument", validation."""

from __future__ import annotations

import pytest

from workstation.config import ConfigError, DevicesConfig, config_from_dict


def test_defaults_are_the_simulators():
    d = config_from_dict({}).devices
    assert d == DevicesConfig()
    assert {d.card_reader, d.id_card_reader, d.qr_scanner, d.locker,
            d.document_camera} == {"simulated"}
    assert d.qr_decoders == ("zxing", "zbar")


def test_backends_with_arguments():
    d = config_from_dict({"devices": {
        "card_reader": "pcsc:ACS ACR39U ICC Reader", "id_card_reader": "serial:/dev/ttyUSB0",
        "qr_scanner": "camera:1", "locker": "serial:/dev/ttyS1", "document_camera": "folder:/srv",
        "qr_decoders": ["zbar"], "scanner_terminator": "CRLF", "serial_baud": 115200,
        "locker_board": 3, "locker_doors": 24, "locker_open_level": 0, "locker_timeout_s": 1,
        "locker_retries": 0,
    }}).devices
    assert (d.kind("card_reader"), d.argument("card_reader")) == ("pcsc", "ACS ACR39U ICC Reader")
    assert (d.kind("qr_scanner"), d.argument("qr_scanner")) == ("camera", "1")
    assert d.locker_timeout_s == 1.0 and d.locker_open_level == 0
    assert d.argument("locker") == "/dev/ttyS1" and d.argument("card_reader") != ""


@pytest.mark.parametrize(("devices", "key", "words"), [
    ({"card_reader": "usb"}, "devices.card_reader", "之一"),
    ({"locker": "serial"}, "devices.locker", "需要参数"),
    ({"qr_scanner": "camera:front"}, "devices.qr_scanner", "数字"),
    ({"document_camera": "simulated:x"}, "devices.document_camera", "不带参数"),
    ({"qr_decoders": ["zxing", "zxing"]}, "devices.qr_decoders", "不重复"),
    ({"qr_decoders": []}, "devices.qr_decoders", "不重复"),
    ({"qr_decoders": ["opencv"]}, "devices.qr_decoders", "不重复"),
    ({"scanner_terminator": "ETX"}, "devices.scanner_terminator", "CR"),
    ({"serial_baud": 1234}, "devices.serial_baud", "波特率"),
    ({"locker_board": 300}, "devices.locker_board", "0 到 255"),
    ({"locker_doors": 0}, "devices.locker_doors", "1 到 255"),
    ({"locker_open_level": 2}, "devices.locker_open_level", "0 或 1"),
    ({"locker_timeout_s": 0}, "devices.locker_timeout_s", "秒"),
    ({"locker_retries": -1}, "devices.locker_retries", "0 到 10"),
    ({"locker_retries": True}, "devices.locker_retries", "int"),
    ({"card_reader": 1}, "devices.card_reader", "str"),
    ({"camera": "x"}, "devices.camera", "未知"),
])
def test_bad_values_name_the_key(devices, key, words):
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"devices": devices})
    assert exc.value.key == key and words in exc.value.reason
