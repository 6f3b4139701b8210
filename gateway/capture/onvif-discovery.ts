/** @module Finding ONVIF cameras on the room's network with a WS-Discovery Probe (SOAP-over-UDP multicast). */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { decodeXml, element, elements } from './onvif-soap.ts';

const WS_DISCOVERY_GROUP = '239.255.255.250';
const WS_DISCOVERY_PORT = 3702;

/** A camera that answered a WS-Discovery Probe, with where to connect to it. */
export const DiscoveredCamera = z.object({
  endpoint: z.string().min(1).describe('the device\'s WS-Addressing endpoint, e.g. "urn:uuid:…"'),
  from: z.string().describe('IP address the answer came from'),
  xaddrs: z
    .array(z.url({ protocol: /^https?$/ }))
    .min(1)
    .describe('device service URLs the camera announced'),
  hostname: z.string().min(1).describe('host of the preferred XAddr (the one on the answering address)'),
  port: z.number().int().min(1).max(65535),
  path: z.string().startsWith('/'),
  scopes: z.array(z.string()),
  types: z.array(z.string()),
  name: z.string().nullable().describe('from an onvif://www.onvif.org/name/… scope'),
  hardware: z.string().nullable().describe('from an onvif://www.onvif.org/hardware/… scope'),
});
/** A camera that answered a WS-Discovery Probe (the type of `DiscoveredCamera`). */
export type DiscoveredCamera = z.infer<typeof DiscoveredCamera>;

/** `discoverOnvif` options. */
export interface DiscoverOnvifOptions {
  /** How long to collect answers, in ms; default 3000. */
  timeoutMs?: number;
  /** IPv4 address of the interface to probe from; default: wherever the OS routes 239.255.255.250. */
  interfaceAddress?: string;
  /** Ends discovery early; the cameras found so far are returned. */
  signal?: AbortSignal;
  /** Called once per newly found camera, as it answers. */
  onCamera?: (camera: DiscoveredCamera) => void;
  /** Receives debug lines about datagrams that are not answers to the probe. */
  log?: Logger;
}

/**
 * Finds ONVIF cameras with a WS-Discovery Probe for dn:NetworkVideoTransmitter (multicast, TTL 1) and
 * collects ProbeMatches for `timeoutMs`. Our own probe rather than the onvif package's Discovery: the
 * package drops every device of a ProbeMatches that holds more than one ProbeMatch (an NVR or encoder),
 * reports any stray datagram through a process-wide singleton whose unhandled 'error' event throws,
 * and does not check RelatesTo. Devices that answer without XAddrs (needing a Resolve) are skipped.
 */
export function discoverOnvif(options: DiscoverOnvifOptions = {}): Promise<DiscoveredCamera[]> {
  const { timeoutMs = 3000, interfaceAddress, signal, onCamera, log } = options;
  const messageId = `urn:uuid:${randomUUID()}`;
  const probe = Buffer.from(probeXml(messageId));
  const found = new Map<string, DiscoveredCamera>();
  if (signal?.aborted) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) {
        const from = interfaceAddress ?? 'the default interface';
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        reject(
          new GatewayError('GW_CAMERA_UNREACHABLE', `WS-Discovery cannot probe from ${from}: ${code}`, {
            cause: err,
          }),
        );
      } else resolve([...found.values()]);
    };
    const onAbort = () => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', finish);
    socket.on('message', (msg, rinfo) => {
      const cameras = parseProbeMatches(msg.toString('utf8'), messageId, rinfo.address);
      if (cameras.length === 0)
        log?.debug({ from: rinfo.address }, 'ignoring a datagram that is no answer to our probe');
      for (const camera of cameras) {
        if (found.has(camera.endpoint)) continue;
        found.set(camera.endpoint, camera);
        onCamera?.(camera);
      }
    });
    const send = () =>
      socket.send(probe, WS_DISCOVERY_PORT, WS_DISCOVERY_GROUP, (err) => {
        if (err) finish(err);
      });
    socket.bind({ port: 0, address: interfaceAddress }, () => {
      if (done) return;
      try {
        if (interfaceAddress) socket.setMulticastInterface(interfaceAddress);
        socket.setMulticastTTL(1); // the room's own subnet, never routed further
      } catch (err) {
        finish(err as Error);
        return;
      }
      // [SOAP-over-UDP 1.1: MULTICAST_UDP_REPEAT = 1] a multicast message is sent twice; UDP may lose one.
      send();
      timers.push(setTimeout(send, Math.min(250, timeoutMs / 4)));
      timers.push(setTimeout(() => finish(), timeoutMs));
    });
  });
}

function probeXml(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    '</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/**
 * Reads the cameras out of one WS-Discovery datagram. Returns [] for anything but ProbeMatches, and for
 * ProbeMatches that relate to another probe than `messageId`. Matches without a usable XAddr are dropped.
 */
export function parseProbeMatches(xml: string, messageId: string, from: string): DiscoveredCamera[] {
  if (element(xml, 'ProbeMatches') === undefined) return [];
  const relatesTo = element(xml, 'RelatesTo')?.trim();
  if (relatesTo !== undefined && relatesTo !== messageId) return [];
  const cameras: DiscoveredCamera[] = [];
  for (const block of elements(xml, 'ProbeMatch')) {
    const list = (name: string) =>
      decodeXml(element(block, name) ?? '')
        .split(/\s+/)
        .filter(Boolean);
    const xaddrs = list('XAddrs').filter((x) => URL.canParse(x) && /^https?:$/.test(new URL(x).protocol));
    const preferred = xaddrs.find((x) => new URL(x).hostname === from) ?? xaddrs[0];
    if (!preferred) continue;
    const url = new URL(preferred);
    const scopes = list('Scopes');
    const scope = (kind: string) => {
      const prefix = `onvif://www.onvif.org/${kind}/`;
      const hit = scopes.find((s) => s.startsWith(prefix))?.slice(prefix.length);
      if (hit === undefined) return null;
      try {
        return decodeURIComponent(hit);
      } catch {
        return hit;
      }
    };
    const candidate = DiscoveredCamera.safeParse({
      endpoint: decodeXml(element(element(block, 'EndpointReference') ?? '', 'Address') ?? '').trim(),
      from,
      xaddrs,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      path: url.pathname,
      scopes,
      types: list('Types'),
      name: scope('name'),
      hardware: scope('hardware'),
    });
    if (candidate.success) cameras.push(candidate.data);
  }
  return cameras;
}
