/**
 * @module Worker thread of the scale bench: the simulated gateways, one MQTT client each (persistent session,
 * QoS 1), each sealing one entry per track every `stepMs` at its own offset in the step, publishing it when it
 * is due, listening for its acknowledgements, and publishing again what stays unacknowledged for
 * `republishMs`, the oldest `batch` at a time (as the gateway uplink does). Latency is from the moment an entry is due (its seal) to the
 * first `indexed` acknowledgement naming it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

// Plain JavaScript: a worker thread does not inherit the tsx loader. `workerData` is main.ts's PublisherData.
const { url, gateways, tracks, stepMs, republishMs, batch } = workerData;
const steps = gateways[0].payloads.length / tracks;
const total = gateways.reduce((n, g) => n + g.payloads.length, 0);

/** Per entry (global index gateway-major): when it was due, when last sent, when first acknowledged. */
const dueAt = new Float64Array(total);
const sentAt = new Float64Array(total).fill(-1);
const ackedAt = new Float64Array(total).fill(-1);
const base = [];
const index = new Map();
let k = 0;
for (const g of gateways) {
  base.push(k);
  for (const h of g.hashes) index.set(h, k++);
}
let published = 0;
let republished = 0;
let acked = 0;
let rejected = 0;
let firstReject = '';
/** Publishing behind schedule: the largest lag of a first publication after its due time, ms. */
let maxLag = 0;

const clients = [];
for (let i = 0; i < gateways.length; i += 50) {
  const part = await Promise.all(
    gateways
      .slice(i, i + 50)
      .map((g) =>
        mqtt.connectAsync(url, { clientId: g.id, clean: false, protocolVersion: 4, reconnectPeriod: 1000 }),
      ),
  );
  clients.push(...part);
}
clients.forEach((c, gi) => {
  c.on('message', (_topic, payload) => {
    const ack = JSON.parse(payload.toString('utf8'));
    const at = index.get(ack.hash);
    if (at === undefined || ackedAt[at] >= 0) return;
    if (ack.status === 'indexed') {
      ackedAt[at] = performance.now();
      acked++;
    } else {
      rejected++;
      firstReject ||= `${gateways[gi].id}: ${ack.code}: ${ack.reason}`;
    }
  });
});
await Promise.all(gateways.map((g, gi) => clients[gi].subscribeAsync(g.ackTopic, { qos: 1 })));
parentPort.postMessage({ type: 'connected' });

const send = (gi, j) => {
  const g = gateways[gi];
  clients[gi].publish(g.topic, g.payloads[j], { qos: 1 });
};

await new Promise((resolve) => parentPort.once('message', resolve));
const t0 = performance.now();
const nextStep = new Array(gateways.length).fill(0);
const offset = gateways.map((_, gi) => (gi / gateways.length) * stepMs);
let scheduleDone = false;

const schedule = setInterval(() => {
  const now = performance.now();
  let pending = false;
  for (let gi = 0; gi < gateways.length; gi++) {
    while (nextStep[gi] < steps) {
      const due = t0 + offset[gi] + nextStep[gi] * stepMs;
      if (due > now) break;
      maxLag = Math.max(maxLag, now - due);
      for (let tr = 0; tr < tracks; tr++) {
        const j = nextStep[gi] * tracks + tr;
        const at = base[gi] + j;
        dueAt[at] = due;
        sentAt[at] = now;
        send(gi, j);
        published++;
      }
      nextStep[gi]++;
    }
    if (nextStep[gi] < steps) pending = true;
  }
  if (!pending) {
    clearInterval(schedule);
    scheduleDone = true;
    parentPort.postMessage({ type: 'scheduled', ms: performance.now() - t0 });
  }
}, 10);

// As the uplink's round: of each gateway's oldest `batch` entries still awaiting their acknowledgement,
// those last published `republishMs` ago or more are published again (so a slow ingest is not flooded).
const oldestUnacked = new Array(gateways.length).fill(0);
const resend = setInterval(() => {
  const now = performance.now();
  for (let gi = 0; gi < gateways.length; gi++) {
    const n = gateways[gi].payloads.length;
    let j = oldestUnacked[gi];
    while (j < n && ackedAt[base[gi] + j] >= 0) j++;
    oldestUnacked[gi] = j;
    for (let seen = 0; j < n && seen < batch; j++) {
      const at = base[gi] + j;
      if (sentAt[at] < 0) break;
      if (ackedAt[at] >= 0) continue;
      seen++;
      if (now - sentAt[at] >= republishMs) {
        sentAt[at] = now;
        send(gi, j);
        republished++;
      }
    }
  }
}, 1000);

const progress = () => ({
  type: 'progress',
  elapsedMs: performance.now() - t0,
  published,
  republished,
  acked,
  rejected,
  firstReject,
  maxLagMs: maxLag,
  scheduleDone,
});
const ticker = setInterval(() => parentPort.postMessage(progress()), 1000);

/** The q-quantile (nearest rank) of sorted values. */
const quantile = (sorted, q) =>
  sorted.length === 0
    ? null
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

parentPort.on('message', async (m) => {
  if (m !== 'report') return;
  clearInterval(schedule);
  clearInterval(resend);
  clearInterval(ticker);
  const latencies = [];
  const perSecond = new Map();
  for (let i = 0; i < total; i++) {
    if (ackedAt[i] < 0) continue;
    latencies.push(ackedAt[i] - dueAt[i]);
    const s = Math.floor((ackedAt[i] - t0) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  latencies.sort((a, b) => a - b);
  await Promise.all(clients.map((c) => c.endAsync(true)));
  parentPort.postMessage({
    ...progress(),
    type: 'report',
    total,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? null,
    /** Entries first acknowledged in each second since the start. */
    perSecond: [...perSecond.entries()].sort((a, b) => a[0] - b[0]),
  });
});
