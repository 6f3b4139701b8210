/** @module A fake ONVIF camera for tests: SOAP 1.2 device and media services on loopback, and a WS-Discovery responder. */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';

/** One media profile the fake offers. */
export interface FakeProfile {
  token: string;
  name?: string;
  /** Video encoding as the camera names it (H264, H265, JPEG); null for an audio-only profile. */
  encoding: string | null;
  width?: number;
  height?: number;
  fps?: number;
  /** Audio encoding (AAC, G711, MP4A-LATM…), or none. */
  audio?: string;
  /** What GetStreamUri answers; default `rtsp://127.0.0.1:8554/<token>`. */
  streamUri?: string;
}

/** A SOAP fault the fake answers instead of a result. */
export interface FakeFault {
  /** env:Sender (HTTP 400) or env:Receiver (HTTP 500); default Receiver. */
  code?: 'Sender' | 'Receiver';
  /** e.g. `ter:ActionNotSupported`. */
  subcode?: string;
  reason: string;
}

/** How the fake behaves; every field has a default. */
export interface FakeOnvifOptions {
  username?: string;
  password?: string;
  /** The camera clock runs this many ms ahead of `now()`. */
  skewMs?: number;
  /** The base clock; default Date.now. */
  now?: () => number;
  /** Report milliseconds in tt:Time Second (real cameras send whole seconds). */
  fractionalSeconds?: boolean;
  /** Include UTCDateTime in GetSystemDateAndTime; false leaves only LocalDateTime; default true. */
  utcDateTime?: boolean;
  /** Replay window: a token whose Created is further than this from the camera clock is refused; default 5000. */
  tokenWindowMs?: number;
  info?: Partial<
    Record<'Manufacturer' | 'Model' | 'FirmwareVersion' | 'SerialNumber' | 'HardwareId', string>
  >;
  profiles?: FakeProfile[];
  /** Advertise the ver20 media service (Profile T); default true. */
  media2?: boolean;
  /** Answer GetServices; false makes it fault like a pre-GetServices device; default true. */
  getServices?: boolean;
  /** Action (`GetProfiles`) or service and action (`media2/GetProfiles`) → the fault to answer with. */
  faults?: Record<string, FakeFault>;
  /** Actions (or 'all') never answered: the connection stays open and silent. */
  hang?: 'all' | string[];
  /** Action name → delay before answering, in ms. */
  delayMs?: Record<string, number>;
  /** How a refused token is answered: a ter:NotAuthorized fault with HTTP 400 (default), HTTP 401 with a
   * Digest challenge that no answer satisfies, or a bare HTTP 401 HTML page. */
  unauthorized?: 'soap-fault' | 'http-401' | 'http-401-bare';
  /** Answer every request with this non-SOAP body and status instead (a web server on the wrong port). */
  notOnvif?: { status: number; body: string };
  scopes?: string[];
}

/** One request the fake received. */
export interface FakeRequest {
  service: string;
  action: string;
  /** 'pre-auth': no token needed (GetSystemDateAndTime…, or a camera without users); 'none': a needed token is
   * missing; 'ok': accepted; 'rejected': wrong user or digest, Created outside the replay window, or a reused nonce. */
  auth: 'none' | 'ok' | 'rejected' | 'pre-auth';
  username: string | null;
  /** The token's Created, if any. */
  created: string | null;
  /** Camera clock (ms) when the request arrived. */
  cameraMs: number;
  status: number | null;
  body: string;
}

/** A running fake camera. */
export interface FakeOnvif {
  readonly hostname: string;
  readonly port: number;
  /** Device service URL. */
  readonly xaddr: string;
  readonly requests: FakeRequest[];
  /** Emits 'request' (FakeRequest) as each request arrives, before it is answered. */
  readonly events: EventEmitter;
  /** The camera clock, in ms. */
  cameraNow(): number;
  /** Resolves with the next request for `action` (or any action) to arrive. */
  nextRequest(action?: string): Promise<FakeRequest>;
  close(): Promise<void>;
}

/** Defaults: two H.264 profiles and one H.265, audio on the main one. */
export const DEFAULT_PROFILES: FakeProfile[] = [
  { token: 'sub', name: 'Sub stream', encoding: 'H264', width: 640, height: 360, fps: 15 },
  { token: 'main', name: 'Main stream', encoding: 'H264', width: 1920, height: 1080, fps: 25, audio: 'AAC' },
  { token: 'hevc', name: 'HEVC stream', encoding: 'H265', width: 3840, height: 2160, fps: 25 },
];

const PRE_AUTH = new Set([
  'GetSystemDateAndTime',
  'GetCapabilities',
  'GetServices',
  'GetServiceCapabilities',
]);
const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema"' +
  ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl"' +
  ' xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:ter="http://www.onvif.org/ver10/error"';

/** Starts a fake camera on 127.0.0.1 and an ephemeral port. */
export async function startFakeOnvif(options: FakeOnvifOptions = {}): Promise<FakeOnvif> {
  const o = {
    username: 'admin',
    password: 'secret',
    skewMs: 0,
    now: Date.now,
    tokenWindowMs: 5000,
    profiles: DEFAULT_PROFILES,
    media2: true,
    getServices: true,
    faults: {},
    delayMs: {},
    unauthorized: 'soap-fault' as const,
    scopes: [
      'onvif://www.onvif.org/type/video_encoder',
      'onvif://www.onvif.org/Profile/Streaming',
      'onvif://www.onvif.org/name/Fake%20Camera',
      'onvif://www.onvif.org/hardware/QL-FAKE-1',
    ],
    ...options,
  };
  const info = {
    Manufacturer: 'Quanlu Test',
    Model: 'FakeCam 1',
    FirmwareVersion: '1.10',
    SerialNumber: '000123',
    HardwareId: 'HW-7',
    ...options.info,
  };
  const requests: FakeRequest[] = [];
  const events = new EventEmitter();
  const seenNonces = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const cameraNow = () => o.now() + o.skewMs;
  let base = '';

  const send = (res: ServerResponse, req: FakeRequest, status: number, body: string, headers = {}) => {
    req.status = status;
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', ...headers });
    res.end(body);
  };

  const server = createServer(async (httpReq: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of httpReq) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away mid-request
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const service = (httpReq.url ?? '').replace(/^\/onvif\//, '').replace(/_service$/, '');
    const action = /<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?(\w+)/.exec(body)?.[1] ?? '';
    const token = readToken(body);
    let auth: FakeRequest['auth'] = 'pre-auth';
    if (!PRE_AUTH.has(action) && o.username) {
      auth = !token ? 'none' : tokenValid(token, o, cameraNow(), seenNonces) ? 'ok' : 'rejected';
    }
    const req: FakeRequest = {
      service,
      action,
      auth,
      username: token?.username ?? null,
      created: token?.created ?? null,
      cameraMs: cameraNow(),
      status: null,
      body,
    };
    requests.push(req);
    events.emit('request', req);

    if (o.hang === 'all' || o.hang?.includes(action)) return; // never answered; close() destroys it
    const delay = o.delayMs[action] ?? 0;
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, delay);
        timers.add(t);
      });
      if (res.destroyed) return;
    }
    if (o.notOnvif) {
      req.status = o.notOnvif.status;
      res.writeHead(o.notOnvif.status, { 'Content-Type': 'text/html' });
      res.end(o.notOnvif.body);
      return;
    }
    if (req.auth === 'rejected' || req.auth === 'none') {
      if (o.unauthorized === 'http-401') {
        const challenge = `Digest realm="fake-onvif", qop="auth", nonce="${randomUUID()}", algorithm=MD5`;
        return send(res, req, 401, '<html><body>401 Unauthorized</body></html>', {
          'Content-Type': 'text/html',
          'WWW-Authenticate': challenge,
        });
      }
      if (o.unauthorized === 'http-401-bare') {
        return send(res, req, 401, '<html><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>', {
          'Content-Type': 'text/html',
        });
      }
      return send(
        res,
        req,
        400,
        fault({ code: 'Sender', subcode: 'ter:NotAuthorized', reason: 'Sender not authorized' }),
      );
    }
    const injected = o.faults[`${service}/${action}`] ?? o.faults[action];
    if (injected) return send(res, req, injected.code === 'Sender' ? 400 : 500, fault(injected));
    const answer = respond(service, action, body);
    if (answer === null) {
      return send(
        res,
        req,
        500,
        fault({
          code: 'Receiver',
          subcode: 'ter:ActionNotSupported',
          reason: `${service}/${action} not supported`,
        }),
      );
    }
    if (typeof answer === 'object') return send(res, req, 400, fault(answer));
    send(res, req, 200, envelope(answer));
  });

  const respond = (service: string, action: string, body: string): string | FakeFault | null => {
    const profileToken = text(body, 'ProfileToken');
    const profileNamed = () => o.profiles.find((p) => p.token === profileToken);
    const noProfile: FakeFault = {
      code: 'Sender',
      subcode: 'ter:InvalidArgVal',
      reason: `no profile ${profileToken}`,
    };
    switch (`${service}/${action}`) {
      case 'device/GetSystemDateAndTime':
        return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>${o.utcDateTime === false ? '' : dateTime('UTCDateTime', cameraNow(), o.fractionalSeconds)}${dateTime('LocalDateTime', cameraNow(), o.fractionalSeconds)}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
      case 'device/GetCapabilities':
        return `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr></tt:Device><tt:Media><tt:XAddr>${base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`;
      case 'device/GetServices': {
        if (!o.getServices) {
          return { code: 'Receiver', subcode: 'ter:ActionNotSupported', reason: 'GetServices not supported' };
        }
        const svc = (ns: string, path: string, major: number) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${base}${path}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>`;
        return `<tds:GetServicesResponse>${svc('http://www.onvif.org/ver10/device/wsdl', '/onvif/device_service', 2)}${svc('http://www.onvif.org/ver10/media/wsdl', '/onvif/media_service', 2)}${o.media2 ? svc('http://www.onvif.org/ver20/media/wsdl', '/onvif/media2_service', 2) : ''}</tds:GetServicesResponse>`;
      }
      case 'device/GetDeviceInformation':
        return `<tds:GetDeviceInformationResponse>${Object.entries(info)
          .map(([k, v]) => `<tds:${k}>${esc(v)}</tds:${k}>`)
          .join('')}</tds:GetDeviceInformationResponse>`;
      case 'device/GetScopes':
        return `<tds:GetScopesResponse>${o.scopes
          .map(
            (s) =>
              `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${esc(s)}</tt:ScopeItem></tds:Scopes>`,
          )
          .join('')}</tds:GetScopesResponse>`;
      case 'media/GetProfiles':
        return `<trt:GetProfilesResponse>${o.profiles.map(media1Profile).join('')}</trt:GetProfilesResponse>`;
      case 'media2/GetProfiles':
        return `<tr2:GetProfilesResponse>${o.profiles.map(media2Profile).join('')}</tr2:GetProfilesResponse>`;
      case 'media/GetVideoSources':
        return '<trt:GetVideoSourcesResponse><trt:VideoSources token="vs0"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>3840</tt:Width><tt:Height>2160</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>';
      case 'media/GetStreamUri':
      case 'media2/GetStreamUri': {
        const p = profileNamed();
        if (!p) return noProfile;
        const uri = esc(p.streamUri ?? `rtsp://127.0.0.1:8554/${p.token}`);
        return service === 'media2'
          ? `<tr2:GetStreamUriResponse><tr2:Uri>${uri}</tr2:Uri></tr2:GetStreamUriResponse>`
          : `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
      }
      case 'media/GetSnapshotUri':
      case 'media2/GetSnapshotUri': {
        const p = profileNamed();
        if (!p) return noProfile;
        const uri = `${base}/snapshot/${encodeURIComponent(p.token)}.jpg`;
        return service === 'media2'
          ? `<tr2:GetSnapshotUriResponse><tr2:Uri>${uri}</tr2:Uri></tr2:GetSnapshotUriResponse>`
          : `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${uri}</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>`;
      }
      default:
        return null;
    }
  };

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    hostname: '127.0.0.1',
    port,
    xaddr: `${base}/onvif/device_service`,
    requests,
    events,
    cameraNow,
    nextRequest: (action) =>
      new Promise((resolve) => {
        const on = (r: FakeRequest) => {
          if (action && r.action !== action) return;
          events.off('request', on);
          resolve(r);
        };
        events.on('request', on);
      }),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readToken(body: string) {
  const block = text(body, 'UsernameToken', true);
  if (block === undefined) return null;
  return {
    username: text(block, 'Username') ?? '',
    password: text(block, 'Password') ?? '',
    passwordType: /<(?:[\w.-]+:)?Password\b[^>]*Type="([^"]*)"/.exec(block)?.[1] ?? '',
    nonce: text(block, 'Nonce') ?? '',
    created: text(block, 'Created') ?? '',
  };
}

/** [WS-Security UsernameToken Profile 1.0 §3.1] PasswordDigest = Base64(SHA-1(nonce + created + password)). */
function tokenValid(
  token: NonNullable<ReturnType<typeof readToken>>,
  o: { username: string; password: string; tokenWindowMs: number },
  cameraMs: number,
  seenNonces: Set<string>,
): boolean {
  if (token.username !== o.username) return false;
  const created = Date.parse(token.created);
  if (!Number.isFinite(created) || Math.abs(created - cameraMs) > o.tokenWindowMs) return false;
  if (seenNonces.has(token.nonce)) return false; // a replayed token
  seenNonces.add(token.nonce);
  const expected = token.passwordType.endsWith('#PasswordText')
    ? Buffer.from(o.password, 'utf8')
    : createHash('sha1')
        .update(
          Buffer.concat([
            Buffer.from(token.nonce, 'base64'),
            Buffer.from(token.created),
            Buffer.from(o.password),
          ]),
        )
        .digest();
  const given = token.passwordType.endsWith('#PasswordText')
    ? Buffer.from(token.password, 'utf8')
    : Buffer.from(token.password, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function media1Profile(p: FakeProfile): string {
  const video = p.encoding
    ? `<tt:VideoSourceConfiguration token="vsc-${esc(p.token)}"><tt:Name>vsc</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>vs0</tt:SourceToken><tt:Bounds x="0" y="0" width="${p.width ?? 0}" height="${p.height ?? 0}"/></tt:VideoSourceConfiguration>` +
      `<tt:VideoEncoderConfiguration token="vec-${esc(p.token)}"><tt:Name>vec</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${esc(p.encoding)}</tt:Encoding>${resolution(p)}<tt:Quality>5</tt:Quality>${rateControl(p)}<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>`
    : '';
  const audio = p.audio
    ? `<tt:AudioEncoderConfiguration token="aec-${esc(p.token)}"><tt:Name>aec</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${esc(p.audio)}</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>16</tt:SampleRate></tt:AudioEncoderConfiguration>`
    : '';
  return `<trt:Profiles token="${esc(p.token)}" fixed="true"><tt:Name>${esc(p.name ?? p.token)}</tt:Name>${video}${audio}</trt:Profiles>`;
}

function media2Profile(p: FakeProfile): string {
  const video = p.encoding
    ? `<tr2:VideoSource token="vsc-${esc(p.token)}"><tt:Name>vsc</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>vs0</tt:SourceToken><tt:Bounds x="0" y="0" width="${p.width ?? 0}" height="${p.height ?? 0}"/></tr2:VideoSource>` +
      `<tr2:VideoEncoder token="vec-${esc(p.token)}" GovLength="50" Profile="Main"><tt:Name>vec</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${esc(p.encoding)}</tt:Encoding>${resolution(p)}${rateControl(p)}<tt:Quality>5</tt:Quality></tr2:VideoEncoder>`
    : '';
  const audio = p.audio
    ? `<tr2:AudioEncoder token="aec-${esc(p.token)}"><tt:Name>aec</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${esc(p.audio)}</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>16</tt:SampleRate></tr2:AudioEncoder>`
    : '';
  return `<tr2:Profiles token="${esc(p.token)}" fixed="true"><tr2:Name>${esc(p.name ?? p.token)}</tr2:Name><tr2:Configurations>${video}${audio}</tr2:Configurations></tr2:Profiles>`;
}

const resolution = (p: FakeProfile) =>
  `<tt:Resolution><tt:Width>${p.width ?? 0}</tt:Width><tt:Height>${p.height ?? 0}</tt:Height></tt:Resolution>`;
const rateControl = (p: FakeProfile) =>
  `<tt:RateControl><tt:FrameRateLimit>${p.fps ?? 25}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>`;

function dateTime(tag: string, ms: number, fractional?: boolean): string {
  const d = new Date(ms);
  const second = fractional
    ? (d.getUTCSeconds() + d.getUTCMilliseconds() / 1000).toFixed(3)
    : d.getUTCSeconds();
  return `<tt:${tag}><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${second}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:${tag}>`;
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS}><s:Header/><s:Body>${body}</s:Body></s:Envelope>`;
}

function fault(f: FakeFault): string {
  const sub = f.subcode ? `<s:Subcode><s:Value>${esc(f.subcode)}</s:Value></s:Subcode>` : '';
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${f.code ?? 'Receiver'}</s:Value>${sub}</s:Code><s:Reason><s:Text xml:lang="en">${esc(f.reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

function text(xml: string, name: string, raw = false): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?(?<!/)>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}>`).exec(
    xml,
  );
  if (!m) return undefined;
  const inner = m[1] ?? '';
  return raw
    ? inner
    : inner
        .trim()
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// ---------------------------------------------------------------------------------------------------
// WS-Discovery

/** What the fake discovery responder announces. */
export interface FakeDiscoveryOptions {
  /** Device service URLs to announce. */
  xaddrs: string[];
  /** Default a fresh urn:uuid. */
  endpoint?: string;
  scopes?: string[];
  /** Extra devices announced in the same ProbeMatches message, as an NVR or encoder does. */
  extra?: Array<{ endpoint: string; xaddrs: string[] }>;
  /** Before the real answer, send a malformed datagram and a ProbeMatches for another probe. */
  noise?: boolean;
}

/** A running WS-Discovery responder. */
export interface FakeDiscovery {
  readonly endpoint: string;
  /** MessageIDs of the probes received. */
  readonly probes: string[];
  /** Emits 'probe' (MessageID) as each probe arrives. */
  readonly events: EventEmitter;
  close(): Promise<void>;
}

/**
 * Answers WS-Discovery Probes on 239.255.255.250:3702. Refuses to start unless every network interface
 * is loopback (inside `unshare -n`), so no test ever answers, or joins a group on, a real network.
 */
export async function startFakeDiscovery(options: FakeDiscoveryOptions): Promise<FakeDiscovery> {
  const outside = Object.entries(networkInterfaces()).filter(([, addrs]) => addrs?.some((a) => !a.internal));
  if (outside.length > 0) {
    throw new Error(
      `fake WS-Discovery runs only in a private network namespace; found ${outside.map(([n]) => n)}`,
    );
  }
  const endpoint = options.endpoint ?? `urn:uuid:${randomUUID()}`;
  const probes: string[] = [];
  const events = new EventEmitter();
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg, rinfo) => {
    const xml = msg.toString('utf8');
    if (!/<(?:[\w.-]+:)?Probe\b/.test(xml)) return;
    const messageId = text(xml, 'MessageID') ?? '';
    probes.push(messageId);
    events.emit('probe', messageId);
    const reply = (b: string) => socket.send(Buffer.from(b), rinfo.port, rinfo.address);
    if (options.noise) {
      reply('<not-soap>');
      reply(
        probeMatches(`urn:uuid:${randomUUID()}`, [
          { endpoint: 'urn:uuid:stranger', xaddrs: ['http://10.9.9.9/x'] },
        ]),
      );
    }
    const devices = [{ endpoint, xaddrs: options.xaddrs, scopes: options.scopes }, ...(options.extra ?? [])];
    reply(probeMatches(messageId, devices));
  });
  socket.bind(3702);
  await once(socket, 'listening');
  socket.addMembership('239.255.255.250');
  return {
    endpoint,
    probes,
    events,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function probeMatches(
  relatesTo: string,
  devices: Array<{ endpoint: string; xaddrs: string[]; scopes?: string[] }>,
) {
  const matches = devices
    .map(
      (d) =>
        `<d:ProbeMatch><a:EndpointReference><a:Address>${esc(d.endpoint)}</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types><d:Scopes>${esc((d.scopes ?? ['onvif://www.onvif.org/name/Fake%20Camera', 'onvif://www.onvif.org/hardware/QL-FAKE-1']).join(' '))}</d:Scopes><d:XAddrs>${esc(d.xaddrs.join(' '))}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch>`,
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
    `<s:Header><a:MessageID>urn:uuid:${randomUUID()}</a:MessageID><a:RelatesTo>${esc(relatesTo)}</a:RelatesTo>` +
    '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>' +
    `<s:Body><d:ProbeMatches>${matches}</d:ProbeMatches></s:Body></s:Envelope>`
  );
}
