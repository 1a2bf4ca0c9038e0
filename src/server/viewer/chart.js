// Charts with axes and tooltips (uPlot, served by the collector from its checkout). When the
// library cannot load, the chart says so in text: the numbers are in the tables anyway.
import { el, fmtShort } from './dom.js';

// Served by the collector from node_modules (src/server/viewer-assets.ts), not a file of this folder.
const UPLOT_URL = new URL('./vendor/uplot/uPlot.esm.js', import.meta.url).href;
let lib;
const load = () => (lib ??= import(UPLOT_URL).then((m) => m.default));

/**
 * A bar/line chart of series over time. `x` are bucket starts (epoch ms); `series` is a list of
 * `{ label, values, color }`. Returns a container that fills itself once the library is loaded.
 */
export const timeChart = ({ title, x, series, height = 180 }) => {
  const box = el('figure', { class: 'chart' }, el('figcaption', {}, title));
  const plot = el('div', {
    class: 'chart-plot',
    role: 'img',
    'aria-label': `${title}: ${series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(', ')}`,
  });
  const tip = el('p', { class: 'chart-tip', 'aria-live': 'polite' });
  box.append(plot, tip);
  load()
    .then((uPlot) => {
      const width = Math.max(280, Math.min(1200, (box.parentElement?.clientWidth ?? 800) - 16));
      const bars = uPlot.paths.bars({ size: [0.8, 40] });
      const opts = {
        width,
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#374151', grid: { stroke: '#eef0f4' } },
          { stroke: '#374151', grid: { stroke: '#eef0f4' }, size: 50 },
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.color,
            fill: i === 0 ? `${s.color}55` : undefined,
            paths: i === 0 ? bars : undefined,
            width: i === 0 ? 1 : 2,
          })),
        ],
        hooks: {
          setCursor: [
            (u) => {
              const i = u.cursor.idx;
              if (i === null || i === undefined) return;
              tip.textContent = `${fmtShort(x[i])}: ${series.map((s) => `${s.label} ${s.values[i]}`).join(', ')}`;
            },
          ],
        },
      };
      const u = new uPlot(opts, [x.map((t) => t / 1000), ...series.map((s) => s.values)], plot);
      new ResizeObserver(() => {
        const w = Math.max(280, Math.min(1200, (box.parentElement?.clientWidth ?? 800) - 16));
        if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height });
      }).observe(box);
    })
    .catch((e) => {
      plot.textContent = `The chart library could not be loaded (${e.message}).`;
    });
  return box;
};
