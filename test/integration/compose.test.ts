import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../server/src/config.ts';

/**
 * docker-compose.yml cannot be run here (no container engine), so it is checked against what the
 * server really reads: docker-compose itself validates and resolves the file, and every Onstage
 * service's environment must load with the server's own config loader, publish the ports that
 * configuration opens, check health where the server serves it, and be scraped by Prometheus.
 */
type Service = {
  environment?: Record<string, string>;
  ports?: { target: number; published: number | string; protocol?: string }[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
};
type Compose = { services: Record<string, Service> };

const resolved = parse(
  execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    env: { ...process.env, TOKEN_SECRET: 'compose-test-secret-compose-test-secret', PUBLIC_IP: '203.0.113.7' },
    encoding: 'utf8',
  }),
) as Compose;
const nodes = Object.entries(resolved.services).filter(([, s]) => s.environment?.['REDIS_URL'] !== undefined);

test('docker-compose.yml: Redis, two or more Onstage nodes and Prometheus; docker-compose accepts it', () => {
  assert.ok(resolved.services['redis'], 'a redis service');
  assert.ok(resolved.services['prometheus'], 'a prometheus service');
  assert.ok(nodes.length >= 2, `at least two Onstage nodes (found ${nodes.map(([n]) => n).join(', ')})`);
});

test('docker-compose.yml: each node sets only variables the server reads, and its configuration loads', () => {
  const ids = new Set<string>();
  const rtcPorts = new Set<number>();
  for (const [name, service] of nodes) {
    const env = service.environment!;
    for (const key of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(key), `${name}: ${key} is a variable the server reads`);
    const config = loadConfig(env);
    assert.equal(config.cluster.redisUrl, 'redis://redis:6379', `${name} joins the cluster through the redis service`);
    assert.equal(config.auth.secretGenerated, false, `${name} has the shared TOKEN_SECRET`);
    assert.equal(config.cluster.address, name, `${name} is reached by other nodes at its service name`);
    assert.equal(config.rtc.announcedAddress, '203.0.113.7', `${name} announces PUBLIC_IP to browsers`);
    assert.ok(!ids.has(config.cluster.nodeId), `${name}: NODE_ID is unique`);
    ids.add(config.cluster.nodeId);

    // Published: the signalling port, and every worker's WebRTC port (UDP and TCP) on the same number.
    const published = (service.ports ?? []).map((p) => `${p.target}/${p.protocol ?? 'tcp'}`);
    assert.ok(published.includes(`${config.http.port}/tcp`), `${name} publishes PORT ${config.http.port}`);
    const publicUrl = new URL(config.cluster.publicUrl!);
    const signalling = service.ports!.find((p) => p.target === config.http.port)!;
    assert.equal(Number(signalling.published), Number(publicUrl.port), `${name}: PUBLIC_URL names the published signalling port`);
    for (let i = 0; i < config.workers; i++) {
      const port = config.rtc.basePort + i;
      assert.ok(!rtcPorts.has(port), `${name}: WebRTC port ${port} is not used by another node on this host`);
      rtcPorts.add(port);
      for (const protocol of ['udp', 'tcp']) {
        const p = service.ports!.find((x) => x.target === port && (x.protocol ?? 'tcp') === protocol);
        assert.ok(p, `${name} publishes WebRTC port ${port}/${protocol}`);
        assert.equal(Number(p.published), port, `${name}: ${port}/${protocol} is published on the same number (ICE announces it)`);
      }
    }

    // Health: the node's own readiness endpoint on its operator's port.
    const check = service.healthcheck?.test.join(' ') ?? '';
    assert.ok(check.includes(`:${config.ops.port}/readyz`), `${name} checks /readyz on OPS_PORT (${check})`);
    assert.equal(config.ops.host, '0.0.0.0', `${name}: the operator's port is reachable by Prometheus`);
    assert.equal(service.depends_on?.['redis']?.condition, 'service_healthy', `${name} starts once Redis answers`);
  }
});

test('deploy/prometheus.yml scrapes every node on its operator port', () => {
  const prometheus = parse(readFileSync('deploy/prometheus.yml', 'utf8')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
  const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
  for (const [name, service] of nodes) {
    const config = loadConfig(service.environment!);
    assert.ok(targets.includes(`${name}:${config.ops.port}`), `Prometheus scrapes ${name}:${config.ops.port}`);
  }
  assert.ok(prometheus.scrape_configs.every((c) => c.metrics_path === '/metrics'));
});

test('Grafana: docker-compose provisions the Prometheus data source and the Onstage dashboard, whose queries use that source', () => {
  const grafana = resolved.services['grafana'] as Service & { volumes?: string[] };
  assert.ok(grafana, 'a grafana service');
  // docker-compose 1.29 resolves volumes to "source:target:mode".
  const mounted = (target: string) => grafana.volumes?.map((v) => v.split(':')).find(([, t]) => t === target)?.[0];
  const provisioning = mounted('/etc/grafana/provisioning');
  const dashboards = mounted('/var/lib/grafana/dashboards');
  assert.ok(provisioning && dashboards, `provisioning and dashboards mounted: ${JSON.stringify(grafana.volumes)}`);
  const sources = parse(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string; url: string }[] };
  const source = sources.datasources[0]!;
  assert.equal(source.type, 'prometheus');
  assert.match(source.url, /^http:\/\/prometheus:9090$/, 'the compose Prometheus');
  const provider = parse(readFileSync(join(provisioning, 'dashboards/onstage.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
  assert.equal(provider.providers[0]!.options.path, '/var/lib/grafana/dashboards');
  const dashboard = JSON.parse(readFileSync(join(dashboards, 'onstage.json'), 'utf8')) as { panels: { datasource: { uid: string }; targets: { expr: string }[] }[] };
  assert.ok(dashboard.panels.length >= 10);
  assert.ok(dashboard.panels.every((p) => p.datasource.uid === source.uid && p.targets.length > 0), 'every panel queries that source');
});
