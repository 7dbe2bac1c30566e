"""The contrib/ plugins and module, installed as separate distributions, are discovered and run.

These tests install the three distributions into a temporary folder (pip ``--target``, no build
isolation) put on ``PYTHONPATH`` of the real ``backstage-runtime`` console script they drive in
subprocesses, so the environment running the suite is left as it was found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRIB = [
    REPO / "contrib" / "todo-backend",
    REPO / "contrib" / "todo-backend-module-static",
    REPO / "contrib" / "user-settings-backend",
    REPO / "contrib" / "mcp-actions-backend",
]
CLI = Path(sys.executable).with_name("backstage-runtime")

pytestmark = pytest.mark.contrib


@pytest.fixture(scope="module")
def installed_contrib(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment variables under which the contrib distributions are installed."""
    site = tmp_path_factory.mktemp("contrib-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            *map(str, CONTRIB),
        ],
        check=True,
    )
    return {"PYTHONPATH": str(site)}


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def write_config(directory: Path, text: str) -> Path:
    path = directory / "app-config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


class ServeProcess:
    """``backstage-runtime serve`` with JSON logs, read line by line."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [str(CLI), "serve"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env, "LOG_FORMAT": "json"},
        )
        self.lines: list[dict[str, Any]] = []

    def read_until(self, message_start: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                pytest.fail(f"serve printed a non-JSON line: {raw!r}")
            self.lines.append(entry)
            if entry["message"].startswith(message_start):
                return entry
        pytest.fail(f"serve exited before logging {message_start!r}: {self.lines}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(json.loads(raw))
        return self.process.wait(timeout=30)


@pytest.fixture
def serve_in(tmp_path: Path, installed_contrib: dict[str, str]) -> Iterator[Any]:
    started: list[ServeProcess] = []

    def start() -> ServeProcess:
        serve = ServeProcess(tmp_path, installed_contrib)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
            serve.process.wait()


def test_plugins_command_lists_the_plugin_and_module_with_their_distributions(
    installed_contrib: dict[str, str], tmp_path: Path
) -> None:
    result = run_cli("plugins", cwd=tmp_path, env=installed_contrib)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    plugin = next(line for line in lines if line.split()[:2] == ["plugin", "todo"])
    mcp = next(line for line in lines if line.split()[:2] == ["plugin", "mcp-actions"])
    module = next(line for line in lines if line.startswith("module"))
    assert plugin.split() == [
        "plugin",
        "todo",
        "backstage-plugin-todo-backend",
        "todo",
        "=",
        "backstage_plugin_todo_backend:todo_plugin",
        "loaded",
    ]
    assert mcp.split() == [
        "plugin",
        "mcp-actions",
        "backstage-plugin-mcp-actions-backend",
        "mcp-actions",
        "=",
        "backstage_plugin_mcp_actions_backend:mcp_actions_plugin",
        "loaded",
    ]
    assert module.split()[:3] == [
        "module",
        "todo/static",
        "backstage-plugin-todo-backend-module-static",
    ]
    assert module.split()[-1] == "loaded"


def test_serve_discovers_and_starts_the_plugin_and_its_module_and_stops_on_sigterm(
    installed_contrib: dict[str, str], tmp_path: Path, serve_in: Any
) -> None:
    write_config(
        tmp_path,
        """
        backend:
          listen: {host: 127.0.0.1, port: 0}
        todo:
          static:
            items: [Write docs, Ship it]
    """,
    )
    serve = serve_in()
    ready = serve.read_until("TODO list ready")
    assert ready["message"] == "TODO list ready with 2 items"
    assert ready["plugin"] == "todo"
    assert ready["items"] == ["Write docs", "Ship it"]
    started = serve.read_until("Backend started")
    assert sorted(started["plugins"]) == ["mcp-actions", "todo", "user-settings"]
    assert serve.stop() == 0
    messages = [entry["message"] for entry in serve.lines]
    assert "TODO list closed" in messages
    assert any(m.startswith("Received SIGTERM") for m in messages)


def fetch(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_answers_the_todo_routes_and_health_over_http(
    installed_contrib: dict[str, str], tmp_path: Path, serve_in: Any
) -> None:
    write_config(
        tmp_path,
        """
        backend:
          baseUrl: http://localhost:7007
          listen: {host: 127.0.0.1, port: 0}
        todo:
          static:
            items: [Write docs]
    """,
    )
    serve = serve_in()
    port = serve.read_until("Listening on")["port"]
    serve.read_until("Backend started")
    base = f"http://127.0.0.1:{port}"

    assert fetch(f"{base}/api/todo/items") == (
        200,
        {"items": [{"id": 0, "title": "Write docs", "source": "static"}]},
    )
    assert fetch(f"{base}/api/todo/items", "POST", {"title": "Ship it"}) == (
        201,
        {"id": 1, "title": "Ship it", "source": "api"},
    )
    assert fetch(f"{base}/api/todo/items/7") == (
        404,
        {
            "error": {"name": "NotFoundError", "message": "No TODO item with id 7"},
            "request": {"method": "GET", "url": "/items/7"},
            "response": {"statusCode": 404},
        },
    )
    assert fetch(f"{base}/api/todo/items", "POST", {"name": "x"})[1]["error"]["name"] == (
        "InputError"
    )
    assert fetch(f"{base}/.backstage/health/v1/readiness") == (200, {"status": "ok"})
    assert serve.stop() == 0
    # The todo plugin's events service also asks this backend for an events bus (404: there is
    # none, so it stays local); those are its requests, not the test's.
    requests = [
        line
        for line in serve.lines
        if line.get("type") == "incomingRequest" and not line["url"].startswith("/api/events/")
    ]
    assert [(r["method"], r["url"], r["status"]) for r in requests] == [
        ("GET", "/api/todo/items", 200),
        ("POST", "/api/todo/items", 201),
        ("GET", "/api/todo/items/7", 404),
        ("POST", "/api/todo/items", 400),
        ("GET", "/.backstage/health/v1/readiness", 200),
    ]


def test_serve_runs_the_user_settings_plugin_behind_the_credentials_barrier(
    installed_contrib: dict[str, str], tmp_path: Path, serve_in: Any
) -> None:
    write_config(
        tmp_path,
        """
        backend:
          baseUrl: http://localhost:7007
          listen: {host: 127.0.0.1, port: 0}
          auth:
            externalAccess:
              - type: static
                options: {token: static-token-for-tests, subject: ci-bot}
    """,
    )
    serve = serve_in()
    port = serve.read_until("Listening on")["port"]
    assert "user-settings" in serve.read_until("Backend started")["plugins"]
    url = f"http://127.0.0.1:{port}/api/user-settings/buckets/default/keys/theme"

    anonymous = fetch(url)
    service = urllib.request.Request(
        url, headers={"Authorization": "Bearer static-token-for-tests"}
    )
    try:
        urllib.request.urlopen(service, timeout=10)
        raise AssertionError("a service token was served")
    except urllib.error.HTTPError as error:
        as_service = (error.code, json.loads(error.read())["error"]["name"])
    assert serve.stop() == 0

    assert (anonymous[0], anonymous[1]["error"]["name"]) == (401, "AuthenticationError")
    # The route itself refuses what the barrier lets through: it serves users only.
    assert as_service == (403, "NotAllowedError")


def test_graph_prints_the_plugin_its_module_and_their_services(
    installed_contrib: dict[str, str], tmp_path: Path
) -> None:
    mermaid = run_cli("graph", cwd=tmp_path, env=installed_contrib)
    dot = run_cli("graph", "--format", "dot", cwd=tmp_path, env=installed_contrib)
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart LR\n")
    nodes = {
        line.split("[", 1)[0].split("(", 1)[0].strip(): line
        for line in mermaid.stdout.splitlines()[1:]
        if "-->" not in line
    }
    by_label = {line.split('"')[1]: node for node, line in nodes.items()}
    plugin, module = by_label["plugin todo"], by_label["module todo/static"]
    http_router = by_label["core.httpRouter (plugin)"]
    assert f"    {plugin} -->|http| {http_router}" in mermaid.stdout
    assert f"    {module} -->|extends| {plugin}" in mermaid.stdout
    assert f"    {module} -->|todos| {plugin}" in mermaid.stdout
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith("digraph backstage {")
    assert '"plugin:todo" -> "core.httpRouter" [label="http"];' in dot.stdout
    assert '"module:todo/static" -> "plugin:todo" [label="extends"];' in dot.stdout


def test_backend_packages_exclude_drops_the_module(
    installed_contrib: dict[str, str], tmp_path: Path, serve_in: Any
) -> None:
    write_config(
        tmp_path,
        """
        backend:
          listen: {host: 127.0.0.1, port: 0}
          packages:
            exclude: [backstage-plugin-todo-backend-module-static]
        todo:
          static:
            items: [Write docs]
    """,
    )
    listed = run_cli("plugins", cwd=tmp_path, env=installed_contrib)
    # Excluded entries are never imported, so only their distribution and entry are known.
    module = next(
        line
        for line in listed.stdout.splitlines()
        if "backstage-plugin-todo-backend-module-static" in line
    )
    assert module.split()[:2] == ["-", "-"]
    assert module.endswith("excluded by backend.packages")
    assert listed.returncode == 0
    serve = serve_in()
    ready = serve.read_until("TODO list ready")
    assert ready["message"] == "TODO list ready with 0 items"
    # A signal before the start completes interrupts it (non-zero exit): wait for the end.
    serve.read_until("Backend started")
    assert serve.stop() == 0


def test_backend_packages_include_limits_discovery_to_the_named_entries(
    installed_contrib: dict[str, str], tmp_path: Path
) -> None:
    write_config(
        tmp_path,
        """
        backend:
          packages:
            include: [todo-static]
    """,
    )
    listed = run_cli("plugins", cwd=tmp_path, env=installed_contrib)
    rows = {line.split()[1]: line for line in listed.stdout.splitlines()[1:]}
    excluded = next(line for line in listed.stdout.splitlines() if "todo = " in line)
    assert excluded.split()[:3] == ["-", "-", "backstage-plugin-todo-backend"]
    assert excluded.endswith("excluded by backend.packages")
    assert rows["todo/static"].endswith("skipped: plugin 'todo' is excluded by backend.packages")


def test_a_broken_entry_point_is_reported_with_its_distribution_and_entry(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info = site / "broken_plugin-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[backstage_runtime.features]\nbroken = no_such_module_here:plugin\n"
    )
    good = site / "good_plugin-1.0.dist-info"
    good.mkdir()
    (good / "METADATA").write_text("Metadata-Version: 2.1\nName: good-plugin\nVersion: 1.0\n")
    (good / "entry_points.txt").write_text(
        "[backstage_runtime.features]\ngood = good_plugin_module:plugin\n"
    )
    (site / "good_plugin_module.py").write_text(
        "from backstage_runtime import create_backend_plugin\n"
        "plugin = create_backend_plugin(plugin_id='good', register=lambda env: "
        "env.register_init(deps={}, init=lambda: None))\n"
    )
    result = run_cli("plugins", cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert result.returncode == 1
    rows = result.stdout.splitlines()
    # Every entry point is listed, the broken one with its one-line error, the others as usual.
    assert any(row.split()[:2] == ["plugin", "good"] and row.endswith("loaded") for row in rows)
    broken_row = next(row for row in rows if "broken = no_such_module_here:plugin" in row)
    assert broken_row.split()[:3] == ["-", "-", "broken-plugin"]
    assert broken_row.endswith(
        "failed: Failed to load entry point 'broken = no_such_module_here:plugin' of distribution "
        "'broken-plugin': ModuleNotFoundError: No module named 'no_such_module_here'"
    )
    assert (
        "Failed to load entry point 'broken = no_such_module_here:plugin' of distribution "
        "'broken-plugin': ModuleNotFoundError: No module named 'no_such_module_here'"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_help_describes_the_options(tmp_path: Path) -> None:
    result = run_cli("serve", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--config", "--host", "--port"):
        assert option in result.stdout


def test_a_bad_config_file_fails_serve_with_the_file_and_line(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
        backend:
          baseUrl: [unclosed
    """,
    )
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 1
    assert "app-config.yaml" in result.stderr
    assert "line" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_suite_leaves_the_running_environment_without_the_contrib_distributions(
    installed_contrib: dict[str, str],
) -> None:
    from importlib.metadata import PackageNotFoundError, distribution

    for name in (
        "backstage-plugin-todo-backend",
        "backstage-plugin-todo-backend-module-static",
        "backstage-plugin-user-settings-backend",
        "backstage-plugin-events-backend",
        "backstage-plugin-mcp-actions-backend",
    ):
        with pytest.raises(PackageNotFoundError):
            distribution(name)


def test_graph_reports_a_config_error_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("backend:\n  baseUrl: [\n")
    result = run_cli("graph", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ExceptionGroup" not in result.stderr
    assert result.stderr.startswith("backstage-runtime: ")
    assert "Invalid YAML in config file" in result.stderr


MCP_TOKEN = "mcp-test-token-3f9c1a7e5b2d"


def test_serve_answers_mcp_clients_with_the_todo_actions_as_tools(
    installed_contrib: dict[str, str], tmp_path: Path, serve_in: Any
) -> None:
    import anyio
    import httpx2
    from mcp import Client, types
    from mcp.client.streamable_http import streamable_http_client

    write_config(
        tmp_path,
        f"""
        backend:
          listen: {{host: 127.0.0.1, port: 0}}
          auth:
            externalAccess:
              - type: static
                options: {{token: {MCP_TOKEN}, subject: mcp-client}}
          actions:
            pluginSources: [todo]
        mcpActions:
          name: todo-portal
    """,
    )
    serve = serve_in()
    port = serve.read_until("Listening on")["port"]
    serve.read_until("Backend started")
    url = f"http://127.0.0.1:{port}/api/mcp-actions/v1"

    async def use_tools() -> tuple[str, set[str], types.CallToolResult]:
        headers = {"Authorization": f"Bearer {MCP_TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
        ):
            assert client.server_info is not None
            tools = {tool.name for tool in (await client.list_tools()).tools}
            created = await client.call_tool("todo.create-item", {"title": "From MCP"})
            return client.server_info.name, tools, created

    name, tools, created = anyio.run(use_tools)
    anonymous = fetch(url, "POST", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert name == "todo-portal"
    assert tools == {"todo.create-item", "todo.list-items"}
    assert created.structured_content == {"id": 0, "title": "From MCP", "source": "actions"}
    assert fetch(f"http://127.0.0.1:{port}/api/todo/items")[1]["items"] == [
        {"id": 0, "title": "From MCP", "source": "actions"}
    ]
    assert anonymous == (
        401,
        {
            "error": {"name": "AuthenticationError", "message": "Missing credentials"},
            "request": {"method": "POST", "url": "/v1"},
            "response": {"statusCode": 401},
        },
    )
    assert serve.stop() == 0


SLOW_ACTIONS_PLUGIN = """
import anyio
from backstage_runtime import actions_registry_service_ref, core_services, create_backend_plugin

def register(env):
    def init(actions, logger):
        async def wait(context):
            logger.info("slow action waiting")
            await anyio.sleep_forever()

        actions.register(name="wait", title="Wait", description="Never ends", action=wait)

    env.register_init(
        deps={"actions": actions_registry_service_ref, "logger": core_services.logger}, init=init
    )

slow_plugin = create_backend_plugin(plugin_id="slow", register=register)
"""


def test_sigterm_with_a_tool_call_in_flight_stops_serve_within_the_shutdown_timeout(
    installed_contrib: dict[str, str], tmp_path: Path
) -> None:
    import anyio
    import httpx2
    from _support.serve import ServeProcess, install_fake_distribution
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    site = tmp_path / "slow-site"
    install_fake_distribution(
        site, "slow_plugin", SLOW_ACTIONS_PLUGIN, "slow = slow_plugin:slow_plugin"
    )
    write_config(
        tmp_path,
        f"""
        backend:
          listen: {{host: 127.0.0.1, port: 0}}
          lifecycle: {{shutdownHookTimeout: {{seconds: 1}}}}
          auth:
            externalAccess:
              - type: static
                options: {{token: {MCP_TOKEN}, subject: mcp-client}}
          actions:
            pluginSources: [slow]
    """,
    )
    env = {"PYTHONPATH": f"{installed_contrib['PYTHONPATH']}{os.pathsep}{site}"}

    async def main() -> tuple[float, int, list[str]]:
        serve = await ServeProcess.start(tmp_path, env=env)
        outcome: list[str] = []
        try:
            port = (await serve.read_until("Listening on"))["port"]
            await serve.read_until("Backend started")
            url = f"http://127.0.0.1:{port}/api/mcp-actions/v1"

            async def call() -> None:
                headers = {"Authorization": f"Bearer {MCP_TOKEN}"}
                try:
                    async with (
                        httpx2.AsyncClient(headers=headers) as http,
                        Client(streamable_http_client(url, http_client=http), mode="legacy") as c,
                    ):
                        await c.call_tool("slow.wait", {})
                    outcome.append("returned")
                except Exception as error:
                    outcome.append(type(error).__name__)

            # The cut response reaches the client as an error (bounded: no hanging client).
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await serve.read_until("slow action waiting")
                    signalled_at = anyio.current_time()
                    serve.send_signal(signal.SIGTERM)
                    status = await serve.wait(timeout=20)
                    stopped_after = anyio.current_time() - signalled_at
            return stopped_after, status, outcome
        finally:
            await serve.kill()

    stopped_after, status, outcome = anyio.run(main)
    assert status == 0
    # The call in flight is waited for shutdownHookTimeout (1 s), then cut; nothing else waits.
    assert 1 <= stopped_after < 6
    assert outcome
    assert outcome != ["returned"]
