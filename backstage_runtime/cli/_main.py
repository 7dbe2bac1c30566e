"""Argument parsing and dispatch for ``backstage-runtime``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..api.errors import BackstageError
from ._collection import PausedCollection

__all__ = ["build_parser", "main", "run_new"]


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="backstage-runtime",
        description="Run Backstage-style backend plugins written in Python.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_config_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--config",
            action="append",
            metavar="PATH",
            help=(
                "an app-config file; repeat to merge several, later ones win (default: "
                "app-config.yaml and app-config.local.yaml in the working directory, when present)"
            ),
        )

    serve = commands.add_parser(
        "serve",
        help="start a backend with every installed plugin and module",
        description=(
            "Start a backend with every feature advertised in the 'backstage_runtime.features' "
            "entry-point group (filtered by backend.packages) and run until SIGINT or SIGTERM."
        ),
    )
    add_config_option(serve)
    serve.add_argument("--host", help="override backend.listen.host")
    serve.add_argument("--port", type=int, help="override backend.listen.port")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        metavar="N",
        help="run N backend processes on one socket (default: backend.workers, else 1)",
    )
    serve.add_argument(
        "--allow-per-process-state",
        action="store_true",
        help="run several workers even with in-memory SQLite or the memory cache",
    )

    plugins = commands.add_parser(
        "plugins",
        help="list the installed plugins, modules and services with their distributions",
    )
    add_config_option(plugins)

    graph = commands.add_parser(
        "graph",
        help="print the service dependency graph (Mermaid or Graphviz DOT)",
        description=(
            "Print how the installed plugins, modules and services depend on each other, "
            "without starting anything."
        ),
    )
    add_config_option(graph)
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot"),
        default="mermaid",
        help="output format (default: mermaid)",
    )

    config = commands.add_parser(
        "config", help="print the resolved configuration as YAML, secrets redacted"
    )
    add_config_option(config)
    config.add_argument(
        "--show-secrets", action="store_true", help="print secret values instead of ***"
    )

    new = commands.add_parser(
        "new",
        help="create a plugin or module distribution to start from",
        description=(
            "Write a new distribution: pyproject.toml with its entry point, the package, a "
            "migrations folder, a passing pytest test and a README."
        ),
    )
    kinds = new.add_subparsers(dest="kind", required=True, metavar="KIND")
    new_plugin = kinds.add_parser(
        "plugin", help="a backend plugin with one route and a database table"
    )
    new_plugin.add_argument("plugin_id", metavar="PLUGIN_ID", help="e.g. my-plugin")
    new_module = kinds.add_parser(
        "module", help="a module that extends a plugin through its extension point"
    )
    new_module.add_argument("plugin_id", metavar="PLUGIN_ID", help="the plugin it extends")
    new_module.add_argument("module_id", metavar="MODULE_ID", help="e.g. github")
    for sub in (new_plugin, new_module):
        sub.add_argument(
            "--dir",
            metavar="PATH",
            help="where to write it (default: ./<plugin-id> or ./<plugin-id>-backend-module-<id>)",
        )
    return parser


def _worker_count(text: str) -> int:
    try:
        count = int(text, 10)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return count


def run_new(args: argparse.Namespace) -> int:
    """``new plugin`` / ``new module``: write the distribution and say what to do next."""
    # Only `new` reads the templates and the installed version: `serve` does not load them.
    from ._scaffold import module_scaffold, plugin_scaffold, write_scaffold

    if args.kind == "plugin":
        scaffold = plugin_scaffold(args.plugin_id)
    else:
        scaffold = module_scaffold(args.plugin_id, args.module_id)
    target = Path(args.dir) if args.dir else Path(scaffold.directory_name)
    written = write_scaffold(scaffold, target)
    print(f"Created {scaffold.values['dist']} in {target}/ ({len(written)} files). Next:")
    print(f"  pip install -e '{target}[test]' && pytest {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (used by the console script)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            with PausedCollection():
                # The web stack: most of the modules `serve` loads, without the collector's
                # rescans of the ones already loaded.
                from ._serve import run_serve

            return run_serve(
                args.config,
                host=args.host,
                port=args.port,
                workers=args.workers,
                allow_per_process_state=args.allow_per_process_state,
            )
        if args.command == "new":
            return run_new(args)
        # The other commands need the runtime; `serve` decides first whether this process will.
        from ._commands import run_config, run_graph, run_plugins

        if args.command == "plugins":
            return run_plugins(args.config)
        if args.command == "graph":
            return run_graph(args.config, output_format=args.format)
        return run_config(args.config, show_secrets=args.show_secrets)
    except BackstageError as error:
        # Errors from config, entry points and validation carry the culprit in their message; a
        # traceback would only bury it.
        print(f"backstage-runtime: {error.name}: {error}", file=sys.stderr)
        return 1
    except BaseExceptionGroup as group:
        # A task group wraps what failed inside it; one error of ours is reported like any other.
        only = _only_backstage_error(group)
        if only is None:
            raise
        print(f"backstage-runtime: {only.name}: {only}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _only_backstage_error(group: BaseExceptionGroup[BaseException]) -> BackstageError | None:
    """The single :class:`BackstageError` inside nested groups, or None if there is anything
    else (which then keeps its traceback).
    """
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        current = pending.pop()
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            leaves.append(current)
    if len(leaves) == 1 and isinstance(leaves[0], BackstageError):
        return leaves[0]
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
