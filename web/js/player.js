// Reply playback: the main-thread side of the jitter buffer in worklets/playout.js.
//
//   const player = await Player.create(audioContext);
//   player.addEventListener('progress', (e) => send('playout.progress', e.detail));  // {generation, played_samples, done}
//   player.push(generation, int16Samples, rateHz);   // audio as it arrives
//   player.end(generation);                          // response.audio.done: play out the tail
//   await player.clear(generation);                  // response.interrupted: silence now
//   await player.state();                            // what the buffer holds (for the page and tests)
//
// The buffer itself lives on the audio thread; this class converts PCM16 to floats, forwards
// commands, and turns the worklet's replies into events and promises.

export class Player extends EventTarget {
  static async create(context) {
    await context.audioWorklet.addModule(new URL('../worklets/playout.js', import.meta.url));
    return new Player(context);
  }

  constructor(context) {
    super();
    this.node = new AudioWorkletNode(context, 'parley-playout', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    this.node.connect(context.destination);
    this.pending = new Map(); // request id -> resolve, for clear() and state()
    this.nextRequestId = 1;
    this.node.port.onmessage = (event) => this.onMessage(event.data);
  }

  push(generation, int16Samples, rateHz) {
    const samples = new Float32Array(int16Samples.length);
    for (let i = 0; i < samples.length; i++) samples[i] = int16Samples[i] / 32768;
    this.node.port.postMessage({ type: 'push', generation, samples, rateHz }, [samples.buffer]);
  }

  end(generation) {
    this.node.port.postMessage({ type: 'end', generation });
  }

  // Drops the generation's queued audio (all audio when `generation` is null) and ignores its
  // later frames. Resolves with {droppedSamples, bufferedSamples} once the audio thread has done it.
  clear(generation = null) {
    return this.request({ type: 'clear', generation });
  }

  // Resolves with {playing, bufferedSamples, generations: [...], underruns, staleChunks}.
  state() {
    return this.request({ type: 'query' });
  }

  close() {
    this.node.disconnect();
    this.node.port.onmessage = null;
    for (const resolve of this.pending.values()) resolve(null);
    this.pending.clear();
  }

  request(message) {
    const id = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.node.port.postMessage({ ...message, id });
    });
  }

  onMessage(message) {
    if (message.type === 'progress') {
      const detail = { generation: message.generation, played_samples: message.playedSamples, done: message.done };
      this.dispatchEvent(new CustomEvent('progress', { detail }));
      return;
    }
    const resolve = this.pending.get(message.id);
    if (!resolve) return;
    this.pending.delete(message.id);
    const { type, id, ...result } = message;
    resolve(result);
  }
}
