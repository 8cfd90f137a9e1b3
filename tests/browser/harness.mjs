// Shared pieces of the browser tests (and of tests/openai, which needs no browser): the skip rule, speech WAVs made with flite, the real
// `parley serve`, a headless browser with a fake microphone (Chromium through playwright-core, or
// Firefox through puppeteer-core and WebDriver BiDi), bounded waits, and a runner that always
// cleans up.
//
// A test file calls runTest(name, async (t) => { ... }): `t` holds the options, a temp dir and
// helpers; every wait is bounded and says what it waited for; whatever happens the browser is
// closed, the server is stopped (SIGTERM, then SIGKILL) and the temp dir removed. Exit codes:
// 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE).
//
// Options (CTest passes them; see tests/browser/CMakeLists.txt):
//   --parley PATH      the parley CLI binary      (or $PARLEY_BINARY)
//   --web-root DIR     the web client to serve    (or $PARLEY_WEB_ROOT)
//   --browser NAME     chromium (default) or firefox
//   --chromium PATH    default /usr/bin/chromium  (or $PARLEY_CHROMIUM)
//   --firefox PATH     default /usr/bin/firefox-esr (or $PARLEY_FIREFOX)
//   --artifacts DIR    where a failure leaves a screenshot and the client's state (default: the
//                      cwd; with $PARLEY_BROWSER_SCREENSHOTS set, a passing test too)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKIP_EXIT_CODE = 77;
const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---- options and the skip rule --------------------------------------------------------------------

function parseOptions(argv) {
  const options = {
    parley: process.env.PARLEY_BINARY || '',
    webRoot: process.env.PARLEY_WEB_ROOT || path.resolve(HERE, '../../web'),
    browser: 'chromium',
    chromium: process.env.PARLEY_CHROMIUM || '/usr/bin/chromium',
    firefox: process.env.PARLEY_FIREFOX || '/usr/bin/firefox-esr',
    artifacts: process.cwd(),
  };
  const names = {
    '--parley': 'parley',
    '--web-root': 'webRoot',
    '--browser': 'browser',
    '--chromium': 'chromium',
    '--firefox': 'firefox',
    '--artifacts': 'artifacts',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`unknown or incomplete option '${argv[i]}'`);
    options[key] = argv[++i];
  }
  if (options.browser !== 'chromium' && options.browser !== 'firefox') throw new Error(`--browser wants chromium or firefox, got '${options.browser}'`);
  return options;
}

function skip(reason) {
  console.log(`SKIP: ${reason}`);
  process.exit(SKIP_EXIT_CODE);
}

// The browsers (Debian's chromium and firefox-esr) and their drivers (playwright-core drives
// Chromium; Firefox, whose stock build playwright cannot drive, goes through puppeteer-core over
// WebDriver BiDi) are installed by scripts/setup.sh; without them the test skips.
async function loadDriver(options) {
  const executable = options[options.browser];
  if (!fs.existsSync(executable)) skip(`no ${options.browser} at ${executable} (scripts/setup.sh installs it)`);
  const entry = options.browser === 'chromium'
    ? path.join(HERE, 'node_modules', 'playwright-core', 'index.mjs')
    : path.join(HERE, 'node_modules', 'puppeteer-core', 'lib', 'puppeteer', 'puppeteer-core.js');
  if (!fs.existsSync(entry)) skip('tests/browser/node_modules is missing (scripts/setup.sh runs npm ci there)');
  return import(entry);
}

// ---- speech audio -------------------------------------------------------------------------------

// Reads a PCM16 mono WAV (what flite writes): {rateHz, samples: Int16Array}.
export function readWav(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file`);
  let rateHz = 0;
  let channels = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(body + 2);
      rateHz = bytes.readUInt32LE(body + 4);
      bits = bytes.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (channels !== 1 || bits !== 16) throw new Error(`${file}: expected 16-bit mono, got ${bits}-bit × ${channels}`);
      const end = Math.min(bytes.length, body + size);
      const samples = new Int16Array((end - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + 2 * i);
      return { rateHz, samples };
    }
    at = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

export function writeWav(file, rateHz, samples) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length * 2, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rateHz, 24);
  header.writeUInt32LE(rateHz * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length * 2, 40);
  const body = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) body.writeInt16LE(samples[i], 2 * i);
  fs.writeFileSync(file, Buffer.concat([header, body]));
}

// Speaks `text` with flite (voice slt, 16 kHz) into `file`, with `leadS` seconds of silence
// before and `trailS` after. Returns the speech's duration in seconds.
export function speechWav(file, text, { leadS = 0, trailS = 0, voice = 'slt' } = {}) {
  const raw = `${file}.flite.wav`;
  const run = spawnSync('flite', ['-voice', voice, '-t', text, '-o', raw], { encoding: 'utf8' });
  if (run.error || run.status !== 0) throw new Error(`flite failed: ${run.error ? run.error.message : run.stderr}`);
  const { rateHz, samples } = readWav(raw);
  fs.rmSync(raw);
  const lead = Math.round(leadS * rateHz);
  const out = new Int16Array(lead + samples.length + Math.round(trailS * rateHz));
  out.set(samples, lead);
  writeWav(file, rateHz, out);
  return samples.length / rateHz;
}

// ---- the parley server --------------------------------------------------------------------------

// Starts `parley serve` on 127.0.0.1 with --port 0 (the kernel picks a free port; the server
// prints it) and waits until /readyz says ready.
// With --tls-cert (a self-signed certificate) the server is https: its certificate is trusted for
// the readiness check.
export async function startServer(t, extraArgs = []) {
  const certAt = extraArgs.indexOf('--tls-cert');
  const tlsCa = certAt >= 0 ? fs.readFileSync(extraArgs[certAt + 1]) : null;
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--web-root', t.options.webRoot, '--drain-s', '2', ...extraArgs];
  const child = spawn(t.options.parley, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const server = { child, output: '', url: null, exited: null };
  t.cleanups.push(() => stopServer(server));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve((server.exited = { code, signal }))));
  server.exitedPromise = exited;
  child.on('error', (error) => (server.output += `spawn error: ${error.message}\n`));
  const collect = (chunk) => {
    server.output += chunk.toString();
    if (server.output.length > 200_000) server.output = server.output.slice(-100_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  t.server = server;

  const deadline = Date.now() + 90_000; // loading the engines takes seconds, more under sanitizers
  while (!server.url) {
    const match = server.output.match(/parley serve: (https?:\/\/127\.0\.0\.1:\d+)\//);
    if (match) server.url = match[1];
    else if (server.exited) throw new Error(`parley serve exited before listening (${JSON.stringify(server.exited)})`);
    else if (Date.now() > deadline) throw new Error('parley serve did not print its address within 90 s');
    else await sleep(50);
  }
  while (true) {
    if (server.exited) throw new Error(`parley serve exited while loading (${JSON.stringify(server.exited)})`);
    const ready = await httpStatus(`${server.url}/readyz`, tlsCa).then((status) => status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('parley serve was not ready (/readyz) within 90 s');
    await sleep(100);
  }
  t.log(`server ready at ${server.url}`);
  return server;
}

// The status of a GET (http, or https trusting `ca`), within 5 s.
function httpStatus(url, ca) {
  if (!ca) return fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.status);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// SIGTERM (graceful: parley drains for --drain-s), then SIGKILL if it lingers. Resolves with
// {code, signal}.
export async function stopServer(server) {
  if (!server.exited) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    await server.exitedPromise;
    clearTimeout(timer);
  }
  return server.exited;
}

export async function metricsText(server) {
  const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return response.text();
}

// The value of one sample line of /metrics, e.g. metricValue(text, 'parley_barge_ins_total').
export function metricValue(text, name) {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  }
  return null;
}

// ---- the browser --------------------------------------------------------------------------------

// A headless browser whose microphone plays `wavFile` (looping, unless `loop` is false), on the
// web client's page. Returns the page as a small facade both drivers implement the same way:
//   click(selector)  a real click (the page starts audio only on a user gesture)
//   fill(selector, text), text(selector) (the first match's textContent), count(selector),
//   attr(selector, name), evaluate(fn), screenshot(file)
export async function openPage(t, wavFile, { loop = true } = {}) {
  const page = t.options.browser === 'chromium' ? await openChromium(t, wavFile, loop) : await openFirefox(t, wavFile, loop);
  t.page = page;
  await page.goto(`${t.server.url}/`);
  await page.waitForClient().catch(() => {
    throw new Error(`the page did not start its client (window.parley); page errors: ${t.pageErrors.join('; ') || 'none'}`);
  });
  return page;
}

function watchPage(t, raw) {
  raw.on('console', (message) => t.pageLog.push(`console.${message.type()}: ${message.text()}`));
  raw.on('pageerror', (error) => t.pageErrors.push(error.message));
  raw.on('requestfailed', (request) => t.pageErrors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  raw.on('response', (response) => {
    if (response.status() >= 400) t.pageErrors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
}

// Chromium plays the file itself as its fake capture device.
async function openChromium(t, wavFile, loop) {
  const browser = await t.driver.chromium.launch({
    executablePath: t.options.chromium,
    headless: true,
    args: [
      '--use-fake-ui-for-media-stream', // grant the microphone without a prompt
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavFile}${loop ? '' : '%noloop'}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  t.cleanups.push(() => browser.close());
  const raw = await browser.newPage();
  raw.setDefaultTimeout(15_000);
  watchPage(t, raw);
  return {
    goto: (url) => raw.goto(url),
    waitForClient: () => raw.waitForFunction(() => window.parley !== undefined, null, { timeout: 10_000 }),
    click: (selector) => raw.click(selector),
    fill: (selector, text) => raw.fill(selector, text),
    text: (selector) => raw.locator(selector).first().textContent(),
    count: (selector) => raw.locator(selector).count(),
    attr: (selector, name) => raw.locator(selector).first().getAttribute(name),
    evaluate: (fn) => raw.evaluate(fn),
    screenshot: (file) => raw.screenshot({ path: file, fullPage: true, timeout: 5000 }),
  };
}

// Firefox has no file-backed fake microphone, so the page's getUserMedia is replaced before any
// script runs: it returns the stream of a Web Audio graph playing the WAV's samples (from the
// moment the page asks, like a microphone). Everything after getUserMedia — the capture worklet,
// resampling, the WebSocket, the jitter buffer, playout — is the browser's own.
async function openFirefox(t, wavFile, loop) {
  const browser = await t.driver.default.launch({
    browser: 'firefox',
    executablePath: t.options.firefox,
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.permission.disabled': true, // no microphone prompt
      'media.autoplay.default': 0, // allow audio
      'media.autoplay.blocking_policy': 0,
      // No sound device here: Firefox's mock audio backend plays to nowhere at real time (without
      // it an AudioContext never leaves "suspended"). Chromium's headless mode does the same itself.
      'media.cubeb.force_mock_context': true,
    },
  });
  t.cleanups.push(() => browser.close());
  const raw = await browser.newPage();
  raw.setDefaultTimeout(15_000);
  watchPage(t, raw);
  const { rateHz, samples } = readWav(wavFile);
  const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
  await raw.evaluateOnNewDocument(
    (pcmBase64, sampleRate, looping) => {
      if (!navigator.mediaDevices) return; // not a secure context: the page will say so itself
      navigator.mediaDevices.getUserMedia = async () => {
        const bytes = atob(pcmBase64);
        const floats = new Float32Array(bytes.length >> 1);
        for (let i = 0; i < floats.length; i++) {
          const v = bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8);
          floats[i] = (v >= 0x8000 ? v - 0x10000 : v) / 32768;
        }
        const context = new AudioContext();
        await context.resume();
        const buffer = context.createBuffer(1, floats.length, sampleRate);
        buffer.copyToChannel(floats, 0);
        const source = context.createBufferSource();
        source.buffer = buffer;
        source.loop = looping;
        const destination = context.createMediaStreamDestination();
        source.connect(destination);
        source.start();
        return destination.stream;
      };
    },
    pcm,
    rateHz,
    loop,
  );
  return {
    goto: (url) => raw.goto(url),
    waitForClient: () => raw.waitForFunction(() => window.parley !== undefined, { timeout: 10_000 }),
    click: (selector) => raw.click(selector),
    fill: async (selector, text) => {
      await raw.$eval(selector, (element) => (element.value = ''));
      await raw.type(selector, text);
    },
    text: (selector) => raw.$eval(selector, (element) => element.textContent),
    count: (selector) => raw.$$eval(selector, (elements) => elements.length),
    attr: (selector, name) => raw.$eval(selector, (element, attribute) => element.getAttribute(attribute), name),
    evaluate: (fn) => raw.evaluate(fn),
    screenshot: (file) => raw.screenshot({ path: file, fullPage: true }),
  };
}

// The client's view of the session (web/js/app.js snapshot()).
export function snapshot(t) {
  return t.page.evaluate(() => window.parley.snapshot());
}

// Polls `predicate(snapshot)` until it returns a truthy value (which it returns), for at most
// `timeoutS`. On timeout it throws, naming what it waited for and showing the client's state.
export async function waitFor(t, what, predicate, timeoutS = 20) {
  const deadline = Date.now() + timeoutS * 1000;
  let last = null;
  while (Date.now() < deadline) {
    last = await snapshot(t);
    const value = predicate(last);
    if (value) return value;
    if (t.server.exited) throw new Error(`parley serve exited (${JSON.stringify(t.server.exited)}) while waiting for ${what}`);
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutS} s waiting for ${what}\nclient state: ${describe(last)}`);
}

export function check(condition, message, details) {
  if (!condition) throw new Error(details === undefined ? message : `${message}\n  details: ${describe(details)}`);
}

function describe(value) {
  const text = JSON.stringify(value, null, 1);
  return text && text.length > 6000 ? `${text.slice(0, 6000)}…` : text;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the runner ---------------------------------------------------------------------------------

// A test with the server and no browser (tests/openai): the same runner; `t.startServer(args)`
// starts `parley serve`, `t.skip(reason)` skips.
export function runServerTest(name, body, { deadlineS = 150 } = {}) {
  return runTest(name, body, { deadlineS, browser: false });
}

export async function runTest(name, body, { deadlineS = 150, browser = true } = {}) {
  const t = {
    name,
    options: null,
    driver: null,
    server: null,
    page: null,
    dir: null,
    cleanups: [],
    pageLog: [],
    pageErrors: [],
    started: Date.now(),
    log: (message) => console.log(`[${((Date.now() - t.started) / 1000).toFixed(1)} s] ${message}`),
  };
  // The whole test has a deadline below CTest's TIMEOUT, so cleanup always runs.
  const watchdog = setTimeout(() => {
    console.error(`FAIL ${name}: the test ran past its ${deadlineS} s deadline`);
    cleanUp(t).finally(() => process.exit(1));
  }, deadlineS * 1000);

  let failure = null;
  try {
    t.options = parseOptions(process.argv.slice(2));
    t.startServer = (extraArgs) => startServer(t, extraArgs);
    t.skip = skip;
    if (browser) {
      if (t.options.browser !== 'chromium') t.name = name = `${name}_${t.options.browser}`;
      t.driver = await loadDriver(t.options);
    }
    if (!t.options.parley || !fs.existsSync(t.options.parley)) throw new Error(`no parley binary (--parley or $PARLEY_BINARY): '${t.options.parley}'`);
    t.dir = fs.mkdtempSync(path.join(os.tmpdir(), `parley-${browser ? 'browser' : 'test'}-`));
    await body(t);
  } catch (error) {
    failure = error;
  }
  if (t.page && (failure || process.env.PARLEY_BROWSER_SCREENSHOTS)) await saveArtifacts(t).catch(() => {});
  const exit = await cleanUp(t);
  clearTimeout(watchdog);
  if (!failure && exit && (exit.code !== 0 || exit.signal)) {
    failure = new Error(`parley serve did not exit cleanly on SIGTERM: ${JSON.stringify(exit)} (a sanitizer report?)`);
  }
  if (failure) {
    console.error(`FAIL ${name}: ${failure.message}`);
    if (t.pageErrors.length) console.error(`page errors:\n  ${t.pageErrors.join('\n  ')}`);
    if (t.pageLog.length) console.error(`page console (last 30):\n  ${t.pageLog.slice(-30).join('\n  ')}`);
    if (t.server) console.error(`parley serve output (last 8000 chars):\n${t.server.output.slice(-8000)}`);
    process.exit(1);
  }
  console.log(`PASS ${name} (${((Date.now() - t.started) / 1000).toFixed(1)} s)`);
  process.exit(0);
}

async function saveArtifacts(t) {
  const base = path.join(t.options.artifacts, t.name);
  await t.page.screenshot(`${base}.png`);
  fs.writeFileSync(`${base}.state.json`, JSON.stringify(await snapshot(t), null, 1));
  console.log(`screenshot and client state: ${base}.png, ${base}.state.json`);
}

// A screenshot of the page at a moment worth seeing (docs/web-client.md shows the Chromium ones):
// ARTIFACTS/NAME-MOMENT.png, kept whether the test passes or fails.
export async function screenshot(t, moment) {
  const file = path.join(t.options.artifacts, `${t.name}-${moment}.png`);
  await t.page.screenshot(file);
  t.log(`screenshot: ${file}`);
}

// Runs the cleanups newest first; returns the server's exit status if a server ran.
async function cleanUp(t) {
  while (t.cleanups.length > 0) {
    const cleanup = t.cleanups.pop();
    try {
      await cleanup();
    } catch (error) {
      console.error(`cleanup: ${error.message}`);
    }
  }
  if (t.dir) fs.rmSync(t.dir, { recursive: true, force: true });
  t.dir = null;
  return t.server ? t.server.exited : null;
}

// Last resort: never leave a server behind, whatever ends this process.
const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
