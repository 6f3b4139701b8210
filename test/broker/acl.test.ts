import t from 'tap';
import { type BrokerSession, mayReceive, publishRefusal, subscribeRefusal } from '../../ingest/broker/acl.ts';
import { everyGateway, gatewayTopic } from '../../protocol/topics.ts';

const FP = 'a'.repeat(64);
const ingest: BrokerSession = { kind: 'ingest' };
const gateway: BrokerSession = { kind: 'gateway', gateway: 'gw-a', fingerprint: FP };
const enrolling: BrokerSession = { kind: 'enrollment', gateway: 'gw-a', fingerprint: FP };

t.test('a gateway publishes its own gateway channels, retaining only status', async (t) => {
  t.equal(publishRefusal(gateway, gatewayTopic('gw-a', 'entry'), false), null);
  t.equal(publishRefusal(gateway, gatewayTopic('gw-a', 'status'), true), null);
  t.match(publishRefusal(gateway, gatewayTopic('gw-a', 'entry'), true), /retain only its status/);
  t.match(
    publishRefusal(gateway, gatewayTopic('gw-a', 'ack'), false),
    /publish topics/,
    'not an ingest channel',
  );
  t.match(publishRefusal(gateway, gatewayTopic('gw-b', 'entry'), false), /publish topics/);
  t.match(publishRefusal(gateway, 'quanlu/v1/gw/gw-a/entry/x', false), /publish topics/);
  t.match(publishRefusal(gateway, '$SYS/broker/x', false), /belong to the broker/);
});

t.test('a gateway that is not approved publishes its enroll request only, never retained', async (t) => {
  t.equal(publishRefusal(enrolling, gatewayTopic('gw-a', 'enroll'), false), null);
  t.match(publishRefusal(enrolling, gatewayTopic('gw-a', 'enroll'), true), /never retained/);
  t.match(publishRefusal(enrolling, gatewayTopic('gw-a', 'status'), false), /not approved/);
  t.match(publishRefusal(enrolling, gatewayTopic('gw-b', 'enroll'), false), /not approved/);
  t.equal(subscribeRefusal(enrolling, gatewayTopic('gw-a', 'enrolled')), null);
  t.match(subscribeRefusal(enrolling, gatewayTopic('gw-a', 'ack')), /enrolled answer/);
  t.equal(mayReceive(enrolling, gatewayTopic('gw-a', 'ack')), false);
});

t.test('a gateway subscribes its own ingest channels, with no wildcard', async (t) => {
  t.equal(subscribeRefusal(gateway, gatewayTopic('gw-a', 'ack')), null);
  t.equal(subscribeRefusal(gateway, gatewayTopic('gw-a', 'config')), null);
  for (const filter of [
    gatewayTopic('gw-a', 'entry'),
    gatewayTopic('gw-b', 'ack'),
    everyGateway('ack'),
    'quanlu/v1/gw/gw-a/+',
    'quanlu/v1/gw/gw-a/#',
    '#',
  ]) {
    t.match(subscribeRefusal(gateway, filter), /own topics/, filter);
  }
  t.equal(mayReceive(gateway, gatewayTopic('gw-a', 'ack')), true);
  t.equal(mayReceive(gateway, gatewayTopic('gw-b', 'ack')), false);
});

t.test('the ingest uses anything under quanlu/v1/ and nothing else; $share is explained', async (t) => {
  t.equal(publishRefusal(ingest, gatewayTopic('gw-a', 'config'), true), null);
  t.match(publishRefusal(ingest, 'elsewhere/x', false), /only under quanlu\/v1\//);
  t.equal(subscribeRefusal(ingest, everyGateway('entry')), null);
  t.equal(subscribeRefusal(ingest, 'quanlu/v1/#'), null);
  t.match(subscribeRefusal(ingest, '#'), /only under quanlu\/v1\//);
  t.match(subscribeRefusal(ingest, '$SYS/#'), /belong to the broker/);
  t.match(subscribeRefusal(ingest, `$share/ingest/${everyGateway('entry')}`), /shared subscriptions/);
});
