"""Building the PluginManager: hook specs, plugins from entry points, load errors kept.

No module-level manager: `load_plugins()` builds a fresh one (tests build their own).
Set ``MIANZHENG_TRACE_PLUGINS=1`` to log every hook call with its arguments and results.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from workstation import hookspecs
from workstation.api import API_VERSION, ApiVersionError, api_version_message
from workstation.manifest import ManifestError, ScenarioManifest

log = logging.getLogger(__name__)

__all__ = ["API_VERSION", "LoadedPlugins", "PluginLoadError", "load_plugins", "resolve_factory"]


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin (or one of its contributions) that failed; shown as a failed tile."""

    plugin: str  # entry-point name
    stage: str  # "import", "register", "manifest", "page"
    message: str
    scenario_id: str | None = None
    title: str | None = None


@dataclass
class LoadedPlugins:
    manager: pluggy.PluginManager
    scenarios: list[tuple[str, ScenarioManifest]] = field(default_factory=list)  # (plugin, m)
    errors: list[PluginLoadError] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    distributions: dict[str, str] = field(default_factory=dict)  # plugin -> "dist version"

    def scenario(self, scenario_id: str) -> ScenarioManifest:
        for _, m in self.scenarios:
            if m.id == scenario_id:
                return m
        raise KeyError(scenario_id)

    def plugin_of(self, scenario_id: str) -> str:
        for name, m in self.scenarios:
            if m.id == scenario_id:
                return name
        raise KeyError(scenario_id)

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any, Exception | None]]:
        """Call a hook through pluggy once per implementing plugin, so one failure stays local.

        Going through the hook caller keeps pluggy's rules (an implementation may take a subset
        of the arguments; tryfirst/trylast order) and tracing. Returns
        (plugin name, result, exception) per plugin.
        """
        pm = self.manager
        caller = getattr(pm.hook, hook_name)
        plugins = [impl.plugin for impl in reversed(caller.get_hookimpls())]  # call order
        out: list[tuple[str, Any, Exception | None]] = []
        for plugin in plugins:
            name = pm.get_name(plugin) or repr(plugin)
            others = [p for p in pm.get_plugins() if p is not plugin]
            try:
                results = pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
            except Exception as exc:  # a plugin must not take the shell down
                out.append((name, None, exc))
                continue
            out.append((name, results[0] if results else None, None))
        return out

    def collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a registration hook on each plugin; returns (plugin name, item) pairs.

        A plugin whose hook raises is recorded in ``errors`` and contributes nothing.
        """
        out: list[tuple[str, Any]] = []
        for name, items, exc in self.call_each(hook_name):
            if exc is not None:
                log.warning("plugin %s failed in %s: %s", name, hook_name, type(exc).__name__)
                self.errors.append(PluginLoadError(name, "register", _describe(exc)))
                continue
            out.extend((name, item) for item in (items or []))
        return out


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _describe_import_error(exc: BaseException) -> str:
    """An import failure; one that names a missing part of ``workstation.api`` most likely
    means the plugin was written for a newer workstation, and the message says so."""
    if isinstance(exc, ApiVersionError):
        return exc.message
    text = _describe(exc)
    if isinstance(exc, ImportError) and (exc.name or "").startswith("workstation.api"):
        text += (f"（插件可能需要更新的插件接口，本工作站提供版本 {API_VERSION}"
                 f" / the plugin may need a newer plugin API than {API_VERSION}）")
    return text


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if os.environ.get("MIANZHENG_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: log.info("plugin trace: %s", msg.rstrip()))
        pm.enable_tracing()  # logs every hook call, its arguments and its results
    return pm


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP)


def load_plugins(
    *,
    blocked: Iterable[str] = (),
    extra: Iterable[tuple[str, ModuleType | object]] = (),
    entry_points: bool = True,
) -> LoadedPlugins:
    """Load every plugin of the entry-point group (minus ``blocked``) plus ``extra`` ones.

    A plugin that fails to import, has a misspelt hook, or declares an invalid manifest is
    recorded in ``errors`` and left out; the others load.
    """
    blocked_set = set(blocked)
    pm = new_plugin_manager()
    loaded = LoadedPlugins(manager=pm)
    candidates: list[tuple[str, Any]] = []
    if entry_points:
        for ep in sorted(_entry_points(), key=lambda e: e.name):
            if ep.name in blocked_set:
                loaded.blocked.append(ep.name)
                continue
            try:
                module = ep.load()
            except Exception as exc:
                loaded.errors.append(
                    PluginLoadError(ep.name, "import", _describe_import_error(exc))
                )
                continue
            if ep.dist is not None:
                loaded.distributions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
            candidates.append((ep.name, module))
    candidates.extend((n, p) for n, p in extra if n not in blocked_set)
    for name, plugin in candidates:
        try:
            pm.register(plugin, name=name)
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            loaded.errors.append(PluginLoadError(name, "import", _describe(exc)))
        except ValueError as exc:  # duplicate name
            loaded.errors.append(PluginLoadError(name, "import", _describe(exc)))

    seen: set[str] = set()
    for name, manifest in loaded.collect("register_scenarios"):
        try:
            if not isinstance(manifest, ScenarioManifest):
                raise ManifestError(
                    f"register_scenarios 应返回 ScenarioManifest，得到 {manifest!r}"
                )
            manifest.validate()
            if manifest.api_version > API_VERSION:
                raise ManifestError(api_version_message(manifest.api_version, API_VERSION,
                                                        manifest.id))
            if manifest.id in seen:
                raise ManifestError(f"场景编号 {manifest.id!r} 已被其他插件使用")
        except ManifestError as exc:
            loaded.errors.append(PluginLoadError(
                name, "manifest", str(exc),
                scenario_id=getattr(manifest, "id", None), title=getattr(manifest, "title", None),
            ))
            continue
        seen.add(manifest.id)
        loaded.scenarios.append((name, manifest))
    loaded.scenarios.sort(key=lambda nm: (nm[1].order, nm[1].id))
    return loaded


def resolve_factory(spec: str) -> Any:
    """Import the ``module:callable`` named in a manifest's ``page``."""
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"{module_name} 中没有 {attr}") from None
