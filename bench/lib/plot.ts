/** A small SVG line chart: worker CPU % against viewers, one line per run, coloured by system. */

type Run = { system: string; round: number; steps: { viewers: number; cpuPercent: number[] }[] };

const COLOURS: Record<string, string> = { 'bare mediasoup': '#888888', Onstage: '#3e8ef7', 'Onstage, 2 workers': '#30a46c' };

export function plotCpuAgainstViewers(runs: Run[], limit: number): string {
  const [w, h, left, bottom, top, right] = [720, 420, 60, 50, 30, 150];
  const maxN = Math.max(100, ...runs.flatMap((r) => r.steps.map((s) => s.viewers)));
  const x = (n: number) => left + ((w - left - right) * n) / maxN;
  const y = (c: number) => h - bottom - ((h - bottom - top) * Math.min(c, 110)) / 110;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">Worker CPU against viewers (1 viewer = video + audio consumer, SRTP)</text>`,
  ];
  for (let c = 0; c <= 100; c += 20) {
    out.push(`<line x1="${left}" x2="${w - right}" y1="${y(c)}" y2="${y(c)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 8}" y="${y(c) + 4}" text-anchor="end">${c}%</text>`);
  }
  for (let n = 0; n <= maxN; n += maxN > 400 ? 100 : 50) {
    out.push(`<text x="${x(n)}" y="${h - bottom + 18}" text-anchor="middle">${n}</text>`);
  }
  out.push(`<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">viewers</text>`);
  out.push(`<line x1="${left}" x2="${w - right}" y1="${y(limit)}" y2="${y(limit)}" stroke="#e5484d" stroke-dasharray="4 4"/>`);
  out.push(`<text x="${w - right + 6}" y="${y(limit) + 4}" fill="#e5484d">${limit}% limit</text>`);
  for (const run of runs) {
    // For a room on several workers, the busiest worker.
    const pts = run.steps.map((s) => `${x(s.viewers).toFixed(1)},${y(Math.max(...s.cpuPercent)).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${COLOURS[run.system] ?? '#000'}" stroke-width="2" opacity="0.8"/>`);
  }
  Object.entries(COLOURS).forEach(([name, colour], i) => {
    out.push(`<line x1="${w - right + 6}" x2="${w - right + 26}" y1="${top + 20 + i * 18}" y2="${top + 20 + i * 18}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${w - right + 32}" y="${top + 24 + i * 18}">${name}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export type Series = { name: string; unit: string; points: { t: number; v: number }[] };

/** One small panel per series against time (minutes), stacked: for soak runs. */
export function plotOverTime(title: string, series: Series[]): string {
  const [w, panelH, left, right, top, gap] = [720, 150, 70, 20, 30, 30];
  const h = top + series.length * (panelH + gap) + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">${title}</text>`,
  ];
  const maxT = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.t)));
  series.forEach((s, i) => {
    const y0 = top + i * (panelH + gap) + 16;
    const maxV = Math.max(1e-9, ...s.points.map((p) => p.v)) * 1.1;
    const x = (t: number) => left + ((w - left - right) * t) / maxT;
    const y = (v: number) => y0 + panelH - (panelH * v) / maxV;
    out.push(`<text x="${left}" y="${y0 - 4}">${s.name} (${s.unit})</text>`);
    out.push(`<line x1="${left}" x2="${w - right}" y1="${y0 + panelH}" y2="${y0 + panelH}" stroke="#ccc"/>`);
    out.push(`<text x="${left - 6}" y="${y0 + 8}" text-anchor="end">${maxV.toPrecision(3)}</text>`);
    out.push(`<text x="${left - 6}" y="${y0 + panelH}" text-anchor="end">0</text>`);
    out.push(`<text x="${w - right}" y="${y0 + panelH + 14}" text-anchor="end">${(maxT / 60).toFixed(1)} min</text>`);
    const pts = s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="#3e8ef7" stroke-width="1.5"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
