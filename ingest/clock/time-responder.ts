/**
 * @module The ingest's side of trusted time: answers each gateway's time-req on its own time-resp topic with the
 * ingest clock's receive and send times (NTP-style, [EVIDENCE §4.3.1]). The broker's ACL lets a gateway publish
 * only its own time-req and hear only its own time-resp.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { TimeRequest, type TimeResponse } from '../../protocol/messages.ts';
import type { Clock } from '../../protocol/time.ts';
import { everyGateway, gatewayTopic, parseTopic, sharedEveryGateway } from '../../protocol/topics.ts';

/** Settings of the responder. */
export interface TimeResponderOptions {
  mqtt: MqttClient;
  /** The reference clock: the ingest's. */
  clock: Clock;
  log: Logger;
  /** Several ingest nodes on one broker: one of them answers each request. */
  shared?: boolean;
}

/** Answers time requests until stopped. */
export class TimeResponder {
  readonly #o: TimeResponderOptions;
  readonly #filter: string;
  readonly #onMessage = (topic: string, payload: Buffer) => this.#answer(topic, payload);

  constructor(options: TimeResponderOptions) {
    this.#o = options;
    this.#filter = options.shared ? sharedEveryGateway('time-req') : everyGateway('time-req');
  }

  /** Subscribes (QoS 0: a late answer is useless; the gateway asks again). */
  async start(): Promise<void> {
    this.#o.mqtt.on('message', this.#onMessage);
    await this.#o.mqtt.subscribeAsync(this.#filter, { qos: 0 });
  }

  /** Stops answering. */
  async stop(): Promise<void> {
    this.#o.mqtt.off('message', this.#onMessage);
    await this.#o.mqtt.unsubscribeAsync(this.#filter).catch(() => undefined);
  }

  #answer(topic: string, payload: Buffer): void {
    const t1 = this.#o.clock.now();
    const from = parseTopic(topic);
    if (from?.channel !== 'time-req') return;
    const parsed = (() => {
      try {
        return TimeRequest.safeParse(JSON.parse(payload.toString('utf8')));
      } catch {
        return null;
      }
    })();
    if (!parsed?.success) {
      this.#o.log.warn(
        { code: 'INGEST_PAYLOAD_INVALID', gateway: from.gateway },
        'time request refused: it does not parse',
      );
      return;
    }
    const response: TimeResponse = { id: parsed.data.id, t0: parsed.data.t0, t1, t2: this.#o.clock.now() };
    this.#o.mqtt
      .publishAsync(gatewayTopic(from.gateway, 'time-resp'), JSON.stringify(response), { qos: 0 })
      .catch((err: Error) =>
        this.#o.log.warn({ gateway: from.gateway, err: err.message }, 'time response not published'),
      );
  }
}
