/**
 * @module Remote control over MQTT: the gateway takes record-start and record-stop commands on its `cmd` topic and
 * answers each with a CommandResult on `cmd-result`. Idempotent by command id (a repeated id gets the first answer
 * again) and by state (a start while the same case records answers with that recording). Commands run one at a
 * time. Nothing here stops a recording when the connection or a heartbeat is lost.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { CommandMessage, CommandResult } from '../../protocol/messages.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { RoomService } from '../console/room-service.ts';
import { GatewayError } from '../errors.ts';

/** How many answered command ids are remembered for idempotency. */
const REMEMBERED = 1000;

/** Settings of the remote control. */
export interface RemoteControlOptions {
  gateway: string;
  room: string;
  mqtt: MqttClient;
  service: RoomService;
  clock: Clock;
  log: Logger;
}

/** Events of the remote control. */
export interface RemoteControlEvents {
  /** The broker granted the command subscription (after each connect). */
  subscribed: [];
  answered: [CommandResult];
}

/** Takes commands from the ingest and answers them. */
export class RemoteControl extends EventEmitter<RemoteControlEvents> {
  readonly #o: RemoteControlOptions;
  readonly #answered = new Map<string, CommandResult>();
  #queue: Promise<unknown> = Promise.resolve();
  #listener: ((topic: string, payload: Buffer) => void) | null = null;
  #onConnect: (() => void) | null = null;

  constructor(options: RemoteControlOptions) {
    super();
    this.#o = options;
  }

  /** Subscribes to the command topic (again after every reconnect) and starts answering. */
  start(): void {
    const { mqtt, gateway } = this.#o;
    const topic = gatewayTopic(gateway, 'cmd');
    this.#listener = (t, payload) => {
      if (t === topic) this.#queue = this.#queue.then(() => this.#handle(payload));
    };
    this.#onConnect = () => {
      mqtt.subscribeAsync(topic, { qos: 1 }).then(
        (granted) => {
          // 128: refused, e.g. while the gateway is not approved yet; the next connect subscribes again.
          if (granted.every((g) => g.qos !== 128)) this.emit('subscribed');
        },
        () => undefined,
      );
    };
    mqtt.on('message', this.#listener);
    mqtt.on('connect', this.#onConnect);
    if (mqtt.connected) this.#onConnect();
  }

  /** Stops answering; waits for the command being handled. */
  async stop(): Promise<void> {
    if (this.#listener) this.#o.mqtt.off('message', this.#listener);
    if (this.#onConnect) this.#o.mqtt.off('connect', this.#onConnect);
    await this.#queue;
  }

  async #handle(payload: Buffer): Promise<void> {
    const { log } = this.#o;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn({ code: 'GW_COMMAND_INVALID' }, 'command refused: not JSON');
      return;
    }
    const parsed = CommandMessage.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      log.warn({ code: 'GW_COMMAND_INVALID', issues: parsed.error.issues.length }, 'command refused');
      // Answer when the sender can be told which command failed; otherwise there is no one to answer.
      if (typeof id === 'string' && id.length >= 8 && id.length <= 64) {
        await this.#answer({
          id,
          ok: false,
          code: 'GW_COMMAND_INVALID',
          message:
            `the command does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`.slice(
              0,
              1000,
            ),
          recording: null,
          at: isoTime(this.#o.clock.now()),
        });
      }
      return;
    }
    const command = parsed.data;
    const known = this.#answered.get(command.id);
    if (known) {
      log.info({ command: command.id }, 'command repeated: answering as before');
      await this.#answer(known);
      return;
    }
    const result = await this.#run(command);
    this.#answered.set(command.id, result);
    if (this.#answered.size > REMEMBERED) this.#answered.delete(this.#answered.keys().next().value!);
    log.info(
      { command: command.id, kind: command.command, ok: result.ok, code: result.code },
      'command answered',
    );
    await this.#answer(result);
    this.emit('answered', result);
  }

  async #run(command: CommandMessage): Promise<CommandResult> {
    const { service, clock, room } = this.#o;
    const at = () => isoTime(clock.now());
    try {
      if (command.command === 'record-start') {
        if (command.case.room !== room) {
          throw new GatewayError(
            'GW_COMMAND_INVALID',
            `this gateway records room "${room}", not "${command.case.room}"`,
          );
        }
        const { view, started } = await service.startOrJoin(command.case, command.by);
        return {
          id: command.id,
          ok: true,
          code: null,
          message: started
            ? `recording ${view.id} started`
            : `recording ${view.id} of this case is already running`,
          recording: view.id,
          at: at(),
        };
      }
      const running = (await service.status()).recording;
      if (!running) {
        return {
          id: command.id,
          ok: true,
          code: null,
          message: 'no recording is running: already stopped',
          recording: service.lastStopped?.recording ?? null,
          at: at(),
        };
      }
      const summary = await service.stop();
      return {
        id: command.id,
        ok: true,
        code: null,
        message: `recording ${summary.recording} stopped: ${summary.segments} segments, ${summary.gaps} gaps, ${summary.pendingHashes.length} entries await acknowledgement`,
        recording: summary.recording,
        at: at(),
      };
    } catch (err) {
      const e = err as Error & { code?: string };
      return {
        id: command.id,
        ok: false,
        code: (e.code ?? 'GW_COMMAND_INVALID').slice(0, 64),
        message: e.message.slice(0, 1000),
        recording: (await service.status()).recording?.id ?? null,
        at: at(),
      };
    }
  }

  async #answer(result: CommandResult): Promise<void> {
    await this.#o.mqtt
      .publishAsync(
        gatewayTopic(this.#o.gateway, 'cmd-result'),
        JSON.stringify(CommandResult.parse(result)),
        {
          qos: 1,
        },
      )
      .catch((err: Error) => this.#o.log.warn({ err: err.message }, 'command result not published'));
  }
}
