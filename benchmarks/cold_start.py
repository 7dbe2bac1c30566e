"""Cold start of a process: modules loaded, peak RSS and import time, for three backends.

Each scenario runs in a fresh interpreter (``python -X importtime``):

- ``import``: ``from backstage_runtime import create_backend`` and nothing else;
- ``empty``: an empty backend started (serving on an ephemeral port) and stopped;
- ``contrib``: the same with the contrib ``todo`` plugin and its ``static`` module;
- ``contrib-local``: the same with ``events.useEventBus: never``: the default (``auto``) polls the
  events backend with a plugin token, whose signing key the plugin's database keeps, so only
  this one shows what the plugins themselves load.

The module count and the RSS do not depend on the machine's load; the import time (the sum of
``-X importtime``'s self times) does, so compare it only within one run. The last column lists
the heavy packages each scenario loaded.

``--serve`` times instead launch -> readiness 200 of ``backstage-runtime serve`` with one plugin,
beside the Node peer when ``NODE_PEER_DIR`` is set (see ``_serve_start.py``). Run:

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --serve [--runs 20] [--poll-ms 10] [--config FILE]
        [--callgrind] [--source]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
CONTRIB = [ROOT / "contrib" / "todo-backend", ROOT / "contrib" / "todo-backend-module-static"]

HEAVY = (
    "quart",
    "hypercorn",
    "aiohttp",
    "sqlalchemy",
    "alembic",
    "aiocache",
    "redis",
    "opentelemetry",
    "joserfc",
    "cryptography",
    "croniter",
    "jsonschema",
)

_REPORT = """
import json, resource, sys
tops = {name.split(".")[0] for name in sys.modules}
print(json.dumps({
    "modules": len(sys.modules),
    "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "heavy": sorted(tops & set(HEAVY)),
}))
"""

_START = """
import asyncio
from backstage_runtime import create_backend
async def main():
    backend = create_backend(features=FEATURES, config={"backend": {"listen": {"port": 0}}, **EXTRA})
    async with backend:
        pass
asyncio.run(main())
"""

_CONTRIB = (
    "sys.path[:0] = " + repr([str(path) for path in CONTRIB]) + "\n"
    "from backstage_plugin_todo_backend import todo_plugin\n"
    "from backstage_plugin_todo_backend_module_static import static_todos_module\n"
    "FEATURES = [todo_plugin, static_todos_module]\n"
)

SCENARIOS = {
    "import": "from backstage_runtime import create_backend\ncreate_backend\n",
    "empty": "FEATURES = []\nEXTRA = {}\n" + _START,
    "contrib": _CONTRIB + "EXTRA = {}\n" + _START,
    "contrib-local": _CONTRIB + "EXTRA = {'events': {'useEventBus': 'never'}}\n" + _START,
}


def run(code: str) -> dict[str, object]:
    script = "import sys\nHEAVY = " + repr(HEAVY) + "\n" + code + _REPORT
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    micros = 0
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            micros += int(line.removeprefix("import time:").split("|")[0])
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    result["import_ms"] = micros / 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="launch -> readiness of `serve`")
    parser.add_argument("--runs", type=int, default=20, help="launches of each server to time")
    parser.add_argument("--poll-ms", type=float, default=10, help="readiness poll interval")
    parser.add_argument("--config", metavar="FILE", help="an app-config file for ours")
    parser.add_argument("--callgrind", action="store_true", help="instructions (valgrind)")
    parser.add_argument("--source", action="store_true", help="do not byte-compile first")
    args = parser.parse_args()
    if args.serve:
        from _serve_start import main_serve

        main_serve(args)
        return
    print(f"{'scenario':14}{'modules':>9}{'peak RSS':>12}{'imports':>11}  heavy packages loaded")
    for name, code in SCENARIOS.items():
        result = run(code)
        print(
            f"{name:14}{result['modules']:>9}{int(str(result['rss_kib'])) / 1024:>9.1f} MiB"
            f"{result['import_ms']:>8.0f} ms  {', '.join(result['heavy'])}"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
