#!/usr/bin/env python3
"""The OpenAI audio endpoints of `parley serve`, measured as a client meets them.

Starts `parley serve` on 127.0.0.1 (a free port), then, one request at a time:
  transcriptions  every clean recording of the corpus (../shared/corpus when present, else
                  sentences spoken by flite here), POSTed as multipart/form-data: the client's
                  latency (request sent to response read), the server's own time (its
                  openai-processing-ms header), their difference (the HTTP hop: upload, parse,
                  answer), and the word error rate against the reference transcripts
  speech          every distinct query text, response_format pcm: time to the first audio byte
                  at the client, the server's time before its first audio (openai-processing-ms),
                  the difference (the hop), the whole response's time and the audio's length

  bench/audio_api/run.py [--parley build/release/parley] [--corpus ../shared/corpus] [--json out.json]
                         [--compare-cli]   (also `parley transcribe FILE` per recording: its WER beside)

Medians and 95th percentiles; side by side in one run. Loopback only.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import http.client
import uuid


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def words(text):
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def edit_distance(ref, hyp):
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)]


def start_server(parley):
    child = subprocess.Popen([parley, "serve", "--host", "127.0.0.1", "--port", "0", "--max-audio-requests", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    port = None
    while port is None:
        line = child.stdout.readline()
        if not line:
            sys.exit("parley serve exited before listening")
        m = re.search(r"parley serve: http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
        if time.time() > deadline:
            sys.exit("parley serve did not listen within 120 s")
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return child, port
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("parley serve was not ready within 120 s")


def corpus_items(corpus, workdir):
    manifest = os.path.join(corpus, "manifest.jsonl") if corpus else ""
    if manifest and os.path.exists(manifest):
        items = [json.loads(line) for line in open(manifest)]
        return [(os.path.join(corpus, i["file"]), i["text"]) for i in items if i.get("condition") == "clean"], "corpus"
    texts = ["what time is it", "what time does the store open on sunday", "do you have gift cards",
             "set a timer for five minutes", "where is the nearest store", "can i return an item without a receipt",
             "how much is shipping to canada", "tell me about your warranty", "is the store open on holidays",
             "what is the weather like today"]
    out = []
    for n, text in enumerate(texts):
        path = os.path.join(workdir, f"s{n}.wav")
        subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", path], check=True)
        out.append((path, text))
    return out, "flite slt (no corpus)"


def transcribe(port, path):
    boundary = "----parley-bench-" + uuid.uuid4().hex
    audio = open(path, "rb").read()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{os.path.basename(path)}\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + audio + \
           f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{boundary}--\r\n".encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    c.request("POST", "/v1/audio/transcriptions", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    r = c.getresponse()
    data = r.read()
    latency_ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        sys.exit(f"transcription of {path}: HTTP {r.status}: {data[:300]!r}")
    return json.loads(data)["text"], latency_ms, float(r.getheader("openai-processing-ms"))


def speak(port, text):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    payload = json.dumps({"model": "tts-1", "voice": "alloy", "input": text, "response_format": "pcm"})
    t0 = time.perf_counter()
    c.request("POST", "/v1/audio/speech", payload, {"Content-Type": "application/json"})
    r = c.getresponse()
    first = r.read1(65536) if hasattr(r, "read1") else r.read(1)
    ttfb_ms = (time.perf_counter() - t0) * 1000
    rest = r.read()
    total_ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        sys.exit(f"speech of {text!r}: HTTP {r.status}")
    n_bytes = len(first) + len(rest)
    return ttfb_ms, float(r.getheader("openai-processing-ms")), total_ms, n_bytes / 2 / 24000


def summary(name, values, unit="ms"):
    return {"name": name, "n": len(values), "p50": statistics.median(values) if values else float("nan"),
            "p95": percentile(values, 95), "unit": unit}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parley", default=os.path.join(root, "build", "release", "parley"))
    ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpus"))
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--repeat", type=int, default=1, help="passes over the speech texts (default 1)")
    ap.add_argument("--compare-cli", action="store_true",
                    help="also run `parley transcribe FILE` (a fresh process per recording) and report its WER beside")
    args = ap.parse_args()
    if not os.access(args.parley, os.X_OK):
        sys.exit(f"no parley binary at {args.parley} (build it: cmake --preset release && cmake --build --preset release)")

    with tempfile.TemporaryDirectory() as workdir:
        items, source = corpus_items(args.corpus, workdir)
        child, port = start_server(args.parley)
        try:
            rows = []
            lat, proc, hop, errors, n_words = [], [], [], 0, 0
            for n, (path, ref) in enumerate(items, 1):
                text, latency_ms, processing_ms = transcribe(port, path)
                lat.append(latency_ms)
                proc.append(processing_ms)
                hop.append(latency_ms - processing_ms)
                errors += edit_distance(words(ref), words(text))
                n_words += len(words(ref))
                print(f"\rtranscriptions {n}/{len(items)}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            cli_errors = None
            if args.compare_cli:
                cli_errors = 0
                for n, (path, ref) in enumerate(items, 1):
                    out = subprocess.run([args.parley, "transcribe", path], capture_output=True, text=True)
                    cli_errors += edit_distance(words(ref), words(out.stdout))
                    print(f"\rparley transcribe {n}/{len(items)}", end="", file=sys.stderr, flush=True)
                print(file=sys.stderr)
            rows += [summary("transcription: client latency", lat), summary("transcription: server processing", proc),
                     summary("transcription: HTTP hop (latency - processing)", hop)]
            wer = 100.0 * errors / max(1, n_words)

            texts = sorted({ref for _, ref in items})
            ttfb, before_audio, speech_hop, total, rtf = [], [], [], [], []
            for rep in range(args.repeat):
                for n, text in enumerate(texts, 1):
                    t_first, p_ms, t_total, audio_s = speak(port, text)
                    ttfb.append(t_first)
                    before_audio.append(p_ms)
                    speech_hop.append(t_first - p_ms)
                    total.append(t_total)
                    rtf.append(t_total / 1000.0 / audio_s)
                    print(f"\rspeech {rep * len(texts) + n}/{len(texts) * args.repeat}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            rows += [summary("speech: first audio byte at the client", ttfb),
                     summary("speech: server time before its first audio", before_audio),
                     summary("speech: HTTP hop (first byte - server time)", speech_hop),
                     summary("speech: whole response", total), summary("speech: response time / audio time", rtf, "×")]
        finally:
            child.terminate()
            child.wait(timeout=30)

    print(f"parley serve /v1/audio · {source}: {len(items)} recordings, {len(texts)} texts · {os.uname().machine}, "
          f"{os.cpu_count()} cores")
    print(f"transcription WER {wer:.1f} % ({errors} errors / {n_words} words)" +
          (f"; parley transcribe, a fresh process per file: {100.0 * cli_errors / max(1, n_words):.1f} % "
           f"({cli_errors} errors)" if cli_errors is not None else ""))
    print(f"{'':52} {'n':>4} {'p50':>9} {'p95':>9}")
    for r in rows:
        print(f"{r['name']:52} {r['n']:>4} {r['p50']:>9.2f} {r['p95']:>9.2f} {r['unit']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"source": source, "wer_percent": wer,
                       "cli_wer_percent": None if cli_errors is None else 100.0 * cli_errors / max(1, n_words),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
