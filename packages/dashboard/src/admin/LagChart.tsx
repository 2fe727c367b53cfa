/** A time series of lag samples (uPlot): x = when the machine was gone, y = seconds late. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Sample {
  at: string;
  seconds: number;
}

export function LagChart({ title, samples }: { title: string; samples: Sample[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ordered = [...samples].sort((a, b) => a.at.localeCompare(b.at));
    const data: uPlot.AlignedData = [
      ordered.map((s) => new Date(s.at).getTime() / 1000),
      ordered.map((s) => s.seconds),
    ];
    const accent = getComputedStyle(el).getPropertyValue('--accent').trim() || '#1d4ed8';
    const axis = getComputedStyle(el).color;
    const plot = new uPlot(
      {
        title,
        width: Math.max(280, el.clientWidth - 8),
        height: 240,
        // One sample (or several at one instant) would stretch the time axis over years.
        scales: {
          x: { time: true, range: (_u, min, max) => (max - min < 60 ? [min - 1800, max + 1800] : [min, max]) },
        },
        axes: [{ stroke: axis }, { stroke: axis, label: 'seconds', size: 60 }],
        series: [
          {},
          {
            label: 'lag (s)',
            stroke: accent,
            width: 1.5,
            points: { show: true, size: 6, fill: accent },
          },
        ],
      },
      data,
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth - 8), height: 240 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [title, samples]);
  return <div ref={box} class="chart" role="img" aria-label={`${title}: ${summary(samples)}`} />;
}

export function summary(samples: Sample[]): string {
  if (samples.length === 0) return 'no samples yet';
  const sorted = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `${sorted.length} samples, median ${at(0.5).toFixed(1)} s, p95 ${at(0.95).toFixed(1)} s, max ${at(1).toFixed(1)} s`;
}
