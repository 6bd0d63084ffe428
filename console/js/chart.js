// A small line chart drawn as inline SVG (no library): series over time buckets, with axes, a legend and a text alternative.

const SVG = 'http://www.w3.org/2000/svg';

function node(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Round numbers for the value axis: 0 and about four steps up to at least `max`. */
export function niceTicks(max) {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  // Counts are whole numbers: no step below 1.
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough));
  const ticks = [];
  for (let value = 0; value < max + step; value += step) ticks.push(value);
  return ticks;
}

/**
 * The chart: `points` are `[{at, <series>: n, ...}]` sorted by time, `series` the names to draw
 * (each gets the CSS class `series-<name>`: colours live in the stylesheet). `title` names it.
 * Answers an `<svg role="img">` with a `<title>` and `<desc>` summing each series up.
 */
export function lineChart({ points, series, title, width = 640, height = 220, formatTime = (d) => d.toISOString().slice(11, 16) }) {
  const margin = { top: 12, right: 12, bottom: 28, left: 40 };
  const innerWidth = width - margin.left - margin.right;
  const innerHeight = height - margin.top - margin.bottom;
  const times = points.map((p) => new Date(p.at).getTime());
  const start = Math.min(...times);
  const end = Math.max(...times);
  const max = Math.max(0, ...points.flatMap((p) => series.map((name) => Number(p[name]) || 0)));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1];
  const x = (t) => margin.left + (end === start ? innerWidth / 2 : ((t - start) / (end - start)) * innerWidth);
  const y = (v) => margin.top + innerHeight - (v / top) * innerHeight;

  const totals = series.map((name) => `${name} ${points.reduce((sum, p) => sum + (Number(p[name]) || 0), 0)}`);
  const svg = node('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
  svg.append(node('title', {}, title), node('desc', {}, `Totals over the period: ${totals.join(', ')}.`));

  const grid = node('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const value of ticks) {
    grid.append(node('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }));
    grid.append(node('text', { x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, String(value)));
  }
  if (points.length) {
    const labels = Math.min(6, points.length);
    for (let i = 0; i < labels; i += 1) {
      const index = labels === 1 ? 0 : Math.round((i * (points.length - 1)) / (labels - 1));
      const t = times[index];
      // The first and last labels lean inwards so that they are never cut at the edges.
      const anchor = labels > 1 && i === 0 ? 'start' : labels > 1 && i === labels - 1 ? 'end' : 'middle';
      grid.append(node('text', { x: x(t), y: height - 8, 'text-anchor': anchor }, formatTime(new Date(t))));
    }
  }
  svg.append(grid);

  for (const name of series) {
    const coordinates = points.map((p, i) => `${x(times[i]).toFixed(1)},${y(Number(p[name]) || 0).toFixed(1)}`);
    const group = node('g', { class: `series series-${name}`, 'aria-hidden': 'true' });
    if (coordinates.length > 1) group.append(node('polyline', { points: coordinates.join(' '), fill: 'none' }));
    for (const [i, point] of points.entries()) {
      const value = Number(point[name]) || 0;
      // Dots only where something happened, and only while they stay apart (the table has every value).
      if ((value === 0 || points.length > 60) && coordinates.length > 1) continue;
      const dot = node('circle', { cx: x(times[i]), cy: y(value), r: 3 });
      dot.append(node('title', {}, `${name} ${value} at ${formatTime(new Date(times[i]))}`));
      group.append(dot);
    }
    svg.append(group);
  }
  return svg;
}
