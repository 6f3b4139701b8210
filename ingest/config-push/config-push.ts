/**
 * @module Pushes gateway configurations: validated with the gateway's own schema, signed with the ingest key
 * ('config' context), published retained on the gateway's `config` topic. The broker's retained messages are
 * the record of what is pushed, so any ingest node reads the current version back and none keeps state.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { configEnvelopeProblem, signConfigEnvelope } from '../../protocol/config-envelope.ts';
import { GatewayId } from '../../protocol/entry.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { ConfigEnvelope } from '../../protocol/messages.ts';
import { everyGateway, gatewayTopic, parseTopic } from '../../protocol/topics.ts';
import type { Repository } from '../db/repository.ts';
import { IngestError } from '../errors.ts';

/** What a push needs. */
export interface ConfigPushOptions {
  mqtt: MqttClient;
  /** The ingest key that signs configurations (the log key, under the 'config' context). */
  keyPair: KeyPair;
  repo: Pick<Repository, 'gatewayById'>;
}

const Params = z.strictObject({ id: GatewayId });
const PushBody = z.strictObject({
  config: z.record(z.string(), z.unknown()).describe('the whole gateway configuration, as in its YAML file'),
});

/** The pushed configurations, mirrored from the broker's retained messages. */
export class ConfigPush {
  readonly #o: ConfigPushOptions;
  readonly #current = new Map<string, ConfigEnvelope>();
  readonly #onMessage = (topic: string, payload: Buffer) => {
    const t = parseTopic(topic);
    if (t?.channel !== 'config') return;
    const parsed = ConfigEnvelope.safeParse(safeJson(payload));
    // Only what this ingest key signed is on record: anyone else's message on the topic is not a push.
    if (!parsed.success || configEnvelopeProblem(parsed.data, t.gateway, this.#o.keyPair.publicKey)) return;
    if (parsed.data.version >= (this.#current.get(t.gateway)?.version ?? 0))
      this.#current.set(t.gateway, parsed.data);
  };

  constructor(options: ConfigPushOptions) {
    this.#o = options;
  }

  /** Subscribes to every gateway's config topic: the retained envelopes arrive at once. */
  async start(): Promise<void> {
    this.#o.mqtt.on('message', this.#onMessage);
    await this.#o.mqtt.subscribeAsync(everyGateway('config'), { qos: 1 });
  }

  /** Stops mirroring. */
  stop(): void {
    this.#o.mqtt.off('message', this.#onMessage);
  }

  /** The envelope in force for a gateway, or null. */
  current(gateway: string): ConfigEnvelope | null {
    return this.#current.get(gateway) ?? null;
  }

  /**
   * Validates `config` for `gateway`, signs it as the next version and publishes it retained.
   * Throws INGEST_BAD_REQUEST (invalid, or for another gateway) or INGEST_NOT_FOUND (not enrolled).
   */
  async push(gateway: string, config: Record<string, unknown>): Promise<ConfigEnvelope> {
    let parsedId: string;
    try {
      parsedId = parseGatewayConfig(config, { source: `configuration for ${gateway}` }).config.gateway.id;
    } catch (err) {
      throw new IngestError('INGEST_BAD_REQUEST', (err as Error).message, { cause: err });
    }
    if (parsedId !== gateway) {
      throw new IngestError(
        'INGEST_BAD_REQUEST',
        `the configuration is for gateway ${parsedId}, not ${gateway}`,
      );
    }
    if (!(await this.#o.repo.gatewayById(gateway))) {
      throw new IngestError('INGEST_NOT_FOUND', `no gateway ${gateway} has enrolled`);
    }
    const version = (this.current(gateway)?.version ?? 0) + 1;
    const envelope = signConfigEnvelope(this.#o.keyPair, gateway, version, config);
    await this.#o.mqtt.publishAsync(gatewayTopic(gateway, 'config'), JSON.stringify(envelope), {
      qos: 1,
      retain: true,
    });
    this.#current.set(gateway, envelope);
    return envelope;
  }

  /** GET and PUT /api/v1/gateways/:id/config, for administrators. */
  register(app: FastifyInstance): void {
    app.get('/api/v1/gateways/:id/config', async (req) => {
      adminOnly(req);
      const { id } = parse(Params, req.params);
      const envelope = this.current(id);
      if (!envelope) throw new IngestError('INGEST_NOT_FOUND', `no configuration has been pushed to ${id}`);
      return envelope;
    });
    app.put('/api/v1/gateways/:id/config', async (req) => {
      adminOnly(req);
      const { id } = parse(Params, req.params);
      const { config } = parse(PushBody, req.body);
      const envelope = await this.push(id, config);
      req.log.info(
        { gateway: id, version: envelope.version, by: req.auth?.user.username },
        'configuration pushed',
      );
      return { gateway: id, version: envelope.version, hash: envelope.hash, key: envelope.key };
    });
  }
}

function adminOnly(req: FastifyRequest): void {
  if (req.auth?.user.role !== 'admin') {
    throw new IngestError('INGEST_FORBIDDEN', 'only an administrator reads or pushes gateway configurations');
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

function safeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
}
