// The official JS A2A client (@a2a-js/sdk 1.3.0, legacyCompat on) streams
// one message from us.
//
// Usage: node a2a_sdk_client.mjs BASE_URL --protocol auto|0.3|1.0 --text T --expect E [--minimal]
//
// Same checks as a2a_sdk_client.py: Task (or Message) first, a terminal state
// and nothing after it, as many events as SSE `data:` events on the wire, no
// empty payload or unspecified enum, the artifact text assembled from appends
// equals E in more than one chunk, and the wire dialect is the one forced
// (0.3: `message/stream` and `kind`; 1.0: `SendStreamingMessage`, wrapped
// results and `A2A-Version: 1.0`; auto: 1.0 when the card offers it).
//
// --minimal gives the SDK the Python streaming guide's minimal message: no
// message id (empty) and no role (ROLE_UNSPECIFIED). The request on the wire
// must then carry no messageId (or an empty one) and no user role, and the
// answer must pass every check above, its Task's history holding a non-empty
// messageId the server generated.

import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { Role, TaskState } from '@a2a-js/sdk';
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    protocol: { type: 'string', default: 'auto' },
    text: { type: 'string' },
    expect: { type: 'string' },
    minimal: { type: 'boolean', default: false },
  },
});
const base = positionals[0];

// Records each POST's method and A2A-Version header and the SSE data payloads.
const wire = { methods: [], versions: [], messages: [], datas: [] };
async function recordingFetch(input, init) {
  if (init && init.method === 'POST') {
    const body = JSON.parse(init.body);
    wire.methods.push(body.method);
    wire.versions.push(new Headers(init.headers).get('a2a-version'));
    wire.messages.push((body.params && body.params.message) || {});
  }
  const response = await fetch(input, init);
  const type = response.headers.get('content-type') || '';
  if (!init || init.method !== 'POST' || !response.body || !type.includes('text/event-stream')) {
    return response;
  }
  let pending = '';
  const decoder = new TextDecoder();
  const tee = new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
      let end;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('data:')) wire.datas.push(JSON.parse(line.slice(5)));
        }
      }
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(tee), {
    status: response.status, statusText: response.statusText, headers: response.headers,
  });
}

const TERMINAL = new Set([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED]);
const WRAPPERS = new Set(['task', 'message', 'statusUpdate', 'artifactUpdate']);

async function main() {
  const legacyCompat = { enabled: true };
  const resolver = new DefaultAgentCardResolver({ legacyCompat, fetchImpl: recordingFetch });
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    cardResolver: resolver,
    transports: [new JsonRpcTransportFactory({ legacyCompat, fetchImpl: recordingFetch })],
  }));
  const problems = [];
  const card = await resolver.resolve(base);
  if (!card.capabilities || !card.capabilities.streaming) problems.push('card: capabilities.streaming is not true');
  const interfaces = card.supportedInterfaces || [];
  const offers10 = interfaces.some((i) => String(i.protocolVersion).startsWith('1.'));
  if (opt.protocol !== 'auto') {
    card.supportedInterfaces = interfaces.filter(
      (i) => i.protocolBinding === 'JSONRPC' && String(i.protocolVersion).startsWith(opt.protocol));
    if (!card.supportedInterfaces.length) throw new Error(`the card offers no JSON-RPC ${opt.protocol} interface`);
  }
  const client = await factory.createFromAgentCard(card);
  const message = {
    messageId: opt.minimal ? '' : crypto.randomUUID(),
    role: opt.minimal ? Role.ROLE_UNSPECIFIED : Role.ROLE_USER,
    taskId: '', contextId: '',
    parts: [{ content: { $case: 'text', value: opt.text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
    extensions: [], metadata: {}, referenceTaskIds: [],
  };
  const events = [];
  for await (const ev of client.sendMessageStream({ tenant: '', message, configuration: undefined, metadata: {} })) {
    events.push(ev);
  }

  let terminalAt = null;
  let lastState = null;
  let chunks = 0;
  const texts = {};
  events.forEach((ev, n) => {
    const kind = ev && ev.payload ? ev.payload.$case : null;
    const value = kind ? ev.payload.value : null;
    if (!kind) problems.push(`event ${n}: empty payload`);
    if (n === 0 && kind !== 'task' && kind !== 'message') problems.push(`first event is ${kind}, not a Task or Message`);
    if (terminalAt !== null) problems.push(`event ${n} (${kind}) after the terminal event ${terminalAt}`);
    let state = null;
    if (kind === 'task' || kind === 'statusUpdate') state = value.status && value.status.state;
    else if (kind === 'message') {
      terminalAt = n;
      if (value.role === Role.ROLE_UNSPECIFIED) problems.push(`event ${n}: role parsed as ROLE_UNSPECIFIED`);
    } else if (kind === 'artifactUpdate') {
      const artifact = value.artifact;
      if (!artifact || !artifact.artifactId) problems.push(`event ${n}: artifact update without artifactId`);
      const piece = (artifact.parts || [])
        .map((p) => (p.content && p.content.$case === 'text' ? p.content.value : '')).join('');
      texts[artifact.artifactId] = (value.append ? texts[artifact.artifactId] || '' : '') + piece;
      chunks++;
    }
    if (state !== null && state !== undefined) {
      if (state === TaskState.TASK_STATE_UNSPECIFIED || state === TaskState.UNRECOGNIZED) {
        problems.push(`event ${n}: state parsed as ${state}`);
      }
      lastState = state;
      if (TERMINAL.has(state)) {
        terminalAt = n;
        if (state !== TaskState.TASK_STATE_COMPLETED) problems.push(`the run ended ${TaskState[state]}`);
      }
    }
  });
  if (!events.length) problems.push('no events');
  if (wire.datas.length !== events.length) {
    problems.push(`${wire.datas.length} SSE data events on the wire, the SDK yielded ${events.length}`);
  }
  if (terminalAt === null) problems.push('the stream closed before a terminal state');
  const text = Object.values(texts).join('');
  if (text !== opt.expect) problems.push(`artifact text ${JSON.stringify(text)} != expected ${JSON.stringify(opt.expect)}`);
  if (chunks < 2) problems.push(`${chunks} artifact chunk(s): the answer was not streamed as deltas`);

  const dialect = opt.protocol !== 'auto' ? opt.protocol : offers10 ? '1.0' : '0.3';
  const method = wire.methods[wire.methods.length - 1];
  const results = wire.datas.map((d) => d.result || {});
  if (dialect === '0.3') {
    if (method !== 'message/stream') problems.push(`0.3 forced but the SDK called ${method}`);
    if (!results.every((r) => 'kind' in r)) problems.push('0.3: a result without `kind`');
  } else {
    if (method !== 'SendStreamingMessage') problems.push(`1.0 expected but the SDK called ${method}`);
    const version = wire.versions[wire.versions.length - 1];
    if (version !== '1.0') problems.push(`1.0: the request's A2A-Version header was ${version}`);
    if (!results.every((r) => Object.keys(r).length === 1 && WRAPPERS.has(Object.keys(r)[0]))) {
      problems.push('1.0: a result that is not wrapped in task/message/statusUpdate/artifactUpdate');
    }
  }
  if (opt.minimal) {
    const sent = wire.messages[wire.messages.length - 1];
    if (sent.messageId) problems.push(`the SDK sent messageId ${sent.messageId}: nothing left for the server to fill in`);
    if (sent.role === 'user' || sent.role === 'ROLE_USER') problems.push(`the SDK sent role ${sent.role}, not the minimal message`);
    const first = events[0] && events[0].payload;
    const history = first && first.$case === 'task' ? first.value.history || [] : [];
    if (!history.length || !history[0].messageId) {
      problems.push("the Task's history does not carry the user's message with a messageId");
    }
  }
  const label = `js @a2a-js/sdk ${opt.protocol.padStart(4)}${opt.minimal ? ' minimal' : ''}`;
  for (const p of problems) console.log(`FAIL ${label}: ${p}`);
  if (!problems.length) {
    console.log(`ok  ${label}: ${events.length} events (${chunks} artifact chunks) over ${dialect} (${method}), ended ${TaskState[lastState]}`);
  }
  return problems.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => {
  console.log(`FAIL js @a2a-js/sdk ${opt.protocol}${opt.minimal ? ' minimal' : ''}: the SDK threw ${e && e.name}: ${e && e.message}`);
  process.exit(1);
});
