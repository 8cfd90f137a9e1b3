#!/usr/bin/env python3
"""parley with another `parley serve` as its speech provider (--asr-url, --tts-url), side by side
in one run, on the same corpus turns:

  embedded   the embedded recognizer and voice alone (no provider)
  provider   the provider up the whole time (what the hop costs over the embedded engines)
  realtime   the same, the recognizer streaming to the provider's Realtime transcription sessions
             (a ws:// --asr-url) instead of posting each utterance when it ends
  killed     the provider killed (SIGKILL) at random moments and restarted after a random pause,
             so turns meet it up, dead, and starting: every turn must still be answered; the
             fallbacks parley logs give the time each one lost before the embedded engine took over
  realtime-killed  the same with the streaming recognizer

Each condition is one `parley bench` (the embedded default stack, --json); TTFA and the recognizer
and voice stages are its p50 / p95. The provider is the same binary with the embedded engines.

  bench/audio_api/fallback.py [--parley build/release/parley] [--corpus ../shared/corpus]
                              [--limit 40] [--speed 2] [--seed 1] [--json out.json]
Loopback only; the killer's loop is bounded by the bench's own run.
"""
import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client

from run import percentile  # bench/audio_api/run.py


class provider:
    """A `parley serve` on a fixed loopback port that can be killed and started again."""

    def __init__(self, parley, port):
        self.parley, self.port, self.child = parley, port, None

    def start(self):
        self.child = subprocess.Popen([self.parley, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                       "--drain-s", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit("the provider did not get ready within 60 s")

    def kill(self):
        if self.child and self.child.poll() is None:
            self.child.send_signal(signal.SIGKILL)
            self.child.wait()

    def stop(self):
        if self.child and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_bench(args, manifest, extra, label):
    out = os.path.join(args.workdir, f"{label}.json")
    cmd = [args.parley, "bench", "--manifest", manifest, "--concurrency", "1", "--speed", str(args.speed),
           "--no-progress", "--json", out] + extra
    started = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{label}: parley bench failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    report = json.load(open(out))
    lost = [float(m.group(2)) for m in re.finditer(r"speech: the (recognizer|voice) fell back to embedded after (\d+) ms", p.stderr)]
    kinds = [m.group(1) for m in re.finditer(r"speech: the (recognizer|voice) fell back", p.stderr)]
    return {"report": report, "lost_ms": lost, "n_asr_fallbacks": kinds.count("recognizer"),
            "n_tts_fallbacks": kinds.count("voice"), "seconds": time.time() - started}


def metric(report, name):
    mode = report.get("streaming", report)
    m = mode.get(name) or {}
    return m.get("n", 0), m.get("p50", float("nan")), m.get("p95", float("nan"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parley", default=os.path.join(root, "build", "release", "parley"))
    ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpus"))
    ap.add_argument("--limit", type=int, default=40, help="clean recordings used (default 40)")
    ap.add_argument("--speed", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    manifest_in = os.path.join(args.corpus, "manifest.jsonl")
    if not os.path.exists(manifest_in):
        sys.exit(f"no corpus at {args.corpus} (this benchmark needs ../shared/corpus)")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as workdir:
        args.workdir = workdir
        items = [json.loads(line) for line in open(manifest_in)]
        items = [i for i in items if i.get("condition") == "clean"][: args.limit]
        manifest = os.path.join(workdir, "clean.jsonl")
        with open(manifest, "w") as f:
            for i in items:
                i = dict(i, file=os.path.join(args.corpus, i["file"]))
                f.write(json.dumps(i) + "\n")

        port = free_port()
        prov = provider(args.parley, port)
        url = f"http://127.0.0.1:{port}/v1"
        with_provider = ["--asr-url", url, "--tts-url", url]
        with_realtime = ["--asr-url", url.replace("http://", "ws://"), "--tts-url", url]
        results = {}
        prov.start()
        try:
            results["embedded"] = run_bench(args, manifest, [], "embedded")
            results["provider"] = run_bench(args, manifest, with_provider, "provider")
            results["realtime"] = run_bench(args, manifest, with_realtime, "realtime")
            # Killed at random moments (every 1.5-6 s), back after 0.3-3 s, until the bench ends.
            for label, extra in (("killed", with_provider), ("realtime-killed", with_realtime)):
                done = threading.Event()
                kills = []

                def killer():
                    while not done.wait(rng.uniform(1.5, 6.0)):
                        prov.kill()
                        kills.append(time.time())
                        if done.wait(rng.uniform(0.3, 3.0)):
                            break
                        prov.start()

                t = threading.Thread(target=killer)
                t.start()
                try:
                    results[label] = run_bench(args, manifest, extra, label)
                finally:
                    done.set()
                    t.join()
                results[label]["n_kills"] = len(kills)
                if prov.child.poll() is not None:
                    prov.start()
        finally:
            prov.stop()

    print(f"parley with another parley serve as speech provider · {len(items)} clean recordings, concurrency 1, "
          f"speed {args.speed} · {os.uname().machine}, {os.cpu_count()} cores")
    print(f"{'condition':15} {'turns':>5} {'ttfa p50':>9} {'ttfa p95':>9} {'asr p50':>8} {'asr p95':>8} "
          f"{'tts p50':>8} {'tts p95':>8}  fallbacks (asr / tts), time lost p50 / p95")
    summary = {}
    for name, r in results.items():
        n, t50, t95 = metric(r["report"], "ttfa")
        _, a50, a95 = metric(r["report"], "asr_final")
        _, s50, s95 = metric(r["report"], "tts_ttfb")
        lost = r["lost_ms"]
        extra = ""
        if lost:
            extra = f"  {r['n_asr_fallbacks']} / {r['n_tts_fallbacks']}, {statistics.median(lost):.0f} / {percentile(lost, 95):.0f} ms"
        if "n_kills" in r:
            extra += f" ({r['n_kills']} kills)"
        print(f"{name:15} {n:>5} {t50:>9.1f} {t95:>9.1f} {a50:>8.1f} {a95:>8.1f} {s50:>8.1f} {s95:>8.1f}{extra}")
        summary[name] = {"turns": n, "ttfa_p50": t50, "ttfa_p95": t95, "asr_final_p50": a50, "asr_final_p95": a95,
                         "tts_ttfb_p50": s50, "tts_ttfb_p95": s95, "n_asr_fallbacks": r["n_asr_fallbacks"],
                         "n_tts_fallbacks": r["n_tts_fallbacks"], "lost_ms": lost, "n_kills": r.get("n_kills", 0)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
