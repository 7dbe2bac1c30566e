"""What the ``backstage-runtime`` console script reports when something is wrong: a config file
that is not YAML, a service nobody provides. Each test drives the real script in a subprocess,
with fake distributions (a ``.dist-info`` folder and a module) put on its ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("backstage-runtime")

BAD_YAML = "backend:\n  baseUrl: http://localhost\n: : bad\n"


def run_cli(*args: str, cwd: Path, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


def fake_distribution(site: Path, name: str, module_source: str) -> None:
    """A distribution ``name`` advertising ``<name>_module:feature`` in the features group."""
    module = f"{name.replace('-', '_')}_module"
    dist_info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[backstage_runtime.features]\n{name} = {module}:feature\n"
    )
    (site / f"{module}.py").write_text(module_source)


NEEDS_NOBODY = """\
from backstage_runtime import create_backend_plugin, create_service_ref

nobody = create_service_ref(id="acme.nobody", scope="plugin")


def register(env):
    env.register_init(deps={"nobody": nobody}, init=lambda nobody: None)


feature = create_backend_plugin(plugin_id="needy", register=register)
"""


@pytest.mark.parametrize("command", ["serve", "graph"])
def test_invalid_yaml_is_reported_as_the_config_error_it_is(tmp_path: Path, command: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(BAD_YAML)
    result = run_cli(command, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f'backstage-runtime: ConfigError: Invalid YAML in config file "{config}" at line 3, '
        "column 1: "
    )
    assert "Feature loader" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("output_format", "marked"),
    [
        ("mermaid", '["acme.nobody (plugin) (missing)"]'),
        ("dot", '[label="acme.nobody (plugin) (missing)", shape=box, style=dashed, color=red];'),
    ],
)
def test_graph_draws_a_missing_service_and_exits_non_zero(
    tmp_path: Path, output_format: str, marked: str
) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "needy-plugin", NEEDS_NOBODY)
    result = run_cli("graph", "--format", output_format, cwd=tmp_path, site=site)
    assert result.returncode == 1, result.stderr
    # The whole graph is printed first, the missing service marked in it.
    assert marked in result.stdout
    assert '"plugin needy"' in result.stdout
    assert "core.rootConfig" in result.stdout
    if output_format == "mermaid":
        missing_id = next(
            line.split("[", 1)[0].strip()
            for line in result.stdout.splitlines()
            if "(missing)" in line
        )
        assert f"    class {missing_id} missing" in result.stdout.splitlines()
    assert result.stderr == (
        "backstage-runtime: service 'acme.nobody' is missing: no factory provides it "
        "(needed by 'plugin:needy')\n"
    )


def test_graph_exits_zero_when_every_service_is_provided(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(
        site,
        "fine-plugin",
        "from backstage_runtime import core_services, create_backend_plugin\n"
        "feature = create_backend_plugin(plugin_id='fine', register=lambda env: "
        "env.register_init(deps={'logger': core_services.logger}, init=lambda logger: None))\n",
    )
    result = run_cli("graph", cwd=tmp_path, site=site)
    assert result.returncode == 0, result.stderr
    assert "(missing)" not in result.stdout
    assert "classDef missing" not in result.stdout
    assert result.stderr == ""
