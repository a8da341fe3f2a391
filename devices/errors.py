"""The error every device raises: a Chinese ``message`` for the screen, a stable ``code``."""

from __future__ import annotations


class DeviceError(Exception):
    """A device failed in a way the user must hear about.

    ``message`` is shown as it is (Chinese); ``code`` is a stable slug for logs and tests.
    Neither ever holds personal data.
    """

    code = "device_error"
    default_message = "设备故障"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(f"{self.code}: {self.message}")
