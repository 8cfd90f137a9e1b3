// The OpenAI audio endpoints of `parley serve` (docs/protocol.md, "OpenAI audio endpoints"),
// driven by the official `openai` npm client exactly as an application would use it against
// OpenAI: POST /v1/audio/speech (wav, pcm, server-sent events) and /v1/audio/transcriptions
// (json, text, verbose_json, srt, streamed), a round trip from parley's voice back through its
// recognizer, and the refusals a client sees as typed errors (400 with the field named, 401).
//
//   node audio.test.mjs --parley PATH [--web-root DIR]
// Exit codes: 0 pass, 1 fail, 77 skip (no node_modules: scripts/setup.sh runs npm ci here).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { check, readWav, runServerTest, speechWav } from '../browser/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'parley-test-token';

// Whether `text` holds every word of `words` (the recognizer writes lower case, no punctuation).
const hears = (text, words) => words.every((w) => text.toLowerCase().split(/\W+/).includes(w));

await runServerTest('openai_audio', async (t) => {
  const entry = path.join(HERE, 'node_modules', 'openai', 'index.mjs');
  if (!fs.existsSync(entry)) t.skip('tests/openai/node_modules is missing (scripts/setup.sh runs npm ci there)');
  const { default: OpenAI, toFile } = await import(entry);

  const server = await t.startServer(['--token', TOKEN]);
  const client = new OpenAI({ apiKey: TOKEN, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 60_000 });

  // ---- speech: wav, then the same text as pcm: as long as the wav's data (not byte for byte: the
  // voice excites unvoiced sounds with noise) ----
  const sentence = 'What time does the store open on Sunday?';
  const wavResponse = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: sentence, response_format: 'wav' });
  check(wavResponse.headers.get('content-type') === 'audio/wav', 'speech wav: Content-Type audio/wav', wavResponse.headers.get('content-type'));
  const wavBytes = Buffer.from(await wavResponse.arrayBuffer());
  const wavFile = path.join(t.dir, 'speech.wav');
  fs.writeFileSync(wavFile, wavBytes);
  const { rateHz, samples } = readWav(wavFile);
  check(rateHz === 24000, 'speech wav: 24 kHz, as OpenAI writes it', rateHz);
  check(samples.length > 0.8 * rateHz && samples.length < 10 * rateHz, 'speech wav: about a sentence of audio', samples.length / rateHz);
  t.log(`speech: ${(samples.length / rateHz).toFixed(2)} s of wav`);

  const pcmResponse = await client.audio.speech.create({ model: 'tts-1', voice: 'nova', input: sentence, response_format: 'pcm' });
  check(pcmResponse.headers.get('content-type') === 'audio/pcm', 'speech pcm: Content-Type audio/pcm');
  const pcmBytes = Buffer.from(await pcmResponse.arrayBuffer());
  check(pcmBytes.length === wavBytes.length - 44, 'speech pcm: the wav stream less its 44-byte header', { pcm: pcmBytes.length, wav: wavBytes.length });

  // ---- speech as server-sent events: base64 deltas that add up to a wav stream as long ----
  const sseResponse = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: sentence, response_format: 'wav', stream_format: 'sse' });
  const events = (await sseResponse.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
  check(events.at(-1)?.type === 'speech.audio.done', 'speech sse: ends with speech.audio.done', events.at(-1));
  const deltas = events.filter((e) => e.type === 'speech.audio.delta');
  const sseAudio = Buffer.concat(deltas.map((e) => Buffer.from(e.audio, 'base64')));
  check(deltas.length >= 1 && sseAudio.length === wavBytes.length && sseAudio.subarray(0, 44).equals(wavBytes.subarray(0, 44)),
        'speech sse: the deltas decode to a wav stream', { deltas: deltas.length, bytes: sseAudio.length });

  // ---- transcription of a recording (flite's slt voice, 16 kHz): every response format ----
  const question = path.join(t.dir, 'question.wav');
  speechWav(question, 'What time does the store open on Sunday?', { leadS: 0.3, trailS: 0.5 });
  const json = await client.audio.transcriptions.create({ file: fs.createReadStream(question), model: 'whisper-1' });
  t.log(`transcription (json): "${json.text}"`);
  check(hears(json.text, ['store', 'open', 'sunday']), 'transcription: the question is recognized', json);
  check(json.usage?.type === 'duration' && json.usage.seconds >= 2, 'transcription: usage in seconds of audio', json.usage);

  const text = await client.audio.transcriptions.create({ file: fs.createReadStream(question), model: 'whisper-1', response_format: 'text' });
  check(typeof text === 'string' && text.trim() === json.text, 'transcription text: the same words as plain text', text);

  const verbose = await client.audio.transcriptions.create({
    file: fs.createReadStream(question), model: 'whisper-1', language: 'en', response_format: 'verbose_json', timestamp_granularities: ['segment'],
  });
  check(verbose.language === 'english' && verbose.text === json.text && verbose.segments?.length === 1 &&
        Math.abs(verbose.duration - readWav(question).samples.length / 16000) < 0.05,
        'transcription verbose_json: language, duration and one segment', verbose);

  const srt = await client.audio.transcriptions.create({ file: fs.createReadStream(question), model: 'whisper-1', response_format: 'srt' });
  check(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n/.test(srt) && srt.includes(json.text), 'transcription srt: one cue', srt);

  const stream = await client.audio.transcriptions.create({ file: fs.createReadStream(question), model: 'gpt-4o-transcribe', stream: true });
  const seen = [];
  for await (const event of stream) seen.push(event);
  check(seen.at(-1)?.type === 'transcript.text.done' && seen.at(-1).text === json.text &&
        seen.filter((e) => e.type === 'transcript.text.delta').map((e) => e.delta).join('') === json.text,
        'transcription stream: deltas then transcript.text.done', seen);

  // ---- round trip: parley's own voice (the streamed 24 kHz wav) back through its recognizer ----
  const back = await client.audio.transcriptions.create({ file: await toFile(wavBytes, 'reply.wav'), model: 'whisper-1' });
  t.log(`round trip: "${back.text}"`);
  check(hears(back.text, ['store', 'open', 'sunday']), 'round trip: parley hears its own voice', back);

  // ---- refusals, as the client's typed errors ----
  const refused = async (what, call) => {
    try {
      await call();
    } catch (error) {
      return error;
    }
    throw new Error(`${what}: was accepted`);
  };
  const mp3 = await refused('mp3', () => client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello.', response_format: 'mp3' }));
  check(mp3 instanceof OpenAI.BadRequestError && mp3.param === 'response_format' && /wav or pcm/.test(mp3.message),
        'speech mp3: 400 naming response_format', { status: mp3.status, message: mp3.message });
  const notAudio = await refused('not audio', async () =>
    client.audio.transcriptions.create({ file: await toFile(Buffer.from('this is not audio'), 'notes.wav'), model: 'whisper-1' }));
  check(notAudio instanceof OpenAI.BadRequestError && notAudio.param === 'file' && /notes\.wav/.test(notAudio.message),
        'transcription of text: 400 naming the file', { status: notAudio.status, message: notAudio.message });
  const french = await refused('fr', () =>
    client.audio.transcriptions.create({ file: fs.createReadStream(question), model: 'whisper-1', language: 'fr' }));
  check(french instanceof OpenAI.BadRequestError && french.param === 'language', 'transcription in French: 400 naming language', french.message);
  const stranger = new OpenAI({ apiKey: 'wrong', baseURL: `${server.url}/v1`, maxRetries: 0 });
  const denied = await refused('wrong key', () => stranger.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello.' }));
  check(denied instanceof OpenAI.AuthenticationError, 'a wrong key: 401', { status: denied.status, message: denied.message });

  // ---- /metrics counts them by endpoint and status ----
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  check(/parley_audio_requests_total\{code="200",endpoint="speech"\} 3\b/.test(metrics) &&
        /parley_audio_requests_total\{code="200",endpoint="transcriptions"\} 6\b/.test(metrics),
        '/metrics: parley_audio_requests_total by endpoint and code', metrics.split('\n').filter((l) => l.includes('audio_requests')));
});
