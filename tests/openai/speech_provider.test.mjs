// parley with another `parley serve` as its speech provider (--asr-url, --tts-url: OpenAI's
// /v1/audio endpoints, or its /v1/realtime transcription sessions for the
// recognizer; docs/providers.md), the embedded engines behind it as the fallback:
//   1. the provider up: three spoken questions, each answered, recognized and spoken by the
//      provider (nothing falls back);
//   2. the provider killed (SIGKILL) while the second question is being answered: every turn is
//      still answered — the embedded recognizer and voice take over — and the log says so.
//
//   [PARLEY_TEST_ASR=realtime] node speech_provider.test.mjs --parley PATH [--web-root DIR]
// Exit codes: 0 pass, 1 fail.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { check, readWav, runServerTest, speechWav, writeWav } from '../browser/harness.mjs';

const QUESTIONS = ['What time does the store open on Sunday?', 'Do you sell gift cards?', 'Where is the nearest store?'];

// One WAV: the questions 2.5 s apart (16 kHz, flite's slt voice).
function conversation(dir) {
  const parts = [];
  for (const [i, q] of QUESTIONS.entries()) {
    const file = path.join(dir, `q${i}.wav`);
    speechWav(file, q, { leadS: i === 0 ? 0.5 : 0, trailS: 2.5 });
    parts.push(readWav(file).samples);
  }
  const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const file = path.join(dir, 'conversation.wav');
  writeWav(file, 16000, all);
  return file;
}

// Runs `parley run` on the conversation; `onOutput(text)` sees its output as it comes.
function runParley(t, args, onOutput = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(t.options.parley, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk) => {
      output += chunk.toString();
      onOutput(output);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const turnsIn = (traceFile) => fs.readFileSync(traceFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

// PARLEY_TEST_ASR=realtime: the recognizer streams to the provider's Realtime transcription
// sessions (a ws:// --asr-url).
const realtime = process.env.PARLEY_TEST_ASR === 'realtime';

await runServerTest(realtime ? 'openai_speech_provider_realtime' : 'openai_speech_provider', async (t) => {
  const mic = conversation(t.dir);
  const provider = await t.startServer();
  const url = `${provider.url}/v1`;
  const asrUrl = realtime ? url.replace(/^http/, 'ws') : url;
  const common = ['run', mic, '--speed', '2', '--no-color', '--asr-url', asrUrl, '--tts-url', url, '--tts-budget-ms', '1500'];

  // ---- 1. the provider up ----
  const healthyTrace = path.join(t.dir, 'healthy.jsonl');
  const healthy = await runParley(t, [...common, '--trace', healthyTrace]);
  check(healthy.code === 0, 'parley run with the provider: exit 0', healthy.output);
  const named = realtime ? /engines: realtime-asr:whisper-1@127\.0\.0\.1:\d+ → pocketsphinx/ : /engines: openai-asr:whisper-1@127\.0\.0\.1:\d+ → pocketsphinx/;
  check(named.test(healthy.output), 'the engines line names the provider, then the fallback', healthy.output);
  check(!/fell back/.test(healthy.output), 'nothing falls back while the provider is up', healthy.output);
  const answered = turnsIn(healthyTrace);
  check(answered.length === 3 && answered.every((turn) => turn.metrics_ms.ttfa > 0 && turn.reply),
        'three turns, each answered', answered.map((turn) => [turn.transcript, turn.reply]));
  check(answered.every((turn) => turn.output_rate_hz === 24000), 'replies in the provider voice\'s 24 kHz', answered.map((turn) => turn.output_rate_hz));
  check(/store/.test(answered[0].transcript) && /gift/.test(answered[1].transcript),
        'the provider recognized the questions', answered.map((turn) => turn.transcript));
  t.log(`provider up: ttfa ${answered.map((turn) => Math.round(turn.metrics_ms.ttfa)).join(', ')} ms`);

  // ---- 2. the provider killed while the second question is answered ----
  const killedTrace = path.join(t.dir, 'killed.jsonl');
  let killed = false;
  const run = await runParley(t, [...common, '--trace', killedTrace], (output) => {
    // The second "you:" line: the second turn's transcript is in, its reply on its way.
    if (!killed && (output.match(/ {2}you: /g) || []).length >= 2) {
      killed = true;
      provider.child.kill('SIGKILL');
      t.server = null; // killed on purpose: no clean exit to check
    }
  });
  check(killed, 'the provider was killed mid-conversation', run.output);
  check(run.code === 0, 'parley run survives its provider: exit 0', run.output);
  const after = turnsIn(killedTrace);
  check(after.length === 3 && after.every((turn) => turn.metrics_ms.ttfa > 0 && turn.reply && !turn.flags.failed),
        'every turn is still answered', after.map((turn) => [turn.transcript, turn.reply, turn.metrics_ms.ttfa]));
  check(/speech: the (recognizer|voice) fell back to embedded/.test(run.output), 'the log says the embedded engines took over', run.output);
  check(/store/.test(after[2].transcript), 'the embedded recognizer heard the third question', after[2].transcript);
  t.log(`provider killed at turn 2: ttfa ${after.map((turn) => Math.round(turn.metrics_ms.ttfa)).join(', ')} ms`);
});
