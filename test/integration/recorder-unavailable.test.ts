import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';
import { liveStatus } from '../helpers/hls.ts';

/**
 * With HLS on but no way to record (no FFmpeg, or a DATA_DIR that cannot be written), the server
 * still starts, says why in /api/live and /metrics, and shows go live over WebRTC.
 */
for (const { reason, env } of [
  { reason: 'no_ffmpeg', env: () => ({ FFMPEG_PATH: '/nonexistent/ffmpeg' }) },
  {
    reason: 'data_dir_unwritable',
    env: () => {
      // A read-only disk, in this test's own mount namespace (see test/run.sh); root ignores file modes.
      const dir = mkdtempSync(join(tmpdir(), 'onstage-ro-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
      return { DATA_DIR: dir };
    },
  },
]) {
  test(`recorder unavailable (${reason}): reported, and the server goes on without HLS`, { timeout: 30_000 }, async () => {
    const server = await startServer({ HLS: 'true', ...env() });
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const room = `no-hls-${reason.replaceAll('_', '-')}`;
      const host = await RawClient.connect(server.url, { room, role: 'host' });
      const joined = await host.ok<{ live: boolean }>('join', { roomId: room, role: 'host' });
      assert.equal(joined.live, true, 'the show is live');
      await host.ok('createTransport', { direction: 'send' });

      const status = await liveStatus(server.url, room);
      assert.equal(status.live, true);
      assert.equal(status.hlsUrl, null);
      assert.equal(status.recorder?.lastError?.reason, reason, JSON.stringify(status));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`^onstage_recorder_failures_total\\{reason="${reason}"\\} 1$`, 'm'));
      assert.equal((await fetch(`${server.url}/api/recordings`)).status, 503);
      host.close();
    } finally {
      await server.close();
    }
  });
}
