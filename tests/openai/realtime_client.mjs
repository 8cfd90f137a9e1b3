// What the Realtime tests (realtime*.test.mjs) share: `parley serve` over wss with a self-signed
// certificate for 127.0.0.1 (the SDK always connects with wss), the official `openai` client
// pointed at it, connections that record their events, and speech at 24 kHz.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sleep } from '../browser/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TOKEN = 'parley-test-token';
export const RATE = 24000;

// Linear resampling to 24 kHz (test audio only).
export function to24k({ rateHz, samples }) {
  const n = Math.floor((samples.length * RATE) / rateHz);
  const out = new Int16Array(n);
  for (let i = 0; i < n; ++i) {
    const x = (i * rateHz) / RATE;
    const k = Math.floor(x);
    const f = x - k;
    out[i] = Math.round(samples[k] * (1 - f) + (samples[Math.min(k + 1, samples.length - 1)] ?? 0) * f);
  }
  return out;
}

// Speaks `pcm` (24 kHz) into the session: 20 ms appends at twice real time.
export async function speak(rt, pcm) {
  const chunk = RATE / 50;
  for (let at = 0; at < pcm.length; at += chunk) {
    const part = pcm.subarray(at, Math.min(at + chunk, pcm.length));
    rt.send({ type: 'input_audio_buffer.append', audio: Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64') });
    await sleep(10);
  }
}

// Polls `predicate` until it returns a truthy value (returned), for at most `timeoutS`.
export async function until(t, what, predicate, timeoutS) {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    const value = predicate();
    if (value) return value;
    if (t.server.exited) throw new Error(`parley serve exited (${JSON.stringify(t.server.exited)}) while waiting for ${what}`);
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutS} s waiting for ${what}`);
}

export const words = (text) => text.toLowerCase().split(/\W+/).filter(Boolean);

// Starts `parley serve` (wss, the test token, `extraArgs`) and returns { server, client, connect }:
// connect(name) opens a Realtime connection and waits for its session.created; it returns
// { rt, events, errors, seen(type, pred), wait(type, what, pred) }. Skips the test (77) without
// the npm packages or the openssl CLI.
export async function startRealtime(t, extraArgs = []) {
  const base = path.join(HERE, 'node_modules');
  if (!fs.existsSync(path.join(base, 'openai', 'realtime', 'ws.mjs')) || !fs.existsSync(path.join(base, 'ws'))) {
    t.skip('tests/openai/node_modules is missing openai or ws (scripts/setup.sh runs npm ci there)');
  }
  const cert = path.join(t.dir, 'cert.pem');
  const key = path.join(t.dir, 'key.pem');
  const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert]);
  if (openssl.error || openssl.status !== 0) t.skip('the openssl CLI could not make a test certificate');
  const { default: OpenAI } = await import(path.join(base, 'openai', 'index.mjs'));
  const { OpenAIRealtimeWS } = await import(path.join(base, 'openai', 'realtime', 'ws.mjs'));

  const server = await t.startServer(['--token', TOKEN, '--tls-cert', cert, '--tls-key', key, ...extraArgs]);
  const client = new OpenAI({ apiKey: TOKEN, baseURL: `${server.url}/v1` });
  const connect = async (name) => {
    const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: fs.readFileSync(cert) } }, client);
    const c = { rt, events: [], errors: [] };
    rt.on('event', (e) => c.events.push(e));
    rt.on('error', (e) => c.errors.push(e));
    t.cleanups.push(() => rt.close());
    c.seen = (type, pred = () => true) => c.events.find((e) => e.type === type && pred(e));
    c.wait = (type, what, pred) => until(t, what, () => c.seen(type, pred), 60);
    await c.wait('session.created', `${name}: session.created`);
    return c;
  };
  return { server, client, connect };
}
