#!/usr/bin/env python3
"""An A2A agent built with the official Python SDK (a2a-sdk[http-server] 1.3.0).

It serves both dialects on one JSON-RPC endpoint, as the SDK does when
`enable_v0_3_compat` is on: 1.0 methods (`SendStreamingMessage`, ...) and the
0.3 ones (`message/stream`, ...), dispatched by method name. The card lists a
1.0 and a 0.3 JSON-RPC interface on the same URL.

The agent streams ANSWER in several artifact-update chunks, then completes.
A message containing the word "fail" makes it end `failed` with the status
message FAILURE instead (after one chunk), so a client's failure mapping can
be checked.

Usage: a2a_sdk_server.py  — prints `http://127.0.0.1:<port>` on its first
line when it accepts connections, serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid

import uvicorn
from starlette.applications import Starlette

from a2a.helpers.proto_helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Part,
    Role,
    TaskState,
)

# What the agent says, cut into the chunks it streams (clients check the joined text).
CHUNKS = ["The official ", "Python SDK ", "streams this ", "answer in ", "pieces."]
ANSWER = "".join(CHUNKS)
FAILURE = "the SDK agent failed on purpose"


class ChunkedAgent(AgentExecutor):
    """Streams CHUNKS as appends to one artifact, then completes (or fails)."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task or new_task_from_user_message(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        failing = "fail" in context.get_user_input().lower()
        artifact_id = str(uuid.uuid4())
        for i, chunk in enumerate(CHUNKS):
            await updater.add_artifact(
                [Part(text=chunk)],
                artifact_id=artifact_id,
                name="answer",
                append=i > 0,
                last_chunk=i == len(CHUNKS) - 1,
            )
            await asyncio.sleep(0.01)
            if failing:
                message = updater.new_agent_message([Part(text=FAILURE)])
                await updater.failed(message)
                return
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        if task is not None:
            await TaskUpdater(event_queue, task.id, task.context_id).cancel()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    card = AgentCard(
        name="SDK Agent",
        description="An agent built with the official a2a-sdk, for agentor's interop tests.",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"),
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="chunks", name="chunks", description="Streams a known answer.", tags=["test"])],
    )
    handler = DefaultRequestHandler(agent_executor=ChunkedAgent(), task_store=InMemoryTaskStore(), agent_card=card)
    routes = create_agent_card_routes(card)
    routes += create_agent_card_routes(card, card_url="/.well-known/agent.json")
    routes += create_jsonrpc_routes(handler, "/", enable_v0_3_compat=True)
    app = Starlette(routes=routes)

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.02)
        print(f"http://127.0.0.1:{port}", flush=True)
        await task

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
