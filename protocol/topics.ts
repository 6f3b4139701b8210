/** @module MQTT topic names: every topic is built and parsed here, never concatenated at a call site. */
import { GatewayId } from './entry.ts';

/** The versioned root of every quanlu topic. */
export const ROOT = 'quanlu/v1';

/** What a gateway publishes. */
export const GATEWAY_PUBLISHES = [
  'entry',
  'status',
  'recording',
  'cmd-result',
  'alarm',
  'time-req',
  'enroll',
  'dock',
] as const;
/** What the ingest publishes to one gateway. */
export const INGEST_PUBLISHES = ['ack', 'cmd', 'config', 'time-resp', 'enrolled'] as const;

/** A channel under a gateway's topic. */
export type Channel = (typeof GATEWAY_PUBLISHES)[number] | (typeof INGEST_PUBLISHES)[number];
const CHANNELS = new Set<string>([...GATEWAY_PUBLISHES, ...INGEST_PUBLISHES]);

/** `quanlu/v1/gw/<gateway>/<channel>`. */
export function gatewayTopic(gateway: string, channel: Channel): string {
  return `${ROOT}/gw/${GatewayId.parse(gateway)}/${channel}`;
}

/** A subscription filter for one channel of every gateway: `quanlu/v1/gw/+/<channel>`. */
export function everyGateway(channel: Channel): string {
  return `${ROOT}/gw/+/${channel}`;
}

/** The same filter as a shared subscription, for several ingest nodes on one broker. */
export function sharedEveryGateway(channel: Channel, group = 'ingest'): string {
  return `$share/${group}/${everyGateway(channel)}`;
}

/** Splits a topic into gateway and channel, or null when it is not one of ours. */
export function parseTopic(topic: string): { gateway: string; channel: Channel } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== ROOT || parts[2] !== 'gw') return null;
  const gateway = GatewayId.safeParse(parts[3]);
  const channel = parts[4]!;
  if (!gateway.success || !CHANNELS.has(channel)) return null;
  return { gateway: gateway.data, channel: channel as Channel };
}

/** May this gateway publish to this topic? [DESIGN invariant 5] */
export function gatewayMayPublish(gateway: string, topic: string): boolean {
  const t = parseTopic(topic);
  return t !== null && t.gateway === gateway && (GATEWAY_PUBLISHES as readonly string[]).includes(t.channel);
}

/** May this gateway subscribe to this filter? Only its own ingest-published channels, no wildcards. */
export function gatewayMaySubscribe(gateway: string, filter: string): boolean {
  const t = parseTopic(filter);
  return t !== null && t.gateway === gateway && (INGEST_PUBLISHES as readonly string[]).includes(t.channel);
}
