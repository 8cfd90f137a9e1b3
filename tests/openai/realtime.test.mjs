// The OpenAI Realtime protocol at /v1/realtime (docs/protocol.md, "The OpenAI Realtime protocol"),
// driven by the official `openai` npm client's realtime WebSocket client exactly as an
// application would drive it against OpenAI: a spoken conversation with `parley serve` and its
// embedded engines. Checked: session.created and session.update → session.updated; speech in
// (base64 PCM16 at 24 kHz in input_audio_buffer.append) → speech_started/stopped, the user's
// transcript, the committed item, a response whose transcript deltas and audio deltas add up;
// a typed message answered on response.create; conversation.item.truncate; the user talking over
// a reply (barge-in: response.done cancelled, reason turn_detected); response.cancel; the
// refusals of what parley does not do (typed errors, the session goes on); then a transcription
// session on a second connection (transcripts, no responses), and one whose turns the client
// commits (turn_detection null: commit, a refused short commit, clear).
// The SDK always connects with wss: the server runs with a self-signed certificate for
// 127.0.0.1 (openssl CLI) that the client is told to trust.
//
//   node realtime.test.mjs --parley PATH [--web-root DIR]
// Exit codes: 0 pass, 1 fail, 77 skip (no node_modules, or no openssl).

import path from 'node:path';

import { check, readWav, runServerTest, sleep, speechWav } from '../browser/harness.mjs';
import { RATE, speak, startRealtime, to24k, until, words } from './realtime_client.mjs';

await runServerTest('openai_realtime', async (t) => {
  const { connect } = await startRealtime(t);
  const { rt, events, errors } = await connect('conversation');
  const seen = (type, from = 0, pred = () => true) => events.slice(from).find((e) => e.type === type && pred(e));
  const after = (type, from, what, pred) => until(t, what, () => seen(type, from, pred), 60);

  // ---- session.created on connect; session.update before any input → session.updated ----
  const created = await after('session.created', 0, 'session.created');
  check(created.session.type === 'realtime' && created.session.audio.input.format.type === 'audio/pcm' &&
        created.session.audio.input.format.rate === RATE, 'session.created: a realtime session, PCM16 at 24 kHz', created.session);
  rt.send({
    type: 'session.update',
    session: {
      type: 'realtime',
      instructions: 'You are a test assistant. Answer briefly.',
      audio: {
        input: { format: { type: 'audio/pcm', rate: RATE }, turn_detection: { type: 'server_vad', silence_duration_ms: 500, interrupt_response: true } },
        output: { format: { type: 'audio/pcm', rate: RATE }, voice: 'alloy' },
      },
    },
  });
  const updated = await after('session.updated', 0, 'session.updated');
  const td = updated.session.audio.input.turn_detection;
  check(td.type === 'server_vad' && td.silence_duration_ms === 500 && td.interrupt_response === true &&
        updated.session.instructions.startsWith('You are a test assistant'), 'session.updated: the settings asked for', updated.session);

  // ---- a spoken question ----
  const questionWav = path.join(t.dir, 'question.wav');
  speechWav(questionWav, 'What time is it?', { leadS: 0.3, trailS: 1.2 });
  const question = to24k(readWav(questionWav));
  let mark = events.length;
  await speak(rt, question);
  const done = await after('response.done', mark, 'the reply to the spoken question');
  check(done.response.status === 'completed', 'spoken turn: response.done completed', done.response);
  const started = seen('input_audio_buffer.speech_started', mark);
  const stopped = seen('input_audio_buffer.speech_stopped', mark);
  check(started && stopped && stopped.audio_end_ms > started.audio_start_ms && started.item_id === stopped.item_id,
        'spoken turn: speech_started and speech_stopped for one item', { started, stopped });
  const heard = seen('conversation.item.input_audio_transcription.completed', mark);
  t.log(`heard: "${heard?.transcript}"`);
  check(heard && heard.item_id === started.item_id && words(heard.transcript).includes('time'), 'spoken turn: the question is transcribed', heard);
  const committed = seen('input_audio_buffer.committed', mark);
  const userItem = seen('conversation.item.added', mark, (e) => e.item.role === 'user');
  check(committed?.item_id === started.item_id && userItem?.item.content[0].type === 'input_audio' &&
        userItem.item.content[0].transcript === heard.transcript, 'spoken turn: the user item is committed with its transcript', { committed, userItem });
  const responseId = done.response.id;
  const created1 = seen('response.created', mark);
  check(created1?.response.id === responseId, 'spoken turn: response.created for the same response', created1);
  const audio = events.slice(mark).filter((e) => e.type === 'response.output_audio.delta' && e.response_id === responseId);
  const audioBytes = audio.reduce((n, e) => n + Buffer.from(e.delta, 'base64').length, 0);
  const transcript = events.slice(mark).filter((e) => e.type === 'response.output_audio_transcript.delta' && e.response_id === responseId)
    .map((e) => e.delta).join('');
  const said = done.response.output[0]?.content[0]?.transcript ?? '';
  t.log(`reply: "${said}", ${(audioBytes / 2 / RATE).toFixed(2)} s of audio in ${audio.length} deltas`);
  check(audioBytes % 2 === 0 && audioBytes / 2 > 0.3 * RATE, 'spoken turn: the reply is audio (PCM16, 24 kHz)', audioBytes);
  check(said.length > 0 && transcript.trim() === said.trim(), 'spoken turn: the transcript deltas add up to the reply', { transcript, said });
  check(seen('response.output_audio.done', mark, (e) => e.response_id === responseId), 'spoken turn: response.output_audio.done');

  // ---- truncate: the client played 300 ms of that reply ----
  mark = events.length;
  rt.send({ type: 'conversation.item.truncate', item_id: done.response.output[0].id, content_index: 0, audio_end_ms: 300 });
  const truncated = await after('conversation.item.truncated', mark, 'conversation.item.truncated');
  check(truncated.item_id === done.response.output[0].id && truncated.audio_end_ms === 300, 'truncate: acknowledged', truncated);

  // ---- a typed message waits for response.create ----
  mark = events.length;
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What time is it?' }] } });
  const typed = await after('conversation.item.added', mark, 'the typed item', (e) => e.item.role === 'user');
  check(typed.item.content[0].type === 'input_text', 'typed: the user item is added', typed);
  await sleep(300);
  check(!seen('response.created', mark), 'typed: no response before response.create');
  rt.send({ type: 'response.create' });
  const typedDone = await after('response.done', mark, 'the reply to the typed message');
  check(typedDone.response.status === 'completed' && words(typedDone.response.output[0].content[0].transcript).length > 0,
        'typed: answered on response.create', typedDone.response);

  // ---- barge-in: the user talks over a reply that is playing ----
  mark = events.length;
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What can you do?' }] } });
  rt.send({ type: 'response.create' });
  const longReply = await after('response.output_audio.delta', mark, 'the reply audio to talk over');
  const stopWav = path.join(t.dir, 'stop.wav');
  speechWav(stopWav, 'Wait, stop, I have another question.', { leadS: 0.0, trailS: 1.2 });
  await speak(rt, to24k(readWav(stopWav)));
  // Cut while it is generated: response.done cancelled. Cut once generated, while it plays (a
  // short reply is generated in full at once): the response is over, and its item is truncated
  // to what was heard.
  const cutId = longReply.response_id;
  const cut = await until(t, 'the cut reply', () => events.slice(mark).find((e) =>
    (e.type === 'response.done' && e.response.id === cutId && e.response.status === 'cancelled') ||
    (e.type === 'conversation.item.truncated' && e.item_id === longReply.item_id)), 60);
  const sentMs = events.slice(mark).filter((e) => e.type === 'response.output_audio.delta' && e.response_id === cutId)
    .reduce((n, e) => n + Buffer.from(e.delta, 'base64').length / 2 / (RATE / 1000), 0);
  t.log(`barge-in: ${cut.type}${cut.audio_end_ms !== undefined ? ` at ${cut.audio_end_ms} ms of ${Math.round(sentMs)} ms` : ''}`);
  if (cut.type === 'response.done') {
    check(cut.response.status_details?.reason === 'turn_detected', 'barge-in: the reply is cancelled, reason turn_detected', cut.response);
  } else {
    check(cut.audio_end_ms > 0 && cut.audio_end_ms < sentMs, 'barge-in: the reply is truncated to what was heard', { cut, sentMs });
  }

  // ---- response.cancel of a reply in progress ----
  await after('response.done', mark, 'the reply to the interruption', (e) => e.response.id !== longReply.response_id);
  mark = events.length;
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What can you do?' }] } });
  rt.send({ type: 'response.create' });
  const toCancel = await after('response.created', mark, 'a reply to cancel');
  rt.send({ type: 'response.cancel' });
  const cancelled = await after('response.done', mark, 'the cancelled reply', (e) => e.response.id === toCancel.response.id);
  check(cancelled.response.status === 'cancelled' && cancelled.response.status_details?.reason === 'client_cancelled',
        'response.cancel: cancelled by the client', cancelled.response);

  // ---- what parley does not do: typed errors, and the session goes on ----
  const errorsBefore = errors.length;
  rt.send({ type: 'input_audio_buffer.clear', event_id: 'evt_clear' });
  rt.send({ type: 'session.update', event_id: 'evt_late', session: { type: 'realtime', instructions: 'Too late.' } });
  await until(t, 'two errors', () => errors.length >= errorsBefore + 2, 20);
  const codes = errors.slice(errorsBefore).map((e) => [e.error?.code, e.error?.event_id]);
  check(JSON.stringify(codes) === JSON.stringify([['unsupported_event', 'evt_clear'], ['session_already_started', 'evt_late']]),
        'refusals: typed errors naming the client event', codes);
  check(errors.length === errorsBefore + 2, 'no other error in the conversation', errors.slice(0, errorsBefore).map((e) => e.error ?? e.message));

  // ---- a transcription session: speech in, transcripts out, nothing answered ----
  const { rt: tx, events: txEvents, errors: txErrors, seen: txSeen, wait: txAfter } = await connect('transcription');
  tx.send({
    type: 'session.update',
    session: {
      type: 'transcription',
      audio: { input: { format: { type: 'audio/pcm', rate: RATE }, transcription: { model: 'gpt-4o-transcribe' },
                        turn_detection: { type: 'server_vad', silence_duration_ms: 500 } } },
    },
  });
  const txUpdated = await txAfter('session.updated', 'session.updated (transcription)');
  check(txUpdated.session.type === 'transcription' && !txUpdated.session.audio.output, 'transcription: session.updated', txUpdated.session);
  await speak(tx, question);
  const txHeard = await txAfter('conversation.item.input_audio_transcription.completed', 'the transcript');
  t.log(`transcription session heard: "${txHeard.transcript}"`);
  check(words(txHeard.transcript).includes('time'), 'transcription: the speech is transcribed', txHeard);
  await txAfter('input_audio_buffer.committed', 'the committed item (after its transcript)', (e) => e.item_id === txHeard.item_id);
  tx.send({ type: 'conversation.item.create', event_id: 'evt_typed',
            item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What time is it?' }] } });
  await until(t, 'the refusal of a typed message', () => txErrors.length > 0, 20);
  check(txErrors[0].error?.code === 'unsupported_event' && txErrors[0].error?.event_id === 'evt_typed',
        'transcription: a typed message is refused', txErrors.map((e) => e.error ?? e.message));
  await sleep(500);
  const answered = txEvents.filter((e) => e.type.startsWith('response.'));
  check(answered.length === 0, 'transcription: nothing is answered', answered.map((e) => e.type));

  // ---- turns committed by the client (turn_detection null): commit and clear ----
  const { rt: mt, events: mtEvents, errors: mtErrors, seen: mtSeen } = await connect('manual turns');
  mt.send({ type: 'session.update', session: { type: 'transcription', audio: { input: { format: { type: 'audio/pcm', rate: RATE }, turn_detection: null } } } });
  const mtUpdated = await until(t, 'session.updated (turn_detection null)', () => mtSeen('session.updated'), 60);
  check(mtUpdated.session.audio.input.turn_detection === null, 'manual turns: session.updated says turn_detection null', mtUpdated.session);
  // Two utterances with a pause between them, committed as one turn.
  const pauseWav = path.join(t.dir, 'pause.wav');
  speechWav(pauseWav, 'Set a timer.', { leadS: 0.2, trailS: 1.5 });
  await speak(mt, to24k(readWav(pauseWav)));
  await speak(mt, question);
  await sleep(300);
  check(!mtSeen('conversation.item.input_audio_transcription.completed'), 'manual turns: nothing is transcribed before the commit');
  mt.send({ type: 'input_audio_buffer.commit', event_id: 'evt_commit' });
  const mtHeard = await until(t, 'the committed turn\'s transcript', () => mtSeen('conversation.item.input_audio_transcription.completed'), 60);
  t.log(`manual turn heard: "${mtHeard.transcript}"`);
  check(words(mtHeard.transcript).includes('set') && words(mtHeard.transcript).includes('time'),
        'manual turns: both utterances are one committed turn', mtHeard);
  check(!mtSeen('input_audio_buffer.speech_started'), 'manual turns: no VAD events');
  // Less than 100 ms appended: the commit is refused. Audio then cleared: nothing is transcribed.
  await speak(mt, question.subarray(0, RATE / 20));
  mt.send({ type: 'input_audio_buffer.commit', event_id: 'evt_short' });
  await until(t, 'the refusal of a short commit', () => mtErrors.length > 0, 20);
  check(mtErrors[0].error?.code === 'invalid_message' && mtErrors[0].error?.event_id === 'evt_short',
        'manual turns: a commit of under 100 ms is refused', mtErrors.map((e) => e.error ?? e.message));
  await speak(mt, question);
  mt.send({ type: 'input_audio_buffer.clear' });
  await until(t, 'input_audio_buffer.cleared', () => mtSeen('input_audio_buffer.cleared'), 20);
  await sleep(500);
  const completed = mtEvents.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed');
  check(completed.length === 1 && mtErrors.length === 1, 'manual turns: cleared audio is never transcribed',
        { completed: completed.length, errors: mtErrors.map((e) => e.error ?? e.message) });
});
