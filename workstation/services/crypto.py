"""Field encryption at rest and keyed hashing of holder identifiers.

Personal fields (names, ID numbers, licence contents, thumbnails) are stored encrypted with
AES-256-GCM. A stored value is ``version byte || 96-bit random nonce || ciphertext+tag``; the
associated data is a context string naming what the value is (``"licence.fields"``), so a
ciphertext copied into another column does not decrypt there.

Lookups by holder use ``holder_hash`` = HMAC-SHA256 of the normalised identifier under a second,
independent key: equal identifiers give equal hashes, but the hash reveals nothing without the key.

Both keys live in one JSON key file created with mode 0600 on first run. Further keys (e.g. the
audit chain's MAC key) are derived from the hash key with HKDF-SHA256 under a purpose label, so
they never need storing; ``key_fingerprint()`` identifies the key pair without revealing it (a
hall-wide database records it to detect a workstation holding other keys).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = 1
_NONCE_LEN = 12
_KEY_LEN = 32
_KEY_FILE_FORMAT = "mianzheng-field-keys"
_DERIVE_SALT = b"mianzheng.field-keys.derive.v1"
_FINGERPRINT_LABEL = b"mianzheng.field-keys.fingerprint.v1"


class KeyFileError(RuntimeError):
    """The key file is missing, malformed or readable by others; the message says what to do."""


class DecryptionError(ValueError):
    """A stored value could not be decrypted (wrong key, wrong context or tampered data)."""


def normalise_holder_id(holder_id: str) -> str:
    """The canonical form hashed for lookups: stripped, upper-case (ID numbers end in X)."""
    return holder_id.strip().upper()


class FieldCipher:
    """AES-256-GCM field encryption plus the keyed holder hash."""

    def __init__(self, encryption_key: bytes, hash_key: bytes) -> None:
        if len(encryption_key) != _KEY_LEN or len(hash_key) != _KEY_LEN:
            raise ValueError("both keys must be 32 bytes")
        if hmac.compare_digest(encryption_key, hash_key):
            raise ValueError("the encryption key and the hash key must differ")
        self._aead = AESGCM(encryption_key)
        self._hash_key = hash_key
        # Binds the fingerprint to the encryption key too, without keeping the raw key.
        self._encryption_key_check = hmac.new(
            encryption_key, _FINGERPRINT_LABEL, hashlib.sha256
        ).digest()

    def __repr__(self) -> str:  # never show key material
        return "FieldCipher(<keys hidden>)"

    # -- construction --------------------------------------------------------------------

    @classmethod
    def generate(cls) -> FieldCipher:
        """A cipher with fresh random keys (tests, or before writing a key file)."""
        return cls(os.urandom(_KEY_LEN), os.urandom(_KEY_LEN))

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str]) -> FieldCipher:
        """Load the keys from ``path``, creating the file (mode 0600) on first run.

        Refuses a key file that group or others may read or write.
        """
        key_path = Path(path)
        if not key_path.exists():
            _create_key_file(key_path)
        return cls(*_load_key_file(key_path))

    # -- encryption ----------------------------------------------------------------------

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(context))
        return bytes([FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> bytes:
        blob = bytes(blob)
        if len(blob) < 1 + _NONCE_LEN + 16:
            raise DecryptionError("stored value too short")
        if blob[0] != FORMAT_VERSION:
            raise DecryptionError(f"unknown field format version {blob[0]}")
        nonce, sealed = blob[1:1 + _NONCE_LEN], blob[1 + _NONCE_LEN:]
        try:
            return self._aead.decrypt(nonce, sealed, _aad(context))
        except InvalidTag:
            raise DecryptionError(
                f"cannot decrypt a {context!r} value (wrong key, context or tampered data)"
            ) from None

    def encrypt_text(self, text: str, context: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), context)

    def decrypt_text(self, blob: bytes, context: str) -> str:
        return self.decrypt(blob, context).decode("utf-8")

    def encrypt_json(self, value: Any, context: str) -> bytes:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return self.encrypt(data.encode("utf-8"), context)

    def decrypt_json(self, blob: bytes, context: str) -> Any:
        return json.loads(self.decrypt(blob, context))

    # -- keyed hash ----------------------------------------------------------------------

    def holder_hash(self, holder_id: str) -> str:
        """HMAC-SHA256 (hex) of the normalised holder identifier, for lookups and the audit."""
        return hmac.new(
            self._hash_key, normalise_holder_id(holder_id).encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def keyed_hash(self, value: str, purpose: str) -> str:
        """HMAC-SHA256 (hex) of ``value`` in a named domain other than holder identifiers."""
        return hmac.new(
            self._hash_key, f"{purpose}\x00{value}".encode(), hashlib.sha256
        ).hexdigest()

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (e.g. ``"audit-chain"``), derived from the hash key.

        HKDF-SHA256 with a fixed salt and the purpose as info: independent of the hash key's
        other uses (holder hashes, ``keyed_hash``) and of other purposes. Never store it.
        """
        if not purpose:
            raise ValueError("a key purpose is required")
        return HKDF(
            algorithm=hashes.SHA256(), length=_KEY_LEN, salt=_DERIVE_SALT,
            info=purpose.encode("utf-8"),
        ).derive(self._hash_key)

    def key_fingerprint(self) -> str:
        """HMAC-SHA256 (hex) of a fixed label under both keys; reveals neither key.

        Equal for ciphers built from the same key file, different otherwise.
        """
        return hmac.new(
            self._hash_key, _FINGERPRINT_LABEL + b"\x00" + self._encryption_key_check,
            hashlib.sha256,
        ).hexdigest()


def _aad(context: str) -> bytes:
    if not context:
        raise ValueError("an encryption context is required")
    return context.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _create_key_file(path: Path) -> None:
    """Write fresh keys to ``path`` atomically with mode 0600; keep an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = json.dumps(
        {
            "format": _KEY_FILE_FORMAT,
            "version": 1,
            "encryption_key": _b64(os.urandom(_KEY_LEN)),
            "hash_key": _b64(os.urandom(_KEY_LEN)),
        },
        indent=2,
    ).encode("ascii")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        # link() fails if the target exists: when two processes start at once, the first
        # key file wins and both use it.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the new directory entry durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _load_key_file(path: Path) -> tuple[bytes, bytes]:
    try:
        info = path.stat()
    except OSError as exc:
        raise KeyFileError(f"无法读取密钥文件 {path}：{exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"密钥文件 {path} 不是普通文件")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"密钥文件 {path} 的权限为 {stat.S_IMODE(info.st_mode):04o}，其他用户可以访问，"
            f"已拒绝使用。请执行 chmod 600 {path} 后重试"
            f"（key file is accessible by group/others; run chmod 600 on it）"
        )
    try:
        raw = json.loads(path.read_bytes())
        if raw.get("format") != _KEY_FILE_FORMAT:
            raise ValueError("not a field key file")
        enc = base64.b64decode(raw["encryption_key"], validate=True)
        mac = base64.b64decode(raw["hash_key"], validate=True)
        if len(enc) != _KEY_LEN or len(mac) != _KEY_LEN:
            raise ValueError("keys must be 32 bytes")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyFileError(f"密钥文件 {path} 已损坏或格式不正确：{exc}") from None
    return enc, mac
