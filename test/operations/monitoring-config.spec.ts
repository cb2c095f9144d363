import { load } from 'js-yaml';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/app';

const ROOT = join(__dirname, '..', '..');
const yaml = (path: string) => load(readFileSync(join(ROOT, path), 'utf8')) as Record<string, any>;

/** The metric names an expression uses (`copydesk_…`, `process_…`, `up`), without the histogram suffixes. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:copydesk|process|nodejs)_[a-z_]+)/g)].map((m) => m[1].replace(/_(bucket|count|sum)$/, ''));
}

/**
 * docker-compose.yml's Prometheus and Grafana, checked without Docker: the files parse, every file a
 * service mounts is in the repository, and every metric the alert rules and the dashboard query is one
 * the real application exposes.
 */
describe('the monitoring configuration in the repository', () => {
  let t: TestApp;
  let exposed: Set<string>;

  beforeAll(async () => {
    t = await startTestApp();
    const text = (await t.http().get('/metrics')).text;
    exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  });
  afterAll(async () => {
    await t.close();
  });

  it('docker-compose.yml runs Prometheus scraping Copydesk and Grafana provisioned from files that exist', () => {
    const compose = yaml('docker-compose.yml');
    const { prometheus, grafana, copydesk } = compose.services;
    expect(copydesk).toBeDefined();
    for (const service of [prometheus, grafana]) {
      expect(typeof service.image).toBe('string');
      for (const volume of service.volumes as string[]) {
        const [source] = volume.split(':');
        if (source.startsWith('./')) expect([volume, existsSync(join(ROOT, source))]).toEqual([volume, true]);
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
    const mounted = (service: { volumes: string[] }, target: string) => service.volumes.find((v) => v.split(':')[1] === target)?.split(':')[0];
    expect(mounted(prometheus, '/etc/prometheus/prometheus.yml')).toBe('./ops/prometheus/prometheus.yml');
    expect(mounted(prometheus, '/etc/prometheus/alerts.yml')).toBe('./docs/prometheus-alerts.yml');

    const config = yaml('ops/prometheus/prometheus.yml');
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const job = config.scrape_configs.find((j: { job_name: string }) => j.job_name === 'copydesk');
    expect(job).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: [`copydesk:${copydesk.environment.PORT}`] }] });

    const datasource = yaml('ops/grafana/provisioning/datasources/prometheus.yml').datasources[0];
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'copydesk-prometheus' });
    const provider = yaml('ops/grafana/provisioning/dashboards/copydesk.yml').providers[0];
    const dashboards = mounted(grafana, provider.options.path);
    expect(dashboards).toBe('./ops/grafana/dashboards');
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider.options.path}/copydesk.json`);
  });

  it('the alert rules parse, name projection failure, lag and the 5xx rate, and use only metrics Copydesk exposes', () => {
    const rules = yaml('docs/prometheus-alerts.yml').groups.flatMap((g: { rules: unknown[] }) => g.rules) as { alert: string; expr: string; for?: string }[];
    const names = rules.map((r) => r.alert);
    for (const wanted of ['CopydeskProjectionFailed', 'CopydeskProjectionLagging', 'CopydeskServerErrors']) expect(names).toContain(wanted);
    for (const rule of rules) {
      expect([rule.alert, typeof rule.expr]).toEqual([rule.alert, 'string']);
      for (const metric of metricsIn(rule.expr)) expect([rule.alert, metric, exposed.has(metric)]).toEqual([rule.alert, metric, true]);
    }
  });

  it('the dashboard shows command rate and latency, projection lag and webhook deliveries, from the provisioned datasource and exposed metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'ops/grafana/dashboards/copydesk.json'), 'utf8'));
    const panels = (dashboard.panels as { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[]).filter((p) => p.type !== 'row');
    const queried = panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr));
    for (const metric of ['copydesk_commands_total', 'copydesk_command_duration_seconds', 'copydesk_projection_lag_seconds', 'copydesk_projection_lag_events', 'copydesk_webhook_deliveries_total'])
      expect([metric, queried.some((expr) => metricsIn(expr).includes(metric))]).toEqual([metric, true]);
    for (const panel of panels) {
      expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, 'copydesk-prometheus']);
      for (const { expr } of panel.targets ?? []) for (const metric of metricsIn(expr)) expect([panel.title, metric, exposed.has(metric)]).toEqual([panel.title, metric, true]);
    }
    const ids = (dashboard.panels as { id: number }[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
