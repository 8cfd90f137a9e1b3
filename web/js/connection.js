// The realtime session over one WebSocket: protocol v1 (docs/protocol.md), nothing else.
//
//   const connection = new Connection();
//   connection.addEventListener('message', (e) => console.log(e.detail.type, e.detail));
//   connection.addEventListener('audio', (e) => play(e.detail));   // {generation, offset, samples}
//   connection.addEventListener('close', (e) => console.log(e.detail.code, e.detail.reason));
//   const created = await connection.open({ token, session: { input_sample_rate_hz: 16000 } });
//   connection.sendAudio(int16Frame);
//
// `open` sends session.update as the first message and resolves with session.created. Server
// events are dispatched as 'message' events (the JSON object as `detail`); reply audio frames as
// 'audio' events with the 8-byte header decoded and the PCM16 payload as an Int16Array.

export class Connection extends EventTarget {
  constructor() {
    super();
    this.socket = null;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  // Resolves with the session.created event; rejects if the socket closes (or the server answers
  // with an error) before that.
  open({ token = '', session = {} } = {}) {
    const url = new URL('/ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) url.searchParams.set('access_token', token); // browsers cannot set Authorization
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;

    return new Promise((resolve, reject) => {
      let created = false;
      socket.onopen = () => this.send('session.update', { session });
      socket.onmessage = (event) => {
        if (typeof event.data === 'string') {
          const message = parseEvent(event.data);
          if (!message) return;
          if (!created && message.type === 'session.created') {
            created = true;
            resolve(message);
          } else if (!created && message.type === 'error') {
            reject(new Error(`the server refused the session: ${message.error.code}: ${message.error.message}`));
          }
          this.dispatchEvent(new CustomEvent('message', { detail: message }));
        } else {
          const frame = decodeAudioFrame(event.data);
          if (frame) this.dispatchEvent(new CustomEvent('audio', { detail: frame }));
        }
      };
      socket.onclose = (event) => {
        if (this.socket === socket) this.socket = null;
        if (!created) explainRefusal(event.code).then((why) => reject(new Error(why)));
        this.dispatchEvent(new CustomEvent('close', { detail: { code: event.code, reason: event.reason } }));
      };
    });
  }

  close() {
    if (this.socket) this.socket.close(1000, 'client closed');
  }

  // Sends one client event: {type, ...fields}.
  send(type, fields = {}) {
    if (this.isOpen) this.socket.send(JSON.stringify({ type, ...fields }));
  }

  // Sends microphone audio: PCM16 mono at the input rate agreed in session.update.
  sendAudio(int16Samples) {
    if (this.isOpen) this.socket.send(int16Samples);
  }
}

function parseEvent(text) {
  try {
    const message = JSON.parse(text);
    return message && typeof message.type === 'string' ? message : null;
  } catch {
    return null;
  }
}

// Server → client audio: u32 LE generation, u32 LE offset (samples of this generation before this
// frame), then PCM16 LE samples.
const AUDIO_HEADER_BYTES = 8;

export function decodeAudioFrame(buffer) {
  if (buffer.byteLength < AUDIO_HEADER_BYTES || (buffer.byteLength - AUDIO_HEADER_BYTES) % 2 !== 0) return null;
  const view = new DataView(buffer);
  const samples = new Int16Array((buffer.byteLength - AUDIO_HEADER_BYTES) / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(AUDIO_HEADER_BYTES + 2 * i, true);
  return { generation: view.getUint32(0, true), offset: view.getUint32(4, true), samples };
}

// Why the socket closed before the session started. A refused upgrade (401 token, 403 origin,
// 503 loading or busy) reaches a browser only as close code 1006, so ask /readyz which it was.
async function explainRefusal(code) {
  if (code !== 1006) return `the connection closed before the session started (close code ${code})`;
  const ready = await fetch('/readyz').then((response) => response.ok, () => null);
  if (ready === null) return 'the server is unreachable';
  if (!ready) return 'the server is still loading its engines, or stopping: try again in a moment';
  return 'the server refused the connection: a missing or wrong token, an origin it does not allow, or too many sessions';
}
