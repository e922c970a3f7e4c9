import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments, parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../server/src/config.ts';

/**
 * deploy/kubernetes cannot be applied here (no cluster), so it is checked as far as it can be
 * without one: every object against the Kubernetes schemas (kubernetes-models), and the Onstage
 * pods against what the server really reads and serves (its configuration loads; probes, metrics
 * and the drain hook point at its routes and ports; the grace period outlasts a drain).
 */
const DIR = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string };
const objects: Obj[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Obj).filter(Boolean),
);
const find = <T>(kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as unknown as T;

test('kubernetes: every object of the kustomization validates against the Kubernetes schemas', () => {
  for (const file of kustomization.resources) assert.ok(existsSync(join(DIR, file)), `${file} exists`);
  assert.ok(objects.length >= 8, `objects: ${objects.map((o) => o.kind).join(', ')}`);
  for (const o of objects) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `a schema for ${o.apiVersion} ${o.kind}`);
    assert.doesNotThrow(() => new Model(o as never).validate(), `${o.kind} ${o.metadata.name} is valid`);
  }
  // The validator is real: a broken object fails.
  const broken = structuredClone(find<Obj>('StatefulSet', 'onstage')) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
  broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'three thousand';
  assert.throws(() => new StatefulSet(broken as never).validate(), /containerPort/);
});

type Container = {
  envFrom: ({ configMapRef?: { name: string }; secretRef?: { name: string } })[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  ports: { name: string; containerPort: number; hostPort?: number; protocol: string }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  lifecycle: { preStop: { exec: { command: string[] } } };
};
type Pods = {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; hostNetwork: boolean; containers: Container[] } };
  };
};

test('kubernetes: the Onstage pods load their configuration, probe and scrape the right ports, drain before they stop', () => {
  const set = find<Pods>('StatefulSet', 'onstage');
  const pod = set.spec.template;
  const c = pod.spec.containers[0]!;
  // The environment a pod gets (downward API values as a node would give them).
  const downward: Record<string, string> = { NODE_ID: 'onstage-0', HOST_IP: '10.0.0.5' };
  const env: Record<string, string> = {};
  for (const from of c.envFrom) {
    if (from.configMapRef) Object.assign(env, find<{ data: Record<string, string> }>('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, find<{ stringData: Record<string, string> }>('Secret', from.secretRef.name).stringData);
  }
  for (const e of c.env) env[e.name] = e.value !== undefined ? e.value.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? downward[v] ?? '') : downward[e.name]!;
  delete env['HOST_IP']; // only there to be expanded into the others
  for (const name of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(name), `${name} is a setting the server reads`);
  const config = loadConfig(env);
  assert.equal(config.rtc.announcedAddress, '10.0.0.5');
  assert.equal(config.cluster.nodeId, 'onstage-0');
  assert.ok(config.cluster.redisUrl?.includes(find<Obj>('Service', 'redis').metadata.name), 'Redis through its Service');

  const port = (name: string) => c.ports.find((p) => p.name === name)?.containerPort;
  assert.equal(pod.spec.hostNetwork, true, 'media ports on the node itself');
  assert.ok(c.ports.every((p) => p.hostPort === undefined || p.hostPort === p.containerPort), 'host ports equal container ports (host networking)');
  assert.equal(port('http'), config.http.port);
  assert.equal(port('ops'), config.ops.port);
  for (let w = 0; w < config.workers; w++) {
    for (const protocol of ['UDP', 'TCP']) assert.ok(c.ports.some((p) => p.containerPort === config.rtc.basePort + w && p.protocol === protocol), `worker ${w}: ${protocol} ${config.rtc.basePort + w}`);
  }
  assert.deepEqual([c.readinessProbe.httpGet.path, port(c.readinessProbe.httpGet.port)], ['/readyz', config.ops.port]);
  assert.deepEqual([c.livenessProbe.httpGet.path, port(c.livenessProbe.httpGet.port)], ['/healthz', config.ops.port]);
  assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.equal(Number(pod.metadata.annotations['prometheus.io/port']), config.ops.port);
  assert.equal(pod.metadata.annotations['prometheus.io/path'], '/metrics');

  const preStop = c.lifecycle.preStop.exec.command.join(' ');
  assert.match(preStop, new RegExp(`127\\.0\\.0\\.1:${config.http.port}/api/server/drain`), 'preStop asks the node to drain');
  assert.match(preStop, /API_KEY:\$API_SECRET/, 'with the server API credentials');
  assert.ok(config.serverApi, 'the server API is on (the drain hook needs it)');
  assert.ok(pod.spec.terminationGracePeriodSeconds * 1000 > config.drain.timeoutMs, 'the grace period outlasts a drain');

  // Services and the disruption budget select these pods, by ports that exist.
  for (const name of ['onstage']) {
    const svc = find<{ spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>('Service', name);
    assert.ok(Object.entries(svc.spec.selector).every(([k, v]) => pod.metadata.labels[k] === v), `Service ${name} selects the pods`);
    for (const p of svc.spec.ports) assert.ok(port(p.targetPort), `Service ${name}: port ${p.targetPort} exists`);
  }
  const pdb = find<{ spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable: number } }>('PodDisruptionBudget', 'onstage');
  assert.ok(Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => pod.metadata.labels[k] === v), 'the PDB selects the pods');
  assert.equal(pdb.spec.maxUnavailable, 1, 'one node drains at a time');
});
