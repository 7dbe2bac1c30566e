"""Cost of the credentials barrier: a guarded route called with a valid plugin token against the
same route opened by an ``unauthenticated`` auth policy, on one server, in one run.

The server (``create_backend()``, request logging on, as ``serve``) has a plugin ``hello``
serving ``GET /open/hello`` (policy ``unauthenticated``) and ``GET /secure/hello`` (the default
policy: credentials required), and a plugin ``caller`` whose public ``GET /token`` mints a plugin
token for ``hello`` (as the Node comparison's ``/token``). The token's verification fetches
``caller``'s JWKS once; afterwards each request costs one ES256 signature check.

Target: the guarded route keeps at least 0.8 of the open route's throughput. Run (needs wrk):

    python benchmarks/auth_overhead.py [--duration 10] [--connections 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_overhead import Result, free_port, run_wrk

TARGET_RATIO = 0.8


def serve(port: int) -> None:
    import os

    import anyio
    from quart import Blueprint

    from backstage_runtime import core_services, create_backend, create_backend_plugin
    from backstage_runtime.cli._commands import freeze_startup_objects

    def hello_register(env: Any) -> None:
        def init(http: Any) -> None:
            for prefix in ("open", "secure"):
                routes = Blueprint(prefix, __name__, url_prefix=f"/{prefix}")

                @routes.get("/hello")
                async def hello() -> Any:
                    return {"hello": "world"}

                http.use(routes)
            http.add_auth_policy(path="/open", allow="unauthenticated")

        env.register_init(deps={"http": core_services.http_router}, init=init)

    def caller_register(env: Any) -> None:
        def init(http: Any, auth: Any) -> None:
            routes = Blueprint("caller", __name__)

            @routes.get("/token")
            async def token() -> Any:
                own = await auth.get_own_service_credentials()
                minted = await auth.get_plugin_request_token(
                    on_behalf_of=own, target_plugin_id="hello"
                )
                return {"token": minted.token}

            http.use(routes)
            http.add_auth_policy(path="/token", allow="unauthenticated")

        env.register_init(
            deps={"http": core_services.http_router, "auth": core_services.auth}, init=init
        )

    os.environ["LOG_FORMAT"] = "json"
    backend = create_backend(
        features=[
            create_backend_plugin(plugin_id="hello", register=hello_register),
            create_backend_plugin(plugin_id="caller", register=caller_register),
        ],
        config={
            "backend": {
                "baseUrl": f"http://127.0.0.1:{port}",
                "listen": {"host": "127.0.0.1", "port": port},
            }
        },
    )

    async def main() -> None:
        async with backend:
            freeze_startup_objects()
            await anyio.sleep_forever()

    anyio.run(main)


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling a server that is still starting
    raise RuntimeError(f"{url} did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[Result]] = {"open": [], "secure": []}
    try:
        wait_for(f"{base}/api/hello/open/hello")
        with urllib.request.urlopen(f"{base}/api/caller/token", timeout=10) as reply:
            token = json.loads(reply.read())["token"]
        header = f"Authorization: Bearer {token}"
        wrk_header = ["-H", header]
        for route in ("open", "secure"):  # warm-up, and the one JWKS fetch
            run_wrk(f"{base}/api/hello/{route}/hello", 2, args.connections, wrk_header)
        for round_number in range(args.rounds):
            order = ("open", "secure") if round_number % 2 == 0 else ("secure", "open")
            for route in order:
                result = run_wrk(
                    f"{base}/api/hello/{route}/hello", args.duration, args.connections, wrk_header
                )
                results[route].append(result)
                print(
                    f"round {round_number + 1} {route:7} {result.requests_per_second:9.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                    f"errors {result.errors}",
                    flush=True,
                )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    def median(route: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[route])

    print()
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians")
    for route in ("open", "secure"):
        print(
            f"{route:8}{median(route, 'requests_per_second'):10.0f} req/s"
            f"{median(route, 'p50_ms'):9.2f} ms p50{median(route, 'p99_ms'):9.2f} ms p99"
        )
    ratio = median("secure", "requests_per_second") / median("open", "requests_per_second")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"throughput ratio guarded/open: {ratio:.3f} ({verdict} the {TARGET_RATIO} target)")


if __name__ == "__main__":
    main()
