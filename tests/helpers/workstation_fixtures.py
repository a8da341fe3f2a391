"""Fixtures that build a real Workstation core and shell against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from workstation.config import Config, KioskConfig, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins


@pytest.fixture
def ws_config(tmp_path: Path, sandbox: Any) -> Config:
    return Config(
        workstation_id="TEST-01",
        demo_operator=True,
        data_dir=tmp_path / "data",
        platform=PlatformConfig(base_url=sandbox.url, timeout_s=3.0, health_interval_s=3600),
        kiosk=KioskConfig(idle_timeout_s=60, countdown_s=10),
    )


@pytest.fixture
def make_core(ws_config: Config, sandbox: Any) -> Iterator[Callable[..., Workstation]]:
    made: list[Workstation] = []

    def make(*, extra_plugins: list[tuple[str, Any]] = (), **overrides: Any) -> Workstation:
        cfg = replace(ws_config, **overrides)
        plugins = load_plugins(blocked=cfg.blocked_plugins, extra=extra_plugins)
        core = Workstation(cfg, sandbox.url, plugins)
        made.append(core)
        return core

    yield make
    for core in made:
        core.close()


@pytest.fixture
def core(make_core: Callable[..., Workstation]) -> Workstation:
    return make_core()
