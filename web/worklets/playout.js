// parley-playout: the reply's jitter buffer, an AudioWorklet processor.
//
// Runs on the audio rendering thread, 128 samples at a time. Reply audio arrives from the network
// in bursts (the synthesizer is usually faster than real time) and sometimes late; this buffer
// queues it per generation (one reply attempt, docs/protocol.md §2) and plays it at the
// AudioContext's rate:
//
//   - a generation starts playing once PREBUFFER_MS of it is queued (or all of it, if shorter):
//     a little latency buys protection against network jitter;
//   - when the queue runs dry before the generation's end (an underrun) it plays silence, counts
//     the underrun and prebuffers again;
//   - `clear` drops a generation at once (response.interrupted): the next 128-sample block is
//     already silent, and later audio of that generation is ignored;
//   - every ~100 ms while a generation plays, and once when it has played to the end, it reports
//     how many of the generation's samples were played, at the server's rate: the main thread
//     forwards that as playout.progress.
//
// Messages in:
//   {type: 'push', generation, samples: Float32Array (at rateHz, transferred), rateHz}
//   {type: 'end', generation}                  all audio of the generation was sent
//   {type: 'clear', id, generation}            drop that generation (or everything, when null)
//   {type: 'query', id}                        report the buffer's state
// Messages out:
//   {type: 'progress', generation, playedSamples, done}
//   {type: 'cleared', id, generation, droppedSamples, bufferedSamples}
//   {type: 'state', id, playing, bufferedSamples, generations: [{generation, bufferedSamples, playedSamples}], underruns, staleChunks}

const PREBUFFER_MS = 60;
const PROGRESS_INTERVAL_MS = 100;

// One generation's audio, resampled to the context rate when the server's rate differs.
class Generation {
  constructor(id, rateHz) {
    this.id = id;
    this.rateHz = rateHz;
    this.ratio = rateHz / sampleRate; // server samples per context sample
    this.chunks = []; // Float32Arrays at the context rate, oldest first
    this.readIndex = 0; // position in chunks[0]
    this.bufferedOut = 0; // context-rate samples queued and not yet played
    this.playedOut = 0; // context-rate samples played
    this.receivedSamples = 0; // server-rate samples received
    this.ended = false; // response.audio.done arrived: no more audio will come
    this.playing = false; // prebuffered, now playing (false again after an underrun)
    this.resampleLast = 0; // linear interpolation state (when the rates differ)
    this.resamplePosition = 0;
  }

  push(samples) {
    this.receivedSamples += samples.length;
    const out = this.ratio === 1 ? samples : this.resample(samples);
    if (out.length === 0) return;
    this.chunks.push(out);
    this.bufferedOut += out.length;
  }

  resample(samples) {
    const out = [];
    for (let i = 0; i < samples.length; i++) {
      while (this.resamplePosition <= 1) {
        out.push(this.resampleLast + (samples[i] - this.resampleLast) * this.resamplePosition);
        this.resamplePosition += this.ratio;
      }
      this.resamplePosition -= 1;
      this.resampleLast = samples[i];
    }
    return Float32Array.from(out);
  }

  // Copies up to `count` samples into `output` from `offset`; returns how many it copied.
  read(output, offset, count) {
    let copied = 0;
    while (copied < count && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(count - copied, chunk.length - this.readIndex);
      output.set(chunk.subarray(this.readIndex, this.readIndex + n), offset + copied);
      copied += n;
      this.readIndex += n;
      if (this.readIndex === chunk.length) {
        this.chunks.shift();
        this.readIndex = 0;
      }
    }
    this.bufferedOut -= copied;
    this.playedOut += copied;
    return copied;
  }

  // What the server counts: samples at its rate (never more than it sent).
  playedSamples() {
    if (this.ended && this.bufferedOut === 0) return this.receivedSamples;
    return Math.min(this.receivedSamples, Math.round(this.playedOut * this.ratio));
  }

  bufferedSamples() {
    return Math.round(this.bufferedOut * this.ratio);
  }
}

class PlayoutProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.generations = new Map(); // id -> Generation, in arrival order; the first one plays
    this.cleared = new Set(); // ids of cleared generations: their late audio is ignored
    this.prebufferOut = Math.round((PREBUFFER_MS / 1000) * sampleRate);
    this.progressIntervalOut = Math.round((PROGRESS_INTERVAL_MS / 1000) * sampleRate);
    this.sinceProgressOut = 0;
    this.underruns = 0;
    this.staleChunks = 0;
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    switch (message.type) {
      case 'push': {
        if (this.cleared.has(message.generation)) {
          this.staleChunks++;
          return;
        }
        let generation = this.generations.get(message.generation);
        if (!generation) {
          generation = new Generation(message.generation, message.rateHz);
          this.generations.set(message.generation, generation);
        }
        generation.push(message.samples);
        return;
      }
      case 'end': {
        const generation = this.generations.get(message.generation);
        if (generation) generation.ended = true;
        return;
      }
      case 'clear': {
        let dropped = 0;
        for (const [id, generation] of this.generations) {
          if (message.generation !== null && id !== message.generation) continue;
          dropped += generation.bufferedSamples();
          this.generations.delete(id);
          this.cleared.add(id);
        }
        if (message.generation !== null) this.cleared.add(message.generation);
        this.sinceProgressOut = 0;
        this.port.postMessage({ type: 'cleared', id: message.id, generation: message.generation, droppedSamples: dropped, bufferedSamples: this.totalBuffered() });
        return;
      }
      case 'query': {
        const current = this.current();
        this.port.postMessage({
          type: 'state',
          id: message.id,
          playing: current && current.playing ? current.id : null,
          bufferedSamples: this.totalBuffered(),
          generations: [...this.generations.values()].map((g) => ({ generation: g.id, bufferedSamples: g.bufferedSamples(), playedSamples: g.playedSamples() })),
          underruns: this.underruns,
          staleChunks: this.staleChunks,
        });
        return;
      }
    }
  }

  current() {
    return this.generations.values().next().value; // the oldest generation still queued
  }

  totalBuffered() {
    let total = 0;
    for (const generation of this.generations.values()) total += generation.bufferedSamples();
    return total;
  }

  process(inputs, outputs) {
    const output = outputs[0][0];
    output.fill(0);
    let filled = 0;
    while (filled < output.length) {
      const generation = this.current();
      if (!generation) break;
      if (!generation.playing) {
        const enough = generation.bufferedOut >= this.prebufferOut || (generation.ended && generation.bufferedOut > 0);
        if (!enough && !(generation.ended && generation.bufferedOut === 0)) break; // still prebuffering
        generation.playing = true;
      }
      filled += generation.read(output, filled, output.length - filled);
      if (generation.bufferedOut > 0) continue; // the block is full
      if (generation.ended) {
        this.finish(generation);
        continue; // the next generation may start in this same block
      }
      generation.playing = false; // ran dry before its end: an underrun
      this.underruns++;
      break;
    }
    this.reportProgress(output.length);
    return true;
  }

  finish(generation) {
    this.generations.delete(generation.id);
    this.port.postMessage({ type: 'progress', generation: generation.id, playedSamples: generation.playedSamples(), done: true });
    this.sinceProgressOut = 0;
  }

  reportProgress(blockSamples) {
    const generation = this.current();
    if (!generation || generation.playedOut === 0) return; // nothing has been heard yet
    this.sinceProgressOut += blockSamples;
    if (this.sinceProgressOut < this.progressIntervalOut) return;
    this.sinceProgressOut = 0;
    this.port.postMessage({ type: 'progress', generation: generation.id, playedSamples: generation.playedSamples(), done: false });
  }
}

registerProcessor('parley-playout', PlayoutProcessor);
