/**
 * @module docker/compose.yaml checked without a Docker engine: every referenced file exists, every variable is
 * defined, no host port is taken twice, each quanlu command is a real subcommand, each config file validates
 * with the project's own schema, and the settings repeated across files agree.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { writeAuthFiles } from '../../docker/mosquitto/write-auth-files.ts';
import { readConfigFile } from '../../firmware-config/config-file.ts';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { mosquittoIngestPassword } from '../../ingest/broker/mosquitto-files.ts';
import { IngestConfig } from '../../ingest/config.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { generateKeyPair } from '../../protocol/keys.ts';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const DOCKER = join(REPO, 'docker');

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };

const composeText = readFileSync(join(DOCKER, 'compose.yaml'), 'utf8');
const compose = parse(composeText, { merge: true }) as Compose;
const env = parseEnvFile(readFileSync(join(DOCKER, '.env'), 'utf8'));
const services = Object.entries(compose.services);

/** KEY=value lines; comments and blank lines skipped. */
function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1]!, m[2]!);
  }
  return vars;
}

/** Compose's `${VAR}` / `${VAR:-default}` substitution with docker/.env. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const v = env.get(name) ?? fallback;
    if (v === undefined) throw new Error(`\${${name}} is not defined`);
    return v;
  });
}

/** Bind mounts of a service: [host path relative to docker/, container path]. */
function bindMounts(service: Service): [string, string][] {
  return (service.volumes ?? [])
    .filter((v) => v.startsWith('.'))
    .map((v) => {
      const [host, container] = v.split(':');
      return [host!, container!];
    });
}

/** The host file mounted at `target` in a service. */
function mountedFile(service: string, target: string): string {
  const mount = bindMounts(compose.services[service]!).find(([, c]) => c === target);
  if (!mount) throw new Error(`${service} mounts nothing at ${target}`);
  return join(DOCKER, mount[0]);
}

// Services that run the image's own entry point (bin/quanlu.js); mqtt-auth runs a script instead.
const quanluServices = services.filter(
  ([, s]) => s.image?.startsWith('quanlu-') && s.command && !s.entrypoint,
);

t.test('compose.yaml parses and names the services of the deployment', async (t) => {
  for (const name of ['postgres', 'minio', 'minio-init', 'mosquitto', 'mqtt-auth', 'ingest-1', 'ingest-2']) {
    t.ok(compose.services[name], `service ${name}`);
  }
  t.ok(compose.services.http, 'one HTTP entry point');
  t.ok(compose.services.gateway, 'one gateway');
});

t.test('every Dockerfile and build context a service names exists', async (t) => {
  for (const [name, s] of services) {
    if (!s.build) continue;
    const context = resolve(DOCKER, s.build.context);
    t.ok(statSync(context).isDirectory(), `${name}: context ${s.build.context}`);
    t.ok(existsSync(join(context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`);
  }
});

for (const file of ['ingest.Dockerfile', 'gateway.Dockerfile']) {
  t.test(
    `${file}: multi-stage on a Node LTS image, production packages, Debian ffmpeg, non-root`,
    async (t) => {
      const text = readFileSync(join(DOCKER, file), 'utf8');
      const image = /^ARG NODE_IMAGE=(node:(\d+)-bookworm-slim)$/m.exec(text);
      t.ok(image, 'the base image is a Debian node image, set in one ARG');
      t.equal(Number(image?.[2]) % 2, 0, 'an even (LTS) Node major');
      t.ok(Number(image?.[2]) >= 24, 'a Node still in LTS (20 ended in April 2026)');
      t.equal(text.match(/^FROM /gm)?.length, 2, 'two stages');
      t.match(text, /npm ci --omit=dev/);
      t.match(text, /apt-get install[^\n]*\bffmpeg\b/);
      const user = /^USER (\S+)$/m.exec(text)?.[1];
      t.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
      // Every COPY from the build context (the repository root) names something that exists.
      for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const src of m[1]!.split(/\s+/)) t.ok(existsSync(join(REPO, src)), `COPY ${src} exists`);
      }
      t.ok(existsSync(join(DOCKER, `${file}.dockerignore`)), 'a .dockerignore beside it');
      t.match(text, /ENTRYPOINT \[.*"\/app\/bin\/quanlu\.js"\]/, 'the image runs bin/quanlu.js');
    },
  );
}

t.test('every bind-mounted file or folder exists, every named volume is declared', async (t) => {
  for (const [name, s] of services) {
    for (const volume of s.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) t.ok(existsSync(join(DOCKER, source)), `${name}: ${source}`);
      else t.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
    }
  }
});

t.test(
  'every ${VAR} in compose.yaml is defined in docker/.env, and an undefined one is caught',
  async (t) => {
    const used = [...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
    t.ok(used.length > 5, 'variables are used');
    for (const name of new Set(used)) t.ok(env.get(name), `${name} is defined`);
    t.throws(() => interpolate('${NOT_A_QUANLU_VARIABLE}'), /not defined/);
  },
);

t.test('no two services publish the same host port', async (t) => {
  const seen = new Map<string, string>();
  for (const [name, s] of services) {
    for (const port of s.ports ?? []) {
      const host = interpolate(port).split(':')[0]!;
      t.notOk(
        seen.has(host),
        `host port ${host} (${name}) is free${seen.has(host) ? `: ${seen.get(host)}` : ''}`,
      );
      seen.set(host, name);
    }
  }
  t.ok(seen.size >= 4);
});

t.test('every depends_on names a service', async (t) => {
  for (const [name, s] of services)
    for (const dep of Object.keys(s.depends_on ?? {})) t.ok(compose.services[dep], `${name} → ${dep}`);
});

t.test('each quanlu command is a real subcommand (its --help runs), and a made-up one fails', async (t) => {
  const subcommands = new Set(quanluServices.map(([, s]) => s.command![0]!));
  t.same([...subcommands].sort(), ['gateway', 'ingest']);
  for (const sub of subcommands) {
    const { stdout } = await run('node', ['bin/quanlu.js', sub, '--help'], { cwd: REPO });
    t.match(stdout, new RegExp(`Usage: quanlu ${sub}`), `quanlu ${sub} --help`);
    t.match(stdout, /--config/, `quanlu ${sub} takes --config`);
  }
  // An unknown name falls back to the program's own help, which the check above tells apart.
  const { stdout } = await run('node', ['bin/quanlu.js', 'no-such-command', '--help'], { cwd: REPO });
  t.notMatch(stdout, /Usage: quanlu no-such-command/);
});

t.test('each config file given to an ingest node validates with IngestConfig', async (t) => {
  const nodes = new Set<string>();
  for (const name of ['ingest-1', 'ingest-2', 'mqtt-auth']) {
    const config = IngestConfig.parse(await readConfigFile(mountedFile(name, '/etc/quanlu/ingest.yaml')));
    t.equal(config.mqtt.kind, 'external', `${name}: on Mosquitto`);
    t.equal(config.database?.kind, 'postgres', `${name}: on PostgreSQL`);
    t.equal(config.store?.kind, 's3', `${name}: on MinIO`);
    t.equal(config.dataDir, '/data', `${name}: data folder on the shared volume`);
    if (name !== 'mqtt-auth') nodes.add(config.node);
    // The same credentials as the PostgreSQL and MinIO services.
    const db = new URL(config.database?.kind === 'postgres' ? config.database.url : '');
    t.equal(db.username, env.get('POSTGRES_USER'));
    t.equal(db.password, env.get('POSTGRES_PASSWORD'));
    t.equal(db.pathname, `/${env.get('POSTGRES_DB')}`);
    t.equal(db.hostname, 'postgres');
    if (config.store?.kind === 's3') {
      t.equal(config.store.endPoint, 'minio');
      t.equal(config.store.accessKey, env.get('MINIO_ROOT_USER'));
      t.equal(config.store.secretKey, env.get('MINIO_ROOT_PASSWORD'));
      t.equal(config.store.bucket, env.get('S3_BUCKET'));
    }
    if (config.mqtt.kind === 'external') t.equal(new URL(config.mqtt.url).hostname, 'mosquitto');
    t.equal(config.http.port, 8080, 'the port the health check and the entry point use');
  }
  t.equal(nodes.size, 2, 'the two nodes have distinct names (distinct MQTT client ids)');
  t.throws(
    () => IngestConfig.parse({ node: 'ingest-1', mqtt: { kind: 'external' } }),
    'the schema can refuse',
  );
});

t.test(
  'the gateway config validates with parseGatewayConfig and uploads where the ingest reads',
  async (t) => {
    const file = mountedFile('gateway', '/etc/quanlu/gateway.yaml');
    const { config, profile } = parseGatewayConfig(await readConfigFile(file), { source: file });
    t.ok(
      config.cameras.some((c) => c.source.kind === 'synthetic'),
      'a synthetic camera',
    );
    t.ok(config.cameras.length >= profile.cameras.min);
    t.equal(new URL(config.ingest.mqttUrl ?? '').hostname, 'mosquitto');
    const store = config.ingest.store;
    t.equal(store?.kind, 's3');
    if (store?.kind === 's3') {
      t.equal(store.accessKey, env.get('GATEWAY_S3_ACCESS_KEY'));
      t.equal(store.secretKey, env.get('GATEWAY_S3_SECRET_KEY'));
      t.equal(store.bucket, env.get('S3_BUCKET'));
    }
    const published = (compose.services.gateway!.ports ?? []).map((p) =>
      Number(interpolate(p).split(':')[1]),
    );
    t.ok(published.includes(config.console.port), 'the console port is published');
    t.ok(config.metrics && published.includes(config.metrics.port), 'the metrics port is published');
    t.match(compose.services.gateway!.healthcheck!.test.join(' '), `:${config.metrics?.port}/metrics`);
    t.equal(config.metrics?.host, '0.0.0.0', 'metrics reachable from outside the container');
  },
);

t.test('the entry point balances over both ingest nodes on the port they listen on', async (t) => {
  const caddyfile = readFileSync(mountedFile('http', '/etc/caddy/Caddyfile'), 'utf8');
  const upstreams = /reverse_proxy ([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/);
  t.same(upstreams, ['ingest-1:8080', 'ingest-2:8080']);
  t.match(caddyfile, /health_uri \/api\/v1\/health/);
});

t.test(
  'MinIO: a bucket with object lock and a default retention, a gateway user that cannot delete',
  async (t) => {
    const script = readFileSync(join(DOCKER, 'minio/init-bucket.sh'), 'utf8');
    t.match(script, /mc mb --ignore-existing --with-lock "local\/\$S3_BUCKET"/);
    t.match(script, /mc retention set --default "\$S3_RETENTION_MODE" "\$S3_RETENTION_VALIDITY"/);
    t.match(env.get('S3_RETENTION_MODE') ?? '', /^(COMPLIANCE|GOVERNANCE)$/);
    t.match(env.get('S3_RETENTION_VALIDITY') ?? '', /^\d+d$/);
    t.ok(Number.parseInt(env.get('S3_RETENTION_VALIDITY') ?? '0', 10) >= 180, 'at least 6 months');
    for (const v of script.matchAll(/\$([A-Z_][A-Z0-9_]*)/g))
      t.ok(compose.services['minio-init']!.environment?.[v[1]!], `the script's $${v[1]} is passed in`);
    const policy = JSON.parse(readFileSync(join(DOCKER, 'minio/gateway-policy.json'), 'utf8')) as {
      Statement: { Action: string[]; Resource: string[] }[];
    };
    const actions = policy.Statement.flatMap((s) => s.Action);
    t.notOk(
      actions.some((a) => /Delete|\*/.test(a)),
      'no delete action [DESIGN invariant 5]',
    );
    for (const r of policy.Statement.flatMap((s) => s.Resource))
      t.match(r, new RegExp(`^arn:aws:s3:::${env.get('S3_BUCKET')}(/\\*)?$`), 'the policy names the bucket');
  },
);

t.test('Mosquitto refuses anonymous clients and reads the files mqtt-auth writes', async (t) => {
  const conf = readFileSync(mountedFile('mosquitto', '/mosquitto/config/mosquitto.conf'), 'utf8');
  t.match(conf, /^allow_anonymous false$/m);
  const authMount = compose.services.mosquitto!.volumes!.find((v) => v.startsWith('mosquitto-auth:'));
  const authDir = authMount?.split(':')[1];
  t.match(conf, new RegExp(`^password_file ${authDir}/passwd$`, 'm'));
  t.match(conf, new RegExp(`^acl_file ${authDir}/acl$`, 'm'));
  const writer = compose.services['mqtt-auth']!;
  t.ok(
    writer.volumes?.some((v) => v.startsWith('mosquitto-auth:')),
    'mqtt-auth writes to the same volume',
  );
  const script = writer.entrypoint?.at(-1) ?? '';
  t.ok(existsSync(join(REPO, script.replace(/^\/app\//, ''))), `${script} is in the repository`);
  t.equal(
    compose.services.mosquitto!.depends_on?.['mqtt-auth']?.condition,
    'service_completed_successfully',
    'Mosquitto starts once the files are written',
  );
});

t.test('write-auth-files writes a password file admitting the ingest and an ACL file (PGlite)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-mqtt-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'ingest.yaml');
  await writeFile(config, `dataDir: ${join(dir, 'data')}\n`);
  const approved = await writeAuthFiles(config, join(dir, 'out'));
  t.equal(approved, 0, 'no gateway enrolled yet');
  const passwd = await readFile(join(dir, 'out/passwd'), 'utf8');
  t.match(passwd, /^ingest:\$7\$101\$/m, 'the ingest user, hashed as mosquitto_passwd does');
  t.match(await readFile(join(dir, 'out/acl'), 'utf8'), /^user ingest\ntopic readwrite quanlu\/v1\/#$/m);
  const secret = (await readFile(join(dir, 'data/ingest-secret'), 'utf8')).trim();
  t.ok(mosquittoIngestPassword(secret).length > 20, 'the ingest secret was made in the data folder');
  t.equal(statSync(join(dir, 'data/ingest-secret')).mode & 0o777, 0o600);

  // An approved gateway gets a user and its own topics; a pending one gets nothing.
  const db = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'data/db') });
  const repo = createRepository(db);
  const [a, b] = [generateKeyPair(), generateKeyPair()];
  await repo.upsertEnrollment({
    id: 'gw-a',
    fingerprint: a.publicKey.fingerprint,
    publicKey: a.publicKeyText,
    hostname: null,
  });
  await repo.upsertEnrollment({
    id: 'gw-b',
    fingerprint: b.publicKey.fingerprint,
    publicKey: b.publicKeyText,
    hostname: null,
  });
  await repo.decideGateway(a.publicKey.fingerprint, 'approved', 'test');
  await db.close();
  t.equal(await writeAuthFiles(config, join(dir, 'out')), 1, 'one approved gateway');
  const acl = await readFile(join(dir, 'out/acl'), 'utf8');
  t.match(acl, /^user gw-a\ntopic write quanlu\/v1\/gw\/gw-a\/entry$/m);
  t.notMatch(acl, /gw-b/, 'a pending gateway is not admitted');
  t.match(await readFile(join(dir, 'out/passwd'), 'utf8'), /^gw-a:\$7\$/m);
  t.equal(
    (await readFile(join(dir, 'data/ingest-secret'), 'utf8')).trim(),
    secret,
    'the same secret on the second run',
  );
});
