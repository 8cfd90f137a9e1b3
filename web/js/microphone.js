// The microphone: getUserMedia → AudioWorklet (worklets/capture.js) → 20 ms PCM16 frames at 16 kHz.
//
//   const mic = await Microphone.open(audioContext, { echoCancellation: true });
//   mic.addEventListener('frame', (e) => connection.sendAudio(e.detail.pcm));  // Int16Array, 320 samples
//   mic.muted = true;   // frames keep coming, silent
//   mic.close();
//
// Echo cancellation is on by default: with loudspeakers, the reply would otherwise reach the
// microphone and interrupt itself (barge-in). Noise suppression is left to the server, which
// runs its own for the VAD and gives the recognizer the audio as it came.

export const INPUT_RATE_HZ = 16000;

export class Microphone extends EventTarget {
  static async open(context, { echoCancellation = true } = {}) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation, noiseSuppression: false, autoGainControl: true },
    });
    await context.audioWorklet.addModule(new URL('../worklets/capture.js', import.meta.url));
    return new Microphone(context, stream);
  }

  constructor(context, stream) {
    super();
    this.stream = stream;
    this.source = context.createMediaStreamSource(stream);
    // No outputs: the node only listens. It runs as long as it is connected to the source.
    this.node = new AudioWorkletNode(context, 'parley-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
    this.node.port.onmessage = (event) => {
      if (event.data.type !== 'frame') return;
      this.level = event.data.peak;
      this.dispatchEvent(new CustomEvent('frame', { detail: { pcm: new Int16Array(event.data.pcm), peak: event.data.peak } }));
    };
    this.source.connect(this.node);
    this.level = 0;
    this.mutedValue = false;
  }

  get muted() {
    return this.mutedValue;
  }

  set muted(value) {
    this.mutedValue = Boolean(value);
    this.node.port.postMessage({ type: 'mute', muted: this.mutedValue });
  }

  close() {
    this.source.disconnect();
    this.node.port.onmessage = null;
    for (const track of this.stream.getTracks()) track.stop();
  }
}
