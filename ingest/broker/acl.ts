/** @module Who may publish, subscribe to and receive which topics on the embedded broker: pure rules over protocol/topics.ts. */
import {
  gatewayMayPublish,
  gatewayMaySubscribe,
  gatewayTopic,
  parseTopic,
  ROOT,
} from '../../protocol/topics.ts';

/** What an authenticated MQTT client is. */
export type BrokerSession =
  /** The ingest: anything under quanlu/v1/. */
  | { kind: 'ingest' }
  /** An approved gateway presenting its enrolled key: its own topics only. */
  | { kind: 'gateway'; gateway: string; fingerprint: string }
  /** A gateway not (yet) approved: it may ask to enroll and hear the answer, nothing else. */
  | { kind: 'enrollment'; gateway: string; fingerprint: string };

/** The only channel a gateway may publish retained messages to: its last known status. */
const RETAINED_CHANNEL = 'status';

/** Why this session may not publish to this topic, or null when it may. [DESIGN invariant 5] */
export function publishRefusal(session: BrokerSession, topic: string, retain: boolean): string | null {
  // [MQTT-4.7.2-1] `$` topics are the broker's own; aedes' default refuses $SYS publishes too.
  if (topic.startsWith('$')) return 'topics starting with $ belong to the broker';
  switch (session.kind) {
    case 'ingest':
      return underRoot(topic) ? null : `the ingest publishes only under ${ROOT}/`;
    case 'gateway':
      if (!gatewayMayPublish(session.gateway, topic)) return "not one of this gateway's publish topics";
      if (retain && parseTopic(topic)?.channel !== RETAINED_CHANNEL) {
        return `a gateway may retain only its ${RETAINED_CHANNEL} message`;
      }
      return null;
    case 'enrollment':
      if (topic !== gatewayTopic(session.gateway, 'enroll')) {
        return 'a gateway that is not approved may publish only its enroll request';
      }
      return retain ? 'an enroll request is never retained' : null;
  }
}

/** Why this session may not subscribe to this filter, or null when it may. */
export function subscribeRefusal(session: BrokerSession, filter: string): string | null {
  if (filter.startsWith('$share/')) {
    return `aedes does not deliver shared subscriptions: subscribe to ${ROOT}/gw/+/<channel>`;
  }
  if (filter.startsWith('$')) return 'topics starting with $ belong to the broker';
  switch (session.kind) {
    case 'ingest':
      return underRoot(filter) ? null : `the ingest subscribes only under ${ROOT}/`;
    case 'gateway':
      // parseTopic refuses `+` and `#`, so a gateway never holds a wildcard.
      return gatewayMaySubscribe(session.gateway, filter) ? null : "not one of this gateway's own topics";
    case 'enrollment':
      return filter === gatewayTopic(session.gateway, 'enrolled')
        ? null
        : 'a gateway that is not approved may subscribe only to its enrolled answer';
  }
}

/**
 * May this session receive a message on this topic? Checked again at delivery, so that a session
 * inheriting queued messages (a persistent session taken over by client id) gets only its own.
 */
export function mayReceive(session: BrokerSession, topic: string): boolean {
  return subscribeRefusal(session, topic) === null;
}

/** Names a session in logs: the gateway id, or "ingest". */
export function sessionName(session: BrokerSession): string {
  return session.kind === 'ingest' ? 'ingest' : session.gateway;
}

function underRoot(topicOrFilter: string): boolean {
  return topicOrFilter.startsWith(`${ROOT}/`);
}
