// Browser test 2: barge-in. The user speaks while the reply is playing; the reply must stop.
//
// The fake microphone loops a WAV made with flite ("What are your opening hours?" and a short
// pause, over and over). The page starts with its microphone muted and asks the same question
// by text; the answer (from the bundled FAQ) is several seconds of speech. Once the page reports
// that the reply is playing, the test unmutes the microphone: within a second the user is
// "speaking" over the reply. The server must interrupt it (response.interrupted, reason
// barge_in), the page must clear its jitter buffer at once (nothing of that generation left),
// play nothing more of it, and show the reply as interrupted.
//
// The timing is driven by what the page reports (the reply has started playing), never by fixed
// sleeps, so a slow machine (sanitizers) changes how long it takes, not whether it passes.

import path from 'node:path';
import { check, metricsText, metricValue, openPage, runTest, screenshot, sleep, snapshot, speechWav, startServer, waitFor } from './harness.mjs';

const QUESTION = 'What are your opening hours?';

runTest('browser_barge_in', async (t) => {
  const wav = path.join(t.dir, 'opening-hours.wav');
  const speechS = speechWav(wav, QUESTION, { trailS: 0.6 });
  const server = await startServer(t);
  const page = await openPage(t, wav, { loop: true });

  await page.click('#mute'); // the microphone stays silent until the reply plays
  await page.click('#connect');
  await waitFor(t, 'the session to start (status "listening")', (s) => s.status === 'listening' || s.status === 'error');
  check((await snapshot(t)).status === 'listening', 'the session started', (await snapshot(t)).errors);

  await page.fill('#text', QUESTION);
  await page.click('#send');
  const playing = await waitFor(t, 'the reply to start playing', (s) => s.replies.find((r) => r.playedSamples > 0 && r.state === 'speaking'), 45);
  const generation = playing.generation;
  t.log(`reply generation ${generation} is playing: "${playing.text.slice(0, 60)}…"`);
  check(!(await snapshot(t)).interrupts.length, 'nothing was interrupted before the user spoke', (await snapshot(t)).interrupts);

  await page.click('#mute'); // unmute: the looping question now reaches the server
  t.log(`microphone unmuted (the question lasts ${speechS.toFixed(1)} s, then 0.6 s of silence, looping)`);
  const interrupt = await waitFor(t, 'response.interrupted and the buffer cleared', (s) => s.interrupts.find((i) => i.cleared), 20);
  t.log(`interrupted: ${JSON.stringify({ ...interrupt, cleared: undefined })}; clearing dropped ${interrupt.cleared.droppedSamples} samples`);
  check(interrupt.generation === generation, `the playing reply (generation ${generation}) was interrupted`, interrupt);
  check(interrupt.reason === 'barge_in', `the reason is barge_in (got ${interrupt.reason})`, interrupt);
  check(interrupt.cleared.droppedSamples > 0, 'the jitter buffer still held reply audio when it was cleared', interrupt);
  check(interrupt.cleared.bufferedSamples === 0, 'the jitter buffer was empty right after clearing', interrupt);
  check(interrupt.played_samples < interrupt.sent_samples || interrupt.sent_samples === 0, 'the server knows the reply was not heard to its end', interrupt);

  // Right after: nothing of the interrupted generation is left in the buffer or plays later.
  const afterClear = await page.evaluate(() => window.parley.playerState());
  check(!afterClear.generations.some((g) => g.generation === generation), 'the buffer holds nothing of the interrupted reply', afterClear);
  let state = await snapshot(t);
  const reply = state.replies.find((r) => r.generation === generation);
  check(reply.state === 'interrupted', `the reply is marked interrupted (state ${reply.state})`, reply);
  check(reply.playedSamples < reply.receivedSamples, 'the reply did not play to its end', reply);
  const history = state.statusHistory;
  check(history.lastIndexOf('interrupted') > history.indexOf('speaking'), `the page state went speaking → interrupted (${history.join(' → ')})`);
  const badge = await page.attr(`.reply[data-generation="${generation}"]`, 'data-state');
  check(badge === 'interrupted', `the page shows the reply as interrupted (data-state ${badge})`);
  await screenshot(t, 'after-interruption');

  await sleep(500);
  state = await snapshot(t);
  const later = state.replies.find((r) => r.generation === generation);
  check(later.playedSamples === reply.playedSamples && later.progressReports === reply.progressReports, 'no playout progress for the interrupted reply after it was cleared', later);
  const laterBuffer = await page.evaluate(() => window.parley.playerState());
  check(!laterBuffer.generations.some((g) => g.generation === generation), 'no audio of the interrupted reply arrived in the buffer later', laterBuffer);
  check(state.errors.length === 0, 'no error events', state.errors);
  check(t.pageErrors.length === 0, `no page errors: ${t.pageErrors.join('; ')}`);

  const metrics = await metricsText(server);
  check(metricValue(metrics, 'parley_barge_ins_total') >= 1, 'the server counted the barge-in');
  check(metricValue(metrics, 'parley_barge_in_time_to_interrupt_milliseconds_count') >= 1, 'the server measured speech start → interrupt');

  await page.click('#mute');
  await page.click('#connect'); // disconnect
  await waitFor(t, 'the page to disconnect', (s) => s.status === 'disconnected', 5);
});
