// The earnings chart drawn with uPlot: canvas, so a year of hourly buckets (8,760 points per
// series) stays fast. Its stylesheet comes in through Vite: the page's CSP allows no injected
// <style>, while uPlot's own element.style assignments go through the CSSOM, which CSP permits.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CHART_DRAWN_MARK, type ChartHandle, type DrawChart } from './chart-drawer.js';
import type { ChartSeries } from './sums.js';

const HEIGHT = 280;

/** The theme's colors, read from the CSS variables so the canvas follows light and dark. */
function colors(el: HTMLElement): { earned: string; cost: string; net: string; grid: string; text: string } {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return { earned: v('--draining', '#60a5fa'), cost: v('--danger', '#f87171'), net: v('--sharing', '#34d399'), grid: v('--border', '#262c38'), text: v('--text-muted', '#99a1b3') };
}

function aligned(data: ChartSeries): uPlot.AlignedData {
  return [data.x, data.earned, data.cost, data.net];
}

function options(el: HTMLElement, data: ChartSeries, onDrawn: () => void): uPlot.Options {
  const c = colors(el);
  const money = (_u: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(2)} ${data.currency}`);
  const axis = { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
  return {
    width: Math.max(320, el.clientWidth),
    height: HEIGHT,
    scales: { x: { time: true } },
    series: [
      {},
      { label: `Earned (${data.currency})`, stroke: c.earned, width: 2, value: money },
      { label: `Electricity (${data.currency})`, stroke: c.cost, width: 2, value: money },
      { label: `Net (${data.currency})`, stroke: c.net, width: 2, fill: `${c.net}22`, value: money },
    ],
    axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((t) => t.toFixed(tickDecimals(ticks))) }],
    hooks: { draw: [onDrawn] },
  };
}

/** Enough decimals that neighbouring ticks differ (hourly amounts are often below a cent). */
export function tickDecimals(ticks: readonly number[]): number {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  return step > 0 ? Math.min(6, Math.max(2, Math.ceil(-Math.log10(step)))) : 2;
}

export const drawUplotChart: DrawChart = (container, first) => {
  let currency = first.currency;
  // Marked after the draw that shows new data, not after a redraw for a resize or a hover.
  let fresh = true;
  const onDrawn = () => {
    if (!fresh) return;
    fresh = false;
    performance.mark(CHART_DRAWN_MARK);
  };
  let plot = new uPlot(options(container, first, onDrawn), aligned(first), container);
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, container.clientWidth), height: HEIGHT }));
  resize.observe(container);
  const handle: ChartHandle = {
    update(data) {
      fresh = true;
      if (data.currency !== currency) {
        // Series labels carry the currency: a new one needs new series.
        currency = data.currency;
        plot.destroy();
        plot = new uPlot(options(container, data, onDrawn), aligned(data), container);
      } else {
        plot.setData(aligned(data));
      }
    },
    dispose() {
      resize.disconnect();
      plot.destroy();
    },
  };
  return handle;
};
