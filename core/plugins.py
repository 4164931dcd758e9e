"""The plugin host: loads built-in plugins and third-party ones (entry-point group "emporio"),
validates them loudly, and builds the typed registries the rest of the core reads.

Built-in behaviour ships as plugins loaded exactly like third-party ones (DEFAULT_PLUGINS).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

import msgspec
import pluggy
import structlog

from core import plugin_checks as checks
from core.domain.events import DomainEvent
from core.domain.imports import ImportKind
from core.domain.jobs import JobSpec
from core.domain.kpis import KPIDefinition
from core.domain.policies import PolicyKind
from core.hookspecs import PROJECT_NAME, SPEC_MODULES
from core.hookspecs.app import EngineService, EventContext
from core.hookspecs.channels import SalesChannelConnector
from core.hookspecs.cli import CliCommand, DemoService
from core.hookspecs.contact import ContactChannel
from core.hookspecs.customers import CustomerFactSource
from core.hookspecs.payments import PaymentProcessor
from core.settings import load_settings

log = structlog.get_logger("emporio.plugins")

# The core's own domains, loaded as plugins (datasette's DEFAULT_PLUGINS). Everything else —
# the API's route packages and the built-in PSPs, couriers and policies — comes through the
# "emporio" entry points in pyproject.toml, exactly like a third-party plugin.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "core.policies.plugin",
    "core.access.plugin",
    "core.orders.plugin",
    "core.orders.channel_plugin",
    "core.customers.plugin",
    "core.catalogue.plugin",
    "core.orders.kpis",
    "core.imports.kinds",
    "core.jobs.plugin",
    "core.payments.plugin",
    "core.payments.kpis",
    "core.fulfilment.plugin",
    "core.fulfilment.kpis",
    "core.fulfilment.import_kinds",
    "core.returns.kpis",
    "core.returns.plugin",
    "core.kpis.plugin",
    "core.service.plugin",
    "core.service.kpis",
    "core.service.import_kinds",
    "core.customers.kpis",
    "core.plugin_kit.commands",  # `emporio plugin new`
)

T = TypeVar("T")


class PluginError(Exception):
    """A plugin could not be loaded or broke the contract; the message names it and the fix."""


class PluginInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    hooks: list[str]
    builtin: bool


class Registered(msgspec.Struct, frozen=True):
    """A capability and the plugin that contributed it."""

    key: str
    value: Any
    plugin: str


class PluginHost:
    def __init__(
        self,
        *,
        builtins: Sequence[str] = DEFAULT_PLUGINS,
        entry_points: bool = True,
        disabled: Iterable[str] = (),
        trace: bool = False,
        extra: Sequence[object] = (),
    ) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        for module_name in SPEC_MODULES:
            self.pm.add_hookspecs(importlib.import_module(module_name))
        self._builtin_names: set[str] = set()
        self._versions: dict[str, str] = {}
        disabled = set(disabled)
        for module_name in builtins:
            if module_name in disabled:
                continue
            self._register(importlib.import_module(module_name), module_name, builtin=True)
        if entry_points:
            self._load_entry_points(disabled)
        for plugin in extra:
            self._register(plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise self._unknown_hook(exc) from exc
        self._trace = trace
        if trace:
            self.pm.add_hookcall_monitoring(self._trace_before, self._trace_after)

    # -- loading ---------------------------------------------------------------------------------

    def _register(self, plugin: object, name: str, *, builtin: bool = False, version: str = "") -> None:
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {name!r} is broken: {exc}. A hook implementation may declare only arguments "
                f"its hookspec has (see docs/hooks.md); fix it, or disable the plugin with "
                f"EMPORIO_DISABLED_PLUGINS={name}."
            ) from exc
        except ValueError as exc:
            raise PluginError(
                f"plugin {name!r} is registered twice: {exc}. Register it once (is it both a built-in "
                f"and an entry point?), or disable one copy with EMPORIO_DISABLED_PLUGINS."
            ) from exc
        if builtin:
            self._builtin_names.add(name)
        self._versions[name] = version or str(getattr(plugin, "__version__", "builtin" if builtin else ""))

    def _unknown_hook(self, exc: pluggy.PluginValidationError) -> PluginError:
        # pluggy names the plugin object; people know it by the name it was registered under.
        name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
        return PluginError(
            f"plugin {name!r} implements a hook Emporio does not define: {exc}. "
            "Check the hook name against core/hookspecs (docs/hooks.md): a typo, or a hook from a "
            "newer Emporio? Rename it, mark it @hookimpl(optionalhook=True), or disable the plugin "
            f"with EMPORIO_DISABLED_PLUGINS={name}."
        )

    def _load_entry_points(self, disabled: set[str]) -> None:
        for ep in importlib.metadata.entry_points(group=PROJECT_NAME):
            if ep.name in disabled or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r} (entry point {ep.value}) failed to import: "
                    f"{type(exc).__name__}: {exc}. Fix or uninstall it, or disable it with "
                    f"EMPORIO_DISABLED_PLUGINS={ep.name}."
                ) from exc
            version = ep.dist.version if ep.dist is not None else ""
            # Emporio's own distribution ships its built-in plugins through the same entry points.
            shipped = ep.dist is not None and ep.dist.name == PROJECT_NAME
            self._register(plugin, ep.name, builtin=shipped, version=version)

    # -- tracing ---------------------------------------------------------------------------------

    def _trace_before(self, hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        log.info("hook.call", hook=hook_name, plugins=[i.plugin_name for i in impls], args=sorted(kwargs))

    def _trace_after(
        self, outcome: pluggy.Result[Any], hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        exc = outcome.exception
        log.info("hook.done", hook=hook_name, error=repr(exc) if exc else None)

    # -- adding and removing at run time (tests, the plugin kit) ------------------------------

    _REGISTRIES = (
        "payment_processors",
        "couriers",
        "channels",
        "jobs",
        "kpis",
        "import_kinds",
        "policy_kinds",
        "tables",
        "contact_channels",
        "customer_facts",
        "customer_sections",
        "answer_sources",
        "telephony_providers",
        "services",
        "migrations",
        "settings",
        "commands",
        "demo_services",
    )

    def add(self, plugin: object, name: str) -> None:
        """Register a plugin object after start-up (e.g. an inline plugin in a test)."""
        self._register(plugin, name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            error = self._unknown_hook(exc)
            self.pm.unregister(name=name)
            self._versions.pop(name, None)
            raise error from exc
        self._forget_registries()

    def remove(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._versions.pop(name, None)
        self._forget_registries()

    def _forget_registries(self) -> None:
        for attr in self._REGISTRIES:
            self.__dict__.pop(attr, None)

    # -- describing ------------------------------------------------------------------------------

    def describe(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            infos.append(PluginInfo(name, self._versions.get(name, ""), hooks, name in self._builtin_names))
        return infos

    # -- calling ---------------------------------------------------------------------------------

    def collect(self, hook_name: str, check: Callable[[Any], str], key: Callable[[Any], str]) -> dict[str, Registered]:
        """Call a `register_*` hook impl by impl, validating and stamping each registration."""
        found: dict[str, Registered] = {}
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order (pluggy calls them in reverse)
            plugin_name = impl.plugin_name

            def register(value: Any, _plugin: str = plugin_name) -> None:
                problem = check(value)
                if problem:
                    raise PluginError(f"plugin {_plugin!r} registered an invalid {hook_name[9:]}: {problem}")
                k = key(value)
                if k in found:
                    raise PluginError(
                        f"plugin {_plugin!r} registered {k!r} in {hook_name}, "
                        f"but plugin {found[k].plugin!r} already did; disable one of them"
                    )
                found[k] = Registered(k, value, _plugin)

            started = time.perf_counter()
            impl.function(register=register)
            if self._trace:
                log.info("hook.call", hook=hook_name, plugin=plugin_name, ms=(time.perf_counter() - started) * 1e3)
        return found

    async def notify(self, event: DomainEvent, context: EventContext) -> None:
        """Call every `on_event` implementation in order, awaiting coroutines (pluggy is sync).
        Each implementation gets only the arguments it declares, as pluggy would pass them."""
        offered = {"event": event, "context": context}
        for impl in reversed(self.pm.hook.on_event.get_hookimpls()):
            result = impl.function(**{name: offered[name] for name in impl.argnames})
            if inspect.isawaitable(result):
                await result

    # -- registries ------------------------------------------------------------------------------

    @cached_property
    def payment_processors(self) -> dict[str, Registered]:
        return self.collect("register_payment_processors", checks.satisfies(PaymentProcessor), lambda v: v.name)

    @cached_property
    def couriers(self) -> dict[str, Registered]:
        return self.collect("register_couriers", checks.courier, lambda v: v.name)

    @cached_property
    def channels(self) -> dict[str, Registered]:
        return self.collect("register_sales_channels", checks.satisfies(SalesChannelConnector), lambda v: v.code)

    @cached_property
    def jobs(self) -> dict[str, Registered]:
        return self.collect("register_jobs", checks.instance_of(JobSpec), lambda v: v.name)

    @cached_property
    def kpis(self) -> dict[str, Registered]:
        return self.collect("register_kpis", checks.instance_of(KPIDefinition), lambda v: v.id)

    @cached_property
    def import_kinds(self) -> dict[str, Registered]:
        return self.collect(
            "register_import_kinds", checks.instance_of(ImportKind, strict_type="record_type"), lambda v: v.kind
        )

    @cached_property
    def policy_kinds(self) -> dict[str, Registered]:
        return self.collect(
            "register_policy_kinds", checks.instance_of(PolicyKind, strict_type="document_type"), lambda v: v.kind
        )

    @cached_property
    def services(self) -> dict[str, Registered]:
        return self.collect("register_services", checks.instance_of(EngineService), lambda v: v.name)

    @cached_property
    def telephony_providers(self) -> dict[str, Registered]:
        return self.collect("register_telephony_providers", checks.parser, lambda v: v.name)

    @cached_property
    def answer_sources(self) -> dict[str, Registered]:
        return self.collect("register_answer_sources", checks.named, lambda v: v.name)

    @cached_property
    def customer_facts(self) -> dict[str, Registered]:
        return self.collect("register_customer_facts", checks.instance_of(CustomerFactSource), lambda v: v.name)

    @cached_property
    def customer_sections(self) -> dict[str, Registered]:
        return self.collect("register_customer_sections", checks.customer_section, lambda v: v.name)

    @cached_property
    def contact_channels(self) -> dict[str, Registered]:
        return self.collect("register_contact_channels", checks.satisfies(ContactChannel), lambda v: v.code)

    @cached_property
    def tables(self) -> dict[str, Registered]:
        return self.collect("register_tables", checks.table, lambda v: v._meta.tablename)

    @cached_property
    def commands(self) -> dict[str, Registered]:
        """By path as typed after `emporio` ("serve", "simulate stripe")."""
        return self.collect("register_commands", checks.instance_of(CliCommand), lambda v: v.path)

    @cached_property
    def demo_services(self) -> dict[str, Registered]:
        return self.collect("register_demo_services", checks.instance_of(DemoService), lambda v: v.name)

    @cached_property
    def migrations(self) -> dict[str, Registered]:
        """Plugins' own schema migrations (`MigrationSet`s) by set name; run after the core's."""
        return self.collect("register_migrations", checks.migration_set, lambda v: v.name)

    @cached_property
    def settings(self) -> dict[str, Registered]:
        """Plugins' own EMPORIO_* settings by variable name (the core's are core.settings.CORE_SETTINGS)."""
        return self.collect("register_settings", checks.setting, lambda v: v.name)

    def routes(self) -> list[Registered]:
        handlers: list[Registered] = []
        for impl in self.pm.hook.register_routes.get_hookimpls():  # registration order
            impl.function(register=lambda h, _p=impl.plugin_name: handlers.append(Registered("", h, _p)))
        return handlers


def load_host(*, trace: bool | None = None, extra: Sequence[object] = ()) -> PluginHost:
    settings = load_settings()
    tracing = settings.trace_plugins if trace is None else trace
    return PluginHost(disabled=settings.disabled_plugins, trace=tracing, extra=extra)
