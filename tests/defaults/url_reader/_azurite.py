"""Azurite, Microsoft's Azure Storage emulator, for the Azure Blob Storage reader's tests.

The ``azurite`` session fixture finds ``azurite-blob``: ``$AZURITE_BLOB_BIN``, else the copy in
``~/.cache/backstage-runtime-tests/azurite``, else it installs that copy with npm. It then runs
the emulator in memory on a free port of 127.0.0.1 until the session ends. Without node/npm
(or when the install fails) the tests skip locally and fail on CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backstage_runtime.testing._infrastructure import infrastructure_missing

#: The emulator's well-known development account and key (published by Microsoft).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_CACHE = Path.home() / ".cache" / "backstage-runtime-tests" / "azurite"
_INSTALL_TIMEOUT = 600
_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Azurite:
    """A running emulator: ``endpoint`` is ``http://127.0.0.1:<port>``."""

    endpoint: str
    account: str = ACCOUNT
    key: str = field(default=ACCOUNT_KEY, repr=False)

    @property
    def account_url(self) -> str:
        """The blob service URL of the account (path style)."""
        return f"{self.endpoint}/{self.account}"

    def url(self, container: str, path: str = "") -> str:
        """A blob (or folder, or glob) URL as a catalog location would name it."""
        return (
            f"{self.account_url}/{container}/{path}" if path else f"{self.account_url}/{container}"
        )

    def container_sas(self, container: str, *, list_: bool = True) -> str:
        """A read (and list) SAS token for ``container``, valid for an hour."""
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            self.account,
            container,
            account_key=self.key,
            permission=ContainerSasPermissions(read=True, list=list_),
            expiry=datetime.now(UTC) + timedelta(hours=1),
        )

    async def seed(
        self, container: str, files: dict[str, bytes], *, metadata: dict[str, str] | None = None
    ) -> None:
        """Create ``container`` and upload ``files`` (name → content) with the account key."""
        from azure.core.credentials import AzureNamedKeyCredential
        from azure.storage.blob.aio import BlobServiceClient

        credential = AzureNamedKeyCredential(self.account, self.key)
        async with BlobServiceClient(self.account_url, credential=credential) as service:
            client = service.get_container_client(container)
            if not await client.exists():
                await client.create_container()
            for name, data in files.items():
                await client.upload_blob(name, data, overwrite=True, metadata=metadata)

    async def delete(self, container: str, name: str) -> None:
        """Delete one blob."""
        from azure.core.credentials import AzureNamedKeyCredential
        from azure.storage.blob.aio import BlobServiceClient

        credential = AzureNamedKeyCredential(self.account, self.key)
        async with BlobServiceClient(self.account_url, credential=credential) as service:
            await service.get_blob_client(container, name).delete_blob()


def find_azurite_blob() -> Path:
    """The ``azurite-blob`` executable, installed with npm when needed."""
    configured = os.environ.get("AZURITE_BLOB_BIN")
    if configured:
        path = Path(configured)
        if not path.exists():
            infrastructure_missing("Azurite", f"AZURITE_BLOB_BIN={configured} does not exist")
        return path
    cached = _CACHE / "node_modules" / ".bin" / "azurite-blob"
    if cached.exists():
        return cached
    npm = shutil.which("npm")
    if npm is None:
        infrastructure_missing(
            "Azurite", "azurite-blob is not installed and npm is not on PATH to install it"
        )
    _CACHE.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            [npm, "install", "--prefix", str(_CACHE), "--no-audit", "--no-fund", "azurite@3"],
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        infrastructure_missing("Azurite", f"npm install azurite@3 failed: {error}")
    if result.returncode != 0 or not cached.exists():
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        infrastructure_missing("Azurite", f"npm install azurite@3 failed: {' | '.join(tail)}")
    return cached


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _options(binary: Path) -> list[str]:
    options = ["--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent"]
    # Newer versions phone home unless told not to; older ones reject the unknown flag.
    try:
        help_text = subprocess.run(
            [str(binary), "--help"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        infrastructure_missing("Azurite", f"cannot run {binary}: {error}")
    if "--disableTelemetry" in help_text:
        options.append("--disableTelemetry")
    return options


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _start(binary: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the emulator and wait until it accepts connections (retrying on a port race)."""
    options = _options(binary)
    log_path = workdir / "azurite.log"
    reason = "it did not start"
    for _attempt in range(3):
        port = _free_port()
        # In-memory persistence writes nothing (Azurite refuses --location with it); the
        # working directory is a temporary one all the same.
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), *options],
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if _listening(port):
                return process, port
            try:
                # Waits for the process a moment: it either exits (a failed start) or keeps
                # running, and the port is polled again.
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            break
        _stop(process)
        reason = log_path.read_text(errors="replace").strip()[-500:] or reason
    infrastructure_missing("Azurite", f"azurite-blob did not start: {reason}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A running Azurite blob service for the whole test session."""
    pytest.importorskip("azure.storage.blob", reason="the 'azure' extra is not installed")
    binary = find_azurite_blob()
    process, port = _start(binary, tmp_path_factory.mktemp("azurite"))
    try:
        yield Azurite(endpoint=f"http://127.0.0.1:{port}")
    finally:
        _stop(process)
