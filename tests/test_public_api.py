"""The public API: one import place, cheap to import, names that say where to import them from."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import pickle
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import backstage_runtime
import backstage_runtime.api

#: Modules a plugin that only imports the API must not pay for.
HEAVY_PREFIXES = (
    "quart",
    "hypercorn",
    "sqlalchemy",
    "aiohttp",
    "werkzeug",
    "alembic",
    "backstage_runtime.defaults",
    "backstage_runtime.http_toolkit",
)


#: What a backend must not load before a service that needs it is built (an empty backend builds
#: only the root services: config, logger, lifecycle, health and the HTTP server).
SERVICE_PREFIXES = (
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "aiomysql",
    "aiocache",
    "redis",
    "aiomcache",
    "opentelemetry",
    "aiohttp",
    "joserfc",
    "croniter",
    "jsonschema",
    *(
        f"backstage_runtime.defaults.url_reader.{provider}"
        for provider in (
            "aws_s3",
            "azure_blob_storage",
            "azure_devops",
            "bitbucket_cloud",
            "bitbucket_server",
            "fetch",
            "gerrit",
            "gitea",
            "github",
            "gitlab",
            "google_gcs",
            "harness",
        )
    ),
)


def _loaded_after(code: str, heavy: tuple[str, ...] = HEAVY_PREFIXES) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; the ``heavy`` modules loaded at each ``mark()``."""
    script = (
        "import json, sys\n"
        "HEAVY = " + repr(heavy) + "\n"
        "marks = {}\n"
        "def mark(label):\n"
        "    marks[label] = sorted(m for m in sys.modules\n"
        "                          if any(m == h or m.startswith(h + '.') for h in HEAVY))\n"
        + code
        + "\nprint(json.dumps(marks))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    marks: dict[str, list[str]] = json.loads(completed.stdout.splitlines()[-1])
    return marks


@pytest.mark.parametrize(
    "statement",
    [
        "import backstage_runtime.api",
        "import backstage_runtime",
        "import backstage_runtime.permissions",
    ],
)
def test_importing_the_api_loads_no_implementation(statement: str) -> None:
    marks = _loaded_after(f"{statement}\nmark('after')")
    assert marks["after"] == []


#: Interfaces of services a backend builds only when a plugin asks for them: the API loads them
#: on first use.
ON_DEMAND_INTERFACES = tuple(
    f"backstage_runtime.api.services.{name}"
    for name in ("actions", "events", "identity", "permissions", "scheduler", "url_reader")
)


def test_interfaces_of_services_built_on_demand_load_on_first_use() -> None:
    marks = _loaded_after(
        "import backstage_runtime\n"
        "mark('imported')\n"
        "backstage_runtime.SearchResponse\n"
        "mark('used')\n",
        ON_DEMAND_INTERFACES,
    )
    assert marks["imported"] == []
    assert marks["used"] == ["backstage_runtime.api.services.url_reader"]


def test_an_interface_loaded_on_demand_is_published_however_it_is_imported() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from backstage_runtime.api.services.url_reader import SearchResponse, UrlReaderError\n"
            "print(SearchResponse.__module__, UrlReaderError.__module__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert completed.stdout.split() == ["backstage_runtime", "backstage_runtime"]


def test_a_started_backend_loads_no_interface_of_a_service_it_does_not_build() -> None:
    marks = _loaded_after(_START_EMPTY_BACKEND, ON_DEMAND_INTERFACES)
    assert marks == {"started": [], "stopped": []}


def test_the_implementation_loads_when_create_backend_is_first_used() -> None:
    marks = _loaded_after(
        "import backstage_runtime\n"
        "mark('before')\n"
        "backstage_runtime.create_backend\n"
        "mark('after')\n"
    )
    assert marks["before"] == []
    loaded = {name.split(".")[0] for name in marks["after"]}
    assert {"quart", "hypercorn"} <= loaded
    assert "backstage_runtime.defaults" in marks["after"]
    # Each default service package is imported for its factory; the implementations behind them
    # wait until a service is built.
    assert not {"sqlalchemy", "aiohttp", "redis", "aiocache"} & loaded


_START_EMPTY_BACKEND = (
    "import asyncio\n"
    "from backstage_runtime import create_backend\n"
    "async def main():\n"
    "    backend = create_backend(config={'backend': {'listen': {'port': 0}}})\n"
    "    async with backend:\n"
    "        mark('started')\n"
    "    mark('stopped')\n"
    "asyncio.run(main())\n"
)


def test_an_empty_backend_loads_no_service_it_does_not_build() -> None:
    marks = _loaded_after(_START_EMPTY_BACKEND, SERVICE_PREFIXES)
    assert marks == {"started": [], "stopped": []}


def test_a_plugin_with_routes_loads_no_http_client_or_jose_until_a_token_needs_them() -> None:
    # Its router builds core.auth (the credentials barrier); signing or checking a token, not
    # the start, is what needs joserfc, and only a JWKS fetch needs aiohttp.
    marks = _loaded_after(
        "import asyncio\n"
        "from backstage_runtime import core_services, create_backend, create_backend_plugin\n"
        "def register(env):\n"
        "    env.register_init(deps={'http': core_services.http_router}, init=lambda http: None)\n"
        "plugin = create_backend_plugin(plugin_id='hello', register=register)\n"
        "async def main():\n"
        "    backend = create_backend(\n"
        "        features=[plugin], config={'backend': {'listen': {'port': 0}}}\n"
        "    )\n"
        "    async with backend:\n"
        "        mark('started')\n"
        "        auth = await backend.get_service(core_services.auth, 'hello')\n"
        "        await auth.get_plugin_request_token(\n"
        "            on_behalf_of=await auth.get_own_service_credentials(),\n"
        "            target_plugin_id='hello',\n"
        "        )\n"
        "        mark('signed')\n"
        "asyncio.run(main())\n",
        ("aiohttp", "joserfc", "cryptography"),
    )
    assert marks["started"] == []
    assert {name.split(".")[0] for name in marks["signed"]} == {"joserfc", "cryptography"}


def test_yaml_loads_with_the_first_config_file_only(tmp_path: Path) -> None:
    config_file = tmp_path / "app-config.yaml"
    config_file.write_text("backend:\n  listen:\n    port: 0\n")
    marks = _loaded_after(
        _START_EMPTY_BACKEND + "import backstage_runtime.defaults.root_config as root_config\n"
        f"root_config.load_config([{str(config_file)!r}])\n"
        "mark('file read')\n",
        ("yaml",),
    )
    assert marks["stopped"] == []
    assert "yaml" in marks["file read"]


def test_an_empty_backend_serves_through_quart_and_hypercorn() -> None:
    # The counterpart of the test above: the marks do see what the backend really uses.
    marks = _loaded_after(_START_EMPTY_BACKEND, ("quart", "hypercorn"))
    assert {name.split(".")[0] for name in marks["started"]} == {"quart", "hypercorn"}


def test_a_plugin_that_uses_no_database_loads_no_sqlalchemy_even_when_serving() -> None:
    # Its router's auth depends on core.database (for the plugin's signing keys), which is
    # built but never connects: neither it nor a request to an open route loads SQLAlchemy.
    marks = _loaded_after(
        "import asyncio, urllib.request\n"
        "from quart import Blueprint\n"
        "from backstage_runtime import core_services, create_backend, create_backend_plugin\n"
        "routes = Blueprint('plain', __name__)\n"
        "@routes.get('/hello')\n"
        "async def hello():\n"
        "    return {'hello': 'world'}\n"
        "def register(env):\n"
        "    async def init(http):\n"
        "        http.use(routes)\n"
        "        http.add_auth_policy(path='/hello', allow='unauthenticated')\n"
        "    env.register_init(deps={'http': core_services.http_router}, init=init)\n"
        "plugin = create_backend_plugin(plugin_id='plain', register=register)\n"
        "def get(url):\n"
        "    with urllib.request.urlopen(url, timeout=30) as response:\n"
        "        return response.read()\n"
        "async def main():\n"
        "    backend = create_backend(features=[plugin],\n"
        "                             config={'backend': {'listen': {'port': 0}}})\n"
        "    async with backend:\n"
        "        mark('started')\n"
        "        router = await backend.get_service(core_services.root_http_router)\n"
        "        port = router.listen_address[1]\n"
        "        body = await asyncio.to_thread(get, f'http://127.0.0.1:{port}/api/plain/hello')\n"
        "        assert json.loads(body) == {'hello': 'world'}, body\n"
        "        mark('served')\n"
        "asyncio.run(main())\n",
        ("sqlalchemy", "alembic", "aiosqlite", "aiocache", "redis", "opentelemetry"),
    )
    assert marks == {"started": [], "served": []}


def test_a_service_loads_its_implementation_when_a_plugin_first_uses_it() -> None:
    marks = _loaded_after(
        "import asyncio\n"
        "from backstage_runtime import core_services, create_backend, create_backend_plugin\n"
        "def register(env):\n"
        "    async def init(database, cache):\n"
        "        mark('init')\n"
        "        async with database.connect():\n"
        "            mark('connected')\n"
        "    env.register_init(deps={'database': core_services.database,\n"
        "                             'cache': core_services.cache}, init=init)\n"
        "plugin = create_backend_plugin(plugin_id='data', register=register)\n"
        "async def main():\n"
        "    backend = create_backend(features=[plugin], serve_http=False)\n"
        "    mark('created')\n"
        "    async with backend:\n"
        "        pass\n"
        "asyncio.run(main())\n",
        ("sqlalchemy", "aiocache", "backstage_runtime.defaults.scheduler._scheduler"),
    )
    assert marks["created"] == []
    # The cache's store is built with the service; the database connects on first use.
    assert {name.split(".")[0] for name in marks["init"]} == {"aiocache"}
    assert {name.split(".")[0] for name in marks["connected"]} == {"sqlalchemy", "aiocache"}


@pytest.mark.parametrize(
    "statement",
    ["from backstage_runtime.testing import start_test_backend", "import backstage_runtime.cli"],
)
def test_every_entry_point_imports_first_in_a_fresh_interpreter(statement: str) -> None:
    # Import cycles between the root package and the runtime only show in a fresh interpreter
    # (``from backstage_runtime import create_backend`` is the test above).
    _loaded_after(statement)


def test_root_exports_everything_the_api_exports() -> None:
    assert set(backstage_runtime.api.__all__) <= set(backstage_runtime.__all__)
    for name in backstage_runtime.api.__all__:
        assert getattr(backstage_runtime, name) is getattr(backstage_runtime.api, name), name


def test_every_service_interface_and_error_is_exported() -> None:
    exported = set(backstage_runtime.__all__)
    for module_name in (
        "backstage_runtime.api.errors",
        *(
            f"backstage_runtime.api.services.{service}"
            for service in (
                "auditor",
                "auth",
                "cache",
                "config",
                "database",
                "discovery",
                "http",
                "identity",
                "lifecycle",
                "logger",
                "metadata",
                "permissions",
                "scheduler",
                "url_reader",
            )
        ),
    ):
        module = sys.modules.get(module_name) or __import__(module_name, fromlist=["__all__"])
        missing = set(module.__all__) - exported
        assert not missing, f"{module_name} exports {sorted(missing)}, backstage_runtime does not"
    assert "JsonValue" in exported


def _public_values() -> list[tuple[str, object]]:
    return [(name, getattr(backstage_runtime, name)) for name in backstage_runtime.__all__]


def test_every_public_class_and_function_belongs_to_the_public_module() -> None:
    checked = 0
    for name, value in _public_values():
        if isinstance(value, type | types.FunctionType):
            assert value.__module__ == "backstage_runtime", name
            assert value.__qualname__ == name, name
            checked += 1
    assert checked > 50


def test_every_public_error_is_a_backstage_error() -> None:
    errors = [
        value
        for _, value in _public_values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(errors) >= 20
    for error in errors:
        assert issubclass(error, backstage_runtime.BackstageError), error


def test_registration_error_is_still_a_value_error() -> None:
    def register(env: backstage_runtime.PluginRegistrationPoints) -> None:
        env.register_init(deps={}, init=lambda: None)
        env.register_init(deps={}, init=lambda: None)

    plugin = backstage_runtime.create_backend_plugin(plugin_id="twice", register=register)
    with pytest.raises(ValueError, match="register_init must only be called once") as raised:
        plugin.get_registration()
    assert isinstance(raised.value, backstage_runtime.RegistrationError)
    assert backstage_runtime.stringify_error(raised.value).startswith("RegistrationError: ")
    with pytest.raises(backstage_runtime.RegistrationError, match="Invalid pluginId 'no way'"):
        backstage_runtime.create_backend_plugin(plugin_id="no way", register=register)


def test_published_names_pickle_and_repr_under_the_public_module() -> None:
    error = pickle.loads(pickle.dumps(backstage_runtime.NotFoundError("no such thing")))
    assert type(error) is backstage_runtime.NotFoundError
    assert str(error) == "no such thing"
    plugin = backstage_runtime.InstalledPlugin(
        plugin_id="todo", modules=(backstage_runtime.InstalledModule(module_id="static"),)
    )
    assert pickle.loads(pickle.dumps(plugin)) == plugin
    assert repr(backstage_runtime.NotFoundError) == "<class 'backstage_runtime.NotFoundError'>"
    assert repr(plugin).startswith("InstalledPlugin(plugin_id='todo'")


def test_type_hints_of_published_classes_still_resolve() -> None:
    hints = typing.get_type_hints(backstage_runtime.InstalledPlugin)
    assert hints == {
        "plugin_id": str,
        "modules": tuple[backstage_runtime.InstalledModule, ...],
    }
    # Annotations that name typing helpers the public module does not have (Mapping, Any...).
    assert typing.get_type_hints(backstage_runtime.BackstageCredentials)
    assert typing.get_type_hints(backstage_runtime.SchedulerServiceTaskScheduleDefinition)


def test_dir_lists_every_public_name_before_it_is_loaded() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, backstage_runtime as b; print(set(b.__all__) <= set(dir(b)));"
            " print('backstage_runtime.runtime' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert completed.stdout.split() == ["True", "False"]
    assert set(backstage_runtime.__all__) <= set(dir(backstage_runtime))


def test_unknown_names_raise_attribute_error_naming_the_module() -> None:
    with pytest.raises(AttributeError, match="module 'backstage_runtime' has no attribute 'nope'"):
        _ = backstage_runtime.nope  # type: ignore[attr-defined]


def test_version_is_the_installed_distribution_version() -> None:
    assert backstage_runtime.__version__ == importlib.metadata.version("backstage-runtime")


def test_version_falls_back_when_the_distribution_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backstage_runtime import _version

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_version, "version", not_installed)
    assert _version._installed_version() == "0.0.0+unknown"


def test_every_lazy_name_is_declared_to_type_checkers() -> None:
    # The lazy names are invisible to mypy and IDEs unless imported under TYPE_CHECKING too.
    tree = ast.parse(Path(backstage_runtime.__file__).read_text(encoding="utf-8"))
    declared = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for statement in node.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
    }
    lazy = set(backstage_runtime._LAZY)
    assert declared == lazy
    assert lazy <= set(backstage_runtime.__all__)
