import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

const env = useServerAndBrowser();

const width = async (page: Page) => (await viewerMedia(page)).width;

test('simulcast: a viewer who prefers low quality gets a smaller layer than one who does not', { timeout: 120_000 }, async () => {
  const room = 'layers';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const full = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  const low = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(low), (m) => m.videoFrames > 5, 20_000);
  await low.selectOption('#quality', 'low');

  // The uncapped viewer climbs to the top layer as the bandwidth estimate grows.
  const fullWidth = await eventually(() => width(full), (w) => w >= 640, 40_000);
  const lowWidth = await eventually(() => width(low), (w) => w > 0 && w <= 320, 20_000);
  process.stdout.write(`# frame width: uncapped viewer ${fullWidth}px, low-quality viewer ${lowWidth}px\n`);
  assert.ok(fullWidth >= 640, `uncapped viewer gets a high layer (${fullWidth}px)`);
  assert.ok(lowWidth > 0 && lowWidth <= 320, `low-quality viewer gets the lowest layer (${lowWidth}px)`);
  assert.ok(fullWidth > lowWidth);

  // Back to auto: the capped viewer climbs again.
  await low.selectOption('#quality', 'auto');
  const after = await eventually(() => width(low), (w) => w > lowWidth, 40_000);
  assert.ok(after > lowWidth, `back to auto, the viewer climbs (${lowWidth} → ${after}px)`);
});
