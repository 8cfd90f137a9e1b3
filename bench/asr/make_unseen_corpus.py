#!/usr/bin/python3
"""Writes the unseen-speech corpus: voices, conditions and phrasings that the tuning corpus
(../shared/corpus, three flite voices and espeak-ng en-us speaking the responder's phrases)
does not contain, split into a dev half (tune on it) and a test half (report it, never tune on it).

Sources, all from Debian packages (festival, festvox-kdlpc16k and pocketsphinx-testdata are not
among scripts/setup.sh's packages: this script installs what it lacks with apt-get):
  festival:ked       festival's kdlpc16k diphone voice (festvox-kdlpc16k), clean
  festival:ked phone8k  the same through a telephone channel: 8 kHz mu-law and back to 16 kHz
  festival:ked pink15   the same with pink noise at 15 dB SNR
  espeak:en-gb       espeak-ng's British English voice
  espeak:en-us+f3    espeak-ng's American English with a female variant
  human:cards, human:goforward, human:tidigits
                     the recordings of people in pocketsphinx-testdata whose transcripts are known
                     (its librivox clips are left out on purpose: they belong to an outside check;
                     numbers.raw and something.raw come without a transcript)

The prompts below were written for this corpus: open questions, names, numbers and long sentences
next to requests the responder handles, in other words than the tuning corpus uses. Each category's
prompts alternate between the halves, so both halves hold every category and no prompt is in both.

Output: OUTDIR/wav/*.wav (16 kHz mono PCM16, 400 ms of silence before the speech and 1.6 s after),
OUTDIR/dev.jsonl and OUTDIR/test.jsonl in the manifest format of parley_asr_bench (`speech_end_ms`
measured on the clean signal). Deterministic: the same files every run.

Run: bench/asr/make_unseen_corpus.py OUTDIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 16000
LEAD_MS = 400
TAIL_MS = 1600
TESTDATA = "/usr/share/pocketsphinx/test/data"
PACKAGES = {"text2wave": "festival", "espeak-ng": "espeak-ng", "sox": "sox"}

PROMPTS = {
    "intent": [
        "could you tell me the time please",
        "set a timer for ten minutes",
        "start a timer for thirty seconds",
        "how much is seven plus nine",
        "what day of the week is it",
        "please cancel all my timers",
        "good morning",
        "what is fifteen divided by three",
    ],
    "faq": [
        "when do you open on sunday",
        "can i change my delivery address",
        "how much does shipping cost",
        "do you ship to canada",
        "can i pay with a credit card",
        "how do i track my package",
    ],
    "short": ["okay", "never mind", "go back", "louder please", "that is right", "cancel"],
    "open": [
        "what is the tallest mountain in the world",
        "how do airplanes stay in the air",
        "recommend a good book for a long flight",
        "what is the difference between a virus and a bacteria",
        "how far away is the moon",
        "write a short poem about autumn leaves",
        "what are some healthy snacks for children",
        "how does a refrigerator keep food cold",
    ],
    "names": [
        "call doctor patel at the clinic",
        "send a message to maria and john",
        "how old is barack obama",
        "who wrote pride and prejudice",
        "give me directions to central park in new york",
        "what did albert einstein discover",
    ],
    "numbers": [
        "my phone number is five five five one two three four",
        "book a flight on march twenty third",
        "transfer two hundred and fifty dollars to savings",
        "the code is four seven nine two",
        "set the temperature to seventy two degrees",
        "what is nineteen percent of three hundred",
    ],
    "long": [
        "i would like to know whether the store downtown has the blue running shoes in size ten",
        "can you explain in simple words how the stock market works and why prices change every day",
        "my daughter has a science project about volcanoes and she needs three interesting facts by friday",
        "please find a quiet italian restaurant near the river that is open after ten at night",
        "we are planning a trip to the mountains next month and need a checklist of things to pack",
        "the package i ordered two weeks ago still has not arrived and the tracking page shows no updates",
    ],
}

# (file under TESTDATA, reference, raw sample rate or None for a WAV)
HUMAN = [
    ("cards/001.wav", "ten of clubs", "human:cards", None),
    ("cards/002.wav", "four queen of clubs", "human:cards", None),
    ("cards/003.wav", "seven of clubs", "human:cards", None),
    ("cards/004.wav", "five five", "human:cards", None),
    ("cards/005.wav", "eight of spades four of clubs seven of hearts", "human:cards", None),
    ("goforward.raw", "go forward ten meters", "human:goforward", 16000),
    ("tidigits/dhd.2934z.raw", "two nine three four zero", "human:tidigits", 16000),
]


def ensure_tools():
    missing = sorted({pkg for tool, pkg in PACKAGES.items() if shutil.which(tool) is None})
    for pkg in ("festvox-kdlpc16k", "pocketsphinx-testdata"):
        if subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True).stdout != \
                "install ok installed":
            missing.append(pkg)
    if not missing:
        return
    print(f"make_unseen_corpus: installing {' '.join(missing)}", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True, env=env,
                   stdout=subprocess.DEVNULL)


def to_16k(src, dst, raw_rate=None, phone=False):
    """Any audio → 16 kHz mono PCM16; phone: through 8 kHz mu-law first (a telephone channel)."""
    inp = ["-t", "raw", "-r", str(raw_rate), "-e", "signed", "-b", "16", "-c", "1", src] if raw_rate else [src]
    if phone:
        mid = dst + ".ul.wav"
        subprocess.run(["sox", "-V1"] + inp + ["-r", "8000", "-c", "1", "-e", "u-law", mid], check=True)
        inp = [mid]
    subprocess.run(["sox", "-V1"] + inp + ["-r", str(RATE), "-c", "1", "-e", "signed", "-b", "16", dst], check=True)


def read_pcm(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def write_pcm(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())


def trim(samples):
    """From the first to the last 10 ms frame within 35 dB of the loudest one."""
    n = RATE // 100
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    rms = np.sqrt((frames ** 2).mean(axis=1)) + 1e-9
    voiced = np.nonzero(rms > rms.max() * 10 ** (-35 / 20))[0]
    return samples[voiced[0] * n:(voiced[-1] + 1) * n]


def pink(count, seed):
    """Pink noise: white noise through a 1/f filter in the frequency domain."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    f = np.arange(len(spectrum))
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    return np.fft.irfft(spectrum, count)


def with_noise(samples, snr_db, seed):
    speech = samples[samples != 0]
    noise = pink(len(samples), seed)
    gain = np.sqrt((speech ** 2).mean() / ((noise ** 2).mean() * 10 ** (snr_db / 10)))
    return samples + gain * noise


def padded(speech):
    lead = np.zeros(RATE * LEAD_MS // 1000)
    tail = np.zeros(RATE * TAIL_MS // 1000)
    return np.concatenate([lead, speech, tail]), LEAD_MS + len(speech) * 1000 // RATE


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 2
    out = sys.argv[1]
    ensure_tools()
    os.makedirs(os.path.join(out, "wav"), exist_ok=True)
    rows = {"dev": [], "test": []}

    def add(split, qid, category, text, voice, condition, samples, speech_end_ms):
        name = f"{qid}-{voice.replace(':', '-').replace('+', '-')}-{condition}.wav"
        write_pcm(os.path.join(out, "wav", name), samples)
        rows[split].append({"id": qid, "file": f"wav/{name}", "text": text, "category": category, "voice": voice,
                            "condition": condition, "split": split, "speech_start_ms": LEAD_MS,
                            "speech_end_ms": speech_end_ms, "pauses_ms": [],
                            "duration_ms": len(samples) * 1000 // RATE})

    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for category, prompts in PROMPTS.items():
            for i, text in enumerate(prompts):
                split = "dev" if i % 2 == 0 else "test"
                qid = f"u{n:02d}"
                n += 1
                txt = os.path.join(tmp, "t.txt")
                with open(txt, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
                ked = os.path.join(tmp, "ked.wav")
                subprocess.run(["text2wave", "-eval", "(voice_ked_diphone)", txt, "-o", ked], check=True)
                for voice, condition, src, phone in [("festival:ked", "clean", ked, False),
                                                     ("festival:ked", "phone8k", ked, True)]:
                    dst = os.path.join(tmp, "x.wav")
                    to_16k(src, dst, phone=phone)
                    samples, end = padded(trim(read_pcm(dst)))
                    add(split, qid, category, text, voice, condition, samples, end)
                    if condition == "clean":
                        add(split, qid, category, text, voice, "pink15", with_noise(samples, 15.0, n), end)
                for voice in ("en-gb", "en-us+f3"):
                    raw = os.path.join(tmp, "e.wav")
                    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", raw, text], check=True)
                    dst = os.path.join(tmp, "x.wav")
                    to_16k(raw, dst)
                    samples, end = padded(trim(read_pcm(dst)))
                    add(split, qid, category, text, f"espeak:{voice}", "clean", samples, end)
            print(f"make_unseen_corpus: {category}: {len(prompts)} prompts", file=sys.stderr)
        for i, (path, text, voice, raw_rate) in enumerate(HUMAN):
            dst = os.path.join(tmp, "h.wav")
            to_16k(os.path.join(TESTDATA, path), dst, raw_rate=raw_rate)
            samples, end = padded(trim(read_pcm(dst)))
            add("dev" if i % 2 == 0 else "test", f"h{i:02d}", "human", text, voice, "clean", samples, end)

    for split, manifest in rows.items():
        with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for row in manifest:
                f.write(json.dumps(row) + "\n")
        print(f"make_unseen_corpus: {len(manifest)} files in {os.path.join(out, split + '.jsonl')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
