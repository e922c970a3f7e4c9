import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';

/**
 * The Grafana dashboard's queries against a real Prometheus (Debian's) scraping a real node with a
 * live show (host and viewer in Chromium, HLS on, a webhook receiver that is down): every query
 * must return data.
 */
const env = useServerAndBrowser({ HLS: 'true', WEBHOOK_URLS: 'http://127.0.0.1:9/nobody-listens', WEBHOOK_SECRET: 'w'.repeat(32) });
type Panel = { title: string; targets: { expr: string }[] };
const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/dashboards/onstage.json', import.meta.url), 'utf8')) as { panels: Panel[] };

let prometheus: ReturnType<typeof spawn> | undefined;
after(() => prometheus?.kill('SIGTERM'));

test("Prometheus scrapes a node with a live show and every query of the Grafana dashboard returns data", { timeout: 180_000 }, async () => {
  const room = 'watched';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const viewer = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(viewer), (m) => m.videoFrames > 10, 30_000);

  const dir = mkdtempSync(join(tmpdir(), 'onstage-prometheus-'));
  const target = new URL(env.server.url).host;
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: onstage\n    static_configs:\n      - targets: ['${target}']\n`);
  const port = await freeLoopbackPort();
  prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const query = async (expr: string): Promise<unknown[]> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(() => undefined);
    if (!res?.ok) return [];
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result.filter((r) => !Number.isNaN(Number(r.value[1])));
  };

  // A viewer joins while Prometheus watches (the join panels show rates over the last minute).
  const scraped = async () => (await query('up{job="onstage"}')).length > 0;
  await eventually(scraped, (up) => up, 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  const late = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(late), (m) => m.videoFrames > 10, 30_000);

  const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(queries.length >= 15, `the dashboard has its panels (${queries.length} queries)`);
  const empty = await eventually(
    async () => {
      const missing: string[] = [];
      for (const q of queries) if ((await query(q.expr)).length === 0) missing.push(`${q.panel}: ${q.expr}`);
      return missing;
    },
    (missing) => missing.length === 0,
    90_000,
  );
  assert.deepEqual(empty, [], 'every dashboard query returns data');
  // And the data says what happened: media flows both ways, a show is being recorded.
  const bitrate = (await query('sum by (direction) (onstage_media_bitrate_bps)')) as { metric: { direction: string }; value: [number, string] }[];
  for (const direction of ['in', 'out']) assert.ok(Number(bitrate.find((r) => r.metric.direction === direction)?.value[1]) > 100_000, `bitrate ${direction} over 100 kbps`);
  const recording = (await query('sum by (state) (onstage_recorder_state)')) as { metric: { state: string } }[];
  assert.ok(recording.some((r) => r.metric.state === 'running'), 'a recorder running');
});
