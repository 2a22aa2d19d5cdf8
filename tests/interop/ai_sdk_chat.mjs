// A whole conversation through the `ai` package's own chat: `AbstractChat`
// (what `useChat` wraps) with its `DefaultChatTransport` against
// `POST /api/chat` — two turns, the second sending the first as history;
// then a stop (`chat.stop()`, which aborts the request and so cancels the
// run), and a resume (`GET /api/chat/{id}/stream`) of a chat without an
// active stream (204: nothing to resume).
//
// usage: node ai_sdk_chat.mjs http://127.0.0.1:PORT
import assert from "node:assert/strict";
import { AbstractChat, DefaultChatTransport } from "ai";

const base = process.argv[2];

/** The chat state `useChat` keeps in React, kept in plain fields. */
class State {
  constructor() {
    this.status = "ready";
    this.error = undefined;
    this.messages = [];
  }
  pushMessage(m) {
    this.messages = this.messages.concat(m);
  }
  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }
  replaceMessage(i, m) {
    this.messages = [...this.messages.slice(0, i), m, ...this.messages.slice(i + 1)];
  }
  snapshot(value) {
    return structuredClone(value);
  }
}

class Chat extends AbstractChat {
  constructor(init) {
    super({ ...init, state: new State() });
  }
}

const sent = [];
const transport = new DefaultChatTransport({
  api: `${base}/api/chat`,
  body: { rebuffer: "words" },
  fetch: async (url, init) => {
    if (init?.body) sent.push(JSON.parse(init.body));
    return fetch(url, init);
  },
});
const chat = new Chat({ id: `chat-${Date.now()}`, transport });
const textOf = (m) => m.parts.filter((p) => p.type === "text").map((p) => p.text).join("");

await chat.sendMessage({ text: "Hello there" });
assert.equal(chat.status, "ready", String(chat.error));
assert.equal(chat.messages.length, 2);
assert.match(textOf(chat.messages[1]), /\(demo\)/);

await chat.sendMessage({ text: "What is the weather in Oslo?" });
assert.equal(chat.status, "ready", String(chat.error));
assert.equal(chat.messages.length, 4);
// The second request carried the whole history, with the chat id.
assert.equal(sent[1].messages.length, 3);
assert.equal(sent[1].id, chat.id);
assert.equal(sent[1].trigger, "submit-message");
assert.equal(sent[1].rebuffer, "words");
assert.equal(textOf(sent[1].messages[1]), textOf(chat.messages[1]));
const answer = chat.messages[3];
const tool = answer.parts.find((p) => p.type === "tool-get_weather");
assert.equal(tool?.state, "output-available");
assert.match(textOf(answer), /18°C and sunny/);

// Stop, then resume: the server keeps a run whose client went away for its
// resume window (10 s on the interop server), so `resumeStream()` replays
// it from its start (GET /api/chat/{id}/stream) and follows it to the end.
const third = chat.sendMessage({ text: "What is the weather in Rome?" });
await new Promise((r) => setTimeout(r, 40));
await chat.stop();
await third;
assert.equal(chat.status, "ready");
await chat.resumeStream();
assert.equal(chat.status, "ready", String(chat.error));
const resumed = chat.messages.at(-1);
assert.equal(resumed.role, "assistant");
assert.match(textOf(resumed), /18°C and sunny in "What is the weather in Rome"/);
assert.equal(resumed.parts.filter((p) => p.type === "tool-get_weather").length, 1, "replayed, not duplicated");
// Nothing is streaming for this chat any more.
const none = await fetch(`${base}/api/chat/${chat.id}/stream`);
assert.equal(none.status, 204);

// An explicit stop that ends the run (a disconnect only detaches it while a
// resume window is set): POST /runs/{runId}/cancel, the run id from the
// message's metadata.
const fourth = chat.sendMessage({ text: "What is the weather in Lima?" });
let runId;
for (let i = 0; i < 200 && !runId; i++) {
  await new Promise((r) => setTimeout(r, 5));
  const last = chat.messages.at(-1);
  if (last.role === "assistant") runId = last.metadata?.runId;
}
assert.ok(runId, "the start chunk carries the run id");
const cancel = await fetch(`${base}/runs/${runId}/cancel`, { method: "POST" });
assert.equal(cancel.status, 202);
await fourth;
assert.equal(chat.status, "ready", String(chat.error));
assert.doesNotMatch(textOf(chat.messages.at(-1)), /Lima/);
console.log("ai_sdk_chat: two turns with history through AbstractChat + DefaultChatTransport; stop + resume; cancel");
