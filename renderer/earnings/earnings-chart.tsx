// Earned vs electricity vs net per bucket, over time. The drawing is done by whatever DrawChart
// the context provides (uPlot in the app); this component only owns the container's lifetime.
import { createContext, useContext, useEffect, useRef } from 'react';
import type { ChartHandle, DrawChart } from './chart-drawer.js';
import type { ChartSeries } from './sums.js';
import { drawUplotChart } from './uplot-chart.js';

export const ChartContext = createContext<DrawChart>(drawUplotChart);

export function EarningsChart({ data, label }: { data: ChartSeries; label: string }) {
  const draw = useContext(ChartContext);
  const ref = useRef<HTMLDivElement>(null);
  const handle = useRef<ChartHandle | null>(null);

  useEffect(() => {
    if (!ref.current) return;
    if (handle.current) handle.current.update(data);
    else handle.current = draw(ref.current, data);
  }, [draw, data]);

  useEffect(
    () => () => {
      handle.current?.dispose();
      handle.current = null;
    },
    [draw],
  );

  return <div ref={ref} className="earnings-chart" role="img" aria-label={label} data-testid="earnings-chart" />;
}
