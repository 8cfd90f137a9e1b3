// Unit tests of the two AudioWorklet processors (web/worklets/), run in node without a browser:
// each processor file is evaluated in a fresh context holding the few worklet globals it uses
// (sampleRate, AudioWorkletProcessor, registerProcessor), then fed 128-sample blocks and messages
// deterministically.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const WORKLETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/worklets');
const BLOCK = 128;

// A processor instance from `file`, running at `rateHz`; `messages` collects what it posts.
function loadProcessor(file, rateHz) {
  class FakeProcessor {
    constructor() {
      this.messages = [];
      // Copied, as a real MessagePort would (and into this realm, for deepEqual).
      this.port = { postMessage: (message) => this.messages.push(structuredClone(message)), onmessage: null };
    }
  }
  const globals = { sampleRate: rateHz, AudioWorkletProcessor: FakeProcessor, registered: null };
  globals.registerProcessor = (name, processorClass) => (globals.registered = processorClass);
  vm.runInNewContext(fs.readFileSync(path.join(WORKLETS, file), 'utf8'), globals);
  const processor = new globals.registered();
  processor.send = (message) => processor.port.onmessage({ data: message });
  return processor;
}

function sine(frequencyHz, rateHz, n, amplitude = 0.5) {
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz));
}

const rms = (values) => Math.sqrt(values.reduce((sum, x) => sum + x * x, 0) / values.length);

// ---- capture: context rate → 16 kHz PCM16 in 20 ms frames -------------------------------------------

function capture(processor, input) {
  for (let at = 0; at < input.length; at += BLOCK) processor.process([[input.subarray(at, at + BLOCK)]]);
  const frames = processor.messages.filter((m) => m.type === 'frame');
  return { frames, samples: frames.flatMap((m) => Array.from(new Int16Array(m.pcm), (x) => x / 32767)) };
}

for (const rateHz of [48000, 44100, 16000]) {
  test(`capture at ${rateHz} Hz: 16000 samples a second, in 320-sample frames, speech band intact`, () => {
    const { frames, samples } = capture(loadProcessor('capture.js', rateHz), sine(1000, rateHz, rateHz));
    assert.equal(samples.length, 16000);
    assert.ok(frames.every((m) => new Int16Array(m.pcm).length === 320));
    const gain = rms(samples.slice(400)) / (0.5 / Math.SQRT2);
    assert.ok(Math.abs(gain - 1) < 0.02, `1 kHz gain ${gain}`);
  });
}

test('capture: tones above 8 kHz are filtered out, not folded into the speech band', () => {
  const { samples } = capture(loadProcessor('capture.js', 48000), sine(11000, 48000, 48000));
  const gain = rms(samples.slice(400)) / (0.5 / Math.SQRT2);
  assert.ok(gain < 0.05, `11 kHz leaks through with gain ${gain}`);
});

test('capture: muted frames keep coming, silent', () => {
  const processor = loadProcessor('capture.js', 48000);
  processor.send({ type: 'mute', muted: true });
  const { frames, samples } = capture(processor, sine(1000, 48000, 48000));
  assert.equal(frames.length, 50);
  assert.ok(samples.every((x) => x === 0));
  assert.ok(frames.every((m) => m.peak === 0));
});

// ---- playout: the jitter buffer ---------------------------------------------------------------------

function render(processor, blocks = 1) {
  const out = [];
  for (let i = 0; i < blocks; i++) {
    const channel = new Float32Array(BLOCK);
    processor.process([], [[channel]]);
    out.push(...channel);
  }
  return out;
}

const progress = (processor, generation) => processor.messages.filter((m) => m.type === 'progress' && m.generation === generation);

function state(processor) {
  processor.send({ type: 'query', id: 99 });
  return processor.messages.filter((m) => m.type === 'state').pop();
}

test('playout: waits for 60 ms of audio before it starts, then plays it as it came', () => {
  const processor = loadProcessor('playout.js', 16000);
  processor.send({ type: 'push', generation: 1, samples: new Float32Array(800).fill(0.25), rateHz: 16000 }); // 50 ms
  assert.ok(render(processor, 4).every((x) => x === 0), 'prebuffering: silence');
  processor.send({ type: 'push', generation: 1, samples: new Float32Array(800).fill(0.25), rateHz: 16000 });
  const out = render(processor, 2);
  assert.ok(out.every((x) => x === 0.25));
});

test('playout: reports progress about every 100 ms, and the exact total at the end', () => {
  const processor = loadProcessor('playout.js', 44100);
  for (let i = 0; i < 10; i++) processor.send({ type: 'push', generation: 7, samples: new Float32Array(1600).fill(0.125), rateHz: 16000 });
  processor.send({ type: 'end', generation: 7 });
  render(processor, Math.ceil((1.2 * 44100) / BLOCK));
  const reports = progress(processor, 7);
  assert.ok(reports.length >= 9 && reports.length <= 11, `${reports.length} reports for 1 s of audio`);
  const played = reports.map((m) => m.playedSamples);
  assert.deepEqual(played, [...played].sort((a, b) => a - b), 'played samples never go back');
  assert.deepEqual(reports.at(-1), { type: 'progress', generation: 7, playedSamples: 16000, done: true }, 'counted at the server rate');
  assert.equal(reports.filter((m) => m.done).length, 1);
  assert.equal(state(processor).bufferedSamples, 0);
});

test('playout: clearing silences the next block and ignores late audio of that generation', () => {
  const processor = loadProcessor('playout.js', 16000);
  processor.send({ type: 'push', generation: 3, samples: new Float32Array(16000).fill(0.5), rateHz: 16000 });
  render(processor, 10);
  processor.send({ type: 'clear', id: 1, generation: 3 });
  const cleared = processor.messages.find((m) => m.type === 'cleared');
  assert.deepEqual(cleared, { type: 'cleared', id: 1, generation: 3, droppedSamples: 16000 - 10 * BLOCK, bufferedSamples: 0 });
  processor.send({ type: 'push', generation: 3, samples: new Float32Array(1600).fill(0.5), rateHz: 16000 });
  assert.ok(render(processor, 20).every((x) => x === 0), 'silent at once, and late frames stay silent');
  const after = state(processor);
  assert.equal(after.generations.length, 0);
  assert.equal(after.staleChunks, 1);
  const reportsBefore = progress(processor, 3).length;
  render(processor, 20);
  assert.equal(progress(processor, 3).length, reportsBefore, 'no progress for a cleared generation');
});

test('playout: an underrun plays silence, is counted, and prebuffers again', () => {
  const processor = loadProcessor('playout.js', 16000);
  processor.send({ type: 'push', generation: 1, samples: new Float32Array(1024).fill(0.375), rateHz: 16000 });
  assert.ok(render(processor, 8).every((x) => x === 0.375));
  assert.ok(render(processor, 2).every((x) => x === 0), 'ran dry');
  assert.equal(state(processor).underruns, 1);
  processor.send({ type: 'push', generation: 1, samples: new Float32Array(512).fill(0.375), rateHz: 16000 });
  assert.ok(render(processor, 2).every((x) => x === 0), 'less than the prebuffer: waits');
  processor.send({ type: 'end', generation: 1 });
  assert.ok(render(processor, 4).every((x) => x === 0.375), 'the end is known: the tail plays');
  assert.equal(progress(processor, 1).at(-1).playedSamples, 1536);
});

test('playout: generations play in order, the next one right after the previous ends', () => {
  const processor = loadProcessor('playout.js', 16000);
  processor.send({ type: 'push', generation: 1, samples: new Float32Array(1000).fill(0.125), rateHz: 16000 });
  processor.send({ type: 'end', generation: 1 });
  processor.send({ type: 'push', generation: 2, samples: new Float32Array(1000).fill(0.375), rateHz: 16000 });
  processor.send({ type: 'end', generation: 2 });
  const out = render(processor, 16);
  assert.deepEqual([out[999], out[1000], out[1999], out[2000]], [0.125, 0.375, 0.375, 0]);
  assert.ok(progress(processor, 1).at(-1).done && progress(processor, 2).at(-1).done);
});
