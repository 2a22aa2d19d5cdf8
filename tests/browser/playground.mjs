// The playground in a real headless Chromium, against real `agentor serve`
// processes (started by run.sh):
//
//   node playground.mjs <tool server URL> <token server URL> <token> <screenshot dir>
//
// Each check fails loudly (assert) with what the page showed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [toolUrl, tokenUrl, token, shots] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 20_000;

const profile = mkdtempSync(join(tmpdir(), 'agentor-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1360, height: 860 },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

/** A fresh page whose console errors and uncaught exceptions are collected. */
async function open(url) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  page.errors = errors;
  await page.goto(url);
  await page.waitForFunction(() => window.agentorPlayground !== undefined);
  return page;
}

function noErrors(page, allowed = () => false) {
  const unexpected = page.errors.filter((e) => !allowed(e));
  assert.deepEqual(unexpected, [], 'the browser console had errors');
}

/**
 * Records, from inside the page, every distinct state of the last turn's
 * answer and tool arguments while the run is running: proof that the page
 * painted them incrementally, not once at the end.
 */
async function watchRenders(page) {
  await page.evaluate(() => {
    window.__renders = [];
    window.__argRenders = [];
    window.__statuses = [];
    const observer = new MutationObserver(() => {
      const status = document.getElementById('status').dataset.status;
      if (window.__statuses.at(-1) !== status) window.__statuses.push(status);
      const answer = [...document.querySelectorAll('.turn .answer')].at(-1);
      const chars = answer ? Number(answer.dataset.chars || 0) : 0;
      if (status === 'running' && window.__renders.at(-1) !== chars) window.__renders.push(chars);
      const args = [...document.querySelectorAll('.turn .tool-card.streaming .tool-args')].at(-1);
      if (args && window.__argRenders.at(-1) !== args.textContent) window.__argRenders.push(args.textContent);
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

async function sendPrompt(page, prompt) {
  await page.fill('#prompt', prompt);
  await page.press('#prompt', 'Enter');
}

const statusIs = (page, status) =>
  page.waitForFunction((s) => document.getElementById('status').dataset.status === s, status);

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** The answer the server gives for `input` without streaming: the reference text. */
async function reference(base, input, headers = {}) {
  const response = await fetch(new URL('chat', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ input, stream: false }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).output;
}

// ---- 1. a run streams: text grows, a tool card resolves, the status completes

async function streams() {
  const page = await open(toolUrl);
  const bodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/chat')) bodies.push(JSON.parse(r.postData())); });
  await watchRenders(page);
  await sendPrompt(page, 'What is the weather in Paris?');
  await page.waitForFunction(() => Number(document.querySelector('.turn .answer').dataset.chars || 0) > 40);
  await shot(page, 'streaming');
  await statusIs(page, 'completed');

  const renders = await page.evaluate(() => window.__renders.filter((n) => n > 0));
  assert.ok(renders.length >= 5, `the answer grew over only ${renders.length} renders: ${renders}`);
  for (let i = 1; i < renders.length; i++) assert.ok(renders[i] > renders[i - 1], `answer shrank: ${renders}`);

  const argRenders = await page.evaluate(() => window.__argRenders);
  assert.ok(argRenders.length >= 3, `tool arguments did not fill in live: ${JSON.stringify(argRenders)}`);
  assert.ok(argRenders.some((a) => { try { JSON.parse(a); return false; } catch { return a.length > 0; } }),
    `no partial arguments were shown: ${JSON.stringify(argRenders)}`);

  const tool = await page.locator('.tool-card').first();
  assert.equal(await tool.locator('.tool-name').textContent(), 'get_weather');
  assert.match(await tool.locator('.tool-state').textContent(), /done/);
  assert.match(await tool.locator('.tool-args').textContent(), /"city": "What is the weather in Paris"/);
  assert.match(await tool.locator('.tool-result').textContent(), /18°C and sunny/);
  assert.match(await tool.locator('.tool-time').textContent(), /ms|s$/);

  const ttfe = Number(await page.getAttribute('#ttfe', 'data-ms'));
  assert.ok(ttfe > 0, `time to first event ${ttfe}`);
  assert.match(await page.textContent('#tokens'), /^[1-9]\d* \/ [1-9]\d*$/);
  assert.match(await page.textContent('#run-id'), /^run_/);
  assert.match(await page.textContent('#status-text'), /^completed$/);
  const expected = await reference(toolUrl, 'What is the weather in Paris?');
  assert.equal(await page.evaluate(() => window.agentorPlayground.answer()), expected);
  assert.ok(await page.locator('.reasoning').isVisible(), 'the reasoning block is shown');

  // The raw pane: every frame with its id, 0, 1, 2, … and the run end last.
  await page.click('#toggle-raw');
  assert.ok(await page.locator('#raw').isVisible());
  const ids = await page.$$eval('.raw-row:not(.marker) .raw-id', (els) => els.map((e) => Number(e.textContent)));
  assert.deepEqual(ids, ids.map((_, i) => i), 'raw event ids are 0..n');
  assert.equal(await page.locator('.raw-row:not(.marker) .raw-kind').last().textContent(), 'done');
  await shot(page, 'completed');
  // The one committed to docs/playground.png (copied by hand, kept small).
  await page.setViewportSize({ width: 1120, height: 680 });
  await page.evaluate(() => { const t = document.getElementById('transcript'); t.scrollTop = t.scrollHeight; });
  await shot(page, 'docs');
  await page.setViewportSize({ width: 1360, height: 860 });

  // A second turn carries the conversation so far.
  await sendPrompt(page, 'And in Rome?');
  await page.waitForFunction(() => document.querySelectorAll('.turn[data-status="completed"]').length === 2);
  assert.deepEqual(bodies[1].input.map((m) => m.role), ['user', 'assistant', 'user']);
  assert.equal(bodies[1].input[1].content, expected);
  assert.equal((await page.evaluate(() => window.agentorPlayground.history())).length, 4);
  // The Markdown-ish renderer: structure from text, markup never parsed.
  const rendered = await page.evaluate(() => {
    const box = document.createElement('div');
    box.appendChild(window.agentorPlayground.renderMarkdown(
      'First <b>para</b> with `code` and **bold**.\n\n```js\nlet x = "<i>";\n```\n- one\n- two\n\nLast'));
    return {
      tags: [...box.children].map((c) => c.tagName),
      code: box.querySelector('pre code').textContent,
      lang: box.querySelector('pre .code-lang').textContent,
      items: box.querySelectorAll('li').length,
      injected: box.querySelectorAll('b, i').length,
      inline: [...box.querySelectorAll('p code, p strong')].map((e) => e.textContent),
    };
  });
  assert.deepEqual(rendered, {
    tags: ['P', 'PRE', 'UL', 'P'], code: 'let x = "<i>";', lang: 'js', items: 2, injected: 0,
    inline: ['code', 'bold'],
  });

  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'dark');
  noErrors(page);
  await page.close();
}

// ---- 2. Cancel mid-run ends the run `cancelled`

async function cancels() {
  const page = await open(toolUrl);
  // A bad option: the server's 400 in the turn, a failed status, no broken page.
  await page.fill('#opt-events', 'no_such_kind');
  await sendPrompt(page, 'Hello');
  await statusIs(page, 'failed');
  assert.match(await page.textContent('.turn .note.error'), /400 invalid_option/);
  assert.deepEqual(await page.evaluate(() => window.agentorPlayground.history()), []);
  await page.fill('#opt-events', '');
  await page.click('#new-chat');
  await sendPrompt(page, 'Tell me a long story about Lisbon');
  // Mid-run: the answer has started but is far from done.
  await page.waitForFunction(() => Number(document.querySelector('.turn .answer').dataset.chars || 0) > 10);
  await page.click('#cancel');
  await statusIs(page, 'cancelled');
  assert.match(await page.textContent('#status-text'), /^cancelled$/);
  const partial = await page.evaluate(() => window.agentorPlayground.answer());
  const full = await reference(toolUrl, 'Tell me a long story about Lisbon');
  assert.ok(partial.length < full.length && full.startsWith(partial), `cancelled text ${JSON.stringify(partial)}`);
  assert.equal(await page.getAttribute('.turn', 'data-status'), 'cancelled');
  assert.ok(await page.isEnabled('#send'), 'the page is ready for the next prompt');
  await shot(page, 'cancelled');

  // A timeout shorter than the run: `timed out`, and the reason in the turn.
  await page.fill('#opt-timeout', '0.3');
  await sendPrompt(page, 'Slow one');
  await statusIs(page, 'timed_out');
  assert.equal(await page.textContent('#status-text'), 'timed out');
  assert.match(await page.locator('.turn').last().locator('.note.ended').textContent(), /timed out/);
  await page.fill('#opt-timeout', '');
  await page.click('#new-chat');

  // The agentor format renders too, from its poorer shape.
  await page.selectOption('#opt-format', 'agentor');
  await sendPrompt(page, 'Weather in Porto');
  await page.waitForFunction(() => document.querySelectorAll('.turn[data-status="completed"]').length === 1);
  const last = page.locator('.turn').last();
  assert.equal(await last.locator('.tool-card').count(), 1);
  assert.match(await last.locator('.tool-card .tool-result').textContent(), /18°C and sunny in Weather in Porto/);
  assert.match(await last.locator('.tool-card .tool-args').textContent(), /agentor format carries no arguments/);
  assert.match(await page.textContent('#tokens'), /^[1-9]\d* \/ [1-9]\d*$/);
  const agentorAnswer = await page.evaluate(() => window.agentorPlayground.answer());
  assert.equal(agentorAnswer, await reference(toolUrl, 'Weather in Porto'));
  // Chromium logs the deliberately refused request itself; nothing else.
  noErrors(page, (e) => /status of 400 \(Bad Request\)/.test(e));
  assert.ok(page.errors.length <= 1, `errors: ${page.errors}`);
  await page.close();
}

// ---- 3. A connection cut mid-run resumes: complete text, nothing twice

async function resumes() {
  const page = await open(toolUrl);
  // Without `message` events the visible text is built from the deltas
  // alone, so a lost or repeated delta would show.
  await page.fill('#opt-events', 'run_start,reasoning_delta,text_delta,tool_call_delta,tool_call,tool_result,usage');
  await watchRenders(page);
  const prompt = 'Is it raining in Oslo today?';
  await sendPrompt(page, prompt);
  await page.waitForFunction(() => Number(document.querySelector('.turn .answer').dataset.chars || 0) > 20);
  await page.evaluate(() => window.agentorPlayground.dropConnection());
  await statusIs(page, 'completed');

  const statuses = await page.evaluate(() => window.__statuses);
  assert.ok(statuses.includes('reconnecting'), `statuses: ${statuses}`);
  assert.equal(await page.locator('.raw-row.marker', { hasText: 'resuming after id' }).count(), 1);
  const ids = await page.$$eval('.raw-row:not(.marker) .raw-id', (els) => els.map((e) => Number(e.textContent)));
  assert.deepEqual(ids, ids.map((_, i) => i), `raw ids lost or repeated: ${ids}`);
  const answer = await page.evaluate(() => window.agentorPlayground.answer());
  assert.equal(answer, await reference(toolUrl, prompt));
  const words = answer.split(/\s+/);
  for (let i = 1; i < words.length; i++) {
    assert.ok(!(words[i] === words[i - 1] && words[i].length > 2), `duplicated word "${words[i]}" in ${answer}`);
  }
  await page.click('#toggle-raw');
  await shot(page, 'resumed');
  noErrors(page);
  await page.close();
}

// ---- 3b. The same through a real network failure: a proxy that resets the
// TCP connection of the first /chat stream after its fifth text delta.

function cuttingProxy(target) {
  const upstreamUrl = new URL(target);
  const cuts = [];
  let armed = true;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    let chat = false;
    let seen = '';
    client.on('data', (chunk) => {
      const head = chunk.toString('latin1');
      if (/^[A-Z]+ \//.test(head)) chat = head.startsWith('POST /chat');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      client.write(chunk);
      if (!armed || !chat) return;
      seen += chunk.toString('utf8');
      if ((seen.match(/event: text_delta/g) || []).length >= 5) {
        armed = false;
        cuts.push(Date.now());
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}/`, cuts, close: () => server.close(),
    }));
  });
}

async function survivesACut() {
  const proxy = await cuttingProxy(toolUrl);
  try {
    const page = await open(proxy.url);
    await page.fill('#opt-events', 'run_start,reasoning_delta,text_delta,tool_call_delta,tool_call,tool_result,usage');
    const prompt = 'Will it snow in Zurich?';
    await sendPrompt(page, prompt);
    await statusIs(page, 'completed');
    assert.equal(proxy.cuts.length, 1, 'the proxy cut the stream');
    assert.equal(await page.locator('.raw-row.marker', { hasText: 'resuming after id' }).count(), 1);
    const ids = await page.$$eval('.raw-row:not(.marker) .raw-id', (els) => els.map((e) => Number(e.textContent)));
    assert.deepEqual(ids, ids.map((_, i) => i), `raw ids lost or repeated: ${ids}`);
    assert.equal(await page.evaluate(() => window.agentorPlayground.answer()), await reference(toolUrl, prompt));
    // Chromium reports the reset stream itself; nothing else may appear.
    noErrors(page, (e) => /net::ERR_/.test(e));
    assert.ok(page.errors.length <= 1, `errors: ${page.errors}`);
    if (page.errors.length) console.log(`browser: (the reset, as Chromium logged it: ${page.errors[0]})`);
    await page.close();
  } finally {
    proxy.close();
  }
}

// ---- 4. Auth: asked once, sent on every request; 401 is a message; no HTML injection

async function tokenAndInjection() {
  const page = await open(tokenUrl);
  const requests = [];
  page.on('request', (r) => {
    if (/\/(chat|runs\/)/.test(r.url())) requests.push(r.headers().authorization || '');
  });
  // The server says it needs a token: the page asks before anything is sent.
  await page.waitForSelector('#token-dialog[open]');
  await shot(page, 'token');
  await page.fill('#token-input', 'wrong');
  await page.press('#token-input', 'Enter');

  const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> **hi**';
  await sendPrompt(page, hostile);
  // The wrong token: a clear message and the question again, not a broken page.
  await page.waitForSelector('#token-dialog[open]');
  assert.match(await page.textContent('#notice'), /401/);
  assert.match(await page.textContent('#token-reason'), /refused/);
  await page.fill('#token-input', token);
  await page.press('#token-input', 'Enter');
  // The prompt that met the 401 is sent again with the token.
  await statusIs(page, 'completed');
  assert.ok(await page.locator('#notice').isHidden());

  const answer = await page.textContent('.turn .answer');
  assert.ok(answer.includes('<script>window.__pwned = 1</script>'), `answer: ${answer}`);
  assert.ok(answer.includes('<img src=x onerror='), `answer: ${answer}`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('.turn script, .turn img').count(), 0);
  assert.ok(await page.textContent('.turn .user-text') === hostile);
  await shot(page, 'injection');

  // Kept for the tab: a reload asks nothing and still sends it.
  await page.reload();
  await page.waitForFunction(() => window.agentorPlayground !== undefined);
  await sendPrompt(page, 'Still there?');
  await statusIs(page, 'completed');
  assert.ok(await page.locator('#token-dialog[open]').count() === 0);
  assert.deepEqual(requests, ['Bearer wrong', 'Bearer s3cret', 'Bearer s3cret']);
  // The one refused request is the browser's only console error.
  noErrors(page, (e) => /status of 401/.test(e));
  assert.ok(page.errors.length <= 1, `errors: ${page.errors}`);
  await page.close();
}

try {
  for (const [name, check] of [['streams', streams], ['cancels', cancels], ['resumes', resumes],
    ['survives a cut connection', survivesACut],
    ['token and injection', tokenAndInjection]]) {
    const started = Date.now();
    await check();
    console.log(`browser: ${name} ok (${Date.now() - started} ms)`);
  }
  console.log(`browser: all playground checks passed; screenshots in ${shots}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
