/**
 * @module Reads the streams a camera offers from its RTSP session description (SDP, RFC 8866), named as
 * ffprobe names them, so the gateway decides what to record without starting a probe process.
 */

/** One audio or video stream of a session description, with ffprobe's codec name. */
export interface SdpStream {
  codec_type: 'video' | 'audio';
  codec_name: string;
}

/**
 * RTP encoding names (RFC 3551 and the payload formats cameras use) → ffmpeg's codec names, as its RTSP
 * demuxer (`rtpdec`) maps them. Only names whose mapping is certain are here: anything else makes the
 * description unreadable, and the caller probes with ffprobe.
 */
const ENCODINGS: Record<string, { type: 'video' | 'audio'; codec: string }> = {
  H264: { type: 'video', codec: 'h264' },
  H265: { type: 'video', codec: 'hevc' },
  'MPEG4-GENERIC': { type: 'audio', codec: 'aac' },
  'MP4A-LATM': { type: 'audio', codec: 'aac_latm' },
  PCMU: { type: 'audio', codec: 'pcm_mulaw' },
  PCMA: { type: 'audio', codec: 'pcm_alaw' },
  OPUS: { type: 'audio', codec: 'opus' },
};

/** Static RTP payload types (RFC 3551 table 4) a camera may send without an rtpmap line. */
const STATIC: Record<string, string> = { '0': 'PCMU', '8': 'PCMA' };

/**
 * The audio and video streams of a session description, in order (so the first video is ffmpeg's `0:v:0`).
 * Sections of other media (an ONVIF metadata `application` stream) are left out: nothing records them. Null
 * when a section cannot be named with certainty (an unknown encoding, no rtpmap for a dynamic payload type,
 * no media at all): the caller then asks ffprobe.
 */
export function sdpStreams(sdp: string): SdpStream[] | null {
  const sections: { media: string; format: string; rtpmap: Map<string, string> }[] = [];
  for (const raw of sdp.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('m=')) {
      // m=<media> <port> <proto> <fmt> ...: the first format is the one ffmpeg takes.
      const [media = '', , , format = ''] = line.slice(2).split(' ');
      sections.push({ media, format, rtpmap: new Map() });
      continue;
    }
    const current = sections.at(-1);
    const map = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    if (current && map) current.rtpmap.set(map[1]!, map[2]!.toUpperCase());
  }
  const streams: SdpStream[] = [];
  for (const s of sections) {
    if (s.media !== 'video' && s.media !== 'audio') continue;
    const encoding = s.rtpmap.get(s.format) ?? STATIC[s.format];
    const known = encoding ? ENCODINGS[encoding] : undefined;
    if (!known || known.type !== s.media) return null;
    streams.push({ codec_type: known.type, codec_name: known.codec });
  }
  return streams.length > 0 ? streams : null;
}
