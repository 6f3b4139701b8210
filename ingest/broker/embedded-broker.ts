/**
 * @module The embedded MQTT broker (aedes): signed-token authentication and per-gateway topic rules,
 * over TLS (mqtts) unless the ingest's TLS is off, with optional client certificates bound to the
 * enrolled key (ingest/tls/gateway-certificates.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { EnrollRequest } from '../../protocol/messages.ts';
import { checkMqttPassword, MQTT_TOKEN_MAX_SKEW_MS } from '../../protocol/mqtt-auth.ts';
import { type Clock, systemClock } from '../../protocol/time.ts';
import { IngestError } from '../errors.ts';
import {
  certificateRefusal,
  type GatewayCertificateMode,
  peerCertificate,
} from '../tls/gateway-certificates.ts';
import { type BrokerSession, mayReceive, publishRefusal, sessionName, subscribeRefusal } from './acl.ts';
import { INGEST_USERNAME, IngestSecret, ingestSecretMatches } from './ingest-secret.ts';

/** What the broker needs to know of a gateway. */
export interface GatewayRecord {
  status: 'pending' | 'approved' | 'revoked';
  /** Fingerprint of the enrolled (or requested) key: SHA-256 of the raw public key, hex. */
  fingerprint: string;
}

/** A gateway that proved possession of a key the directory does not hold for it yet. */
export type EnrollmentRequest = Omit<EnrollRequest, 'hostname'>;

/** The enrolled gateways, as the broker sees them: the ingest passes its repository, tests a map. */
export interface GatewayDirectory {
  /** The gateway's status and key fingerprint, or null when it is unknown. */
  lookup(gatewayId: string): Promise<GatewayRecord | null>;
  /** Records a pending enrollment; called when an unknown gateway, or a pending one with another key, connects. */
  requestEnrollment(req: EnrollmentRequest): Promise<void>;
}

/** Options of {@link createEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** Who is enrolled, pending or revoked. */
  gateways: GatewayDirectory;
  /** The ingest's MQTT password (username `ingest`); see newIngestSecret(). */
  ingestSecret: string;
  /** The clock tokens are checked against (default: the system clock). */
  clock?: Clock;
  /** The component logger; the broker logs under a `broker` child. */
  log: Logger;
  /** How far a token's time may be from the clock (default 5 min). */
  maxSkewMs?: number;
  /**
   * aedes persistence for sessions, QoS 1 queues and retained messages. Default: aedes'
   * in-memory store, so persistent sessions survive reconnects but not an ingest restart.
   */
  persistence?: unknown;
  /**
   * Client certificates of gateways (issue 10), on a TLS listener: `optional` checks one when it is
   * shown, `required` refuses an approved gateway without one (a gateway still enrolling has none
   * yet and may only ask to enroll). Default `optional`.
   */
  gatewayCertificates?: GatewayCertificateMode;
}

/** A TLS listener's material (protocol/tls/tls-files.ts): server chain, key, and the CA client certificates chain to. */
export interface BrokerTls {
  cert: string;
  key: string;
  ca: string;
}

/** A started broker; it accepts connections once `listen()` resolves. */
export interface EmbeddedBroker {
  /** The aedes instance (for `broker.handle(stream)` on other transports, and its events). */
  readonly broker: Aedes;
  /** Listens on TCP, or on TLS when given its material (default host 127.0.0.1); port 0 picks a free port. */
  listen(port: number, host?: string, tls?: BrokerTls): Promise<{ port: number }>;
  /** Closes every connection of this gateway (call after revoking it, or after approving it). */
  disconnectGateway(gatewayId: string): Promise<number>;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/** MQTT 3.1.1 CONNACK return codes used to refuse [MQTT-3.2.2-3, table 3.1]. */
const CONNACK = { identifierRejected: 2, serverUnavailable: 3, badCredentials: 4, notAuthorized: 5 } as const;
type ConnackRefusal = (typeof CONNACK)[keyof typeof CONNACK];

/** A refusal: logged where it is decided, then handed to aedes (which closes or refuses). */
class Refusal extends IngestError {
  constructor(
    readonly returnCode: ConnackRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('INGEST_BROKER_AUTH', message, options);
  }
}

/**
 * Creates the embedded broker and its rules. A gateway connects with username = client id = its
 * gateway id and password = makeMqttPassword(); the ingest with username `ingest`, the secret, and
 * any client id (the broker files it under `ingest/<id>`).
 */
export async function createEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const ingestSecret = IngestSecret.parse(opts.ingestSecret);
  const { gateways } = opts;
  const clock = opts.clock ?? systemClock;
  const maxSkewMs = opts.maxSkewMs ?? MQTT_TOKEN_MAX_SKEW_MS;
  const log = opts.log.child({ component: 'broker' });
  const certificates = opts.gatewayCertificates ?? 'optional';

  const sessions = new WeakMap<Client, BrokerSession>();
  /** Clients of each gateway, connected or still connecting, for disconnectGateway(). */
  const live = new Map<string, Set<Client>>();
  /** Bumped by disconnectGateway(): a lookup that straddles a kick is done again. */
  const kicks = new Map<string, number>();
  /** Kicked while still connecting: closed as soon as aedes has registered them. */
  const kickWhenReady = new WeakSet<Client>();
  /** The will of each CONNECT, checked against the session before the session starts. */
  const wills = new WeakMap<Client, PublishPacket | undefined>();

  /** Decides what a connecting client is, or throws the Refusal that answers its CONNECT. */
  async function authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerSession> {
    const session = await identify(client.id, username, password);
    if (session.kind === 'gateway') checkCertificate(client, session.gateway, session.fingerprint);
    const will = wills.get(client);
    const willRefused = will && publishRefusal(session, will.topic, will.retain);
    // A gateway waiting for approval connects with the will it will need once approved; it is not refused
    // for it: the will is simply never published (authorizePublish refuses it at disconnect).
    if (willRefused && session.kind !== 'enrollment') {
      throw new Refusal(CONNACK.notAuthorized, `last will refused: ${willRefused}`);
    }
    return session;
  }

  async function identify(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerSession> {
    if (username === INGEST_USERNAME) {
      if (!ingestSecretMatches(ingestSecret, password)) {
        throw new Refusal(CONNACK.badCredentials, 'wrong ingest secret');
      }
      return { kind: 'ingest' } as const;
    }
    const token = checkMqttPassword(username, password, clock.now(), maxSkewMs);
    if (!token.ok) throw new Refusal(CONNACK.badCredentials, token.reason);
    const gateway = token.gateway;
    // The persistent session (queued acks, subscriptions) is keyed by client id, so it must be the gateway's.
    if (clientId !== gateway)
      throw new Refusal(CONNACK.identifierRejected, 'a gateway client id is its gateway id');

    let record: GatewayRecord | null;
    for (;;) {
      const kicked = kicks.get(gateway) ?? 0;
      record = await gateways.lookup(gateway).catch((cause: unknown) => {
        throw new Refusal(CONNACK.serverUnavailable, 'gateway directory lookup failed', { cause });
      });
      if ((kicks.get(gateway) ?? 0) === kicked) break;
    }
    if (record?.status === 'revoked') throw new Refusal(CONNACK.notAuthorized, 'gateway is revoked');
    if (record?.status === 'approved') {
      if (record.fingerprint !== token.fingerprint) {
        throw new Refusal(
          CONNACK.notAuthorized,
          'approved gateway id presented another key (impersonation?)',
        );
      }
      return { kind: 'gateway', gateway, fingerprint: token.fingerprint } as const;
    }
    if (record?.fingerprint !== token.fingerprint) {
      await gateways
        .requestEnrollment({
          gateway,
          publicKey: token.publicKeyText,
          fingerprint: token.fingerprint,
          at: token.at,
        })
        .catch((cause: unknown) => {
          throw new Refusal(CONNACK.serverUnavailable, 'could not record the enrollment request', { cause });
        });
    }
    return { kind: 'enrollment', gateway, fingerprint: token.fingerprint } as const;
  }

  /** Refuses a client certificate that does not stand for this approved gateway, or a missing one when required. */
  function checkCertificate(client: Client, gateway: string, fingerprint: string): void {
    if (certificates === 'off') return;
    const peer = peerCertificate((client as unknown as { conn?: Socket }).conn);
    if (!peer) {
      if (certificates === 'required' && tlsListener) {
        throw new Refusal(
          CONNACK.notAuthorized,
          'a client certificate is required (gatewayCertificates: required)',
        );
      }
      return;
    }
    const reason = certificateRefusal(peer, gateway, fingerprint);
    if (reason) throw new Refusal(CONNACK.notAuthorized, reason);
  }

  function logRefusal(err: unknown, fields: Record<string, unknown>, msg: string): void {
    if (err instanceof Refusal) {
      log.warn({ code: err.code, reason: err.message, returnCode: err.returnCode, ...fields }, msg);
    } else {
      log.error({ code: 'INGEST_BROKER_AUTH', err, ...fields }, msg);
    }
  }

  const broker = await Aedes.createBroker({
    ...(opts.persistence ? { persistence: opts.persistence } : {}),

    preConnect(client, packet, done) {
      // Sessions are keyed by client id, and aedes hands a session to whoever next connects with its
      // id. The ingest's ids move to `ingest/<id>`, which no gateway id can be ('/' is not allowed in
      // one), so a gateway can never take over an ingest session; a gateway's id must be its own.
      if (packet.username === INGEST_USERNAME && packet.clientId) {
        packet.clientId = `${INGEST_USERNAME}/${packet.clientId}`;
      }
      wills.set(client, packet.will ? ({ ...packet.will, cmd: 'publish' } as PublishPacket) : undefined);
      done(null, true);
    },

    authenticate(client, username, password, done) {
      authenticate(client, username, password).then(
        (session) => {
          sessions.set(client, session);
          if (session.kind !== 'ingest') remember(session.gateway, client);
          log.info(
            { clientId: client.id, gateway: sessionName(session), session: session.kind },
            'client connected',
          );
          done(null, true);
        },
        (err: unknown) => {
          const fields = { clientId: client.id, username, will: wills.get(client)?.topic ?? null };
          logRefusal(err, fields, 'broker refused a connection');
          done(
            err instanceof Refusal ? err : new Refusal(CONNACK.serverUnavailable, 'authentication failed'),
            false,
          );
        },
      );
    },

    // [MQTT-3.3.5-2] MQTT 3.1.1 cannot refuse one PUBLISH: aedes closes the connection on an error.
    authorizePublish(client, packet, done) {
      const session = client ? sessions.get(client) : undefined;
      const reason = session
        ? publishRefusal(session, packet.topic, packet.retain)
        : 'publish of a client without a session (an orphaned last will)';
      if (reason === null) return done(null);
      log.warn(
        {
          code: 'INGEST_BROKER_AUTH',
          clientId: client?.id ?? null,
          gateway: session ? sessionName(session) : null,
          topic: packet.topic,
          retain: packet.retain,
          reason,
        },
        'broker refused a publish',
      );
      done(new Refusal(CONNACK.notAuthorized, reason));
    },

    // A refused filter gets SUBACK 0x80 [MQTT-3.9.3]; the connection stays up.
    authorizeSubscribe(client, sub, done) {
      const session = sessions.get(client);
      const reason = session ? subscribeRefusal(session, sub.topic) : 'no session';
      if (reason === null) return done(null, sub);
      log.warn(
        {
          code: 'INGEST_BROKER_AUTH',
          clientId: client.id,
          gateway: session ? sessionName(session) : null,
          topic: sub.topic,
          reason,
        },
        'broker refused a subscription',
      );
      done(null, null);
    },

    authorizeForward(client, packet) {
      const session = sessions.get(client);
      if (session && mayReceive(session, packet.topic)) return packet;
      log.warn(
        {
          code: 'INGEST_BROKER_AUTH',
          clientId: client.id,
          gateway: session ? sessionName(session) : null,
          topic: packet.topic,
        },
        'broker withheld a message from a client',
      );
      return null;
    },
  });

  function remember(gateway: string, client: Client): void {
    const set = live.get(gateway) ?? new Set<Client>();
    live.set(gateway, set);
    for (const c of set) if (c.closed) set.delete(c);
    set.add(client);
  }

  broker.on('clientReady', (client) => {
    if (kickWhenReady.has(client)) client.close();
  });
  broker.on('clientDisconnect', (client) => {
    const session = sessions.get(client);
    if (session && session.kind !== 'ingest') live.get(session.gateway)?.delete(client);
    log.info({ clientId: client.id }, 'client disconnected');
  });
  broker.on('clientError', (client, err) => {
    if (err instanceof Refusal) return; // logged where it was decided
    log.info({ clientId: client.id, err }, 'client connection failed');
  });
  broker.on('connectionError', (_client, err) => log.info({ err }, 'connection failed before CONNECT'));

  let server: Server | undefined;
  let tlsListener = false;
  const sockets = new Set<Socket>();

  return {
    broker,

    async listen(port, host = '127.0.0.1', tls) {
      if (server) throw new Error('the broker is already listening');
      const onSocket = (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        broker.handle(socket);
      };
      // Client certificates are asked for but not demanded in the handshake: CONNECT decides (an
      // enrolling gateway has none yet), and a certificate that does not chain is refused there.
      const s = tls
        ? createTlsServer(
            { ...tls, requestCert: certificates !== 'off', rejectUnauthorized: false, minVersion: 'TLSv1.2' },
            onSocket,
          )
        : createServer(onSocket);
      if (tls) {
        tlsListener = true;
        s.on('tlsClientError', (err) => log.info({ err: { message: err.message } }, 'TLS handshake refused'));
      }
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const address = s.address();
      const bound = address && typeof address === 'object' ? address.port : port;
      log.info({ host, port: bound, tls: Boolean(tls) }, 'broker listening');
      return { port: bound };
    },

    async disconnectGateway(gatewayId) {
      kicks.set(gatewayId, (kicks.get(gatewayId) ?? 0) + 1);
      const clients = [...(live.get(gatewayId) ?? [])].filter((c) => !c.closed);
      live.delete(gatewayId);
      await Promise.all(
        clients.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.connected) return c.close(() => resolve());
              kickWhenReady.add(c);
              resolve();
            }),
        ),
      );
      log.info({ gateway: gatewayId, clients: clients.length }, 'gateway disconnected by the ingest');
      return clients.length;
    },

    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      if (server?.listening) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
