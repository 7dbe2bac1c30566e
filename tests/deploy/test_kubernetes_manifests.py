"""The Kubernetes manifests in deploy/: valid against the Kubernetes schema (offline), consistent
with each other and with the shutdown bounds, and their app-config starts a real server whose
probes answer where the manifests point.
"""

from __future__ import annotations

import re
import signal
import socket
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import kubernetes_validate
import pytest
import yaml
from _support.serve import ServeProcess, install_fake_distribution
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from backstage_runtime.api import parse_duration
from backstage_runtime.testing._infrastructure import infrastructure_missing

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
# The oldest Kubernetes release still supported upstream when this was written: the manifests
# must not need anything newer.
KUBERNETES_VERSION = "1.32.0"


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "kubernetes" / name).read_text())
    return document


def _container() -> dict[str, Any]:
    container: dict[str, Any] = _load("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    return container


def _app_config_text() -> str:
    return str(_load("configmap.yaml")["data"]["app-config.production.yaml"])


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_is_valid_for_kubernetes(manifest: Path) -> None:
    # strict: an unknown field (a typo such as `readinesProbe`) fails instead of being ignored.
    kubernetes_validate.validate(yaml.safe_load(manifest.read_text()), KUBERNETES_VERSION, strict=True)


def test_an_invalid_manifest_is_refused() -> None:
    broken = _load("deployment.yaml")
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_grace_period_covers_the_worst_case_stop() -> None:
    lifecycle = yaml.safe_load(_app_config_text())["backend"]["lifecycle"]
    delay = parse_duration(lifecycle["serverShutdownDelay"])
    hook_timeout = parse_duration(lifecycle["shutdownHookTimeout"])
    grace = _load("deployment.yaml")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # README, "Shutdown timeline and Kubernetes": delay + 3T is the longest stop.
    assert grace > delay.total_seconds() + 3 * hook_timeout.total_seconds()


def test_every_config_variable_is_provided_by_the_secret_or_the_env() -> None:
    variables = set(re.findall(r"\$\{(\w+)\}", _app_config_text()))
    provided = set(_load("secret.yaml")["stringData"]) | {e["name"] for e in _container()["env"]}
    assert variables <= provided, f"not provided: {sorted(variables - provided)}"


def test_the_container_reads_the_mounted_config_and_probes_the_health_endpoints() -> None:
    container = _container()
    mount = next(m for m in container["volumeMounts"] if m["name"] == "app-config")
    assert container["args"] == ["--config", f"{mount['mountPath']}/app-config.production.yaml"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/.backstage/health/v1/readiness"
    assert container["startupProbe"]["httpGet"]["path"] == "/.backstage/health/v1/readiness"
    assert container["livenessProbe"]["httpGet"]["path"] == "/.backstage/health/v1/liveness"
    pod = _load("deployment.yaml")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True


PROBE_PLUGIN = """
from quart import Blueprint
from sqlalchemy import text

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http, database, cache):
        routes = Blueprint("probe", __name__)

        @routes.get("/check")
        async def check():
            async with database.connect() as connection:
                name = (await connection.execute(text("select current_database()"))).scalar()
            await cache.set("seen", name)
            return {"database": name, "cached": await cache.get("seen")}

        http.use(routes)
        http.add_auth_policy(path="/check", allow="unauthenticated")

    env.register_init(
        deps={
            "http": core_services.http_router,
            "database": core_services.database,
            "cache": core_services.cache,
        },
        init=init,
    )


probe_plugin = create_backend_plugin(plugin_id="probe", register=register)
"""


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.anyio
async def test_the_configmap_config_serves_with_real_postgres_and_redis(tmp_path: Path) -> None:
    for what, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not _reachable(port):
            infrastructure_missing(what, f"nothing listens on 127.0.0.1:{port}")
    site = tmp_path / "site"
    install_fake_distribution(site, "probe_plugin", PROBE_PLUGIN, "probe = probe_plugin:probe_plugin")
    config = tmp_path / "app-config.production.yaml"
    config.write_text(_app_config_text())
    # Only what a test run needs on top of the manifest's config: a free port, and databases and
    # cache keys of its own.
    prefix = f"deploy_test_{uuid.uuid4().hex[:8]}_"
    (tmp_path / "app-config.test.yaml").write_text(
        f"backend:\n  listen: {{host: 127.0.0.1, port: 0}}\n  database: {{prefix: {prefix}}}\n"
        f"  cache: {{redis: {{client: {{namespace: {prefix}}}}}}}\n"
    )
    env = {
        "PYTHONPATH": str(site),
        "BACKEND_BASE_URL": "http://localhost:7007",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "5432",
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "unused-with-trust-auth",
        "REDIS_URL": "redis://127.0.0.1:6379",
    }
    args = ["--config", str(config), "--config", str(tmp_path / "app-config.test.yaml")]
    serve = await ServeProcess.start(tmp_path, args, env)
    try:
        port = (await serve.read_until("Listening on"))["port"]
        await serve.read_until("Backend started")
        async with aiohttp.ClientSession() as session:
            for path in ("/.backstage/health/v1/liveness", "/.backstage/health/v1/readiness"):
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    assert response.status == 200, path
            async with session.get(f"http://127.0.0.1:{port}/api/probe/check") as response:
                assert response.status == 200
                body = await response.json()
        assert body == {"database": f"{prefix}probe", "cached": f"{prefix}probe"}
        serve.send_signal(signal.SIGTERM)
        # The manifest's 5 s serverShutdownDelay runs first; the whole stop fits the grace period.
        grace = _load("deployment.yaml")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert await serve.wait(timeout=grace) == 0
    finally:
        await serve.kill()
        engine = create_async_engine(
            "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{prefix}probe"'))
        finally:
            await engine.dispose()
