// The seam between the Earnings page and the canvas library: the page hands over data, a drawer
// paints it. The app uses uPlot (uplot-chart.ts); component tests, whose DOM has no canvas, give
// the page a recording drawer through ChartContext instead.
import type { ChartSeries } from './sums.js';

export interface ChartHandle {
  /** New data (a new range, grouping or currency): redraw. */
  update(data: ChartSeries): void;
  dispose(): void;
}

export type DrawChart = (container: HTMLElement, data: ChartSeries) => ChartHandle;

/** Set right after a chart is drawn with new data; the earnings bench measures up to it. */
export const CHART_DRAWN_MARK = 'earnings-chart-drawn';
