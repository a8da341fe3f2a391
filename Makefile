# 免证办 workstation — set-up, run, test, benchmark.
# Every target first installs what it needs (Debian packages as root, then a .venv); re-running
# is fast because each step leaves a stamp that is rebuilt only when its inputs change.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps

# Runtime: Qt offscreen/xcb libraries, a TrueType CJK font, PostgreSQL for hall databases and the
# store tests, poppler for reading printed PDFs back and rendering pages, Xvfb for a window
# without a display; CUPS (scheduler, client tools, the PDF filters and the Generic PDF printer
# PPD) for printing and the private cupsd of the printing tests, libcups2-dev to build pycups,
# libzbar0 for pyzbar (QR decoding, and reading printed QR codes back).
# Devices: pcscd + the vpcd virtual reader driver (the card path runs on the real PC/SC stack,
# also in tests), libpcsclite-dev to build pyscard, util-linux for the private pcscd's mount
# namespace (unshare). Fonts the printing tests refuse on purpose: DejaVu (no Chinese glyphs) and
# URW base35 (CFF outlines), so those tests never skip.
# S5 smart review: Tesseract OCR with simplified Chinese (reads the photographed materials).
DEB_PACKAGES := python3 python3-venv python3-dev gcc fontconfig fonts-wqy-microhei \
	libegl1 libgl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 \
	libbrotli1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 \
	libxcb-shape0 libxcb-xkb1 libxcb-util1 libxkbcommon-x11-0 libx11-xcb1 xvfb xauth \
	postgresql poppler-utils \
	cups-daemon cups-client cups-filters cups-filters-core-drivers libcups2-dev libzbar0 \
	pcscd vsmartcard-vpcd libpcsclite-dev util-linux \
	fonts-dejavu-core fonts-urw-base35 \
	tesseract-ocr tesseract-ocr-chi-sim

.PHONY: all setup run test lint bench clean

all: test

$(STAMPS)/debian: Makefile tools/ensure-debian-packages.sh
	@mkdir -p $(STAMPS)
	@tools/ensure-debian-packages.sh $(DEB_PACKAGES)
	@touch $@

$(STAMPS)/venv: $(STAMPS)/debian setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is required / 需要 Python 3.11 或更高版本")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@# compat mode: a .pth path entry instead of an import hook (the hook cost ~18 ms of start-up)
	@$(BIN)/python -m pip install -q -e '.[test,postgres]' --config-settings editable_mode=compat
	@touch $@

setup: $(STAMPS)/venv

# Opens the workstation on the embedded sandbox with simulated devices. Without a display it
# runs under Xvfb (set DISPLAY to see the window on your desktop).
run: $(STAMPS)/venv
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		$(BIN)/mianzheng run $(ARGS); \
	else \
		echo "no DISPLAY: running under Xvfb / 未检测到显示器，在 Xvfb 虚拟屏幕上运行"; \
		xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/mianzheng run $(ARGS); \
	fi

lint: $(STAMPS)/venv
	$(BIN)/ruff check .

test: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMPS)/venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks

clean:
	rm -rf $(STAMPS) build *.egg-info
