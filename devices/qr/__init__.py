"""QR scanning: decoders (zxing-cpp, pyzbar) and their chain, payload checks, sources (camera,
serial scanner, image files), the keyboard-wedge burst classifier and a synthetic frame
corpus for tests and benchmarks."""
