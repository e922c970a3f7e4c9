import assert from 'node:assert/strict';
import { test } from 'node:test';

test('npm scripts run on the pinned Node 24, not the system Node', () => {
  assert.equal(process.versions.node, '24.21.0');
});
