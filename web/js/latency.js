// The latency panel: a waterfall of one turn's stages, and running p50/p95 per stage.
//
//   const panel = new LatencyPanel(document.querySelector('#latency'));
//   connection.addEventListener('message', (e) => {
//     if (e.detail.type === 'turn.metrics') panel.addTurn(e.detail);
//   });
//
// Input: the `turn.metrics` event, whose `timeline` is the JSONL trace object of
// docs/latency.md: `stamps_ms` (ms after `origin`, usually t_speech_end; null when not stamped)
// and `metrics_ms` (derived, null when absent). The rows match the terminal waterfall of
// `parley run` (src/parley/obs/waterfall.hpp). Percentiles are nearest-rank over the last
// MAX_TURNS turns of this page.

export const METRICS = [
  ['endpoint_delay', 'endpoint delay'],
  ['asr_final', 'ASR final'],
  ['llm_ttft', 'LLM first token'],
  ['llm_ttfs', 'LLM first segment'],
  ['tts_ttfb', 'TTS first audio'],
  ['ttfa', 'TTFA'],
  ['overhead', 'overhead'],
];

const MAX_TURNS = 500;
const MAX_LISTED_TURNS = 12;

// Running samples per metric; percentiles on demand.
export class LatencyStats {
  constructor() {
    this.samples = new Map(METRICS.map(([key]) => [key, []]));
  }

  // Adds one turn's metrics_ms; `timeline` (the whole trace object) says which stages it had.
  add(timeline) {
    const metricsMs = stagesOf(timeline);
    for (const [key, values] of this.samples) {
      const value = metricsMs[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      values.push(value);
      if (values.length > MAX_TURNS) values.shift();
    }
  }

  count(key) {
    return this.samples.get(key).length;
  }

  // Nearest-rank percentile (p in 0..100); null without samples.
  percentile(key, p) {
    const sorted = [...this.samples.get(key)].sort((a, b) => a - b);
    if (sorted.length === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
  }
}

// A turn's metrics, less the stages it did not have: a typed turn has no speech, so no endpoint
// delay, recognition or TTFA (its stamps there are one instant, 0.00 ms); a turn no LLM answered
// (route intent, cache, fallback...) has no model latency (as the server's own percentiles).
export function stagesOf(timeline) {
  const metrics = { ...(timeline?.metrics_ms || {}) };
  if (typeof timeline?.stamps_ms?.t_speech_end !== 'number') {
    for (const key of ['endpoint_delay', 'asr_final', 'ttfa', 'overhead']) delete metrics[key];
  }
  if (timeline?.route && !timeline.route.endsWith('llm')) delete metrics.llm_ttft;
  return metrics;
}

// The rows of a turn's waterfall: [label, start stamp, end stamp, (optional) split stamp].
// Before the split the bar is drawn lighter (the LLM's wait for its first token).
function waterfallRows(stamps) {
  const at = (name) => (typeof stamps[name] === 'number' ? stamps[name] : null);
  const latest = (...names) => names.map(at).reduce((a, b) => (b !== null && (a === null || b > a) ? b : a), null);
  return [
    { label: 'endpoint', start: at('t_speech_end'), end: at('t_turn_end') },
    // A typed turn was not recognised: its turn end and final transcript are one instant.
    { label: 'asr', start: at('t_speech_end') === null ? null : at('t_turn_end'), end: at('t_asr_final') },
    { label: 'llm → first seg', start: at('t_llm_request'), end: at('t_first_segment'), split: at('t_llm_first_token') },
    { label: 'tts first audio', start: at('t_tts_request'), end: at('t_tts_first_audio') },
    { label: 'out', start: latest('t_tts_first_audio', 't_first_segment', 't_asr_final'), end: at('t_first_audio_out') },
  ];
}

export function formatMs(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return `${Math.round(value)} ms`;
  if (Math.abs(value) >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

const SVG = 'http://www.w3.org/2000/svg';

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// Draws one turn's waterfall into `svg` (replacing what was there).
export function drawWaterfall(svg, timeline) {
  const stamps = timeline.stamps_ms || {};
  const rows = waterfallRows(stamps);
  const labelWidth = 140;
  const valueWidth = 80;
  const width = 600;
  const rowHeight = 26;
  const top = 6;
  const barsWidth = width - labelWidth - valueWidth;
  const ttfaEnd = typeof stamps.t_first_audio_out === 'number' ? stamps.t_first_audio_out : null;
  // The axis runs from the speech end to the first audio out (or the last stage, without audio).
  const axisEnd = Math.max(1, ttfaEnd ?? Math.max(0, ...rows.map((row) => row.end ?? 0)));
  const x = (ms) => labelWidth + (Math.max(0, Math.min(ms, axisEnd)) / axisEnd) * barsWidth;
  const height = top + rows.length * rowHeight + 30;

  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    svg.append(svgElement('text', { x: 0, y: y + 17, class: 'wf-label' }, row.label));
    if (row.start === null || row.end === null) {
      svg.append(svgElement('text', { x: width - valueWidth + 6, y: y + 17, class: 'wf-value' }, '—'));
      return;
    }
    const x0 = x(row.start);
    const x1 = Math.max(x(row.end), x0 + 1.5); // a zero-length stage stays visible
    if (row.split != null && row.split > row.start && row.split < row.end) {
      svg.append(svgElement('rect', { x: x0, y: y + 4, width: x(row.split) - x0, height: 16, rx: 2, class: 'wf-bar wf-wait' }));
      svg.append(svgElement('rect', { x: x(row.split), y: y + 4, width: x1 - x(row.split), height: 16, rx: 2, class: `wf-bar wf-${i}` }));
    } else {
      svg.append(svgElement('rect', { x: x0, y: y + 4, width: x1 - x0, height: 16, rx: 2, class: `wf-bar wf-${i}` }));
    }
    svg.append(svgElement('text', { x: width - valueWidth + 6, y: y + 17, class: 'wf-value' }, formatMs(row.end - row.start)));
  });
  const axisY = top + rows.length * rowHeight + 4;
  svg.append(svgElement('line', { x1: labelWidth, y1: axisY, x2: labelWidth + barsWidth, y2: axisY, class: 'wf-axis' }));
  svg.append(svgElement('text', { x: labelWidth, y: axisY + 19, class: 'wf-tick' }, '0 ms'));
  svg.append(svgElement('text', { x: labelWidth + barsWidth, y: axisY + 19, class: 'wf-tick', 'text-anchor': 'end' }, formatMs(axisEnd)));
  if (ttfaEnd !== null) {
    svg.append(svgElement('line', { x1: x(ttfaEnd), y1: top, x2: x(ttfaEnd), y2: axisY, class: 'wf-ttfa' }));
  }
}

// The whole panel: chart, summary line, percentile table, recent turns (click one to show it).
export class LatencyPanel {
  constructor(root) {
    this.root = root;
    this.stats = new LatencyStats();
    this.turns = []; // turn.metrics events, newest last
    this.selected = null;
    this.chart = root.querySelector('.waterfall');
    this.summary = root.querySelector('.waterfall-summary');
    this.table = root.querySelector('.latency-stats tbody');
    this.list = root.querySelector('.turn-list');
    this.renderTable(null);
  }

  addTurn(event) {
    this.stats.add(event.timeline || {});
    // In turn order: a turn's metrics arrive when its reply ends, so a short reply to a later
    // turn can report before a long one to an earlier turn.
    this.turns.push(event);
    this.turns.sort((a, b) => a.turn - b.turn);
    if (this.turns.length > MAX_LISTED_TURNS) this.turns.shift();
    this.select(event);
  }

  select(event) {
    this.selected = event;
    const timeline = event.timeline || {};
    const metrics = stagesOf(timeline);
    drawWaterfall(this.chart, timeline);
    const flags = Object.entries(timeline.flags || {}).filter(([, on]) => on).map(([name]) => name);
    const spoken = typeof timeline.stamps_ms?.t_speech_end === 'number';
    this.summary.textContent = [
      `turn ${event.turn}`,
      timeline.mode,
      timeline.route,
      spoken ? `ttfa ${formatMs(metrics.ttfa)}` : 'typed: no speech end, so no ttfa',
      `overhead ${formatMs(metrics.overhead)}`,
      ...flags,
    ].filter(Boolean).join(' · ');
    this.renderTable(metrics);
    this.renderList();
  }

  renderTable(metrics) {
    this.table.replaceChildren(
      ...METRICS.map(([key, label]) => {
        const row = document.createElement('tr');
        row.dataset.metric = key;
        const cells = [label, formatMs(metrics ? metrics[key] : null), formatMs(this.stats.percentile(key, 50)), formatMs(this.stats.percentile(key, 95)), String(this.stats.count(key))];
        for (const text of cells) {
          const cell = document.createElement(row.children.length === 0 ? 'th' : 'td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
  }

  renderList() {
    const longest = Math.max(1, ...this.turns.map((t) => t.timeline?.metrics_ms?.ttfa ?? 0));
    this.list.replaceChildren(
      ...this.turns.map((event) => {
        const ttfa = event.timeline?.metrics_ms?.ttfa;
        const item = document.createElement('button');
        item.type = 'button';
        item.className = event === this.selected ? 'turn-item selected' : 'turn-item';
        item.title = 'show this turn in the waterfall';
        const bar = document.createElement('span');
        bar.className = 'turn-bar';
        bar.style.width = `${typeof ttfa === 'number' ? Math.max(2, (ttfa / longest) * 100) : 0}%`;
        item.append(`turn ${event.turn} · ${formatMs(ttfa)}`, bar);
        item.addEventListener('click', () => this.select(event));
        return item;
      }),
    );
  }
}
