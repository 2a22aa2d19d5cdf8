// The AI SDK's own UI-message-stream reader against `POST /api/chat`:
// every chunk passes the `ai` package's chunk schema (and, stricter, has only
// the fields the protocol defines), and `readUIMessageStream` assembles a
// message with reasoning, text, and a tool part in state `output-available`
// with its input and output. A provider failure mid-run arrives as an
// `error` chunk, the text streamed so far kept in the message.
//
// usage: node ai_sdk_stream.mjs http://127.0.0.1:PORT
import assert from "node:assert/strict";
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema } from "ai";

const base = process.argv[2];

// The fields each chunk type may carry (the v5 strict schemas): we emit no others.
const ALLOWED = {
  start: ["type", "messageId", "messageMetadata"],
  "start-step": ["type"],
  "finish-step": ["type"],
  "text-start": ["type", "id"],
  "text-delta": ["type", "id", "delta"],
  "text-end": ["type", "id"],
  "reasoning-start": ["type", "id"],
  "reasoning-delta": ["type", "id", "delta"],
  "reasoning-end": ["type", "id"],
  "tool-input-start": ["type", "toolCallId", "toolName"],
  "tool-input-delta": ["type", "toolCallId", "inputTextDelta"],
  "tool-input-available": ["type", "toolCallId", "toolName", "input"],
  "tool-output-available": ["type", "toolCallId", "output"],
  "tool-output-error": ["type", "toolCallId", "errorText"],
  "message-metadata": ["type", "messageMetadata"],
  error: ["type", "errorText"],
  abort: ["type", "reason"],
  finish: ["type", "finishReason", "messageMetadata"],
};

async function chat(text) {
  const response = await fetch(`${base}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      id: `chat-${Date.now()}`,
      trigger: "submit-message",
      messageId: undefined,
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }],
    }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-vercel-ai-ui-message-stream"), "v1");
  assert.match(response.headers.get("content-type"), /^text\/event-stream/);
  const [raw, parsed] = response.body.tee();
  // The raw body ends with `data: [DONE]`.
  const rawText = await new Response(raw).text();
  assert.ok(rawText.trimEnd().endsWith("data: [DONE]"), rawText.slice(-80));
  const chunks = [];
  const validated = parseJsonEventStream({ stream: parsed, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw new Error(`a chunk failed the schema: ${result.error}`);
        const chunk = result.value;
        const allowed = ALLOWED[chunk.type];
        assert.ok(allowed, `unexpected chunk type ${chunk.type}`);
        for (const key of Object.keys(chunk)) {
          assert.ok(allowed.includes(key), `${chunk.type} carries ${key}`);
        }
        chunks.push(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  const errors = [];
  let message;
  for await (const m of readUIMessageStream({ stream: validated, onError: (e) => errors.push(e) })) {
    message = m;
  }
  return { message, chunks, errors };
}

// 1. A weather question: reasoning, a tool round trip, an answer.
{
  const { message, chunks, errors } = await chat("What is the weather in Paris?");
  assert.deepEqual(errors, []);
  assert.equal(message.role, "assistant");
  const types = message.parts.map((p) => p.type);
  assert.ok(types.includes("reasoning"), types.join());
  assert.ok(types.includes("step-start"), types.join());
  const tool = message.parts.find((p) => p.type === "tool-get_weather");
  assert.ok(tool, `no tool part: ${types.join()}`);
  assert.equal(tool.state, "output-available");
  assert.equal(typeof tool.input.city, "string");
  assert.match(String(tool.output), /18°C and sunny/);
  const text = message.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  assert.match(text, /\(demo\)/);
  assert.match(text, /18°C and sunny/);
  assert.ok(chunks.some((c) => c.type === "tool-input-delta"), "arguments streamed");
  assert.equal(chunks.at(-1).type, "finish");
  assert.equal(chunks.at(-1).finishReason, "stop");
  assert.ok(message.metadata?.usage?.totalTokens > 0, JSON.stringify(message.metadata));
}

// 2. A provider failure mid-run: an `error` chunk, the text so far kept.
{
  const { message, chunks, errors } = await chat("please fail midway");
  const error = chunks.find((c) => c.type === "error");
  assert.ok(error, chunks.map((c) => c.type).join());
  assert.match(error.errorText, /failed on purpose/);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /failed on purpose/);
  const text = message.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  assert.ok(text.length > 0, "the text so far is kept");
  assert.equal(chunks.at(-1).finishReason, "error");
}
console.log("ai_sdk_stream: the ai package read and assembled the UI message stream");
