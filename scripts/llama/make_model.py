#!/usr/bin/python3
"""Writes a GGUF model with random weights in the llama architecture, for tests and benchmarks.

The tokenizer (vocabulary, scores, token types, special token ids) is copied from one of the vocab
files shipped in the pinned llama.cpp source (default: models/ggml-vocab-phi-3.gguf, a 32064-token
SentencePiece vocab whose special tokens <|system|> <|user|> <|assistant|> <|end|> make a proper
chat format). Its own chat template drops system messages, so a template that keeps them is set
instead (see CHAT_TEMPLATE); llama.cpp recognises it as the "phi3" format both through Jinja
(llama-server) and through llama_chat_apply_template (the embedded engine).

The text it generates is gibberish (random words and word pieces from the vocabulary, varied,
not one word repeated), but the numbers are sane (no NaN/inf): weights are scaled so activations
stay near unit variance and logits have a standard deviation of about 4. By default the output
rows of the control, user-defined and byte tokens (EOG tokens included) are scaled down by 10, so
those tokens are (practically) never sampled: every generation runs to max_tokens / n_predict,
and the streamed text is valid UTF-8 split at token boundaries. --allow-eog keeps them ordinary.

Sizes (separate input and output embeddings; GQA with n_head_kv < n_head, like current small
models; the 32064 x n_embd embedding matrices are a large share of the parameters):
  tiny   2 layers, n_embd 64, 4 heads (2 KV), n_ff 256, f16, ctx 2048: 4.2M params, 9.2 MB.
         For tests: written in about a second; llama-server generates ~1000 tokens/s with it on
         2 cores, so a stream is long enough to cancel in the middle.
  small  12 layers, n_embd 768, 12 heads (4 KV), n_ff 2048, f16, ctx 4096: 125M params (75M in
         the layers), 250 MB, written in about 4 s. A model of realistic size for a CPU benchmark:
         on the 2-core development machine llama-server processes a 500-token prompt in about
         1.8 s (more when the machine is busy) and generates ~10-15 tokens/s, so prompt (KV)
         reuse is clearly measurable. f16 halves the file and the memory traffic against f32
         (--type f32) at the same compute.

Deterministic: the same options (and seed) give a byte-identical file.

Usage (numpy is needed; gguf-py is found in third_party/llama/src/gguf-py when not on PYTHONPATH):
  /usr/bin/python3 scripts/llama/make_model.py --out build/tiny.gguf --size tiny
  /usr/bin/python3 scripts/llama/make_model.py --out /tmp/small.gguf --size small --seed 7
Exit status: 0 written, 2 bad usage, 77 numpy or gguf-py unavailable (tests skip on 77).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LLAMA_SRC = ROOT / "third_party" / "llama" / "src"
DEFAULT_VOCAB = LLAMA_SRC / "models" / "ggml-vocab-phi-3.gguf"
EXIT_UNAVAILABLE = 77

# phi3-style turns that keep the system message. No {{ bos_token }}: the vocab's add_bos_token is
# true, so the tokenizer adds BOS itself.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

SIZES = {
    # n_layer, n_embd, n_head, n_head_kv, n_ff, default weight type, default context length
    "tiny": dict(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=256, type="f16", ctx=2048),
    "small": dict(n_layer=12, n_embd=768, n_head=12, n_head_kv=4, n_ff=2048, type="f16", ctx=4096),
}

LOGIT_STD = 4.0         # standard deviation of the output logits
SPECIAL_SCALE = 0.1     # embedding scale of the tokens that should not be sampled


def import_deps():
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("make_model: numpy is not available for %s (use /usr/bin/python3 with Debian's "
              "python3-numpy)" % sys.executable, file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)
    try:
        import gguf  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(LLAMA_SRC / "gguf-py"))
        try:
            import gguf  # noqa: F401,F811
        except ImportError as e:
            print("make_model: gguf-py not found (%s); run scripts/fetch_llama.sh" % e, file=sys.stderr)
            sys.exit(EXIT_UNAVAILABLE)


def read_vocab(path: str):
    """GGUFReader on the vocab file, loaded into memory instead of memory-mapped: the reader slices
    its data once per token, and plain arrays slice about 4x faster than np.memmap (0.6 s instead
    of 2.7 s for the 32k-token phi-3 vocab)."""
    import numpy as np
    from gguf import gguf_reader

    class in_memory_numpy:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def memmap(file, mode="r"):
            return np.fromfile(file, dtype=np.uint8)

    saved = gguf_reader.np
    gguf_reader.np = in_memory_numpy()
    try:
        return gguf_reader.GGUFReader(path)
    finally:
        gguf_reader.np = saved


def copy_tokenizer(reader, writer, gguf):
    """Copies every tokenizer.* key of the vocab file except the chat template(s).

    Returns (n_vocab, token_types)."""
    GT = gguf.GGUFValueType
    n_vocab = None
    token_types = None
    for name, field in reader.fields.items():
        if not name.startswith("tokenizer.") or name.startswith("tokenizer.chat_template"):
            continue
        main = field.types[0]
        if main == GT.ARRAY:
            sub = field.types[-1]
            if sub == GT.STRING:
                value = [bytes(field.parts[i]) for i in field.data]   # raw UTF-8, as stored
            else:
                value = [field.parts[i][0].item() for i in field.data]
            writer.add_key_value(name, value, main, sub_type=sub)
            if name == "tokenizer.ggml.tokens":
                n_vocab = len(value)
            if name == "tokenizer.ggml.token_type":
                token_types = value
        elif main == GT.STRING:
            writer.add_key_value(name, bytes(field.parts[-1]).decode("utf-8"), main)
        else:
            writer.add_key_value(name, field.parts[-1][0].item(), main)
    if n_vocab is None:
        raise SystemExit("make_model: the vocab file has no tokenizer.ggml.tokens")
    return n_vocab, token_types


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Write a random-weight llama-architecture GGUF model (see the module docstring).")
    ap.add_argument("--out", required=True, help="output .gguf path (parent directories are created)")
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=None,
                    help="context length metadata (llama.context_length); default 2048 tiny, 4096 small")
    ap.add_argument("--type", choices=("f16", "f32"), default=None,
                    help="weight type of the matrices (norms stay f32); default f16")
    ap.add_argument("--vocab", default=str(DEFAULT_VOCAB),
                    help="GGUF vocab file whose tokenizer.* keys are copied (default: %(default)s)")
    ap.add_argument("--allow-eog", action="store_true",
                    help="do not suppress control/EOG/byte tokens (generation may then stop early)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    import_deps()
    import numpy as np
    import gguf

    t0 = time.monotonic()
    hp = dict(SIZES[args.size])
    ctx = args.ctx if args.ctx is not None else hp["ctx"]
    wtype = args.type or hp["type"]
    if ctx < 16:
        ap.error("--ctx must be at least 16")
    n_layer, n_embd, n_head, n_head_kv, n_ff = (hp[k] for k in ("n_layer", "n_embd", "n_head", "n_head_kv", "n_ff"))
    head_dim = n_embd // n_head

    reader = read_vocab(args.vocab)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp%d" % os.getpid())

    arch = "llama"
    w = gguf.GGUFWriter(str(tmp), arch)
    w.add_name("parley random llama %s (seed %d)" % (args.size, args.seed))
    w.add_description("random weights for tests and benchmarks; generates gibberish")
    w.add_context_length(ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if wtype == "f16" else gguf.LlamaFileType.ALL_F32)

    n_vocab, token_types = copy_tokenizer(reader, w, gguf)
    w.add_vocab_size(n_vocab)
    w.add_chat_template(CHAT_TEMPLATE)

    rng = np.random.Generator(np.random.PCG64(args.seed))
    dt = np.float16 if wtype == "f16" else np.float32

    def mat(rows: int, cols: int, std: float):
        a = rng.standard_normal((rows, cols), dtype=np.float32)
        a *= std
        return a.astype(dt, copy=False)

    def ones(n: int):
        return np.ones((n,), dtype=np.float32)

    n_params = 0

    def add(name: str, t):
        nonlocal n_params
        n_params += t.size
        w.add_tensor(name, t)

    # Input embeddings at unit variance, as large as the sum of the layers' contributions, so the
    # next token depends on the current one as much as on the context. A separate (untied) output
    # matrix: tied embeddings would make every token its own most likely successor (the same
    # word over and over); untied, the text wanders through the vocabulary. The output matrix's
    # scale sets the logits' spread (the final RMSNorm makes the hidden state unit-variance).
    add("token_embd.weight", mat(n_vocab, n_embd, 1.0))
    add("output_norm.weight", ones(n_embd))
    out_w = mat(n_vocab, n_embd, LOGIT_STD / np.sqrt(n_embd))
    if not args.allow_eog and token_types is not None:
        normal = int(gguf.TokenType.NORMAL)
        special = np.array([i for i, t in enumerate(token_types) if t != normal], dtype=np.int64)
        if special.size:
            out_w[special] = (out_w[special].astype(np.float32) * SPECIAL_SCALE).astype(dt)
    add("output.weight", out_w)

    res = 1.0 / np.sqrt(2.0 * n_layer)   # residual branches shrunk so the stream stays bounded
    for i in range(n_layer):
        p = "blk.%d." % i
        add(p + "attn_norm.weight", ones(n_embd))
        add(p + "attn_q.weight", mat(n_head * head_dim, n_embd, 1.0 / np.sqrt(n_embd)))
        add(p + "attn_k.weight", mat(n_head_kv * head_dim, n_embd, 1.0 / np.sqrt(n_embd)))
        add(p + "attn_v.weight", mat(n_head_kv * head_dim, n_embd, 1.0 / np.sqrt(n_embd)))
        add(p + "attn_output.weight", mat(n_embd, n_head * head_dim, res / np.sqrt(n_head * head_dim)))
        add(p + "ffn_norm.weight", ones(n_embd))
        add(p + "ffn_gate.weight", mat(n_ff, n_embd, 1.0 / np.sqrt(n_embd)))
        add(p + "ffn_up.weight", mat(n_ff, n_embd, 1.0 / np.sqrt(n_embd)))
        add(p + "ffn_down.weight", mat(n_embd, n_ff, res / np.sqrt(n_ff)))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out)

    if not args.quiet:
        print("make_model: wrote %s: llama %s, %d layers, n_embd %d, %.1fM params, %s, ctx %d, "
              "vocab %s (%d tokens), %.1f MB in %.2f s"
              % (out, args.size, n_layer, n_embd, n_params / 1e6, wtype, ctx,
                 Path(args.vocab).name, n_vocab, out.stat().st_size / 1e6, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
