// `@ag-ui/client`'s HttpAgent against `POST /agui`: every event passes
// `@ag-ui/core`'s schema and the client's own sequence verification (which
// `runAgent` applies), the text and tool calls arrive; a frontend tool ends
// the run for the frontend, whose result the next run answers; a provider
// failure arrives as RUN_ERROR with the text so far kept.
//
// usage: node ag_ui_client.mjs http://127.0.0.1:PORT
import assert from "node:assert/strict";
import { HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";

const base = process.argv[2];

async function run(agent, params = {}) {
  const events = [];
  const errors = [];
  try {
    await agent.runAgent(params, {
      onEvent: ({ event }) => {
        const parsed = EventSchemas.safeParse(event);
        assert.ok(parsed.success, `${event.type}: ${parsed.error}`);
        events.push(event);
      },
      onRunFailed: ({ error }) => {
        errors.push(error);
        return { stopPropagation: true };
      },
    });
  } catch (error) {
    errors.push(error);
  }
  return { events, errors };
}

const types = (events) => events.map((e) => e.type);

// 1. Server tool round trip and answer.
{
  const agent = new HttpAgent({ url: `${base}/agui`, threadId: "thread-1" });
  agent.addMessage({ id: "u1", role: "user", content: "What is the weather in Paris?" });
  const { events, errors } = await run(agent);
  assert.deepEqual(errors, []);
  const t = types(events);
  assert.equal(t[0], "RUN_STARTED");
  assert.equal(t.at(-1), "RUN_FINISHED");
  for (const needed of ["STEP_STARTED", "STEP_FINISHED", "REASONING_START", "REASONING_MESSAGE_CONTENT",
    "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
    "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT"]) {
    assert.ok(t.includes(needed), `${needed}: ${t.join()}`);
  }
  assert.ok(t.filter((x) => x === "TOOL_CALL_ARGS").length > 1, "arguments streamed in pieces");
  const start = events.find((e) => e.type === "TOOL_CALL_START");
  assert.equal(start.toolCallName, "get_weather");
  // The client assembled the conversation: the answer reports the tool's result.
  const assistant = agent.messages.filter((m) => m.role === "assistant");
  assert.ok(assistant.some((m) => m.toolCalls?.[0]?.function.name === "get_weather"));
  assert.ok(agent.messages.some((m) => m.role === "tool" && /18°C and sunny/.test(m.content)));
  assert.ok(assistant.some((m) => /18°C and sunny/.test(m.content ?? "")), JSON.stringify(agent.messages));
}

// 2. A frontend tool: the run ends with the call pending; the frontend runs
// it and the next run answers with its result.
{
  const tools = [{
    name: "confirm_order",
    description: "Ask the user to confirm an order",
    parameters: { type: "object", properties: { item: { type: "string" } }, required: ["item"] },
  }];
  const agent = new HttpAgent({ url: `${base}/agui`, threadId: "thread-2" });
  agent.addMessage({ id: "u1", role: "user", content: "Order a desk lamp" });
  const first = await run(agent, { tools });
  assert.deepEqual(first.errors, []);
  const t = types(first.events);
  assert.ok(!t.includes("TOOL_CALL_RESULT"), t.join());
  const start = first.events.find((e) => e.type === "TOOL_CALL_START");
  assert.equal(start.toolCallName, "confirm_order");
  const finished = first.events.at(-1);
  assert.equal(finished.type, "RUN_FINISHED");
  assert.deepEqual(finished.outcome?.pendingToolCallIds, [start.toolCallId]);
  const call = agent.messages.find((m) => m.role === "assistant" && m.toolCalls?.length).toolCalls[0];
  assert.equal(typeof JSON.parse(call.function.arguments).item, "string");
  agent.addMessage({ id: "t1", role: "tool", toolCallId: call.id, content: "the user confirmed" });
  const second = await run(agent, { tools });
  assert.deepEqual(second.errors, []);
  const text = second.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("");
  assert.match(text, /the user confirmed/);
}

// 3. A provider failure mid-run: RUN_ERROR, the text so far kept.
{
  const agent = new HttpAgent({ url: `${base}/agui`, threadId: "thread-3" });
  agent.addMessage({ id: "u1", role: "user", content: "please fail midway" });
  const { events } = await run(agent);
  const t = types(events);
  assert.equal(t.at(-1), "RUN_ERROR", t.join());
  assert.match(events.at(-1).message, /failed on purpose/);
  const text = events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("");
  assert.ok(text.length > 0);
  assert.ok(agent.messages.some((m) => m.role === "assistant" && m.content === text), JSON.stringify(agent.messages));
}
console.log("ag_ui_client: HttpAgent verified every event; text, tool calls, frontend tools and failures arrived");
