/** @module The dock section of a dock-station profile (采集站): where devices mount, how they are told apart, what happens to their files. */
import { z } from 'zod';
import { VolumePath } from '../protocol/entry.ts';

/** How one model of body-worn recorder identifies itself on its volume. */
export const DockDeviceModel = z
  .strictObject({
    name: z.string().min(1).max(100).describe('model name, for logs and the console, e.g. "DSJ-Y8"'),
    match: z
      .string()
      .min(1)
      .max(200)
      .default('.*')
      .describe('regular expression over the mount folder name; the first model that matches applies'),
    serialFrom: z
      .enum(['info-file', 'folder-name'])
      .default('info-file')
      .describe(
        'info-file: read the serial from the device info file (the folder name when the file is absent); ' +
          'folder-name: the mount folder is named by the serial (udev names it after ID_SERIAL_SHORT)',
      ),
    infoFile: VolumePath.default('DEVICE.TXT').describe(
      'device info file, relative to the volume root: "key=value" lines or a JSON object',
    ),
    serialKey: z.string().min(1).max(64).default('serial').describe('key of the serial in the info file'),
    clockOffsetKey: z
      .string()
      .min(1)
      .max(64)
      .default('clockOffsetMs')
      .describe("key of the device's clock minus the dock's clock, in ms, when the device reports it"),
  })
  .describe('one model of body-worn recorder (执法记录仪)');
export type DockDeviceModel = z.infer<typeof DockDeviceModel>;

/** The dock settings of a dock-station profile. */
export const DockSettings = z
  .strictObject({
    root: z
      .string()
      .min(1)
      .max(4096)
      .default('/media/quanlu-dock')
      .describe('folder under which udev mounts each docked device, one folder per device'),
    scanIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(2000)
      .describe(
        'how often the dock root and each docked volume are scanned again (fs.watch wakes it sooner)',
      ),
    parallelFiles: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('most files read and uploaded at once, across every docked device'),
    policy: z
      .enum(['wipe', 'keep', 'move'])
      .default('wipe')
      .describe(
        'what happens to a device file once the ingest acknowledged every file of the device: wipe deletes it, ' +
          'keep leaves it, move renames it into moveTo on the volume; each deletion or move is an entry',
      ),
    moveTo: VolumePath.default('QUANLU-OFFLOADED').describe(
      'folder on the volume that the move policy puts offloaded files in; never offloaded again',
    ),
    nonMedia: z
      .enum(['offload', 'ignore'])
      .default('ignore')
      .describe(
        'files whose extension is not in mediaExtensions: offload them like footage, or leave them be',
      ),
    mediaExtensions: z
      .array(z.string().regex(/^[a-z0-9]{1,10}$/, 'an extension is 1–10 of a-z and 0-9, without the dot'))
      .max(100)
      .default([
        'mp4',
        'mov',
        'avi',
        'ts',
        'mts',
        'mkv',
        'wav',
        'mp3',
        'aac',
        'm4a',
        'amr',
        'jpg',
        'jpeg',
        'png',
      ])
      .describe('extensions (lowercase, no dot) of files that are footage, audio or photos'),
    copyToSpool: z
      .boolean()
      .default(false)
      .describe(
        'also keep a local copy of each file under the gateway data folder, written in the same pass',
      ),
    models: z
      .array(DockDeviceModel)
      .min(1)
      .max(50)
      .default([
        {
          name: 'generic',
          match: '.*',
          serialFrom: 'info-file',
          infoFile: 'DEVICE.TXT',
          serialKey: 'serial',
          clockOffsetKey: 'clockOffsetMs',
        },
      ])
      .describe('device models, tried in order against the mount folder name'),
    officerSync: z
      .strictObject({
        url: z
          .string()
          .url()
          .nullable()
          .default(null)
          .describe('the ingest API base URL; null: only the last synced copy on disk is used'),
        everySeconds: z.number().int().min(5).max(86_400).default(300).describe('how often to fetch again'),
        tokenFile: z
          .string()
          .min(1)
          .max(4096)
          .nullable()
          .default(null)
          .describe('file holding an ingest API token (sent as a Bearer token); null: no token'),
      })
      .default({ url: null, everySeconds: 300, tokenFile: null })
      .describe('where the device-to-officer assignments (kept at the ingest) come from'),
  })
  .describe('dock station settings (采集站): device mounts, identification, offload and wipe policy');
export type DockSettings = z.infer<typeof DockSettings>;
