/**
 * @module Child process of the ingest bench: the simulated gateways, one MQTT client each, publishing their
 * pre-serialised entries (QoS 1, in order) from a process of their own, so the ingest's process does only the
 * ingest and its CPU time can be told apart. Reads main.ts's PublisherData from the file named in argv[2].
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

// Plain JavaScript: no TypeScript loader is needed to publish.
const data = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const clients = await Promise.all(
  data.gateways.map((g) =>
    mqtt.connectAsync(data.url, {
      clientId: g.id,
      clean: true,
      protocolVersion: 4,
      ...(g.password ? { username: g.id, password: g.password } : {}),
    }),
  ),
);
process.send({ type: 'connected' });
await new Promise((resolve) => process.once('message', () => resolve()));
const t = performance.now();
const cpu = process.cpuUsage();
await Promise.all(
  data.gateways.map((g, i) =>
    Promise.all(g.payloads.map((p) => clients[i].publishAsync(g.topic, p, { qos: 1 }))),
  ),
);
const used = process.cpuUsage(cpu);
process.send({ type: 'published', ms: performance.now() - t, cpuS: (used.user + used.system) / 1e6 });
await Promise.all(clients.map((c) => c.endAsync()));
process.disconnect();
