/** @module What the dock reports about itself: per device and per file, on the console, MQTT and `quanlu gateway dock status`. */
import { z } from 'zod';

/** One problem seen on a device, with its GW_DOCK_* code. */
export const DockProblem = z.strictObject({
  code: z.string(),
  name: z.string().nullable().describe('the file on the volume it concerns, when one'),
  message: z.string(),
});
export type DockProblem = z.infer<typeof DockProblem>;

/** Where one docked device stands. */
export const DeviceStatus = z.strictObject({
  folder: z.string().describe('the mount folder under the dock root'),
  serial: z.string().nullable(),
  model: z.string().nullable(),
  officer: z.string().nullable(),
  state: z.enum(['identifying', 'offloading', 'awaiting-ack', 'disposing', 'done', 'removed', 'failed']),
  recording: z.string().nullable().describe('the open device chain'),
  files: z.strictObject({
    listed: z.number().int(),
    sealed: z.number().int(),
    acknowledged: z.number().int(),
    disposed: z.number().int(),
    refused: z.number().int(),
    bytesTotal: z.number().int(),
    bytesDone: z.number().int(),
  }),
  reading: z.array(z.strictObject({ name: z.string(), size: z.number().int(), done: z.number().int() })),
  problems: z.array(DockProblem).describe('the latest problems, at most 50'),
  problemCount: z.number().int(),
});
export type DeviceStatus = z.infer<typeof DeviceStatus>;

/** The whole dock, as written to `<dataDir>/dock/status.json` and published on the gateway's `dock` topic. */
export const DockStatus = z.strictObject({
  gateway: z.string(),
  at: z.string(),
  root: z.string(),
  devices: z.array(DeviceStatus),
});
export type DockStatus = z.infer<typeof DockStatus>;

/** One line per device, for a person at a terminal. */
export function formatDockStatus(s: DockStatus): string {
  const lines = [`dock ${s.root} (gateway ${s.gateway}, ${s.at}): ${s.devices.length} device(s)`];
  for (const d of s.devices) {
    const f = d.files;
    const mib = (n: number) => (n / 1048576).toFixed(1);
    lines.push(
      `  ${d.folder}  serial ${d.serial ?? '?'}  officer ${d.officer ?? '-'}  ${d.state}  ` +
        `files ${f.sealed}/${f.listed} sealed, ${f.acknowledged} acknowledged, ${f.disposed} disposed, ` +
        `${f.refused} refused  ${mib(f.bytesDone)}/${mib(f.bytesTotal)} MiB`,
    );
    for (const r of d.reading) lines.push(`    reading ${r.name}  ${mib(r.done)}/${mib(r.size)} MiB`);
    for (const p of d.problems.slice(-10)) lines.push(`    ${p.code}  ${p.name ?? ''}  ${p.message}`);
  }
  return lines.join('\n');
}
