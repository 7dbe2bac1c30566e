"""deploy/Dockerfile, read as Docker reads it (no daemon here to build it): what it copies
exists, it runs as the non-root user the Kubernetes manifest expects, `serve` is PID 1, and its
health check asks the liveness endpoint.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _instructions() -> list[list[tuple[str, str]]]:
    """The instructions of each stage, as (INSTRUCTION, arguments), continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def _final_stage() -> list[tuple[str, str]]:
    return _instructions()[-1]


def _one(stage: list[tuple[str, str]], instruction: str) -> str:
    values = [arguments for name, arguments in stage if name == instruction]
    assert len(values) == 1, f"{instruction}: {values}"
    return values[0]


def test_everything_it_copies_from_the_repository_exists() -> None:
    for stage in _instructions():
        for name, arguments in stage:
            if name == "COPY" and not arguments.startswith("--from"):
                *sources, _destination = arguments.split()
                for source in sources:
                    assert (ROOT / source).exists(), source


def test_the_base_image_satisfies_requires_python() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(part) for part in requires.removeprefix(">=").split("."))
    for stage in _instructions():
        image = stage[0][1].split()[0]
        match = re.fullmatch(r"python:(\d+)\.(\d+)-slim", image)
        assert match, image
        assert (int(match[1]), int(match[2])) >= minimum


def test_it_installs_the_project_as_the_readme_does() -> None:
    runs = " ".join(arguments for name, arguments in _instructions()[0] if name == "RUN")
    assert "python3 -m venv" in runs
    assert re.search(r"/bin/pip install (--no-cache-dir )?\.( |$)", runs), runs


def test_it_runs_serve_as_pid_1_under_the_manifest_user() -> None:
    stage = _final_stage()
    # Exec form: a shell in between would swallow SIGTERM and the graceful stop never runs.
    assert json.loads(_one(stage, "ENTRYPOINT")) == ["backstage-runtime", "serve"]
    user, _, group = _one(stage, "USER").partition(":")
    deployment = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert int(user) != 0
    assert (int(user), int(group)) == (pod_security["runAsUser"], pod_security["runAsGroup"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert _one(stage, "EXPOSE") == str(container["ports"][0]["containerPort"])


def test_the_health_check_asks_liveness() -> None:
    check = _one(_final_stage(), "HEALTHCHECK")
    assert "/.backstage/health/v1/liveness" in check
    assert "readiness" not in check  # a draining container must not be reported unhealthy
