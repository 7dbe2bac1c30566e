"""A plugin whose init never returns: SIGTERM or SIGINT still stops ``serve`` within the
shutdown bounds, and ``backend.startup.timeout`` ends such a start with an error naming it.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from _support.serve import CLI, ServeProcess, install_fake_distribution

pytestmark = pytest.mark.anyio

#: Seconds each shutdown hook may take in these tests; the stop must fit in one of them.
HOOK_TIMEOUT = 2.0
#: Python start-up and teardown around the bounded steps, generously (two shared cores).
SLACK = 3.0

HANGING_PLUGIN = """
import anyio

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(logger):
        logger.info("hanging init entered")
        await anyio.sleep_forever()

    env.register_init(deps={"logger": core_services.logger}, init=init)


hanging_plugin = create_backend_plugin(plugin_id="hanging", register=register)
"""

QUICK_PLUGIN = """
from backstage_runtime import core_services, create_backend_plugin


def register(env):
    env.register_init(deps={"logger": core_services.logger}, init=lambda logger: None)


quick_plugin = create_backend_plugin(plugin_id="quick", register=register)
"""


def _install(tmp_path: Path, extra_config: str = "") -> dict[str, str]:
    site = tmp_path / "site"
    install_fake_distribution(
        site, "hanging_plugin", HANGING_PLUGIN, "hanging = hanging_plugin:hanging_plugin"
    )
    install_fake_distribution(
        site, "quick_plugin", QUICK_PLUGIN, "quick = quick_plugin:quick_plugin"
    )
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            f"""
            backend:
              baseUrl: http://localhost:7007
              listen: {{host: 127.0.0.1, port: 0}}
              lifecycle:
                shutdownHookTimeout: {{milliseconds: {int(HOOK_TIMEOUT * 1000)}}}
            """
        )
        + extra_config
    )
    return {"PYTHONPATH": str(site)}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_during_a_start_that_never_ends_stops_the_process(
    tmp_path: Path, sig: signal.Signals
) -> None:
    env = _install(tmp_path)
    serve = await ServeProcess.start(tmp_path, env=env)
    try:
        await serve.read_until("hanging init entered")
        signalled = time.monotonic()
        serve.send_signal(sig)
        status = await serve.wait(timeout=HOOK_TIMEOUT + 10)
        elapsed = time.monotonic() - signalled
    finally:
        await serve.kill()

    assert elapsed < HOOK_TIMEOUT + SLACK, elapsed
    assert status == 128 + sig.value
    cancelled = [
        line for line in serve.lines if line["message"].startswith("Backend startup cancelled")
    ]
    assert [line["message"] for line in cancelled] == [
        "Backend startup cancelled while plugins were still starting: 'hanging'"
    ]
    assert cancelled[0]["plugins"] == ["hanging"]
    assert not any(line["message"].startswith("Backend started") for line in serve.lines)


async def test_the_startup_timeout_fails_the_start_naming_the_plugin_still_starting(
    tmp_path: Path,
) -> None:
    env = _install(tmp_path, "  startup:\n    timeout: {milliseconds: 1500}\n")
    process = await anyio.run_process(
        [str(CLI), "serve"],
        cwd=tmp_path,
        env={**os.environ, "LOG_FORMAT": "json", **env},
        check=False,
    )

    stderr = process.stderr.decode()
    assert process.returncode == 1
    assert (
        "backstage-runtime: BackendStartupError: Backend startup failed due to the following "
        "errors:\n  Plugin 'hanging' startup failed; caused by TimeoutError: it did not finish "
        "within backend.startup.timeout (1.5s)\n"
    ) in stderr
    assert "'quick'" not in stderr
    assert b"\"Plugin 'quick' started\"" in process.stdout
