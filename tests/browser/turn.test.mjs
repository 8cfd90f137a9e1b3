// Browser test 1: one spoken turn through the real stack, in headless Chromium (and Firefox).
//
// The fake microphone plays a WAV made with flite ("What time is it?" then silence, once). The
// real `parley serve` (pocketsphinx, local intents, flite) answers; it requires a token, so the
// page is first refused, then connects with the token in its field. The page must show the final
// transcript, receive the reply audio, play it to the end through its jitter buffer (reporting
// playout.progress), and show the turn's TTFA from turn.metrics.

import path from 'node:path';
import { check, metricsText, metricValue, openPage, runTest, screenshot, snapshot, speechWav, startServer, waitFor } from './harness.mjs';

runTest('browser_turn', async (t) => {
  const wav = path.join(t.dir, 'what-time-is-it.wav');
  // The file plays once (%noloop): 0.8 s of silence while the session starts, the question, and
  // enough silence that the turn ends and nothing else is said.
  speechWav(wav, 'What time is it?', { leadS: 0.8, trailS: 20 });
  const token = `t${process.pid}${Date.now()}`;
  const server = await startServer(t, ['--token', token]);
  const page = await openPage(t, wav, { loop: false });
  check((await snapshot(t)).status === 'disconnected', 'the page starts disconnected');
  // Before connecting, the page says what to ask: the server's own responder's suggestions.
  const suggestions = await waitFor(t, 'the suggestions', (s) => (s.suggestions.length ? s.suggestions : null), 10);
  check(suggestions.includes('What time is it?'), `the page suggests what to ask (${suggestions.join(' | ')})`);
  check((await page.count('#suggestions button')) === suggestions.length, 'each suggestion is a button');
  await screenshot(t, 'before-connecting');

  // Without the token the server refuses the upgrade (401); the page says so, then connects with it.
  await page.click('#connect');
  await waitFor(t, 'the refusal without a token (status "error")', (s) => s.status === 'error' || s.status === 'listening', 10);
  const notice = await page.text('#notice');
  check((await snapshot(t)).status === 'error' && /token/.test(notice), `a connection without the token is refused and the page says why ("${notice}")`);
  // That refusal was the point: Firefox also reports it as a failed request and a console error
  // (Chromium does not), so it is not counted among the page's errors.
  t.pageErrors = t.pageErrors.filter((error) => !error.includes('/ws'));
  await page.fill('#token', token);
  await page.click('#connect');
  await waitFor(t, 'the session to start (status "listening")', (s) => s.status === 'listening' || s.status === 'error');
  let state = await snapshot(t);
  check(state.status === 'listening', 'the session started', state.errors);
  t.log(`session ${state.session.id}, audio context at ${state.audioContextRateHz} Hz`);

  const transcript = await waitFor(t, 'the final transcript', (s) => s.turns.find((turn) => turn.transcript)?.transcript, 45);
  t.log(`final transcript: "${transcript}"`);
  check(/\btime\b/i.test(transcript), `the transcript should contain "time", got "${transcript}"`);
  const shown = await page.text('.turn .user .final');
  check(shown === transcript, `the page shows the final transcript (shows "${shown}")`);

  const reply = await waitFor(t, 'reply audio', (s) => s.replies.find((r) => r.receivedSamples > 0), 30);
  t.log(`reply generation ${reply.generation}: audio at ${reply.rateHz} Hz`);

  const played = await waitFor(t, 'the reply to play to its end', (s) => s.replies.find((r) => r.generation === reply.generation && r.state !== 'generating' && r.state !== 'speaking'), 40);
  check(played.state === 'done', `the reply played to its end (state ${played.state})`, played);
  check(played.sentSamples > 0 && played.receivedSamples === played.sentSamples, 'the client received every sample the server sent', played);
  check(played.playedSamples === played.sentSamples, 'the last playout.progress reports the whole reply as played', played);
  check(played.progressReports >= 2, 'playout progress was reported while playing and at the end', played);
  t.log(`reply "${played.text}": ${played.sentSamples} samples, ${played.progressReports} progress reports`);
  const replyShown = await page.text(`.reply[data-generation="${reply.generation}"] .text`);
  check(replyShown === played.text && played.text.length > 0, `the page shows the reply text (shows "${replyShown}")`);

  const timeline = await waitFor(t, 'turn.metrics', (s) => s.metrics[0], 20);
  const ttfa = timeline.metrics_ms.ttfa;
  check(typeof ttfa === 'number' && ttfa > 0, 'turn.metrics reports a TTFA', timeline.metrics_ms);
  const ttfaCell = await page.text('.latency-stats tr[data-metric="ttfa"] td');
  check(/\d+(\.\d+)? ms/.test(ttfaCell), `the page shows the TTFA (shows "${ttfaCell}")`);
  check((await page.count('svg.waterfall rect')) > 0, 'the waterfall has bars');
  // The reply says how it was answered and how fast.
  const answered = await waitFor(t, 'the reply\'s route', (s) => s.replies.find((r) => r.generation === reply.generation && r.route), 10);
  check(answered.route === 'intent', `the time is answered by a local handler (route ${answered.route})`);
  const routeShown = await page.text(`.reply[data-generation="${reply.generation}"] .route`);
  const badgeShown = await page.text(`.reply[data-generation="${reply.generation}"] .badge`);
  check(routeShown === 'local' && /ttfa \d/.test(badgeShown), `the reply shows its route and TTFA ("${routeShown}", "${badgeShown}")`);
  await screenshot(t, 'mid-conversation');
  t.log(`TTFA ${ttfa.toFixed(1)} ms (shown as "${ttfaCell}")`);

  state = await snapshot(t);
  const buffer = await page.evaluate(() => window.parley.playerState());
  check(buffer.bufferedSamples === 0, 'the jitter buffer is empty after the reply', buffer);
  check(state.errors.length === 0, 'no error events', state.errors);
  check(t.pageErrors.length === 0, `no page errors: ${t.pageErrors.join('; ')}`);

  const metrics = await metricsText(server);
  check(metricValue(metrics, 'parley_turns_total') >= 1, 'the server counted the turn');
  check(metricValue(metrics, 'parley_protocol_errors_total{code="unknown_generation"}') === 0, 'the server accepted every playout.progress');

  await page.click('#connect'); // disconnect
  await waitFor(t, 'the page to disconnect', (s) => s.status === 'disconnected', 5);
});
