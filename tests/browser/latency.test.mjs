// The latency panel's arithmetic (web/js/latency.js) in plain node: which stages a turn had, and
// the percentiles over them. Found: typed turns added "ASR final 0.00 ms" (and turns no LLM
// answered "LLM first token 0.00 ms") to the page's p50.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyStats, stagesOf } from '../../web/js/latency.js';

const spoken = (route, metrics) => ({ route, stamps_ms: { t_speech_end: 0 }, metrics_ms: metrics });
const typed = (route, metrics) => ({ route, stamps_ms: { t_speech_end: null }, metrics_ms: metrics });
const all = { endpoint_delay: 200, asr_final: 10, llm_ttft: 0, llm_ttfs: 1, tts_ttfb: 9, ttfa: 230, overhead: 1 };

test('a typed turn has no endpoint, recognition or TTFA', () => {
  const stages = stagesOf(typed('llm', { ...all, endpoint_delay: 0, asr_final: 0, llm_ttft: 150 }));
  assert.deepEqual(Object.keys(stages).sort(), ['llm_ttfs', 'llm_ttft', 'tts_ttfb']);
});

test('a turn no LLM answered has no model first token', () => {
  assert.equal(stagesOf(spoken('intent', all)).llm_ttft, undefined);
  assert.equal(stagesOf(spoken('cache', all)).llm_ttft, undefined);
  assert.equal(stagesOf(spoken('cloud_llm', { ...all, llm_ttft: 300 })).llm_ttft, 300);
  assert.equal(stagesOf(spoken('intent', all)).ttfa, 230, 'the rest stays');
});

test('the percentiles count only the stages each turn had', () => {
  const stats = new LatencyStats();
  stats.add(spoken('intent', all));
  stats.add(typed('intent', { ...all, endpoint_delay: 0, asr_final: 0 }));
  stats.add(spoken('llm', { ...all, asr_final: 30, llm_ttft: 400 }));
  assert.equal(stats.count('asr_final'), 2);
  assert.equal(stats.percentile('asr_final', 50), 10);
  assert.equal(stats.count('llm_ttft'), 1);
  assert.equal(stats.percentile('llm_ttft', 50), 400);
  assert.equal(stats.count('tts_ttfb'), 3);
});
