#!/usr/bin/env python3
"""Generate the turn-taking corpus: utterances with pauses mid-sentence and at clause boundaries.

Each line of utterances.tsv is spoken by the voices of its split (flite and espeak-ng). A paused
utterance ("set a timer for | ten minutes") is synthesised as two halves, each trimmed to its
speech, and joined with 300, 500, 700, 900 and 1200 ms of silence; a short complete one is
spoken whole. Every file is 16 kHz mono PCM16 with 400 ms of silence before the speech and
2500 ms after it (room for the longest endpoint), written to OUT/wav/, and described by one line
of OUT/manifest.jsonl in the corpus format (src/parley/apps/manifest.hpp) plus:
  pauses_ms   [[start_ms, end_ms], ...]: each inserted pause (empty without one)
  pause_ms    the inserted pause length (0 without one)
  pause_kind  "mid_sentence" | "clause" | "none"
  before_pause "complete" | "incomplete" | "none": is the text before the pause a complete
              request on its own (utterances.tsv says why it matters)
  split       "dev" | "test": tune on dev only. The voices AND the sentences of the two splits
              differ: a test file has a voice and a phrasing that no dev file has.
  segments    [{"text", "start_ms", "end_ms"}, ...]: what is said when (the halves)
  max_gap_ms  the longest quiet stretch INSIDE a half (10 ms frames 35 dB below its peak): the
              synthesiser's own gaps between words, which any silence threshold must exceed
  duration_ms the file's length
Deterministic: the per-file speaking rate comes from a fixed-seed generator keyed by the file
name, so two runs with the same synthesiser versions write the same corpus.

Needs python3, flite, espeak-ng and sox.   Run: bench/turns/make_turn_corpus.py [OUT]  (default out/turns)
"""
import array
import collections
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import wave

RATE = 16000
LEAD_MS = 400
TAIL_MS = 2500
FRAME_MS = 10
PAUSES_MS = [300, 500, 700, 900, 1200]
SEED = 20240611

# (engine, voice, split). flite: check `flite -lv`; espeak-ng: language + variant.
VOICES = [
    ("flite", "slt", "dev"),
    ("flite", "rms", "dev"),
    ("espeak", "en-us", "dev"),
    ("espeak", "en-gb+f3", "dev"),
    ("flite", "awb", "test"),
    ("flite", "kal16", "test"),
    ("espeak", "en-gb-scotland+m3", "test"),
    ("espeak", "en-us+f2", "test"),
]


def read_utterances(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            uid, split, kind, category, before, text = line.split("\t")
            parts = [p.strip() for p in text.split("|")]
            assert split in ("dev", "test") and kind in ("mid_sentence", "clause", "none"), line
            assert (kind == "none") == (len(parts) == 1), f"{uid}: '|' must match pause_kind"
            assert before == ("-" if kind == "none" else "incomplete" if kind == "mid_sentence" else before), line
            assert before in ("complete", "incomplete", "-"), line
            rows.append({"id": uid, "split": split, "kind": kind, "category": category,
                         "before": "none" if before == "-" else before, "parts": parts})
    return rows


def synth(engine, voice, text, rng, tmp):
    """One piece of speech as 16 kHz mono samples, trimmed to its speech."""
    raw, res = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "res.wav")
    if engine == "flite":
        stretch = rng.uniform(0.9, 1.15)
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}", "-t", text, "-o", raw],
                       check=True)
    else:
        wpm = rng.randint(145, 180)
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", raw, text], check=True)
    subprocess.run(["sox", "-R", "-V1", "-G", raw, "-r", str(RATE), "-c", "1", "-b", "16", res], check=True)
    return trim(read_pcm(res))


def frame_rms(samples):
    n = RATE * FRAME_MS // 1000
    return [math.sqrt(sum(s * s for s in samples[i:i + n]) / n) + 1e-9 for i in range(0, len(samples) - n + 1, n)]


def longest_gap_ms(samples):
    """The longest run of 10 ms frames 35 dB below the loudest one, inside a trimmed piece."""
    rms = frame_rms(samples)
    floor = max(rms) * 10 ** (-35 / 20)
    run = longest = 0
    for r in rms:
        run = run + 1 if r <= floor else 0
        longest = max(longest, run)
    return longest * FRAME_MS


def read_pcm(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        data = array.array("h")
        data.frombytes(w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return data


def write_pcm(path, samples):
    out = array.array("h", samples)
    if sys.byteorder == "big":
        out.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(out.tobytes())


def trim(samples):
    """Cut to the first..last 10 ms frame within 35 dB of the loudest (as ../shared/corpus does)."""
    n = RATE * FRAME_MS // 1000
    rms = frame_rms(samples)
    floor = max(rms) * 10 ** (-35 / 20)
    voiced = [i for i, r in enumerate(rms) if r > floor]
    return samples[voiced[0] * n:(voiced[-1] + 1) * n]


def ms(n_samples):
    return n_samples * 1000 // RATE


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else "out/turns"
    os.makedirs(os.path.join(out, "wav"), exist_ok=True)
    utterances = read_utterances(os.path.join(here, "utterances.tsv"))
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for u in utterances:
            for engine, voice, split in VOICES:
                if split != u["split"]:
                    continue
                tag = f"{engine}-{voice.replace('+', '_')}"
                rng = random.Random(f"{SEED}-{u['id']}-{tag}")
                pieces = [synth(engine, voice, part, rng, tmp) for part in u["parts"]]
                max_gap = max(longest_gap_ms(p) for p in pieces)
                for pause_ms in (PAUSES_MS if len(pieces) > 1 else [0]):
                    samples = array.array("h", bytes(2 * RATE * LEAD_MS // 1000))
                    segments, pauses = [], []
                    for i, piece in enumerate(pieces):
                        if i:
                            start = len(samples)
                            samples.extend(array.array("h", bytes(2 * RATE * pause_ms // 1000)))
                            pauses.append([ms(start), ms(len(samples))])
                        segments.append({"text": u["parts"][i], "start_ms": ms(len(samples)),
                                         "end_ms": ms(len(samples) + len(piece))})
                        samples.extend(piece)
                    speech_end = ms(len(samples))
                    samples.extend(array.array("h", bytes(2 * RATE * TAIL_MS // 1000)))
                    fid = u["id"] if not pause_ms else f"{u['id']}-p{pause_ms}"
                    name = f"{fid}-{tag}.wav"
                    write_pcm(os.path.join(out, "wav", name), samples)
                    manifest.append({
                        "id": fid, "file": f"wav/{name}", "text": " ".join(u["parts"]),
                        "category": u["category"], "voice": f"{engine}:{voice}", "condition": "clean",
                        "speech_start_ms": LEAD_MS, "speech_end_ms": speech_end, "pauses_ms": pauses,
                        "pause_ms": pause_ms, "pause_kind": u["kind"], "before_pause": u["before"], "split": split,
                        "segments": segments,
                        "max_gap_ms": max_gap, "duration_ms": ms(len(samples)),
                    })
    with open(os.path.join(out, "manifest.jsonl"), "w", encoding="utf-8") as f:
        for row in manifest:
            f.write(json.dumps(row) + "\n")

    # Summary: files per split and kind, the voices and sentences of each split, seconds of audio.
    by = collections.Counter((r["split"], r["pause_kind"]) for r in manifest)
    print(f"{len(manifest)} files written to {out} (manifest.jsonl, wav/)")
    for split in ("dev", "test"):
        voices = sorted({r["voice"] for r in manifest if r["split"] == split})
        sentences = {u["id"] for u in utterances if u["split"] == split}
        seconds = sum(r["duration_ms"] for r in manifest if r["split"] == split) / 1000
        kinds = ", ".join(f"{k} {by[(split, k)]}" for k in ("mid_sentence", "clause", "none"))
        gap = max(r["max_gap_ms"] for r in manifest if r["split"] == split)
        print(f"  {split}: {kinds}; {len(sentences)} sentences; voices {', '.join(voices)}; {seconds:.0f} s of audio; "
              f"longest gap inside speech {gap} ms")
    print(f"  pauses: {', '.join(str(p) for p in PAUSES_MS)} ms")


if __name__ == "__main__":
    main()
