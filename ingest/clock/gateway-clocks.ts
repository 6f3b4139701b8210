/**
 * @module The clock of every gateway as its retained status reports it: the offset it measured against this
 * ingest and whether it is beyond the limit. Kept in memory from the status topic (retained, so a restarted
 * ingest has it at once) and served at GET /api/v1/gateways/clocks for the console's gateway page.
 */
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { StatusMessage } from '../../protocol/messages.ts';
import { everyGateway, parseTopic } from '../../protocol/topics.ts';

/** The alarm code a gateway raises when its clock is off by more than its profile allows. */
export const CLOCK_ALARM = 'clock-offset';

/** One gateway's clock as the console shows it. */
export const GatewayClockView = z.strictObject({
  gateway: z.string(),
  online: z.boolean(),
  at: z.string().describe('when the gateway sent this status (gateway clock)'),
  clockOffsetMs: z
    .number()
    .int()
    .nullable()
    .describe('ingest clock minus gateway clock, ms, as last measured; null: not measured'),
  warning: z
    .boolean()
    .describe('the offset is beyond the limit (the gateway raised clock-offset, or over maxOffsetMs)'),
  alarms: z.array(z.string()),
});
/** One gateway's clock as the console shows it. */
export type GatewayClockView = z.infer<typeof GatewayClockView>;

/** Settings of the tracker. */
export interface GatewayClocksOptions {
  mqtt: MqttClient;
  log: Logger;
  /** Beyond this many ms the console warns even when the gateway raised no alarm (the profiles' default). */
  maxOffsetMs?: number;
}

/** The latest status of every gateway, for its clock. */
export class GatewayClocks {
  readonly #o: Required<GatewayClocksOptions>;
  readonly #latest = new Map<string, StatusMessage>();
  readonly #onMessage = (topic: string, payload: Buffer) => this.#take(topic, payload);

  constructor(options: GatewayClocksOptions) {
    this.#o = { maxOffsetMs: 2000, ...options };
  }

  /** Subscribes to every gateway's status (not shared: each node keeps all of them). */
  async start(): Promise<void> {
    this.#o.mqtt.on('message', this.#onMessage);
    await this.#o.mqtt.subscribeAsync(everyGateway('status'), { qos: 1 });
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    this.#o.mqtt.off('message', this.#onMessage);
    await this.#o.mqtt.unsubscribeAsync(everyGateway('status')).catch(() => undefined);
  }

  /** Every gateway heard from, by id. */
  list(): GatewayClockView[] {
    return [...this.#latest.values()]
      .sort((a, b) => a.gateway.localeCompare(b.gateway))
      .map((s) => ({
        gateway: s.gateway,
        online: s.online,
        at: s.at,
        clockOffsetMs: s.clockOffsetMs,
        warning:
          s.alarms.includes(CLOCK_ALARM) ||
          (s.clockOffsetMs !== null && Math.abs(s.clockOffsetMs) > this.#o.maxOffsetMs),
        alarms: s.alarms,
      }));
  }

  /** Adds GET /api/v1/gateways/clocks (roles: auth/policy.ts). */
  register(http: FastifyInstance): void {
    http.get(
      '/api/v1/gateways/clocks',
      {
        schema: {
          summary: "every gateway's clock offset against this ingest, from its last status",
          response: { 200: z.array(GatewayClockView) },
        },
      },
      async () => this.list(),
    );
  }

  #take(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t?.channel !== 'status') return;
    let status: StatusMessage;
    try {
      status = StatusMessage.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      this.#o.log.warn(
        { code: 'INGEST_PAYLOAD_INVALID', gateway: t.gateway },
        'status refused: it does not parse',
      );
      return;
    }
    // The topic names the gateway (the broker's ACL holds it to its own); the body may not claim another.
    if (status.gateway !== t.gateway) return;
    this.#latest.set(t.gateway, status);
  }
}
