/** @module The gateway's error catalogue: one stable code per failure, with a message a person can act on. */

/** Every gateway error code, with what it means. Add new codes here, never ad hoc at a throw site. */
export const GATEWAY_ERRORS = {
  // configuration and room profiles
  GW_CONFIG_INVALID: 'the gateway configuration or a room profile does not match its schema',
  GW_CONFIG_UNREADABLE: 'the configuration file cannot be read or parsed',
  // identity
  GW_KEY_UNREADABLE: 'the gateway key file exists but cannot be read or parsed',
  GW_KEY_PERMISSIONS: 'the gateway key file is readable by others than its owner',
  // cameras and capture
  GW_CAMERA_UNREACHABLE: 'the camera does not answer on the network',
  GW_CAMERA_AUTH: 'the camera refused the credentials',
  GW_CAMERA_SOAP_FAULT: 'the camera answered an ONVIF request with a SOAP fault',
  GW_CAMERA_BAD_RESPONSE:
    'the camera answered an ONVIF request with something that is not a valid ONVIF response',
  GW_CAMERA_NO_PROFILE: 'the camera offers no media profile with a video stream',
  GW_CAMERA_NO_VIDEO: 'the stream carries no video',
  GW_MICROPHONE_NO_AUDIO: "a microphone's stream carries no audio",
  GW_CAMERA_CODEC_UNSUPPORTED:
    'the camera sends a codec quanlu cannot record as evidence (e.g. HEVC for the browser player)',
  GW_CAPTURE_FAILED: 'ffmpeg could not capture the stream',
  GW_SEGMENT_INVALID: 'a closed segment is missing a track it should hold, or cannot be probed',
  GW_FFMPEG_MISSING: 'ffmpeg or ffprobe is not installed',
  // recording lifecycle
  GW_RECORDING_ACTIVE: 'a recording is already running in this room',
  GW_RECORDING_NONE: 'no recording is running',
  GW_RECORDING_ELEMENTS: 'a required recording element (case, matter, officers, room) is missing or invalid',
  // operator console, alarms and remote control (issue 6)
  GW_DISK_FULL:
    'the spool disk has less free space than the start reserve: no new recording starts; nothing unacknowledged is evicted',
  GW_CONSOLE_BAD_REQUEST: 'a console API request does not match its schema; nothing changed',
  GW_STOP_UNCONFIRMED: 'stop needs confirm: true, so that a stray tap never ends a recording',
  GW_OFFICERS_UNREADABLE: 'the officer list file cannot be read or does not match its schema',
  GW_COMMAND_INVALID: 'a remote command does not parse, or names another room; nothing changed',
  // signed configuration push (issue 9)
  GW_CONFIG_PUSH_INVALID:
    'a pushed configuration is not a valid envelope, or changes what a push may not change',
  GW_CONFIG_PUSH_UNSIGNED: 'a pushed configuration carries no signature: refused, nothing changed',
  GW_CONFIG_PUSH_SIGNATURE:
    'a pushed configuration is not signed by the pinned ingest config key, or its hash or signature does not verify: refused',
  GW_CONFIG_ROLLED_BACK:
    'a pushed configuration failed after it was applied; the previous one is back in force',
  // transport security (issue 10)
  GW_TLS_PIN:
    'the ingest presents a CA other than the pinned one (or the configured fingerprint): refused, nothing is sent',
  GW_TLS_FETCH: "the ingest broker's certificate chain could not be fetched to pin its CA; retried",
  GW_TLS_FILES: 'a TLS certificate or key file of the gateway cannot be read or made',
  GW_INGEST_HTTP:
    "the ingest's HTTP API could not be reached, did not answer in time, or answered with an error or a body that does not match its schema",
  GW_TLS_OFF: 'TLS is off because a setting says so: plain text, warned about in the log and on the console',
  // spool
  // uplink
  GW_UPLINK_OBJECT: 'an object could not be uploaded to the store; it stays in the spool and is retried',
  GW_UPLINK_PUBLISH: 'an entry could not be published to the broker; it stays in the spool and is retried',
  GW_UPLINK_ACK_INVALID: 'an acknowledgement from the ingest does not parse or names an unknown entry',
  GW_CLOCK_SYNC:
    'the gateway could not measure its clock against the ingest (no answer, or an answer that does not parse); entries carry the last reading, then source "stale"',
  GW_SPOOL_FULL: 'the spool has no room for new evidence; nothing unacknowledged is evicted',
  GW_SPOOL_IO: 'the spool could not write or sync a file',
  GW_SPOOL_UNKNOWN_ENTRY: 'the spool holds no entry with that hash',
  GW_SPOOL_STATE: 'an entry cannot move to that state from its current one',
  GW_SPOOL_INVALID_INPUT: 'an entry, object or name handed to the spool fails its schema, hash or size',
  // docks: body-worn recorders offloaded at a dock station (gateway/dock, issue 7)
  GW_DOCK_DEVICE_UNKNOWN:
    'a docked volume has no device serial the dock-station profile can read; nothing is read',
  GW_DOCK_OFFICER_UNKNOWN:
    'no officer is assigned to the device at the ingest (last synced copy); footage is sealed with officer null',
  GW_DOCK_OFFICER_SYNC:
    'the device-to-officer assignments could not be fetched from the ingest; the last synced copy is used',
  GW_DOCK_NAME_INVALID:
    'a file name on the volume is not a plain relative name (control characters, backslash, "..", too long); skipped',
  GW_DOCK_SYMLINK: 'a symbolic link on the volume; never followed, wherever it points; skipped',
  GW_DOCK_NOT_REGULAR: 'a device file, FIFO or socket on the volume; never opened; skipped',
  GW_DOCK_EMPTY_FILE: 'a 0-byte file on the volume; nothing to seal; left on the device',
  GW_DOCK_NOT_MEDIA: 'a file that is not media, and the profile ignores non-media files; left on the device',
  GW_DOCK_MEDIA_TRUNCATED:
    'an MP4/MOV file whose boxes do not fill it (truncated); offloaded as it is, byte for byte, marked not intact',
  GW_DOCK_FILE_CHANGING:
    'a file changed while it was read (still growing, or replaced); not sealed; read again later',
  GW_DOCK_DUPLICATE_CONTENT:
    'a file has the same content as another file already offloaded; sealed under its own name, stored once',
  GW_DOCK_VOLUME_REMOVED:
    'the volume went away while a file was read; nothing of that file is sealed; resumed on re-dock',
  GW_DOCK_READ_FAILED: 'a file on the volume could not be read; not sealed; read again later',
  GW_DOCK_UPLOAD_FAILED: 'a file could not be stored in the object store; not sealed; read again later',
  GW_DOCK_WIPE_SKIPPED:
    'a file was not deleted or moved: it changed on the device since it was sealed, or is gone',
  GW_DOCK_WIPE_FAILED: 'deleting or moving an acknowledged file on the device failed; retried',
  // operator console (issue 6): the officer list and case look-ups at the ingest
  GW_OFFICERS_SYNC:
    'the officer list could not be fetched from the ingest (unreachable, token refused, bad answer); the last synced copy is used',
} as const;

/** A gateway error code. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error of the gateway: a stable code, a message a person can act on, and its cause. */
export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}
