"""Field encryption, the keyed holder hash and the key file."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from workstation.services.crypto import (
    FORMAT_VERSION,
    DecryptionError,
    FieldCipher,
    KeyFileError,
)


def test_round_trip_and_format(cipher: FieldCipher) -> None:
    blob = cipher.encrypt_text("张卫国", "consent.applicant_name")
    assert blob[0] == FORMAT_VERSION
    assert len(blob) == 1 + 12 + len("张卫国".encode()) + 16
    assert "张卫国".encode() not in blob
    assert cipher.decrypt_text(blob, "consent.applicant_name") == "张卫国"
    assert cipher.decrypt_json(cipher.encrypt_json({"a": [1, "二"]}, "x"), "x") == {"a": [1, "二"]}


def test_random_nonce(cipher: FieldCipher) -> None:
    a = cipher.encrypt(b"same", "ctx")
    b = cipher.encrypt(b"same", "ctx")
    assert a != b
    assert a[1:13] != b[1:13]


def test_context_is_bound(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(b"secret", "licence.fields")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, "licence.thumbnail")


def test_tampering_detected(cipher: FieldCipher) -> None:
    blob = bytearray(cipher.encrypt(b"secret", "ctx"))
    blob[-1] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "ctx")
    with pytest.raises(DecryptionError):
        cipher.decrypt(b"\x02" + bytes(blob[1:]), "ctx")
    with pytest.raises(DecryptionError):
        cipher.decrypt(b"\x01short", "ctx")


def test_other_key_cannot_decrypt(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(b"secret", "ctx")
    with pytest.raises(DecryptionError):
        FieldCipher.generate().decrypt(blob, "ctx")


def test_holder_hash(cipher: FieldCipher) -> None:
    h = cipher.holder_hash("11010519491231002X")
    assert len(h) == 64 and int(h, 16) >= 0
    assert cipher.holder_hash(" 11010519491231002x ") == h  # normalised
    assert cipher.holder_hash("110105194912310029") != h
    assert "11010519491231002X" not in h
    assert FieldCipher.generate().holder_hash("11010519491231002X") != h  # keyed


def test_keys_must_differ() -> None:
    key = os.urandom(32)
    with pytest.raises(ValueError):
        FieldCipher(key, key)
    with pytest.raises(ValueError):
        FieldCipher(os.urandom(16), os.urandom(32))


def test_repr_hides_keys(cipher: FieldCipher) -> None:
    assert "hidden" in repr(cipher)


def test_key_file_created_0600_and_reloaded(tmp_path) -> None:
    path = tmp_path / "sub" / "field-keys.json"
    first = FieldCipher.from_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["field-keys.json"]  # no temp file left
    data = json.loads(path.read_text())
    assert set(data) >= {"encryption_key", "hash_key"}
    assert data["encryption_key"] != data["hash_key"]
    second = FieldCipher.from_key_file(path)
    assert second.decrypt(first.encrypt(b"x", "c"), "c") == b"x"
    assert second.holder_hash("A") == first.holder_hash("A")


def test_key_file_created_0600_despite_permissive_umask(tmp_path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "k.json"
        FieldCipher.from_key_file(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_key_file_readable_by_others_refused(tmp_path, mode: int) -> None:
    path = tmp_path / "k.json"
    FieldCipher.from_key_file(path)
    path.chmod(mode)
    with pytest.raises(KeyFileError) as info:
        FieldCipher.from_key_file(path)
    assert "chmod 600" in str(info.value)
    assert str(path) in str(info.value)


def test_corrupt_key_file(tmp_path) -> None:
    path = tmp_path / "k.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"format": "mianzheng-field-keys", "encryption_key": "!!"}')
    os.close(fd)
    with pytest.raises(KeyFileError, match="损坏"):
        FieldCipher.from_key_file(path)


def test_derived_keys(cipher: FieldCipher, tmp_path) -> None:
    key = cipher.derive_key("audit-chain")
    assert len(key) == 32
    assert cipher.derive_key("audit-chain") == key
    assert cipher.derive_key("something-else") != key
    assert FieldCipher.generate().derive_key("audit-chain") != key
    # Independent of the holder hash / keyed hash outputs and of the stored keys.
    stored = json.loads((tmp_path / "keys" / "field-keys.json").read_text())
    assert key.hex() not in {cipher.keyed_hash("", "audit-chain"), cipher.holder_hash("")}
    assert base64.b64encode(key).decode() not in stored.values()
    with pytest.raises(ValueError):
        cipher.derive_key("")


def test_key_fingerprint(tmp_path) -> None:
    path = tmp_path / "k.json"
    first = FieldCipher.from_key_file(path)
    fingerprint = first.key_fingerprint()
    assert len(fingerprint) == 64
    assert FieldCipher.from_key_file(path).key_fingerprint() == fingerprint
    assert FieldCipher.generate().key_fingerprint() != fingerprint
    stored = json.loads(path.read_text())
    enc = base64.b64decode(stored["encryption_key"])
    mac = base64.b64decode(stored["hash_key"])
    for key in (enc, mac):
        assert key.hex() not in fingerprint
    # Either key differing changes it.
    assert FieldCipher(enc, os.urandom(32)).key_fingerprint() != fingerprint
    assert FieldCipher(os.urandom(32), mac).key_fingerprint() != fingerprint
