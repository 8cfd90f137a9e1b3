// parley-capture: the microphone's AudioWorklet processor.
//
// Runs on the audio rendering thread, 128 samples at a time. It takes the microphone signal at
// the AudioContext's rate (usually 44.1 or 48 kHz), low-pass filters it, resamples it to 16 kHz,
// converts it to PCM16 and posts one 20 ms frame (320 samples) at a time to the main thread, which
// sends each frame to the server as one binary WebSocket message (docs/protocol.md §2).
//
// Messages in:   {type: 'mute', muted}   while muted, frames carry silence (the server's input
//                                        timeline keeps running, as with a real muted microphone)
// Messages out:  {type: 'frame', pcm: ArrayBuffer (Int16 samples, transferred), peak: 0..1}

const TARGET_RATE_HZ = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const FILTER_TAPS = 31;

// A windowed-sinc low-pass FIR filter: `cutoff` in cycles per input sample (0..0.5).
function lowPassTaps(n, cutoff) {
  const taps = new Float32Array(n);
  const middle = (n - 1) / 2;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const x = k - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (n - 1));
    taps[k] = sinc * blackman;
    sum += taps[k];
  }
  for (let k = 0; k < n; k++) taps[k] /= sum; // unity gain at DC
  return taps;
}

// Streaming resampler: anti-alias filter, then linear interpolation at the output positions.
// Good enough for speech recognition; it keeps its state between blocks, so frame boundaries
// leave no clicks.
class Resampler {
  constructor(inRateHz, outRateHz) {
    this.step = inRateHz / outRateHz; // input samples per output sample
    this.taps = inRateHz === outRateHz ? Float32Array.of(1) : lowPassTaps(FILTER_TAPS, (0.45 * Math.min(inRateHz, outRateHz)) / inRateHz);
    this.history = new Float32Array(this.taps.length); // the last inputs, a ring
    this.newest = 0; // index of the newest input in `history`
    this.previous = 0; // the previous filtered sample
    this.position = 0; // where the next output lies, in input samples after `previous` (0..1]
  }

  // Feeds input samples; calls emit(sample) for every output sample that becomes available.
  push(input, emit) {
    const { taps, history } = this;
    const n = taps.length;
    for (let i = 0; i < input.length; i++) {
      this.newest = (this.newest + 1) % n;
      history[this.newest] = input[i];
      let filtered = 0;
      for (let k = 0, j = this.newest; k < n; k++, j = j === 0 ? n - 1 : j - 1) filtered += taps[k] * history[j];
      while (this.position <= 1) {
        emit(this.previous + (filtered - this.previous) * this.position);
        this.position += this.step;
      }
      this.position -= 1;
      this.previous = filtered;
    }
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Resampler(sampleRate, TARGET_RATE_HZ); // `sampleRate`: the context's, a worklet global
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.peak = 0;
    this.muted = false;
    this.port.onmessage = (event) => {
      if (event.data.type === 'mute') this.muted = Boolean(event.data.muted);
    };
  }

  process(inputs) {
    const mono = inputs[0] && inputs[0][0]; // the first channel; absent while nothing is connected
    if (mono) this.resampler.push(mono, (sample) => this.append(sample));
    return true; // keep running while the node is alive
  }

  append(sample) {
    const clamped = this.muted ? 0 : Math.max(-1, Math.min(1, sample));
    this.peak = Math.max(this.peak, Math.abs(clamped));
    this.frame[this.filled++] = Math.round(clamped * 32767);
    if (this.filled < FRAME_SAMPLES) return;
    const pcm = this.frame.buffer;
    this.port.postMessage({ type: 'frame', pcm, peak: this.peak }, [pcm]);
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.peak = 0;
  }
}

registerProcessor('parley-capture', CaptureProcessor);
