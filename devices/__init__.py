"""Hardware interfaces, real backends and simulators (Qt-free; imports neither workstation nor
PyQt6).

- ``devices.cards``: smart-card readers (PC/SC via pyscard) and the third-generation social
  security card profile; a virtual card speaking vpcd's socket protocol; a private pcscd.
- ``devices.idcard``: serial second-generation ID-card readers and their simulator.
- ``devices.qr``: QR decoding (zxing-cpp, pyzbar), camera, serial and image-file sources, the
  keyboard-wedge burst classifier.
- ``devices.locker``: smart-locker boards (serial) and their simulator.
- ``devices.doccam``: document cameras (OpenCV, folder of images).

Every backend says whether it can run here (``is_usable()``); simulators are named
``Simulated*``. Errors derive from :class:`devices.errors.DeviceError` and carry a Chinese
``message`` for the screen.
"""
