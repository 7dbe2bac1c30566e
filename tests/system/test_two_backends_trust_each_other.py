"""Two backends in separate processes call each other's plugins with plugin tokens, finding each
other through discovery and verifying through each other's JWKS.
"""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest
from _support.http import request
from _support.serve import ServeProcess, install_fake_distribution

pytestmark = pytest.mark.anyio

PLUGIN = """
import os

import aiohttp
from quart import Blueprint, request

from backstage_runtime import core_services, create_backend_plugin, runtime_services

PLUGIN_ID = os.environ["PLUGIN_ID"]


def register(env):
    async def init(http, http_auth, auth, discovery, client):
        routes = Blueprint("whoami", __name__)

        @routes.get("/whoami")
        async def whoami():
            credentials = await http_auth.credentials(request, allow=["service", "user"])
            return {"principal": credentials.principal.to_json()}

        @routes.get("/call/<target>")
        async def call(target):
            token = await auth.get_plugin_request_token(
                on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id=target
            )
            url = f"{await discovery.get_base_url(target)}/whoami"
            headers = {"Authorization": f"Bearer {token.token}"}
            async with client.get(url, headers=headers) as reply:
                return {"status": reply.status, "body": await reply.json()}

        http.use(routes)
        http.add_auth_policy(path="/call", allow="unauthenticated")

    env.register_init(
        deps={
            "http": core_services.http_router,
            "http_auth": core_services.http_auth,
            "auth": core_services.auth,
            "discovery": core_services.discovery,
            "client": runtime_services.http_client,
        },
        init=init,
    )


plugin = create_backend_plugin(plugin_id=PLUGIN_ID, register=register)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(
    tmp_path: Path, plugin_id: str, port: int, other: str, other_port: int
) -> ServeProcess:
    home = tmp_path / plugin_id
    install_fake_distribution(
        home / "site", "whoami_plugin", PLUGIN, "whoami = whoami_plugin:plugin"
    )
    (home / "app-config.yaml").write_text(
        textwrap.dedent(
            f"""
            backend:
              baseUrl: http://127.0.0.1:{port}
              listen: {{host: 127.0.0.1, port: {port}}}
              database:
                client: sqlite
                connection: {{directory: {home / "data"}}}
            discovery:
              endpoints:
                - target: http://127.0.0.1:{other_port}/api/{{{{pluginId}}}}
                  plugins: [{other}]
            """
        )
    )
    serve = await ServeProcess.start(
        home, env={"PYTHONPATH": str(home / "site"), "PLUGIN_ID": plugin_id}
    )
    await serve.read_until("Backend started")
    return serve


async def test_plugins_in_two_processes_call_each_other(tmp_path: Path) -> None:
    alpha_port, beta_port = free_port(), free_port()
    alpha = await start(tmp_path, "alpha", alpha_port, "beta", beta_port)
    try:
        beta = await start(tmp_path, "beta", beta_port, "alpha", alpha_port)
        try:
            to_beta = await request("GET", f"http://127.0.0.1:{alpha_port}/api/alpha/call/beta")
            to_alpha = await request("GET", f"http://127.0.0.1:{beta_port}/api/beta/call/alpha")
            anonymous = await request("GET", f"http://127.0.0.1:{beta_port}/api/beta/whoami")
        finally:
            await beta.kill()
    finally:
        await alpha.kill()

    assert to_beta.json() == {
        "status": 200,
        "body": {"principal": {"type": "service", "subject": "plugin:alpha"}},
    }
    assert to_alpha.json() == {
        "status": 200,
        "body": {"principal": {"type": "service", "subject": "plugin:beta"}},
    }
    assert anonymous.status == 401
