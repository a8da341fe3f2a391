"""`mianzheng devices`: the list and the self-test on the simulators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.cards.pcscd import SOCKET_ENV
from workstation.cli import main


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    f = tmp_path / "ws.toml"
    f.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return f


def test_list_shows_every_configured_device(config_file, capsys):
    assert main(["--config", str(config_file), "devices"]) == 0
    out = capsys.readouterr().out
    for title in ("社保卡读卡器", "身份证阅读器", "扫码器", "储物柜", "高拍仪"):
        assert title in out
    assert "可用" in out


def test_self_test_passes_on_the_simulators(config_file):
    """Run as the command it is: its private pcscd must be the process's first PC/SC contact
    (this test process already talks to the session's pcscd)."""
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "workstation.cli", "--config", str(config_file), "devices",
         "--self-test", "--json"], capture_output=True, text=True, env=env, timeout=120,
        check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = {r["key"]: r for r in json.loads(done.stdout)}
    assert all(r["ok"] for r in reports.values()), reports
    assert "读到虚拟社保卡" in reports["card_reader"]["detail"]
    assert "已打开并关上" in reports["locker"]["detail"]
    assert "1240×1754" in reports["document_camera"]["detail"]
    assert "解码正确" in reports["qr_scanner"]["detail"]


def test_self_test_reports_a_failing_device(tmp_path, capsys):
    cfg = tmp_path / "ws.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path}"\n[devices]\ncard_reader = "none"\n'
        f'id_card_reader = "serial:/dev/ttyNOPE7"\nlocker = "none"\n'
        f'document_camera = "folder:{tmp_path / "empty"}"\n', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert main(["--config", str(cfg), "devices", "--self-test"]) == 1
    out = capsys.readouterr().out
    assert "/dev/ttyNOPE7" in out and "没有图片" in out and "失败 FAIL" in out


def test_qr_decode_image_files(tmp_path, capsys):
    import cv2
    import numpy as np

    from devices.qr.corpus import render_code

    good = tmp_path / "good.png"
    code = render_code("EHBID1.图片文件".encode(), 5)
    frame = np.full((480, 640), 150, np.uint8)
    frame[10 : 10 + code.shape[0], 10 : 10 + code.shape[1]] = code
    cv2.imwrite(str(good), frame)
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((100, 100), 200, np.uint8))
    assert main(["qr", "decode", str(good), str(empty)]) == 1
    captured = capsys.readouterr()
    assert "EHBID1.图片文件" in captured.out and "zxing" in captured.out
    assert "没有找到二维码" in captured.err
