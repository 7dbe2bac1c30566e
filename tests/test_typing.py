"""What a plugin author's type checker sees: refs, factories and the test backend keep real types.

Each snippet below is checked by one mypy run (``mypy --strict``). A line ending in
``# E: <code>[, <code>]`` must produce exactly those errors; every other line must produce none.
``assert_type`` lines fail as soon as a type degrades (to ``Any`` too: ``assert_type(x, T)`` is
an error when ``x`` is ``Any``). A ``create_service_ref`` that went back to returning
``ServiceRef[Any]`` fails too: an unannotated ref would then silently match any type, where now
mypy asks for its annotation.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mypy import api as mypy_api

# Dependencies keep their types through refs, factories and the test backend.
SERVICES = """
from collections.abc import AsyncIterator, Iterator
from typing import assert_type

from backstage_runtime.api import (
    CacheService,
    LoggerService,
    MultitonServiceRef,
    RootConfigService,
    ServiceFactory,
    ServiceRef,
    core_services,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.runtime import Backend
from backstage_runtime.testing import TestBackend


class TodoStore:
    def add(self, title: str) -> None: ...


store_ref: ServiceRef[TodoStore] = create_service_ref(id="todo.store")
sources_ref: MultitonServiceRef[TodoStore] = create_service_ref(id="todo.sources", multiton=True)


def plain(*, logger: LoggerService) -> TodoStore:
    return TodoStore()


async def coroutine() -> TodoStore:
    return TodoStore()


async def async_generator() -> AsyncIterator[TodoStore]:
    yield TodoStore()


def generator() -> Iterator[TodoStore]:
    yield TodoStore()


assert_type(create_service_factory(service=store_ref, factory=plain), ServiceFactory[TodoStore])
assert_type(create_service_factory(service=store_ref, factory=coroutine), ServiceFactory[TodoStore])
assert_type(
    create_service_factory(service=store_ref, factory=async_generator), ServiceFactory[TodoStore]
)
assert_type(create_service_factory(service=store_ref, factory=generator), ServiceFactory[TodoStore])
assert_type(
    create_service_factory(service=sources_ref, factory=lambda: TodoStore()),
    ServiceFactory[TodoStore],
)


async def consume(test: TestBackend, backend: Backend) -> None:
    assert_type(await test.get_service(core_services.cache, "todo"), CacheService)
    assert_type(await test.get_service(core_services.root_config), RootConfigService)
    assert_type(await test.get_service(store_ref, "todo"), TodoStore)
    assert_type(await test.get_service(sources_ref, "todo"), list[TodoStore])
    assert_type(await backend.get_service(core_services.logger, "todo"), LoggerService)
    assert_type(await backend.get_service(store_ref, "todo"), TodoStore)
    assert_type(await backend.get_service(sources_ref, "todo"), list[TodoStore])
"""

# Mistakes the type checker reports.
MISTAKES = """
from backstage_runtime.api import (
    CacheService,
    ExtensionPoint,
    MultitonServiceRef,
    PluginRegistrationPoints,
    ServiceRef,
    core_services,
    create_extension_point,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.testing import TestBackend


class TodoStore:
    def add(self, title: str) -> None: ...


store_ref: ServiceRef[TodoStore] = create_service_ref(id="todo.store")
untyped_ref = create_service_ref(id="todo.untyped")  # E: var-annotated
not_a_multiton: MultitonServiceRef[TodoStore] = create_service_ref(id="x")  # E: assignment
sources: ExtensionPoint[TodoStore] = create_extension_point(id="todo.sources")
untyped_point = create_extension_point(id="todo.untyped")  # E: var-annotated


def wrong() -> int:
    return 1


async def wrong_async() -> str:
    return ""


create_service_factory(service=store_ref, factory=wrong)  # E: arg-type
create_service_factory(service=store_ref, factory=wrong_async)  # E: arg-type
create_service_factory(service=core_services.cache, factory=TodoStore)  # E: arg-type


async def consume(test: TestBackend) -> None:
    # (mypy solves get_service's T from the variable's type, so the argument is what mismatches)
    cache: TodoStore = await test.get_service(core_services.cache, "p")  # E: arg-type
    store: CacheService = await test.get_service(store_ref, "p")  # E: arg-type


def register(env: PluginRegistrationPoints) -> None:
    env.register_extension_point(sources, "not a store")  # E: misc
    env.register_init(deps={"store": store_ref}, init=42)  # E: arg-type
    # Only modules may depend on extension points.
    env.register_init(deps={"sources": sources}, init=lambda sources: None)  # E: dict-item
"""

# Permission helpers: Backstage's JSON shapes as TypedDicts that the services accept as they are.
PERMISSIONS = """
from typing import assert_type

from backstage_runtime.api import PermissionsRegistryService, PermissionsService
from backstage_runtime.permissions import (
    AuthorizeResult,
    BasicPermission,
    ConditionalPolicyDecision,
    PermissionCondition,
    ResourcePermission,
    any_of,
    create_condition_exports,
    create_permission,
    create_permission_rule,
)

read = create_permission(name="a.read", attributes={"action": "read"}, resource_type="a-item")
assert_type(read, ResourcePermission)
create = create_permission(name="a.create", attributes={"action": "create"})
assert_type(create, BasicPermission)
create_permission(name="a.x", attributes={"action": "destroy"})  # E: call-overload
rule = create_permission_rule(
    name="R", description="", resource_type="a-item", apply=lambda item, params: True
)
exports = create_condition_exports(plugin_id="a", resource_type="a-item", rules={"r": rule})
condition = exports.conditions["r"]({"owner": "ada"})
assert_type(condition, PermissionCondition)
decision = exports.create_conditional_decision(read, any_of(condition))
assert_type(decision, ConditionalPolicyDecision)
exports.create_conditional_decision(create, condition)  # E: arg-type


async def use(permissions: PermissionsService, registry: PermissionsRegistryService) -> bool:
    registry.add_permissions([read, create])
    registry.add_resource_type(resource_type="a-item", permissions=[read], rules=[rule])
    answers = await permissions.authorize([{"permission": read, "resourceRef": "a-item:1"}])
    return answers[0]["result"] == AuthorizeResult.ALLOW
"""

# The test utilities: mock credentials typed by principal, still plain credentials where needed.
TESTING = """
from typing import Protocol, assert_type

import aiohttp

from backstage_runtime import (
    BackendPlugin,
    BackstageCredentials,
    BackstageNonePrincipal,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
    DatabaseService,
)
from backstage_runtime.testing import (
    MOCK_USER_ENTITY_REF,
    ServiceMock,
    TestBackend,
    TestDatabases,
    TestResponse,
    create_mock,
    create_router_test_plugin,
    mock_credentials,
)


def who(credentials: BackstageCredentials) -> str:
    return credentials.principal.type


user = mock_credentials.user()
assert_type(user, BackstageCredentials[BackstageUserPrincipal])
assert_type(user.principal.user_entity_ref, str)
assert_type(mock_credentials.limited_user().principal, BackstageUserPrincipal)
assert_type(mock_credentials.service().principal.subject, str)
assert_type(mock_credentials.none().principal, BackstageNonePrincipal)
who(user)
who(mock_credentials.service())
anyone: BackstageCredentials = user
anyone.principal.user_entity_ref  # E: union-attr
service: BackstageCredentials[BackstageServicePrincipal] = user  # E: assignment
assert_type(MOCK_USER_ENTITY_REF, str)


class Store(Protocol):
    async def get(self, key: str) -> str: ...


async def helpers(backend: TestBackend, databases: TestDatabases) -> None:
    reply = await backend.request("GET", "/api/x/y", headers=mock_credentials.user.headers())
    assert_type(reply, TestResponse)
    assert_type(reply.status, int)
    assert_type(reply.body, bytes)
    await backend.request("GET", "/api/x/y", headers={"Accept": 1})  # E: dict-item
    async with backend.client() as http:
        assert_type(http, aiohttp.ClientSession)
    database = await databases.init_service("POSTGRES", plugin_id="todo")
    assert_type(database, DatabaseService)
    await databases.init_service("ORACLE")  # E: arg-type
    assert_type(create_router_test_plugin(lambda: None, plugin_id="x"), BackendPlugin)
    assert_type(create_mock(Store), ServiceMock)
"""

SNIPPETS = {
    "services.py": SERVICES,
    "mistakes.py": MISTAKES,
    "permissions.py": PERMISSIONS,
    "testing.py": TESTING,
}

_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$", re.M)
_EXPECTED = re.compile(r"# E: (?P<codes>[a-z-]+(?:, [a-z-]+)*)$")


def _expected_errors(folder: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for name, text in SNIPPETS.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if match := _EXPECTED.search(line):
                for code in match["codes"].split(", "):
                    expected.add((str(folder / name), number, code))
    return expected


def test_types_survive_refs_factories_and_the_test_backend(tmp_path: Path) -> None:
    folder = tmp_path / "snippets"
    folder.mkdir()
    for name, text in SNIPPETS.items():
        (folder / name).write_text(text)
    # Our own config, so the project's (mypy_path, test overrides) does not apply to snippets.
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\n\n[mypy-dependency_injector.*]\nignore_missing_imports = True\n"
    )

    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--python-executable",
            sys.executable,
            "--show-error-codes",
            "--no-error-summary",
            "--hide-error-context",
            str(folder),
        ]
    )

    assert status in (0, 1), f"mypy did not run:\n{stdout}\n{stderr}"
    found = {
        (match["file"], int(match["line"]), match["code"]) for match in _ERROR.finditer(stdout)
    }
    expected = _expected_errors(folder)
    assert sorted(found - expected) == [], f"unexpected errors:\n{stdout}"
    assert sorted(expected - found) == [], f"errors mypy no longer reports:\n{stdout}"
