// The agentor playground: streams POST /chat (SSE read with fetch, since
// EventSource cannot POST), renders each event as it arrives, resumes a
// dropped stream from its last event id, cancels by run id.
//
// Model output is untrusted: every piece of it reaches the page through
// textContent on elements built here; no string is ever parsed as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'agentor.playground.token';
  // The API sits next to the page, so a router nested under /agent/ works.
  const base = new URL('./', location.href);
  const api = (path) => new URL(path, base).toString();
  const MAX_RAW_ROWS = 2000;
  const RESUME_ATTEMPTS = 5;

  const ui = {
    transcript: $('transcript'), empty: $('empty'), prompt: $('prompt'),
    send: $('send'), cancel: $('cancel'), composer: $('composer'),
    status: $('status'), statusText: $('status-text'), runId: $('run-id'),
    ttfe: $('ttfe'), rate: $('rate'), tokens: $('tokens'),
    raw: $('raw'), rawList: $('raw-list'), toggleRaw: $('toggle-raw'),
    notice: $('notice'), tokenDialog: $('token-dialog'), tokenInput: $('token-input'),
    tokenReason: $('token-reason'),
  };

  const state = { history: [], run: null, tokenRequired: false, pendingPrompt: null };

  // ---- small helpers ------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  function headers(extra) {
    const all = Object.assign({}, extra);
    const t = token();
    if (t) all.Authorization = 'Bearer ' + t;
    return all;
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = !text;
  }

  /** The `{"error": {"code", "message"}}` of a failed response, as one line. */
  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.error) return `${response.status} ${body.error.code}: ${body.error.message}`;
    } catch (_) { /* not JSON: the status says enough */ }
    return `${response.status} ${response.statusText}`;
  }

  // ---- auth ---------------------------------------------------------------

  function askToken(reason) {
    ui.tokenReason.textContent = reason;
    ui.tokenInput.value = '';
    if (!ui.tokenDialog.open) ui.tokenDialog.showModal();
    ui.tokenInput.focus();
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = ui.tokenInput.value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    ui.tokenDialog.close();
    showNotice('');
    // The prompt that met the 401 goes again, so the token costs one step.
    if (state.pendingPrompt !== null) {
      const prompt = state.pendingPrompt;
      state.pendingPrompt = null;
      send(prompt);
    }
  });

  // An unauthorized answer: forget the token and ask again, saying why.
  function unauthorized(prompt) {
    const had = token() !== '';
    sessionStorage.removeItem(TOKEN_KEY);
    state.pendingPrompt = prompt;
    const reason = had
      ? 'The server refused that token (401 unauthorized). Enter the token it was started with.'
      : 'This server was started with --token: enter that token. It is kept for this tab only.';
    showNotice('Not sent: the server needs a valid token (401 unauthorized).');
    askToken(reason);
  }

  // What the server says about itself: whether a token is needed (asked at
  // once, rather than after a failed prompt), and the agent's name.
  async function discover() {
    try {
      const index = await fetch(api('./'), { headers: { Accept: 'application/json' } });
      if (index.ok) state.tokenRequired = Boolean((await index.json()).token_required);
    } catch (_) { /* an old server: the first 401 will ask */ }
    if (state.tokenRequired && !token()) {
      askToken('This server was started with --token: enter that token. It is kept for this tab only.');
    }
    try {
      const card = await fetch(api('.well-known/agent-card.json'));
      if (card.ok) {
        const body = await card.json();
        if (body && body.name) $('agent-name').textContent = body.name;
      }
    } catch (_) { /* the name is decoration */ }
  }

  // ---- options ------------------------------------------------------------

  function options() {
    const body = { format: $('opt-format').value };
    const events = $('opt-events').value.trim();
    if (events) body.events = events;
    const rebuffer = $('opt-rebuffer').value;
    if (rebuffer) body.rebuffer = rebuffer;
    const batch = $('opt-batch').value.trim();
    if (batch) body.batch_ms = Number(batch);
    const timeout = $('opt-timeout').value.trim();
    if (timeout) body.timeout = Number(timeout);
    return body;
  }

  // ---- Markdown-ish rendering (DOM only, never HTML strings) --------------

  /** `text` with `code` and **bold** spans, as nodes appended to `parent`. */
  function inline(parent, text) {
    const parts = text.split(/(`[^`\n]+`|\*\*[^*\n]+\*\*)/);
    for (const part of parts) {
      if (!part) continue;
      if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) {
        parent.appendChild(el('code', null, part.slice(1, -1)));
      } else if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) {
        parent.appendChild(el('strong', null, part.slice(2, -2)));
      } else {
        parent.appendChild(document.createTextNode(part));
      }
    }
  }

  /**
   * Paragraphs, bullet lists, headings and fenced code blocks. An unclosed
   * fence renders as code too, so a block grows while it streams.
   */
  function renderMarkdown(text) {
    const out = document.createDocumentFragment();
    const lines = text.split('\n');
    let para = [];
    let list = null;
    const flush = () => {
      if (para.length) {
        const p = el('p');
        inline(p, para.join('\n'));
        out.appendChild(p);
        para = [];
      }
      list = null;
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const fence = line.match(/^\s*```\s*([\w+-]*)/);
      if (fence) {
        flush();
        const code = [];
        i++;
        while (i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i++]);
        const pre = el('pre', 'code-block');
        if (fence[1]) pre.appendChild(el('span', 'code-lang', fence[1]));
        pre.appendChild(el('code', null, code.join('\n')));
        out.appendChild(pre);
        continue;
      }
      const bullet = line.match(/^\s*[-*]\s+(.*)$/);
      const heading = line.match(/^(#{1,4})\s+(.*)$/);
      if (!line.trim()) {
        flush();
      } else if (bullet) {
        if (para.length) flush();
        if (!list) {
          list = el('ul');
          out.appendChild(list);
        }
        const item = el('li');
        inline(item, bullet[1]);
        list.appendChild(item);
      } else if (heading) {
        flush();
        const h = el('h4');
        inline(h, heading[2]);
        out.appendChild(h);
      } else {
        list = null;
        para.push(line);
      }
    }
    flush();
    return out;
  }

  // ---- one turn in the transcript -----------------------------------------

  function newTurn(prompt) {
    ui.empty.hidden = true;
    const turn = el('article', 'turn');
    const user = el('div', 'bubble user');
    user.appendChild(el('div', 'who', 'You'));
    user.appendChild(el('div', 'user-text', prompt));
    turn.appendChild(user);

    const bot = el('div', 'bubble bot');
    const who = el('div', 'who', 'Agent');
    const meta = el('span', 'meta');
    who.appendChild(meta);
    bot.appendChild(who);

    const reasoning = el('details', 'reasoning');
    reasoning.hidden = true;
    const summary = el('summary', null, 'Reasoning');
    reasoning.appendChild(summary);
    const reasoningText = el('div', 'reasoning-text');
    reasoning.appendChild(reasoningText);
    bot.appendChild(reasoning);

    const tools = el('div', 'tools');
    bot.appendChild(tools);
    const answer = el('div', 'answer');
    answer.appendChild(el('span', 'typing', '…'));
    bot.appendChild(answer);
    const notes = el('div', 'notes');
    bot.appendChild(notes);
    turn.appendChild(bot);

    ui.transcript.appendChild(turn);
    stick = true;
    follow();
    return { turn, meta, reasoning, reasoningText, tools, answer, notes };
  }

  function note(run, text, kind) {
    run.dom.notes.appendChild(el('div', 'note ' + (kind || ''), text));
  }

  // ---- tool cards ---------------------------------------------------------

  function card(run, callId, name) {
    let c = run.tools.get(callId);
    if (c) {
      if (name && !c.name) c.setName(name);
      return c;
    }
    const root = el('div', 'tool-card streaming');
    const head = el('div', 'tool-head');
    const icon = el('span', 'tool-icon', 'ƒ');
    const title = el('span', 'tool-name', name || 'tool');
    const badge = el('span', 'tool-state', 'arguments…');
    const time = el('span', 'tool-time');
    head.append(icon, title, badge, time);
    const args = el('pre', 'tool-args');
    const result = el('pre', 'tool-result');
    result.hidden = true;
    root.append(head, args, result);
    run.dom.tools.appendChild(root);
    c = {
      name, args: '', startedAt: null, root, argsEl: args,
      setName(n) { c.name = n; title.textContent = n; },
      setState(text, cls) {
        badge.textContent = text;
        root.className = 'tool-card ' + cls;
      },
      setTime(ms) { time.textContent = formatMs(ms); },
      setResult(text, isError) {
        result.hidden = false;
        result.textContent = text;
        result.classList.toggle('error', isError);
      },
    };
    run.tools.set(callId, c);
    return c;
  }

  function prettyJson(value) {
    if (typeof value === 'string') {
      try { return JSON.stringify(JSON.parse(value), null, 2); } catch (_) { return value; }
    }
    return JSON.stringify(value, null, 2);
  }

  // ---- the agentor shape, read as native ----------------------------------

  /**
   * The native fields of an event, from whichever format was asked for. The
   * agentor shape drops ids and arguments: tool cards then key on order.
   */
  function normalize(run, kind, data) {
    if (run.format === 'native') return data;
    const type = kind === 'done' ? 'run_end' : kind;
    const e = { type };
    const action = data.tool_action || {};
    switch (type) {
      case 'text_delta': e.text = data.chunk || ''; break;
      case 'reasoning_delta':
      case 'reasoning_summary': e.text = data.reasoning || ''; break;
      case 'message': e.text = data.message || ''; break;
      case 'run_start': e.agent = data.message; break;
      // The agentor shape carries neither the call id nor the fragment.
      case 'tool_call_delta': e.type = 'skipped'; break;
      case 'tool_call':
        e.call_id = 'call#' + (++run.agentorCalls);
        e.name = action.name;
        break;
      case 'tool_result': {
        e.name = action.name;
        e.output = data.message;
        const open = [...run.tools.entries()].find(([, c]) => c.name === e.name && !c.done);
        e.call_id = open ? open[0] : 'call#' + (++run.agentorCalls);
        break;
      }
      case 'usage': {
        const m = /input (\d+), output (\d+)/.exec(data.message || '');
        e.input_tokens = m ? Number(m[1]) : 0;
        e.output_tokens = m ? Number(m[2]) : 0;
        break;
      }
      default: e.message = data.message; e.status = data.message;
    }
    return e;
  }

  // ---- applying events ----------------------------------------------------

  function apply(run, e) {
    applyKind(run, e);
    run.lastKind = e.type;
    if (e.type !== 'text_delta') follow();
  }

  function applyKind(run, e) {
    switch (e.type) {
      case 'run_start':
        run.dom.meta.textContent = [e.agent, e.model].filter(Boolean).join(' · ');
        break;
      case 'reasoning_delta':
      case 'reasoning_summary':
        if (run.dom.reasoning.hidden) {
          run.dom.reasoning.hidden = false;
          run.dom.reasoning.open = true; // watched while it streams, folded at the end
        }
        // Each model turn's reasoning is its own paragraph.
        if (run.lastKind !== e.type && run.dom.reasoningText.textContent) {
          run.dom.reasoningText.textContent += '\n\n';
        }
        run.dom.reasoningText.textContent += e.text || '';
        break;
      case 'text_delta':
        run.segment += e.text || '';
        scheduleRender(run);
        break;
      case 'message':
        // The complete message is the authority for its segment (deltas may
        // have been filtered out); a later turn's text starts a new one.
        run.segments.push(e.text || '');
        run.segment = '';
        scheduleRender(run);
        break;
      case 'tool_call_delta': {
        const c = card(run, e.call_id, e.name);
        c.args += e.delta || '';
        c.argsEl.textContent = c.args;
        break;
      }
      case 'tool_call': {
        const c = card(run, e.call_id, e.name);
        c.argsEl.textContent = e.arguments === undefined
          ? '(the agentor format carries no arguments: pick native to see them)'
          : prettyJson(e.arguments);
        c.startedAt = performance.now();
        c.setState('running', 'running');
        break;
      }
      case 'tool_result': {
        const c = card(run, e.call_id, e.name);
        c.done = true;
        const ms = typeof e.duration_ms === 'number'
          ? e.duration_ms
          : (c.startedAt === null ? null : performance.now() - c.startedAt);
        if (ms !== null) c.setTime(ms);
        c.setState(e.is_error ? 'error' : 'done', e.is_error ? 'failed' : 'done');
        c.setResult(typeof e.output === 'string' ? e.output : prettyJson(e.output), Boolean(e.is_error));
        break;
      }
      case 'usage':
        run.tokensIn += Number(e.input_tokens) || 0;
        run.tokensOut += Number(e.output_tokens) || 0;
        break;
      case 'handoff':
        note(run, `handoff: ${e.from || '?'} → ${e.to || '?'}`);
        break;
      case 'agent_updated':
        note(run, `agent: ${e.agent || e.message || '?'}`);
        break;
      case 'error':
        note(run, 'Error' + (e.error_kind ? ` (${e.error_kind})` : '') + ': ' + (e.message || ''), 'error');
        break;
      case 'run_end':
        run.ended = true;
        run.status = e.status || 'failed';
        break;
      default:
        break; // progress and future kinds: the raw pane shows them
    }
  }

  function answerText(run) {
    return run.segments.concat(run.segment ? [run.segment] : []).join('\n\n');
  }

  // One render per frame at most: deltas can arrive faster than paints.
  function scheduleRender(run) {
    if (run.renderQueued) return;
    run.renderQueued = true;
    requestAnimationFrame(() => {
      run.renderQueued = false;
      renderAnswer(run);
    });
  }

  function renderAnswer(run) {
    const text = answerText(run);
    const target = run.dom.answer;
    target.replaceChildren(renderMarkdown(text));
    if (!run.ended) {
      // The cursor ends the text itself, not a line of its own.
      let last = target.lastElementChild || target;
      if (last.tagName === 'UL') last = last.lastElementChild;
      else if (last.tagName === 'PRE') last = last.lastElementChild;
      last.appendChild(el('span', 'cursor', '▍'));
    }
    target.dataset.chars = String(text.length);
    follow();
  }

  // The transcript follows the stream unless the reader scrolled up.
  let stick = true;
  ui.transcript.addEventListener('scroll', () => {
    const box = ui.transcript;
    stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  });
  function follow() {
    if (stick) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  // ---- raw events pane ----------------------------------------------------

  function rawRow(frame) {
    const row = el('li', 'raw-row kind-' + frame.event);
    row.appendChild(el('span', 'raw-id', frame.id === null ? '·' : frame.id));
    row.appendChild(el('span', 'raw-kind', frame.event));
    row.appendChild(el('code', 'raw-brief', brief(frame.data)));
    row.appendChild(el('code', 'raw-data', frame.data));
    row.title = 'Click to expand';
    row.addEventListener('click', () => row.classList.toggle('open'));
    ui.rawList.appendChild(row);
    while (ui.rawList.childElementCount > MAX_RAW_ROWS) ui.rawList.firstElementChild.remove();
    if (!ui.raw.hidden) ui.rawList.scrollTop = ui.rawList.scrollHeight;
  }

  /** A frame's data without what every frame repeats, for the one-line view. */
  function brief(data) {
    try {
      const value = JSON.parse(data);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const key of ['type', 'seq', 'source', 'run_id']) delete value[key];
        // The agentor shape's unused keys are null.
        for (const key of Object.keys(value)) if (value[key] === null) delete value[key];
        return JSON.stringify(value);
      }
    } catch (_) { /* shown as it came */ }
    return data;
  }

  function rawMarker(text) {
    ui.rawList.appendChild(el('li', 'raw-row marker', text));
  }

  ui.toggleRaw.addEventListener('click', () => {
    ui.raw.hidden = !ui.raw.hidden;
    ui.toggleRaw.setAttribute('aria-pressed', String(!ui.raw.hidden));
    document.body.classList.toggle('with-raw', !ui.raw.hidden);
  });
  $('raw-clear').addEventListener('click', () => ui.rawList.replaceChildren());

  // ---- status line --------------------------------------------------------

  const LABELS = {
    timed_out: 'timed out', max_turns: 'max turns', reconnecting: 'reconnecting…',
    input_required: 'asks you', auth_required: 'asks you to sign in',
  };

  function formatMs(ms) {
    return ms < 1000 ? `${Math.max(ms, 0.1).toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
  }

  function updateStatus() {
    const run = state.run;
    if (!run) return;
    const status = run.reconnecting && !run.ended ? 'reconnecting' : run.status;
    ui.status.dataset.status = status;
    ui.statusText.textContent = LABELS[status] || status;
    ui.runId.textContent = run.id || '—';
    if (run.firstAt !== null) {
      const ttfe = run.firstAt - run.startedAt;
      ui.ttfe.textContent = formatMs(ttfe);
      ui.ttfe.dataset.ms = String(ttfe);
      const span = ((run.ended ? run.lastAt : performance.now()) - run.firstAt) / 1000;
      ui.rate.textContent = span > 0 ? Math.round(run.events / span).toLocaleString() : '—';
    } else {
      ui.ttfe.textContent = '—';
      ui.rate.textContent = '—';
    }
    ui.tokens.textContent = run.tokensIn || run.tokensOut ? `${run.tokensIn} / ${run.tokensOut}` : '—';
  }

  function setBusy(busy) {
    ui.send.disabled = busy;
    ui.cancel.disabled = !busy;
  }

  // ---- SSE over fetch ------------------------------------------------------

  /** Splits an SSE body into frames `{id, event, data}` (comments skipped). */
  function sseParser(onFrame) {
    let buffer = '';
    return (chunk) => {
      buffer += chunk.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = null;
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue; // heartbeats
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length) onFrame({ id, event, data: data.join('\n') });
      }
    };
  }

  function onFrame(run, frame) {
    const id = frame.id === null || frame.id === '' ? null : Number(frame.id);
    // Ids are gapless per run: one already seen is a replay overlap, skipped
    // so no text is ever applied twice.
    if (id !== null && run.lastId !== null && id <= run.lastId) return;
    const now = performance.now();
    if (run.firstAt === null) run.firstAt = now;
    run.lastAt = now;
    run.events++;
    if (id !== null) run.lastId = id;
    rawRow(frame);
    let data;
    try {
      data = JSON.parse(frame.data);
    } catch (_) {
      note(run, 'A frame that is not JSON was skipped (see the raw events).', 'error');
      return;
    }
    if (!run.id && data.run_id) run.id = data.run_id;
    apply(run, normalize(run, frame.event, data));
  }

  /** Reads one response to its end; true when the run end arrived. */
  async function consume(run, response) {
    const feed = sseParser((frame) => onFrame(run, frame));
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(decoder.decode(value, { stream: true }));
        if (run.ended) break;
      }
    } catch (_) {
      // A cut connection: the caller resumes from run.lastId.
    }
    return run.ended;
  }

  // ---- a run -------------------------------------------------------------

  async function send(prompt) {
    if (state.run && !state.run.ended && !state.run.finished) return;
    showNotice('');
    const body = options();
    const input = state.history.concat([{ role: 'user', content: prompt }]);
    const run = {
      prompt, format: body.format, id: null, lastId: null, status: 'running',
      startedAt: performance.now(), firstAt: null, lastAt: null, events: 0,
      tokensIn: 0, tokensOut: 0, segments: [], segment: '', tools: new Map(),
      agentorCalls: 0, ended: false, finished: false, reconnecting: false,
      drops: 0, cancelRequested: false, controller: new AbortController(),
      renderQueued: false, dom: newTurn(prompt),
    };
    state.run = run;
    setBusy(true);
    rawMarker(`POST chat — ${prompt.length > 60 ? prompt.slice(0, 60) + '…' : prompt}`);
    const ticker = setInterval(updateStatus, 250);
    updateStatus();
    try {
      await stream(run, input, body);
    } finally {
      clearInterval(ticker);
      finish(run);
    }
  }

  async function stream(run, input, body) {
    let response;
    try {
      response = await fetch(api('chat'), {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(Object.assign({ input, stream: true }, body)),
        signal: run.controller.signal,
      });
    } catch (err) {
      if (run.cancelRequested) {
        run.status = 'cancelled';
        return undefined;
      }
      return failed(run, `The server could not be reached (${err.message}).`);
    }
    if (response.status === 401) {
      run.dom.turn.remove();
      run.discard = true;
      return unauthorized(run.prompt);
    }
    if (!response.ok) return failed(run, await errorText(response));
    run.id = response.headers.get('X-Run-Id');
    updateStatus();
    if (await consume(run, response)) return undefined;
    return resume(run);
  }

  // The connection dropped before the run end: read the run again from the
  // server's replay log after the last id we got, then live.
  async function resume(run) {
    for (let attempt = 1; attempt <= RESUME_ATTEMPTS && !run.ended; attempt++) {
      run.drops++;
      run.reconnecting = true;
      updateStatus();
      if (!run.id) return failed(run, 'The connection dropped before the run id arrived.');
      await sleep(150 * attempt);
      rawMarker(`connection lost — resuming after id ${run.lastId === null ? '(none)' : run.lastId}`);
      run.controller = new AbortController();
      const h = headers({ Accept: 'text/event-stream' });
      if (run.lastId !== null) h['Last-Event-ID'] = String(run.lastId);
      let response;
      try {
        response = await fetch(api(`runs/${encodeURIComponent(run.id)}/events?format=${run.format}`), {
          headers: h, signal: run.controller.signal,
        });
      } catch (_) {
        continue; // still offline: try again
      }
      if (response.status === 401) return failed(run, 'Resume refused: 401 unauthorized.');
      if (!response.ok) return failed(run, 'Could not resume: ' + (await errorText(response)));
      run.reconnecting = false;
      updateStatus();
      if (await consume(run, response)) break;
    }
    run.reconnecting = false;
    if (!run.ended) failed(run, `The connection dropped and ${RESUME_ATTEMPTS} reconnects failed.`);
  }

  function failed(run, message) {
    note(run, message, 'error');
    run.status = 'failed';
  }

  function finish(run) {
    run.finished = true;
    run.reconnecting = false;
    if (!run.ended && run.status === 'running') run.status = 'failed';
    if (run.discard) {
      setBusy(false);
      ui.status.dataset.status = 'idle';
      ui.statusText.textContent = 'idle';
      return;
    }
    run.dom.reasoning.open = false;
    renderAnswer(run);
    const text = answerText(run);
    if (!text) run.dom.answer.replaceChildren(el('span', 'muted', '(no answer text)'));
    if (run.status === 'cancelled' && !run.cancelRequested && run.drops > 0) {
      note(run, 'The connection dropped and the server cancelled the run: start '
        + '`agentor serve --resume-window SECS` to let runs continue across a drop.', 'error');
    }
    run.dom.turn.dataset.status = run.status;
    if (run.status !== 'completed') {
      run.dom.notes.appendChild(el('div', 'note ended', `Run ended: ${LABELS[run.status] || run.status}`));
    }
    // The conversation grows by what was actually said, partial answers
    // included; a request refused before the run started said nothing.
    if (run.events > 0) {
      state.history.push({ role: 'user', content: run.prompt });
      if (text) state.history.push({ role: 'assistant', content: text });
    }
    updateStatus();
    setBusy(false);
    ui.prompt.focus();
  }

  async function cancel() {
    const run = state.run;
    if (!run || run.finished) return;
    run.cancelRequested = true;
    ui.cancel.disabled = true;
    if (!run.id) {
      // No id yet: nothing to cancel on the server but the request itself.
      run.controller.abort();
      return;
    }
    try {
      const response = await fetch(api(`runs/${encodeURIComponent(run.id)}/cancel`), {
        method: 'POST', headers: headers({}),
      });
      // 409: it ended meanwhile; the stream shows how.
      if (!response.ok && response.status !== 409) note(run, 'Cancel failed: ' + (await errorText(response)), 'error');
    } catch (err) {
      note(run, `Cancel failed (${err.message}).`, 'error');
    }
  }

  // ---- wiring --------------------------------------------------------------

  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const prompt = ui.prompt.value.trim();
    if (!prompt || ui.send.disabled) return;
    ui.prompt.value = '';
    send(prompt);
  });
  ui.prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.cancel.addEventListener('click', cancel);
  $('new-chat').addEventListener('click', () => {
    if (state.run && !state.run.finished) return;
    state.history = [];
    ui.transcript.replaceChildren(ui.empty);
    ui.empty.hidden = false;
  });

  // A fault-injection hook for tests and demos: cut the current stream as a
  // network failure would, so the page resumes it.
  window.agentorPlayground = {
    dropConnection() {
      const run = state.run;
      if (run && !run.finished) run.controller.abort();
    },
    history: () => state.history.slice(),
    answer: () => (state.run ? answerText(state.run) : ''),
    renderMarkdown,
  };

  discover();
})();
