/**
 * @module Worker thread of the ingest bench: the simulated gateways, one MQTT client each, publishing their
 * pre-serialised entries (QoS 1, in order) on their own event loop, so the ingest's loop does only the ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

// Plain JavaScript: a worker thread does not inherit the tsx loader. `workerData` is main.ts's PublisherData.
const data = workerData;
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
parentPort.postMessage({ type: 'connected' });
await new Promise((resolve) => parentPort.once('message', () => resolve()));
const t = performance.now();
await Promise.all(
  data.gateways.map((g, i) =>
    Promise.all(g.payloads.map((p) => clients[i].publishAsync(g.topic, p, { qos: 1 }))),
  ),
);
parentPort.postMessage({ type: 'published', ms: performance.now() - t });
await Promise.all(clients.map((c) => c.endAsync()));
