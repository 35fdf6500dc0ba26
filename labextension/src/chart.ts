/**
 * Distribution charts as plain SVG: a histogram on value edges and horizontal category bars,
 * each comparing up to two series (reference and current) as shares of their totals, so
 * batches of different sizes compare directly. Colours come from the JupyterLab theme (CSS).
 */

import { h, s } from './dom';
import { fmtNum, fmtPct, isNumber } from './format';

export interface ISeries {
  label: string;
  counts: number[];
  /** CSS class of the bars: ``mb-ref`` or ``mb-cur``. */
  className: string;
}

const WIDTH = 520;
const HEIGHT = 170;
const MARGIN = { top: 10, right: 12, bottom: 34, left: 48 };
const DISPLAY_BINS = 40;

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + (isNumber(b) ? b : 0), 0);
  return counts.map(c => (total > 0 && isNumber(c) ? c / total : 0));
}

interface IRebinned {
  lo: number;
  hi: number;
  under: number;
  over: number;
  bins: number[];
}

/**
 * Spread each stored bin's share over equal-width display bins by overlap. Stored edges are
 * reference quantiles (bins of equal mass, unequal width); equal-width display bins make the
 * bar heights read as density.
 */
function rebin(edges: number[], share: number[]): IRebinned {
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const bins = new Array<number>(DISPLAY_BINS).fill(0);
  let under = 0;
  let over = 0;
  let inner = share;
  if (share.length === edges.length + 1) {
    under = share[0];
    over = share[share.length - 1];
    inner = share.slice(1, -1);
  }
  const span = hi - lo;
  const step = span > 0 ? span / DISPLAY_BINS : 1;
  const index = (x: number) => Math.min(DISPLAY_BINS - 1, Math.max(0, Math.floor((x - lo) / step)));
  inner.forEach((mass, i) => {
    const a = edges[i];
    const b = edges[i + 1];
    if (!(mass > 0) || !isNumber(a) || !isNumber(b)) {
      return;
    }
    if (b <= a || span <= 0) {
      bins[index(a)] += mass;
      return;
    }
    for (let k = index(a); k <= index(b); k++) {
      const left = lo + k * step;
      const overlap = Math.min(b, left + step) - Math.max(a, left);
      if (overlap > 0) {
        bins[k] += (mass * overlap) / (b - a);
      }
    }
  });
  return { lo, hi, under, over, bins };
}

function legend(series: ISeries[]): HTMLElement | null {
  if (series.length < 2) {
    return null;
  }
  return h(
    'div',
    { class: 'mb-legend' },
    ...series.map(ser =>
      h('span', { class: 'mb-legend-item' }, h('span', { class: `mb-swatch ${ser.className}` }), ser.label)
    )
  );
}

function yAxis(max: number, plotHeight: number): SVGGElement {
  const g = s('g', { class: 'mb-axis' });
  for (const fraction of [0, 0.5, 1]) {
    const y = MARGIN.top + plotHeight * (1 - fraction);
    g.appendChild(
      s('line', { x1: MARGIN.left - 4, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: 'mb-grid' })
    );
    g.appendChild(
      s('text', { x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end' }, fmtPct(max * fraction, max * fraction < 0.1 ? 1 : 0))
    );
  }
  return g;
}

/** Histogram of one or two series on shared edges (``counts`` may carry under/overflow bins). */
export function histogramChart(edges: number[], series: ISeries[], title: string): HTMLElement {
  const finiteEdges = edges.filter(isNumber);
  if (finiteEdges.length < 2 || series.length === 0) {
    return h('div', { class: 'mb-chart mb-muted' }, 'No histogram stored for this column.');
  }
  const rebinned = series.map(ser => rebin(finiteEdges, shares(ser.counts)));
  const hasUnder = rebinned.some(r => r.under > 0);
  const hasOver = rebinned.some(r => r.over > 0);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const side = plotWidth * 0.06;
  const innerLeft = MARGIN.left + (hasUnder ? side + 6 : 0);
  const innerWidth = plotWidth - (hasUnder ? side + 6 : 0) - (hasOver ? side + 6 : 0);
  const max = Math.max(1e-12, ...rebinned.flatMap(r => [r.under, r.over, ...r.bins]));
  const y = (v: number) => MARGIN.top + plotHeight * (1 - v / max);
  const svg = s('svg', {
    class: 'mb-chart-svg',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: WIDTH,
    height: HEIGHT,
    role: 'img',
    'aria-label': title
  });
  svg.appendChild(s('title', null, title));
  svg.appendChild(yAxis(max, plotHeight));
  const barWidth = innerWidth / DISPLAY_BINS;
  rebinned.forEach((r, si) => {
    const g = s('g', { class: `mb-bars ${series[si].className}` });
    r.bins.forEach((v, k) => {
      if (v <= 0) {
        return;
      }
      const x = innerLeft + k * barWidth;
      g.appendChild(
        s(
          'rect',
          { x: x + 0.5, y: y(v), width: Math.max(1, barWidth - 1), height: MARGIN.top + plotHeight - y(v) },
          s('title', null, `${series[si].label}: ${fmtPct(v)}`)
        )
      );
    });
    const outer: [boolean, number, number, string][] = [
      [hasUnder, r.under, MARGIN.left, `below ${fmtNum(r.lo)}`],
      [hasOver, r.over, WIDTH - MARGIN.right - side, `at or above ${fmtNum(r.hi)}`]
    ];
    for (const [shown, v, x, what] of outer) {
      if (shown && v > 0) {
        g.appendChild(
          s(
            'rect',
            { x: x + 0.5, y: y(v), width: side - 1, height: MARGIN.top + plotHeight - y(v), class: 'mb-outer' },
            s('title', null, `${series[si].label} ${what}: ${fmtPct(v)}`)
          )
        );
      }
    }
    svg.appendChild(g);
  });
  const axis = s('g', { class: 'mb-axis' });
  const base = MARGIN.top + plotHeight;
  axis.appendChild(s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: base, y2: base }));
  const lo = rebinned[0].lo;
  const hi = rebinned[0].hi;
  const ticks: [number, string, string][] = [
    [innerLeft, fmtNum(lo), 'start'],
    [innerLeft + innerWidth / 2, fmtNum((lo + hi) / 2), 'middle'],
    [innerLeft + innerWidth, fmtNum(hi), 'end']
  ];
  if (hasUnder) {
    ticks.push([MARGIN.left + side / 2, '<', 'middle']);
  }
  if (hasOver) {
    ticks.push([WIDTH - MARGIN.right - side / 2, '≥', 'middle']);
  }
  for (const [x, label, anchor] of ticks) {
    axis.appendChild(s('text', { x, y: base + 14, 'text-anchor': anchor }, label));
  }
  axis.appendChild(
    s('text', { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'mb-axis-title' }, 'value (share of rows per bin)')
  );
  svg.appendChild(axis);
  return h('div', { class: 'mb-chart' }, svg, legend(series));
}

/** Horizontal bars per category label, one bar per series. */
export function categoryChart(labels: string[], series: ISeries[], title: string): HTMLElement {
  const n = Math.min(labels.length, 25);
  if (n === 0 || series.length === 0) {
    return h('div', { class: 'mb-chart mb-muted' }, 'No category counts stored for this column.');
  }
  const all = series.map(ser => shares(ser.counts));
  const rowHeight = 8 * series.length + 8;
  const left = 130;
  const height = n * rowHeight + MARGIN.top + 24;
  const plotWidth = WIDTH - left - MARGIN.right - 44;
  const max = Math.max(1e-12, ...all.flatMap(v => v.slice(0, n)));
  const svg = s('svg', {
    class: 'mb-chart-svg',
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: WIDTH,
    height,
    role: 'img',
    'aria-label': title
  });
  svg.appendChild(s('title', null, title));
  const axis = s('g', { class: 'mb-axis' });
  for (let i = 0; i < n; i++) {
    const top = MARGIN.top + i * rowHeight;
    const label = labels[i].length > 20 ? `${labels[i].slice(0, 19)}…` : labels[i];
    axis.appendChild(s('text', { x: left - 6, y: top + rowHeight / 2 + 3, 'text-anchor': 'end' }, s('title', null, labels[i]), label));
  }
  svg.appendChild(axis);
  series.forEach((ser, si) => {
    const g = s('g', { class: `mb-bars ${ser.className}` });
    for (let i = 0; i < n; i++) {
      const v = all[si][i] ?? 0;
      const top = MARGIN.top + i * rowHeight + 4 + si * 8;
      const width = (plotWidth * v) / max;
      g.appendChild(
        s('rect', { x: left, y: top, width: Math.max(v > 0 ? 1 : 0, width), height: 7 }, s('title', null, `${ser.label} ${labels[i]}: ${fmtPct(v)}`))
      );
      g.appendChild(s('text', { x: left + width + 4, y: top + 7, class: 'mb-bar-label' }, fmtPct(v)));
    }
    svg.appendChild(g);
  });
  const more = labels.length > n ? h('div', { class: 'mb-muted' }, `${labels.length - n} more categories not shown`) : null;
  return h('div', { class: 'mb-chart' }, svg, legend(series), more);
}

export interface ITrendPoint {
  time: number; // epoch milliseconds
  value: number;
  status: string;
  label: string;
}

/** A small line chart of one value over time; each point is coloured by its run's status. */
export function trendChart(title: string, points: ITrendPoint[], format: (v: number) => string = fmtNum): HTMLElement {
  const data = points.filter(p => isNumber(p.value) && isNumber(p.time)).sort((a, b) => a.time - b.time);
  const width = 260;
  const height = 90;
  const m = { top: 16, right: 8, bottom: 14, left: 40 };
  const svg = s('svg', { class: 'mb-chart-svg mb-trend', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title });
  svg.appendChild(s('title', null, title));
  svg.appendChild(s('text', { x: m.left, y: 10, class: 'mb-trend-title' }, title));
  if (data.length === 0) {
    return h('div', { class: 'mb-chart' }, svg);
  }
  const t0 = data[0].time;
  const t1 = data[data.length - 1].time;
  let lo = Math.min(...data.map(p => p.value));
  let hi = Math.max(...data.map(p => p.value));
  if (hi === lo) {
    lo -= Math.abs(lo) * 0.05 || 0.5;
    hi += Math.abs(hi) * 0.05 || 0.5;
  }
  const x = (t: number) => m.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (width - m.left - m.right) : (width - m.left - m.right) / 2);
  const y = (v: number) => m.top + (1 - (v - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const axis = s('g', { class: 'mb-axis' });
  axis.appendChild(s('text', { x: m.left - 4, y: y(hi) + 4, 'text-anchor': 'end' }, format(hi)));
  axis.appendChild(s('text', { x: m.left - 4, y: y(lo) + 4, 'text-anchor': 'end' }, format(lo)));
  axis.appendChild(s('line', { x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  svg.appendChild(axis);
  svg.appendChild(s('polyline', { class: 'mb-trend-line', points: data.map(p => `${x(p.time)},${y(p.value)}`).join(' ') }));
  const dots = s('g', { class: 'mb-trend-dots' });
  for (const p of data) {
    dots.appendChild(s('circle', { cx: x(p.time), cy: y(p.value), r: 3, class: `mb-dot mb-dot-${p.status}` }, s('title', null, `${p.label}: ${format(p.value)} (${p.status})`)));
  }
  svg.appendChild(dots);
  return h('div', { class: 'mb-chart' }, svg);
}
