/**
 * @module Remote commands to a gateway: publish a CommandMessage on its `cmd` topic and await the CommandResult
 * with the same id on its `cmd-result` topic. The gateway answers a repeated id as before, so a retry after a
 * timeout is safe with the same id.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { CaseElements } from '../../protocol/entry.ts';
import { CommandMessage, CommandResult } from '../../protocol/messages.ts';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { IngestError } from '../errors.ts';

/** What a caller asks a gateway to do; the id, sender and time are filled in. */
export const CommandRequest = z.discriminatedUnion('command', [
  z.strictObject({
    command: z.literal('record-start'),
    case: CaseElements.describe('the recording elements: case id, matter, officers, room'),
    id: z.string().min(8).max(64).optional().describe('command id; repeat it to retry the same command'),
  }),
  z.strictObject({
    command: z.literal('record-stop'),
    id: z.string().min(8).max(64).optional().describe('command id; repeat it to retry the same command'),
  }),
]);
/** A command request. */
export type CommandRequest = z.infer<typeof CommandRequest>;

/** Options of one command. */
export interface SendOptions {
  /** Who sends it (a user name), sealed into nothing but logged by the gateway. */
  by: string;
  /** How long to wait for the answer. */
  timeoutMs?: number;
  clock?: Clock;
}

/**
 * Sends a command to a gateway and resolves with its answer. INGEST_COMMAND_TIMEOUT when no answer comes in time
 * (the gateway may be offline; the broker keeps the command for its persistent session).
 */
export async function sendCommand(
  mqtt: MqttClient,
  gateway: string,
  request: CommandRequest,
  options: SendOptions,
): Promise<CommandResult> {
  const clock = options.clock ?? systemClock;
  const id = request.id ?? randomUUID();
  const at = isoTime(clock.now());
  const message = CommandMessage.parse(
    request.command === 'record-start'
      ? { id, command: 'record-start', by: options.by, case: request.case, at }
      : { id, command: 'record-stop', by: options.by, at },
  );
  const resultTopic = gatewayTopic(gateway, 'cmd-result');
  const timeoutMs = options.timeoutMs ?? 15_000;
  let onMessage: ((topic: string, payload: Buffer) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const answer = new Promise<CommandResult>((resolve, reject) => {
    onMessage = (topic, payload) => {
      if (topic !== resultTopic) return;
      let parsed: CommandResult;
      try {
        parsed = CommandResult.parse(JSON.parse(payload.toString('utf8')));
      } catch {
        return; // not a result we can read; the consumer side logs nothing for it
      }
      if (parsed.id === id) resolve(parsed);
    };
    timer = setTimeout(
      () =>
        reject(
          new IngestError(
            'INGEST_COMMAND_TIMEOUT',
            `gateway ${gateway} did not answer command ${id} within ${timeoutMs} ms; retry with the same id`,
          ),
        ),
      timeoutMs,
    );
    mqtt.on('message', onMessage);
  });
  // The timer may fire while the subscribe or publish still waits for a broker that is down: the rejection
  // is then read by nobody, and must not end the process (it is thrown again by `await answer` otherwise).
  answer.catch(() => undefined);
  try {
    await mqtt.subscribeAsync(resultTopic, { qos: 1 });
    await mqtt.publishAsync(gatewayTopic(gateway, 'cmd'), JSON.stringify(message), { qos: 1 });
    return await answer;
  } finally {
    clearTimeout(timer);
    if (onMessage) mqtt.off('message', onMessage);
  }
}
