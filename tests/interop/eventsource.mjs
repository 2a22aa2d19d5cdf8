// POST /chat read by Node's `eventsource` package (v4, the browser
// EventSource semantics) through a custom fetch: named events arrive as
// their own event types, `lastEventId` follows the `id:` lines, and the
// `done` frame carries the run end.
//
// Usage: node eventsource.mjs BASE_URL
import { EventSource } from "eventsource";

const base = process.argv[2];
const kinds = ["run_start", "text_delta", "reasoning_delta", "tool_call_delta", "tool_call", "tool_result", "message", "usage", "done"];
const seen = [];

const source = new EventSource(`${base}/chat?format=native`, {
  fetch: (url, init) =>
    fetch(url, {
      ...init,
      method: "POST",
      headers: { ...init.headers, "content-type": "application/json" },
      body: JSON.stringify({ input: "What is the weather in Paris?", stream: true }),
    }),
});

const finished = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("timed out")), 30000);
  for (const kind of kinds) {
    source.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data);
      seen.push({ kind, id: event.lastEventId, data });
      if (kind === "done") {
        clearTimeout(timer);
        source.close();
        resolve();
      }
    });
  }
  source.onerror = (err) => {
    if (seen.at(-1)?.kind !== "done") {
      clearTimeout(timer);
      reject(new Error(`EventSource error: ${err.message ?? err.type}`));
    }
  };
});

await finished;
const ids = seen.map((e) => Number(e.id));
if (seen[0].kind !== "run_start") throw new Error(`first event ${seen[0].kind}`);
if (!ids.every((id, i) => id === i)) throw new Error(`ids ${ids}`);
if (seen.at(-1).data.status !== "completed") throw new Error(JSON.stringify(seen.at(-1)));
const text = seen.filter((e) => e.kind === "text_delta").map((e) => e.data.text).join("");
if (!text.includes("(demo)")) throw new Error(`text ${text}`);
console.log(`ok  eventsource v4   ${seen.length} events, lastEventId ${seen.at(-1).id}`);
