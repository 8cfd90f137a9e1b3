// A function call over the OpenAI Realtime protocol (docs/protocol.md, "Tool calls"): the
// assistant file declares a tool (an HTTP endpoint), its LLM server calls it, parley runs it,
// and the official `openai` client's realtime WebSocket client sees what OpenAI would send for a
// function call — the call's output item with its arguments streamed, then the call's output
// item with the endpoint's reply — and the spoken answer built from it, in one response.
// The LLM server and the tool's endpoint are real HTTP servers in this process on loopback; the
// LLM server is scripted (first a tool call, then an answer from the tool's result).
//
//   node realtime_tools.test.mjs --parley PATH [--web-root DIR]
// Exit codes: 0 pass, 1 fail, 77 skip (no node_modules, or no openssl).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { check, readWav, runServerTest, speechWav } from '../browser/harness.mjs';
import { speak, startRealtime, to24k, words } from './realtime_client.mjs';

const ARGUMENTS = '{"time":"19:30","party_size":4}';
const BOOKED = '{"booked":true,"ref":"L-12"}';
const ANSWER = 'Your table for four is booked, reference L 12.';

// An HTTP server on 127.0.0.1 answering with `handle(req, body, res)`; resolves to its base URL.
function serve(t, handle) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => handle(req, body, res));
  });
  t.cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

// One chat.completions stream: its chunks as server-sent events.
function stream(res, chunks) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const c of chunks) res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, ...c }] })}\n\n`);
  res.end('data: [DONE]\n\n');
}

await runServerTest('openai_realtime_tools', async (t) => {
  const bookings = [];
  const toolUrl = await serve(t, (req, body, res) => {
    bookings.push(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(BOOKED);
  });
  // The model: asked with no tool result yet, it calls book_table; with the result, it answers.
  const llmUrl = await serve(t, (req, body, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[{"id":"m","object":"model"}]}');
      return;
    }
    const request = JSON.parse(body || '{}');
    const result = (request.messages ?? []).find((m) => m.role === 'tool');
    if (!result && request.tools?.length) {
      stream(res, [{ delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function',
        function: { name: 'book_table', arguments: ARGUMENTS } }] } }, { delta: {}, finish_reason: 'tool_calls' }]);
      return;
    }
    stream(res, [{ delta: { role: 'assistant', content: result?.content === BOOKED ? ANSWER : 'OK.' } }, { delta: {}, finish_reason: 'stop' }]);
  });
  const assistant = path.join(t.dir, 'luigi.toml');
  fs.writeFileSync(assistant, `[llm]\nurl = "${llmUrl}/v1"\nmodel = "m"\n` +
    `[[tools]]\nname = "book_table"\ndescription = "Books a table."\nurl = "${toolUrl}/bookings"\n` +
    'parameters = { type = "object", required = ["time", "party_size"], properties = { time = { type = "string" }, ' +
    'party_size = { type = "integer", minimum = 1, maximum = 8 } } }\n');

  const { connect } = await startRealtime(t, ['--assistant', assistant]);
  const { rt, events, errors, seen, wait } = await connect('tools');
  const wav = path.join(t.dir, 'book.wav');
  speechWav(wav, 'Can I book a table for four at half past seven?', { leadS: 0.3, trailS: 1.2 });
  await speak(rt, to24k(readWav(wav)));
  const done = await wait('response.done', 'the reply to the booking request');
  const heard = seen('conversation.item.input_audio_transcription.completed');
  t.log(`heard: "${heard?.transcript}"; reply: "${done.response.output[0]?.content[0]?.transcript}"`);
  check(done.response.status === 'completed', 'tool turn: response.done completed', done.response);
  check(bookings.length === 1 && isDeepStrictEqual(JSON.parse(bookings[0]), JSON.parse(ARGUMENTS)),
        'tool turn: the endpoint was called once with the arguments', bookings);

  // The call: an output item of the response, its arguments streamed, then done.
  const rid = done.response.id;
  const added = seen('response.output_item.added', (e) => e.item.type === 'function_call');
  const argsDone = seen('response.function_call_arguments.done');
  const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
  check(added?.response_id === rid && added.output_index === 1 && added.item.name === 'book_table' && added.item.call_id === 'call_1',
        'function call: an output item of the response, after its message', added);
  check(argsDone?.call_id === 'call_1' && argsDone.name === 'book_table' && argsDone.arguments === ARGUMENTS &&
        argsDone.item_id === added.item.id && deltas === ARGUMENTS, 'function call: its arguments, streamed and done', { argsDone, deltas });
  const callDone = seen('response.output_item.done', (e) => e.item.type === 'function_call');
  check(callDone?.item.status === 'completed' && callDone.item.arguments === ARGUMENTS, 'function call: output_item.done, completed', callDone);
  // Its result: the function_call_output item parley added, before the answer's transcript.
  const output = seen('conversation.item.added', (e) => e.item.type === 'function_call_output');
  check(output?.item.call_id === 'call_1' && output.item.output === BOOKED && output.previous_item_id === added.item.id,
        'function call: its output item holds the endpoint\'s reply', output);
  const firstWords = events.findIndex((e) => e.type === 'response.output_audio_transcript.delta');
  check(events.indexOf(output) < firstWords, 'function call: the result comes before the answer is spoken');
  // The answer, spoken from the result; response.done lists the message and the call.
  const said = done.response.output[0]?.content[0]?.transcript ?? '';
  check(words(said).includes('booked') && words(said).includes('12'), 'tool turn: the answer is built from the tool\'s reply', said);
  check(done.response.output.length === 2 && done.response.output[1].type === 'function_call' &&
        done.response.output[1].call_id === 'call_1', 'tool turn: response.done lists the message and the call', done.response.output);
  const audio = events.filter((e) => e.type === 'response.output_audio.delta' && e.response_id === rid);
  check(audio.length > 0, 'tool turn: the answer is audio');
  check(errors.length === 0, 'no error in the conversation', errors.map((e) => e.error ?? e.message));
});
