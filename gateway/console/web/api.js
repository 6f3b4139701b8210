/** @module Calls to the gateway's local REST API; a refusal becomes an ApiError with its code and field errors. */

/** A refusal of the API: its code, message and the errors of each field. */
export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields ?? {};
  }
}

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new ApiError(res.status, json.error?.code ?? 'HTTP', json.error?.message ?? '', json.error?.fields);
  return json;
}

/** The room: cameras, profile, required elements, matters, officers. */
export const getRoom = () => call('GET', '/api/v1/room');
/** The officer list in force, its source and the ingest sync state. */
export const getOfficers = () => call('GET', '/api/v1/officers');
/** The recording state, per camera, with alarms. */
export const getRecording = () => call('GET', '/api/v1/recording');
/** Starts a recording with the form's elements. */
export const startRecording = (form) => call('POST', '/api/v1/recording/start', form);
/** Whether the console speaks TLS (issue 10): `{ tls, caFingerprint }`. */
export const getTransport = () => call('GET', '/api/v1/transport');
/** Stops the recording (confirmed). */
export const stopRecording = () => call('POST', '/api/v1/recording/stop', { confirm: true });
