"""Events and actions between our backend and a real Node Backstage backend (issue 16).

A Python backend (``create_backend`` on a real socket) and a Node backend share discovery
(each names the other's plugins) and trust each other's plugin tokens through JWKS (each
verifies the other's tokens at ``/api/<pluginId>/.backstage/auth/v1/jwks.json``, found through
discovery; no shared secret). Node runs a plugin ``nodepeer`` and, in most tests, Backstage's
events backend (the ``events`` plugin); Python runs a plugin ``pyinterop`` and, in one test, our
``contrib/events-backend`` instead. Both sides set ``events.useEventBus: always``, so an event
can only cross through the events backend's bus, never by falling back to a local bus.

The tests run only when ``NODE_PEER_DIR`` names a prepared Node project; without it they skip.
Preparing one (Node 20+, npm; versions that go together with ``backend-defaults`` 0.18)::

    mkdir /tmp/nodepeer && cd /tmp/nodepeer && npm init -y
    npm install @backstage/backend-defaults@0.18.0 @backstage/backend-plugin-api@1.12.0 \\
        @backstage/plugin-events-backend@0.6.6 @backstage/plugin-events-node@0.4.26 \\
        @backstage/errors better-sqlite3 express express-promise-router
    # then, in this repository:
    NODE_PEER_DIR=/tmp/nodepeer .venv/bin/python -m pytest tests/system/test_node_interop_events_actions.py

The JavaScript is not kept there: the test writes ``NODE_INDEX`` (below) into the directory as
``interop-backend.js`` and starts it with ``node interop-backend.js --config <tmp>/app-config.yaml``
(the config, ``NODE_CONFIG``, lives in the test's temporary directory), so this file is the whole
description of the Node side. The Node plugin subscribes to ``interop.to-node``, publishes what
``POST /api/nodepeer/publish`` asks, registers the actions ``nodepeer:shout`` and
``nodepeer:whisper`` (which takes secrets), and exposes Node's actions service and plugin
tokens under ``/api/nodepeer/actions``, ``/invoke/<id>`` and ``/token/<pluginId>`` for the
test to drive.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _support.http import request
from _support.polling import eventually

from backstage_runtime import (
    ActionAttributes,
    ActionContext,
    EventParams,
    actions_registry_service_ref,
    actions_service_ref,
    core_services,
    create_backend,
    create_backend_plugin,
    events_service_ref,
)
from backstage_runtime.api.errors import InputError, NotFoundError
from backstage_runtime.testing import MockRootLogger, mock_services

pytestmark = pytest.mark.anyio

NODE_PEER_DIR = os.environ.get("NODE_PEER_DIR")
if not NODE_PEER_DIR:
    pytest.skip(
        "NODE_PEER_DIR is not set: these tests need a Node project with "
        "@backstage/backend-defaults 0.18 and @backstage/plugin-events-backend installed "
        "(see this module's docstring for the npm command)",
        allow_module_level=True,
    )

TO_NODE = "interop.to-node"
TO_PYTHON = "interop.to-python"

#: The Node backend: the events backend plus a plugin that uses events and actions.
NODE_INDEX = r"""
const { createBackend } = require('@backstage/backend-defaults');
const { createBackendPlugin, coreServices } = require('@backstage/backend-plugin-api');
const { actionsRegistryServiceRef, actionsServiceRef } = require('@backstage/backend-plugin-api/alpha');
const { eventsServiceRef } = require('@backstage/plugin-events-node');
const { NotFoundError } = require('@backstage/errors');
const express = require('express');
const Router = require('express-promise-router');

const nodepeer = createBackendPlugin({
  pluginId: 'nodepeer',
  register(env) {
    env.registerInit({
      deps: {
        http: coreServices.httpRouter,
        auth: coreServices.auth,
        events: eventsServiceRef,
        actionsRegistry: actionsRegistryServiceRef,
        actions: actionsServiceRef,
      },
      async init({ http, auth, events, actionsRegistry, actions }) {
        const received = [];
        await events.subscribe({
          id: 'listener',
          topics: ['interop.to-node'],
          onEvent: async event => {
            received.push({ topic: event.topic, eventPayload: event.eventPayload });
          },
        });

        actionsRegistry.register({
          name: 'shout',
          title: 'Shout',
          description: 'Upper-cases a text and names the caller',
          attributes: { readOnly: true, idempotent: true },
          examples: [{ title: 'Shout hi', input: { text: 'hi' }, output: { shouted: 'HI' } }],
          schema: {
            input: z => z.object({ text: z.string().min(1) }),
            output: z => z.object({ shouted: z.string(), caller: z.any() }),
          },
          action: async ({ input, credentials }) => {
            if (input.text === 'boom') {
              throw new NotFoundError('Nothing to shout about');
            }
            return { output: { shouted: input.text.toUpperCase(), caller: credentials.principal } };
          },
        });

        actionsRegistry.register({
          name: 'whisper',
          title: 'Whisper',
          description: 'Needs a token (a secret) beside its input',
          attributes: { readOnly: true },
          schema: {
            input: z => z.object({ text: z.string() }),
            secrets: z => z.object({ token: z.string().min(8) }),
            output: z => z.object({ text: z.string(), tokenLength: z.number() }),
          },
          action: async ({ input, secrets }) => ({
            output: { text: input.text, tokenLength: secrets.token.length },
          }),
        });

        // What a failed call looks like from Node: the status and the error JSON it read.
        const failure = error => ({
          failed: { name: error.name, status: error.statusCode, body: error.body },
        });

        const router = Router();
        router.use(express.json());
        router.get('/received', (_req, res) => res.json({ events: received }));
        router.post('/publish', async (req, res) => {
          await events.publish({ topic: req.body.topic, eventPayload: req.body.payload });
          res.json({ published: true });
        });
        router.get('/actions', async (_req, res) => {
          const credentials = await auth.getOwnServiceCredentials();
          res.json(await actions.list({ credentials }));
        });
        router.post('/invoke/:id', async (req, res) => {
          const credentials = await auth.getOwnServiceCredentials();
          try {
            // ?secrets=1: as an action with secrets is invoked (Node then uses the v2 route).
            const secrets = req.query.secrets ? { token: 'not-a-real-secret' } : undefined;
            res.json(await actions.invoke({ id: req.params.id, input: req.body, secrets, credentials }));
          } catch (error) {
            res.json(failure(error));
          }
        });
        router.get('/token/:target', async (req, res) => {
          res.json(await auth.getPluginRequestToken({
            onBehalfOf: await auth.getOwnServiceCredentials(),
            targetPluginId: req.params.target,
          }));
        });
        http.use(router);
        for (const path of ['/received', '/publish', '/actions', '/invoke', '/token']) {
          http.addAuthPolicy({ path, allow: 'unauthenticated' });
        }
      },
    });
  },
});

const backend = createBackend();
// Unless the Python backend serves the events bus (discovery then sends `events` there).
if (process.env.INTEROP_EVENTS_BACKEND !== 'python') {
  backend.add(require('@backstage/plugin-events-backend'));
}
backend.add(nodepeer);
backend.start();
"""

#: The Node backend's config; ``{node_port}``, ``{python_port}`` and ``{python_plugins}`` (the
#: plugins discovery finds on the Python backend) are filled in.
NODE_CONFIG = """
backend:
  baseUrl: http://127.0.0.1:{node_port}
  listen: {{host: 127.0.0.1, port: {node_port}}}
  database: {{client: better-sqlite3, connection: ':memory:'}}
  actions:
    pluginSources: [nodepeer, pyinterop]
discovery:
  endpoints:
    - target: http://127.0.0.1:{python_port}/api/{{{{pluginId}}}}
      plugins: [{python_plugins}]
events:
  useEventBus: always
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class NodePeer:
    """The running Node backend: its base URL and its log (colour codes removed)."""

    base: str
    log_file: Path

    def log(self) -> str:
        return _ANSI.sub("", self.log_file.read_text(errors="replace"))

    async def get(self, path: str) -> Any:
        reply = await request("GET", f"{self.base}{path}")
        assert reply.status == 200, (path, reply.status, reply.body)
        return reply.json()

    async def post(self, path: str, body: Any) -> Any:
        reply = await request("POST", f"{self.base}{path}", json=body)
        assert reply.status == 200, (path, reply.status, reply.body)
        return reply.json()


@contextmanager
def node_peer(
    tmp_path: Path, node_port: int, python_port: int, events_backend: str
) -> Iterator[NodePeer]:
    assert NODE_PEER_DIR is not None
    peer_dir = Path(NODE_PEER_DIR)
    (peer_dir / "interop-backend.js").write_text(NODE_INDEX)
    python_plugins = "pyinterop, events" if events_backend == "python" else "pyinterop"
    config = tmp_path / "node-app-config.yaml"
    config.write_text(
        NODE_CONFIG.format(
            node_port=node_port, python_port=python_port, python_plugins=python_plugins
        )
    )
    log_file = tmp_path / "node.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            ["node", "interop-backend.js", "--config", str(config)],
            cwd=peer_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "NODE_ENV": "development",
                "FORCE_COLOR": "0",
                "INTEROP_EVENTS_BACKEND": events_backend,
            },
        )
    peer = NodePeer(base=f"http://127.0.0.1:{node_port}", log_file=log_file)
    try:
        yield peer
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"--- Node backend log ---\n{peer.log()}")


async def ready(base: str) -> bool:
    try:
        return (await request("GET", f"{base}/.backstage/health/v1/readiness")).status == 200
    except OSError:
        return False


@dataclass
class PythonSide:
    """What the Python plugin ``pyinterop`` got at init, for the test to drive."""

    received: list[EventParams] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)


async def reverse(context: ActionContext) -> Any:
    if context.input["text"] == "boom":
        raise NotFoundError("Nothing to reverse")
    return {
        "reversed": context.input["text"][::-1],
        "caller": context.credentials.principal.to_json(),
    }


async def whisper(context: ActionContext) -> Any:
    return {"text": context.input["text"], "tokenLength": len(context.secrets["token"])}


def pyinterop(side: PythonSide) -> Any:
    def register(env: Any) -> None:
        async def init(*, events: Any, registry: Any, actions: Any, auth: Any) -> None:
            await events.subscribe(id="listener", topics=[TO_PYTHON], on_event=side.received.append)
            registry.register(
                name="reverse",
                title="Reverse",
                description="Reverses a text and names the caller",
                input_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string", "minLength": 1}},
                    "required": ["text"],
                },
                examples=[{"title": "Reverse abc", "input": {"text": "abc"}}],
                # Like the Node action: read-only, so not destructive unless it says so.
                attributes=ActionAttributes(read_only=True, idempotent=True),
                action=reverse,
            )
            registry.register(
                name="whisper",
                title="Whisper",
                description="Needs a token (a secret) beside its input",
                input_schema={"type": "object", "properties": {"text": {"type": "string"}}},
                secrets_schema={
                    "type": "object",
                    "properties": {"token": {"type": "string", "minLength": 8}},
                    "required": ["token"],
                },
                attributes=ActionAttributes(read_only=True),
                action=whisper,
            )
            side.services.update(events=events, actions=actions, auth=auth)

        env.register_init(
            deps={
                "events": events_service_ref,
                "registry": actions_registry_service_ref,
                "actions": actions_service_ref,
                "auth": core_services.auth,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="pyinterop", register=register)


@dataclass
class Peers:
    node: NodePeer
    python: PythonSide
    python_base: str
    python_log: MockRootLogger


@asynccontextmanager
async def peers(tmp_path: Path, events_backend: str = "node") -> AsyncIterator[Peers]:
    """Both backends; ``events_backend`` says which one serves the events bus (``node``: Node's
    ``@backstage/plugin-events-backend``; ``python``: our ``contrib/events-backend``)."""
    node_port, python_port = free_port(), free_port()
    side = PythonSide()
    on_node = ["events", "nodepeer"] if events_backend == "node" else ["nodepeer"]
    config = {
        "backend": {
            "baseUrl": f"http://127.0.0.1:{python_port}",
            "listen": {"host": "127.0.0.1", "port": python_port},
            "actions": {"pluginSources": ["nodepeer", "pyinterop"]},
        },
        "discovery": {
            "endpoints": [
                {"target": f"http://127.0.0.1:{node_port}/api/{{{{pluginId}}}}", "plugins": on_node}
            ]
        },
        "events": {"useEventBus": "always"},
    }
    log = MockRootLogger(level="info")
    features: list[Any] = [pyinterop(side), mock_services.root_logger.factory(logger=log)]
    if events_backend == "python":
        from backstage_plugin_events_backend import events_plugin

        features.append(events_plugin)
    python_base = f"http://127.0.0.1:{python_port}"
    async with AsyncExitStack() as stack:
        if events_backend == "python":
            # Ours first: it serves the bus the Node plugin subscribes to at its start.
            await stack.enter_async_context(
                create_backend(features=features, config=config, config_paths=[])
            )
        node = stack.enter_context(node_peer(tmp_path, node_port, python_port, events_backend))
        await eventually(lambda: ready(node.base), timeout=60)
        if events_backend == "node":
            await stack.enter_async_context(
                create_backend(features=features, config=config, config_paths=[])
            )
        yield Peers(node=node, python=side, python_base=python_base, python_log=log)


def _put_201(subscription_id: str) -> re.Pattern[str]:
    return re.compile(
        rf'"PUT /api/events/bus/v1/subscriptions/{re.escape(subscription_id)} HTTP/1.1" 201'
    )


def subscribed(both: Peers, subscription_id: str, events_backend: str = "node") -> bool:
    """Whether the events backend logged a successful PUT of the subscription (after it the
    bus keeps every event of its topics for the subscriber)."""
    pattern = _put_201(subscription_id)
    if events_backend == "node":
        return pattern.search(both.node.log()) is not None
    return any(pattern.search(message) for message in both.python_log.messages())


async def exchange_events(both: Peers, events_backend: str) -> tuple[list[EventParams], Any]:
    """Node publishes to Python and Python to Node; what each received."""
    node, python = both.node, both.python
    await eventually(lambda: subscribed(both, "pyinterop.listener", events_backend), timeout=30)
    await eventually(lambda: subscribed(both, "nodepeer.listener", events_backend), timeout=30)

    await node.post("/api/nodepeer/publish", {"topic": TO_PYTHON, "payload": {"from": "node"}})
    await eventually(lambda: len(python.received) > 0, timeout=30)

    await python.services["events"].publish(
        topic=TO_NODE, event_payload={"from": "python", "n": [1, 2]}
    )

    async def node_received() -> bool:
        return len((await node.get("/api/nodepeer/received"))["events"]) > 0

    await eventually(node_received, timeout=30)
    return list(python.received), (await node.get("/api/nodepeer/received"))["events"]


async def test_events_cross_the_node_events_bus_both_ways(tmp_path: Path) -> None:
    async with peers(tmp_path, events_backend="node") as both:
        on_python, on_node = await exchange_events(both, "node")

    assert on_python == [EventParams(topic=TO_PYTHON, event_payload={"from": "node"})]
    assert on_node == [{"topic": TO_NODE, "eventPayload": {"from": "python", "n": [1, 2]}}]


async def test_events_cross_our_events_backend_with_nodes_bus_client(tmp_path: Path) -> None:
    # The other way round: Node's events service is the client of our contrib events backend.
    async with peers(tmp_path, events_backend="python") as both:
        on_python, on_node = await exchange_events(both, "python")

    assert on_python == [EventParams(topic=TO_PYTHON, event_payload={"from": "node"})]
    assert on_node == [{"topic": TO_NODE, "eventPayload": {"from": "python", "n": [1, 2]}}]


async def test_our_actions_service_lists_and_invokes_a_node_action(tmp_path: Path) -> None:
    async with peers(tmp_path) as both:
        auth, actions = both.python.services["auth"], both.python.services["actions"]
        me = await auth.get_own_service_credentials()
        listed = {action.id: action for action in await actions.list(credentials=me)}
        output = await actions.invoke(id="nodepeer:shout", input={"text": "hi"}, credentials=me)
        with pytest.raises(InputError) as invalid:
            await actions.invoke(id="nodepeer:shout", input={}, credentials=me)
        with pytest.raises(NotFoundError) as failing:
            await actions.invoke(id="nodepeer:shout", input={"text": "boom"}, credentials=me)
        whispered = await actions.invoke(
            id="nodepeer:whisper",
            input={"text": "a"},
            secrets={"token": "0123456789"},
            credentials=me,
        )
        with pytest.raises(InputError) as unwhispered:
            await actions.invoke(id="nodepeer:whisper", input={"text": "a"}, credentials=me)

    assert sorted(listed) == [
        "nodepeer:shout",
        "nodepeer:whisper",
        "pyinterop:reverse",
        "pyinterop:whisper",
    ]
    shout = listed["nodepeer:shout"]
    assert (shout.name, shout.title) == ("shout", "Shout")
    # Node defaults `destructive` to `!readOnly`; zod's schema arrives as JSON Schema draft 7.
    assert shout.attributes == ActionAttributes(destructive=False, idempotent=True, read_only=True)
    assert shout.input_schema["properties"] == {"text": {"type": "string", "minLength": 1}}
    assert shout.input_schema["required"] == ["text"]
    assert shout.examples == (
        {"title": "Shout hi", "input": {"text": "hi"}, "output": {"shouted": "HI"}},
    )
    # The Node plugin saw our plugin's token (made on behalf of our plugin's own credentials).
    assert output == {"shouted": "HI", "caller": {"type": "service", "subject": "plugin:pyinterop"}}
    assert str(invalid.value).startswith('Invalid input to action "nodepeer:shout"')
    assert str(failing.value) == "Nothing to shout about"
    # Secrets travel through Node's v2 route; its secrets schema is listed.
    assert whispered == {"text": "a", "tokenLength": 10}
    assert listed["nodepeer:whisper"].secrets_schema is not None
    assert listed["nodepeer:whisper"].secrets_schema["required"] == ["token"]
    assert str(unwhispered.value) == (
        'Action "nodepeer:whisper" requires secrets but none were provided'
    )


async def test_node_actions_service_lists_and_invokes_a_python_action(tmp_path: Path) -> None:
    async with peers(tmp_path) as both:
        node = both.node
        listed = {
            action["id"]: action for action in (await node.get("/api/nodepeer/actions"))["actions"]
        }
        output = await node.post("/api/nodepeer/invoke/pyinterop:reverse", {"text": "abc"})
        invalid = await node.post("/api/nodepeer/invoke/pyinterop:reverse", {})
        unknown = await node.post("/api/nodepeer/invoke/pyinterop:nope", {"text": "abc"})
        failing = await node.post("/api/nodepeer/invoke/pyinterop:reverse", {"text": "boom"})
        refused = await node.post("/api/nodepeer/invoke/pyinterop:reverse?secrets=1", {"text": "a"})
        whispered = await node.post(
            "/api/nodepeer/invoke/pyinterop:whisper?secrets=1", {"text": "a"}
        )
        unwhispered = await node.post("/api/nodepeer/invoke/pyinterop:whisper", {"text": "a"})

    assert sorted(listed) == [
        "nodepeer:shout",
        "nodepeer:whisper",
        "pyinterop:reverse",
        "pyinterop:whisper",
    ]
    reverse, shout = listed["pyinterop:reverse"], listed["nodepeer:shout"]
    # Our listing entry has the fields of Node's own (a client cannot tell them apart).
    assert sorted(reverse) == sorted(shout)
    assert reverse["pluginId"] == "pyinterop"
    assert reverse["examples"] == [{"title": "Reverse abc", "input": {"text": "abc"}}]
    assert reverse["attributes"] == {"destructive": False, "idempotent": True, "readOnly": True}
    assert reverse["schema"]["input"]["required"] == ["text"]
    assert output == {
        "output": {"reversed": "cba", "caller": {"type": "service", "subject": "plugin:nodepeer"}}
    }
    # Node's ResponseError.fromResponse read our error JSON: status, name and message.
    assert invalid["failed"]["status"] == 400
    assert invalid["failed"]["body"]["error"]["name"] == "InputError"
    assert invalid["failed"]["body"]["error"]["message"].startswith(
        'Invalid input to action "pyinterop:reverse"'
    )
    assert unknown["failed"]["status"] == 404
    assert unknown["failed"]["body"]["error"] == {
        "name": "NotFoundError",
        "message": 'Action "pyinterop:nope" not found',
    }
    assert failing["failed"]["status"] == 404
    assert failing["failed"]["body"]["error"]["name"] == "NotFoundError"
    assert failing["failed"]["body"]["error"]["message"] == "Nothing to reverse"
    # With secrets Node calls our v2 route; its checks answer as Node's own would.
    assert whispered == {"output": {"text": "a", "tokenLength": 17}}
    assert listed["pyinterop:whisper"]["schema"]["secrets"]["required"] == ["token"]
    assert (refused["failed"]["status"], refused["failed"]["body"]["error"]["message"]) == (
        400,
        'Action "pyinterop:reverse" does not accept secrets',
    )
    assert (unwhispered["failed"]["status"], unwhispered["failed"]["body"]["error"]["message"]) == (
        400,
        'Action "pyinterop:whisper" requires secrets but none were provided',
    )


async def test_a_node_plugin_token_lists_python_actions_over_plain_http(tmp_path: Path) -> None:
    async with peers(tmp_path) as both:
        token = (await both.node.get("/api/nodepeer/token/pyinterop"))["token"]
        url = f"{both.python_base}/api/pyinterop/.backstage/actions/v1/actions"
        listing = await request("GET", url, headers={"Authorization": f"Bearer {token}"})
        invoke = await request(
            "POST",
            f"{both.python_base}/api/pyinterop/.backstage/actions/v1/actions/pyinterop:reverse/invoke",
            json={"text": "xy"},
            headers={"Authorization": f"Bearer {token}"},
        )
        anonymous = await request("GET", url)

    assert listing.status == 200
    assert listing.headers["Content-Type"] == "application/json; charset=utf-8"
    assert [action["id"] for action in listing.json()["actions"]] == [
        "pyinterop:reverse",
        "pyinterop:whisper",
    ]
    assert (invoke.status, invoke.json()["output"]["reversed"]) == (200, "yx")
    assert invoke.json()["output"]["caller"] == {"type": "service", "subject": "plugin:nodepeer"}
    assert anonymous.status == 401
    assert anonymous.json()["error"]["name"] == "AuthenticationError"
