// The parley web client: wires the page to one realtime session (docs/web-client.md).
//
//   microphone (AudioWorklet, 16 kHz PCM16) ──► Connection (WebSocket /ws, protocol v1) ──► server
//   server ──► transcripts, reply text ─────────► conversation list
//          ──► reply audio (binary frames) ─────► Player (jitter buffer AudioWorklet) ──► speakers
//          ──► turn.metrics ────────────────────► LatencyPanel (waterfall, p50/p95)
//   Player playout progress ───────────────────► playout.progress to the server
//   response.interrupted ──────────────────────► Player.clear(generation), late frames dropped
//
// Everything runs on the main thread except the two worklets. `window.parley` is this App: open
// the console and call `parley.snapshot()` (or `await parley.playerState()`) to see what the
// client knows; the browser tests (tests/browser) read it too.

import { Connection } from './connection.js';
import { LatencyPanel, formatMs, stagesOf } from './latency.js';
import { INPUT_RATE_HZ, Microphone } from './microphone.js';
import { Player } from './player.js';

const $ = (selector) => document.querySelector(selector);
const MAX_HISTORY = 200;

// How each route (turn.metrics' timeline.route) is named on a reply, and what it means.
const ROUTES = {
  intent: ['local', 'answered on this server by a local handler (intents, FAQ)'],
  cache: ['cache', 'from the response cache, with its recorded audio'],
  llm: ['LLM', 'written by the LLM'],
  local_llm: ['local LLM', 'written by the LLM running on this machine'],
  cloud_llm: ['cloud LLM', 'written by a cloud LLM'],
  fallback: ['fallback', 'no handler or LLM could take it: the short honest reply'],
  apology: ['apology', 'a provider failed: the apology'],
};

class App {
  constructor() {
    this.ui = {
      connectForm: $('#connect-form'),
      connect: $('#connect'),
      token: $('#token'),
      mode: $('#mode'),
      echoCancellation: $('#echo-cancellation'),
      mute: $('#mute'),
      stop: $('#stop'),
      level: $('#level'),
      status: $('#status'),
      notice: $('#notice'),
      turns: $('#turns'),
      suggestions: $('#suggestions'),
      name: $('header h1'),
      greeting: $('#greeting'),
      textForm: $('#text-form'),
      text: $('#text'),
      send: $('#send'),
    };
    this.latency = new LatencyPanel($('#latency'));
    this.connection = null;
    this.context = null; // the AudioContext shared by microphone and player
    this.microphone = null;
    this.player = null;
    this.muted = false;
    this.suggestions = []; // GET /v1/assistant's: what to try asking
    this.resetSession();

    this.ui.connectForm.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.connection) this.disconnect();
      else this.connect();
    });
    this.ui.mute.addEventListener('click', () => this.setMuted(!this.muted));
    this.ui.stop.addEventListener('click', () => this.stopReply());
    this.ui.textForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.sendText(this.ui.text.value);
    });
    this.loadSuggestions();
  }

  // The assistant's name and greeting (its assistant file) and "Try asking": requests it answers
  // (GET /v1/assistant); once connected, a click asks one as a typed message.
  async loadSuggestions() {
    let info = {};
    try {
      const response = await fetch('/v1/assistant', { cache: 'no-store' });
      if (response.ok) info = await response.json();
    } catch {
      return; // an older server: no suggestions
    }
    if (info.name && info.name !== 'parley') {
      this.ui.name.textContent = info.name;
      document.title = `${info.name} · parley`;
    }
    this.ui.greeting.textContent = info.greeting || '';
    this.ui.greeting.hidden = !info.greeting;
    const suggestions = info.suggestions || [];
    this.suggestions = suggestions;
    const list = this.ui.suggestions.querySelector('ul');
    list.replaceChildren(
      ...suggestions.map((text) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = text;
        button.title = 'connect, then click to ask this';
        button.addEventListener('click', () => {
          if (this.session) this.sendText(text);
          else this.showNotice('Connect first, then click a suggestion (or just say it).');
        });
        item.append(button);
        return item;
      }),
    );
    this.ui.suggestions.hidden = suggestions.length === 0;
  }

  // What one session has seen; kept after a disconnect so the page still shows it.
  resetSession() {
    this.session = null; // session.created's `session`
    this.status = 'disconnected';
    this.statusHistory = ['disconnected'];
    this.turns = new Map(); // turn id -> {turn, partial, transcript, element}
    this.replies = new Map(); // generation id -> reply record (see reply())
    this.interrupted = new Set(); // generations whose audio must no longer play
    this.interrupts = []; // response.interrupted events, with what clearing the buffer dropped
    this.metrics = []; // turn.metrics timelines
    this.errors = []; // error events and client-side failures
    this.staleFrames = 0; // audio frames of interrupted generations, dropped on arrival
    this.framesSent = 0;
  }

  // ---- connecting -------------------------------------------------------------------------------

  async connect() {
    this.resetSession();
    this.ui.turns.replaceChildren();
    this.showNotice('');
    this.setStatus('connecting');
    this.ui.connect.textContent = 'Disconnect';
    const connection = new Connection();
    this.connection = connection;
    try {
      // Created inside the click handler: browsers let audio start only after a user gesture.
      this.context = new AudioContext();
      await this.context.resume();
      this.player = await Player.create(this.context);
      this.player.addEventListener('progress', (event) => this.onPlayoutProgress(event.detail));

      connection.addEventListener('message', (event) => this.onServerEvent(event.detail));
      connection.addEventListener('audio', (event) => this.onAudioFrame(event.detail));
      connection.addEventListener('close', (event) => this.onClose(event.detail));
      const session = { input_sample_rate_hz: INPUT_RATE_HZ };
      // Ask for reply audio at the context's rate, so the jitter buffer need not resample.
      if (this.context.sampleRate >= 8000 && this.context.sampleRate <= 48000) session.output_sample_rate_hz = this.context.sampleRate;
      if (this.ui.mode.value) session.mode = this.ui.mode.value;
      const created = await connection.open({ token: this.ui.token.value.trim(), session });
      if (this.connection !== connection) return; // disconnected meanwhile
      this.session = created.session;
      await this.openMicrophone(); // only now: no permission prompt for a session that never starts
      if (this.connection !== connection) return;
      this.setStatus('listening');
      this.setSessionControls(true);
    } catch (error) {
      if (this.connection !== connection) return;
      this.fail(`Could not start the session: ${error.message}`);
      this.disconnect({ keepStatus: true });
    }
  }

  async openMicrophone() {
    try {
      this.microphone = await Microphone.open(this.context, { echoCancellation: this.ui.echoCancellation.checked });
    } catch (error) {
      this.showNotice(`No microphone (${error.message}): typed messages still work.`);
      return;
    }
    this.microphone.muted = this.muted;
    this.microphone.addEventListener('frame', (event) => {
      this.ui.level.style.width = `${Math.min(100, event.detail.peak * 100)}%`;
      if (!this.connection) return;
      this.connection.sendAudio(event.detail.pcm);
      this.framesSent++;
    });
  }

  disconnect({ keepStatus = false } = {}) {
    const connection = this.connection;
    this.connection = null;
    if (connection) connection.close();
    if (this.microphone) this.microphone.close();
    if (this.player) this.player.close();
    if (this.context) this.context.close();
    this.microphone = null;
    this.player = null;
    this.context = null;
    this.session = null;
    this.ui.level.style.width = '0';
    this.ui.connect.textContent = 'Connect';
    this.setSessionControls(false);
    if (!keepStatus) this.setStatus('disconnected');
  }

  onClose({ code, reason }) {
    if (!this.connection || !this.session) return; // we closed it, or connect() reports the failure
    if (this.session) this.showNotice(`The server closed the session (${code}${reason ? `: ${reason}` : ''}).`);
    this.disconnect({ keepStatus: this.status === 'error' });
  }

  // ---- server events ----------------------------------------------------------------------------

  onServerEvent(event) {
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.turnView(event.turn);
        this.setStatus('user-speaking');
        break;
      case 'input_audio_buffer.speech_stopped':
        this.setStatus('thinking');
        break;
      case 'conversation.item.input_audio_transcription.delta':
        this.setUserText(event.turn, event.transcript, false); // the whole hypothesis so far
        break;
      case 'conversation.item.input_audio_transcription.completed':
        this.setUserText(event.turn, event.transcript, true);
        if (!event.transcript && this.status === 'thinking') this.setStatus('listening'); // no reply follows
        break;
      case 'conversation.item.created': {
        const turn = this.turnView(event.turn);
        if (turn.transcript === null) this.setUserText(event.turn, event.item.text, true); // typed
        if (this.status !== 'speaking') this.setStatus('thinking');
        break;
      }
      case 'response.created':
        this.reply(event.generation, event.turn);
        break;
      case 'response.text.delta': {
        const reply = this.reply(event.generation);
        reply.text += event.delta;
        this.renderReply(reply);
        break;
      }
      case 'response.audio.start':
        this.reply(event.generation).rateHz = event.sample_rate_hz;
        break;
      case 'response.audio.done': {
        const reply = this.reply(event.generation);
        reply.sentSamples = event.n_samples;
        if (this.player && !this.interrupted.has(event.generation)) this.player.end(event.generation);
        break;
      }
      case 'response.done': {
        const reply = this.reply(event.generation, event.turn);
        reply.text = event.text;
        reply.generated = true;
        if (reply.receivedSamples === 0 && reply.state === 'generating') this.finishReply(reply, 'done'); // no audio
        this.renderReply(reply);
        break;
      }
      case 'response.interrupted':
        this.onInterrupted(event);
        break;
      case 'turn.metrics': {
        this.metrics.push(event.timeline);
        if (this.metrics.length > MAX_HISTORY) this.metrics.shift();
        this.latency.addTurn(event);
        const reply = this.replies.get(event.timeline?.generation);
        if (reply) {
          reply.route = event.timeline.route || null;
          reply.ttfaMs = stagesOf(event.timeline).ttfa ?? null;
          this.renderReply(reply);
        }
        break;
      }
      case 'error':
        this.errors.push(event.error);
        this.showNotice(`Server error ${event.error.code}: ${event.error.message}`);
        break;
      default:
        break; // session.created, committed, finished, and events of later versions
    }
  }

  onAudioFrame({ generation, offset, samples }) {
    if (this.interrupted.has(generation) || !this.player) {
      this.staleFrames++;
      return;
    }
    const reply = this.reply(generation);
    if (offset !== reply.receivedSamples) console.warn(`parley: generation ${generation}: frame at ${offset}, expected ${reply.receivedSamples}`);
    reply.receivedSamples += samples.length;
    this.player.push(generation, samples, reply.rateHz || this.session?.output_sample_rate_hz || 16000);
  }

  // The jitter buffer played some of a generation (every ~100 ms, and once at its end): tell the
  // server, which uses it for barge-in and to know what the user heard.
  onPlayoutProgress({ generation, played_samples, done }) {
    if (this.interrupted.has(generation)) return;
    if (this.connection) this.connection.send('playout.progress', { generation, played_samples });
    const reply = this.reply(generation);
    reply.playedSamples = played_samples;
    reply.progressReports++;
    if (played_samples > 0 && reply.state === 'generating') {
      reply.state = 'speaking';
      this.renderReply(reply);
      this.setStatus('speaking');
    }
    if (done) this.finishReply(reply, 'done');
  }

  // The server stopped a generation: silence it first, then update the page.
  async onInterrupted(event) {
    this.interrupted.add(event.generation); // its late frames are dropped on arrival
    const clearing = this.player ? this.player.clear(event.generation) : Promise.resolve(null);
    const record = { generation: event.generation, reason: event.reason, sent_samples: event.sent_samples, played_samples: event.played_samples, cleared: null };
    this.interrupts.push(record);
    if (this.interrupts.length > MAX_HISTORY) this.interrupts.shift();
    const reply = this.replies.get(event.generation); // none if it was stopped before it said anything
    if (reply) this.finishReply(reply, 'interrupted');
    this.setStatus('interrupted');
    record.cleared = await clearing;
  }

  // ---- user actions -----------------------------------------------------------------------------

  setMuted(muted) {
    this.muted = muted;
    if (this.microphone) this.microphone.muted = muted;
    this.ui.mute.setAttribute('aria-pressed', String(muted));
    this.ui.mute.textContent = muted ? 'Unmute microphone' : 'Mute microphone';
  }

  sendText(text) {
    const trimmed = text.trim();
    if (!trimmed || !this.session) return;
    this.connection.send('conversation.item.create', { text: trimmed });
    this.ui.text.value = '';
  }

  // Explicit interrupt: silence at once here, and ask the server to stop generating.
  stopReply() {
    if (!this.connection) return;
    this.connection.send('response.cancel');
    for (const reply of this.replies.values()) {
      if (reply.state !== 'generating' && reply.state !== 'speaking') continue;
      this.interrupted.add(reply.generation);
      if (this.player) this.player.clear(reply.generation);
      this.finishReply(reply, 'interrupted');
    }
    this.setStatus('interrupted');
  }

  // ---- conversation view ------------------------------------------------------------------------

  turnView(id) {
    let turn = this.turns.get(id);
    if (turn) return turn;
    const element = document.createElement('li');
    element.className = 'turn';
    element.dataset.turn = id;
    const user = document.createElement('div');
    user.className = 'user';
    element.append(user);
    this.ui.turns.append(element);
    turn = { turn: id, partial: '', transcript: null, element, user };
    this.turns.set(id, turn);
    return turn;
  }

  setUserText(id, text, final) {
    const turn = this.turnView(id);
    if (final) turn.transcript = text;
    else turn.partial = text;
    const span = document.createElement('span');
    span.className = final ? 'final' : 'partial';
    span.textContent = final ? text || '(nothing recognised)' : text;
    turn.user.replaceChildren(span);
    this.scrollToEnd();
  }

  // The reply record of a generation, created on first sight.
  reply(generation, turnId) {
    let reply = this.replies.get(generation);
    if (reply) return reply;
    const element = document.createElement('div');
    element.className = 'reply';
    element.dataset.generation = generation;
    const text = document.createElement('span');
    text.className = 'text';
    const badge = document.createElement('span');
    badge.className = 'badge';
    const route = document.createElement('span');
    route.className = 'route';
    element.append(text, badge, route);
    const turn = turnId !== undefined ? this.turnView(turnId) : [...this.turns.values()].pop();
    (turn ? turn.element : this.ui.turns).append(element);
    reply = {
      generation,
      turn: turnId ?? turn?.turn ?? null,
      text: '',
      state: 'generating', // → speaking → done | interrupted
      generated: false, // response.done arrived
      rateHz: null,
      receivedSamples: 0,
      sentSamples: null, // response.audio.done's n_samples
      playedSamples: 0, // as last reported by the jitter buffer
      progressReports: 0,
      route: null, // from turn.metrics: intent, cache, llm, ...
      ttfaMs: null, // from turn.metrics (spoken turns only)
      element,
    };
    this.replies.set(generation, reply);
    this.renderReply(reply);
    this.ui.stop.disabled = !this.session;
    return reply;
  }

  finishReply(reply, state) {
    if (reply.state === 'done' || reply.state === 'interrupted') return;
    reply.state = state;
    this.renderReply(reply);
    const active = [...this.replies.values()].some((r) => r.state === 'generating' || r.state === 'speaking');
    this.ui.stop.disabled = !active;
    if (state === 'done' && !active && (this.status === 'speaking' || this.status === 'thinking')) this.setStatus('listening');
  }

  renderReply(reply) {
    reply.element.dataset.state = reply.state;
    reply.element.querySelector('.text').textContent = reply.text;
    let badge = reply.state;
    if (reply.state === 'interrupted' && reply.rateHz) {
      const seconds = (samples) => (samples / reply.rateHz).toFixed(1);
      badge += ` · heard ${seconds(reply.playedSamples)} s of ${seconds(reply.sentSamples ?? reply.receivedSamples)} s`;
    }
    if (typeof reply.ttfaMs === 'number') badge += ` · ttfa ${formatMs(reply.ttfaMs)}`;
    reply.element.querySelector('.badge').textContent = badge;
    const route = reply.element.querySelector('.route');
    const [label, meaning] = ROUTES[reply.route] || [reply.route || '', ''];
    route.textContent = label;
    route.dataset.route = reply.route || '';
    route.title = meaning;
    this.scrollToEnd();
  }

  scrollToEnd() {
    this.ui.turns.scrollTop = this.ui.turns.scrollHeight;
  }

  // ---- page state -------------------------------------------------------------------------------

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.statusHistory.push(status);
    if (this.statusHistory.length > MAX_HISTORY) this.statusHistory.shift();
    this.ui.status.dataset.state = status;
    this.ui.status.textContent = status.replace('-', ' ');
  }

  setSessionControls(enabled) {
    this.ui.text.disabled = !enabled;
    this.ui.send.disabled = !enabled;
    this.ui.stop.disabled = true;
    this.ui.token.disabled = enabled;
    this.ui.mode.disabled = enabled;
    this.ui.echoCancellation.disabled = enabled;
  }

  showNotice(text) {
    this.ui.notice.textContent = text;
    this.ui.notice.hidden = !text;
  }

  fail(message) {
    this.errors.push({ code: 'client', message });
    this.showNotice(message);
    this.setStatus('error');
  }

  // ---- inspection (console, tests) ----------------------------------------------------------------

  // Plain data: what the client has seen and done in this session.
  snapshot() {
    return {
      suggestions: [...(this.suggestions || [])],
      status: this.status,
      statusHistory: [...this.statusHistory],
      session: this.session,
      muted: this.muted,
      audioContextRateHz: this.context ? this.context.sampleRate : null,
      framesSent: this.framesSent,
      turns: [...this.turns.values()].map(({ turn, partial, transcript }) => ({ turn, partial, transcript })),
      replies: [...this.replies.values()].map(({ element, ...reply }) => reply),
      interrupts: this.interrupts.map((record) => ({ ...record })),
      metrics: [...this.metrics],
      errors: [...this.errors],
      staleFrames: this.staleFrames,
    };
  }

  // What the jitter buffer holds right now (asks the audio thread).
  playerState() {
    return this.player ? this.player.state() : Promise.resolve(null);
  }
}

window.parley = new App();
