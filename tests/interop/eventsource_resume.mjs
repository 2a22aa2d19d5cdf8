// A run started with POST /chat, the client gone mid-run, then read again by
// Node's `eventsource` (v4) from GET /runs/{id}/events: the first connection
// is cut after a few events (as a flaky network would), EventSource
// reconnects by itself with `Last-Event-ID`, and the server resumes exactly
// there: every id once, in order, to the `done` frame.
//
// Usage: node eventsource_resume.mjs BASE_URL   (the server keeps a run alive
// for a while after its client leaves: `ServerConfig::resume_window`)
import { EventSource } from "eventsource";

const base = process.argv[2];

// 1. Start a run and leave after its first frames.
const controller = new AbortController();
const started = await fetch(`${base}/chat?format=native`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ input: "Tell me a long story about streaming", stream: true }),
  signal: controller.signal,
});
const runId = started.headers.get("x-run-id");
const reader = started.body.getReader();
await reader.read();
controller.abort();

// 2. Read it back; the first connection breaks after three frames.
const attempts = [];
const cutAfterFrames = (response, frames) => {
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream({
      transform(chunk, out) {
        const text = new TextDecoder().decode(chunk);
        seen += (text.match(/^event: /gm) || []).length;
        out.enqueue(chunk);
        if (seen >= frames) out.error(new Error("network cut"));
      },
    }),
  );
  return new Response(body, { status: response.status, headers: response.headers });
};
const source = new EventSource(`${base}/runs/${runId}/events?format=native`, {
  fetch: async (url, init) => {
    attempts.push(init.headers["Last-Event-ID"] ?? init.headers["last-event-id"] ?? null);
    const response = await fetch(url, init);
    return attempts.length === 1 ? cutAfterFrames(response, 3) : response;
  },
});

const events = [];
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`timed out after ${events.length} events`)), 30000);
  for (const kind of ["run_start", "text_delta", "reasoning_delta", "tool_call_delta", "tool_call", "tool_result", "message", "usage", "done"]) {
    source.addEventListener(kind, (event) => {
      events.push({ kind, id: Number(event.lastEventId), data: JSON.parse(event.data) });
      if (kind === "done") {
        clearTimeout(timer);
        source.close();
        resolve();
      }
    });
  }
});

if (attempts.length < 2) throw new Error(`no reconnect: ${attempts}`);
if (attempts[1] === null) throw new Error("the reconnect sent no Last-Event-ID");
const ids = events.map((e) => e.id);
if (!ids.every((id, i) => id === i)) throw new Error(`ids not contiguous from 0: ${ids}`);
if (events.at(-1).data.status !== "completed") throw new Error(JSON.stringify(events.at(-1)));
console.log(
  `ok  eventsource v4   resume: ${events.length} events, reconnected with Last-Event-ID ${attempts[1]}, run ${runId} completed`,
);
