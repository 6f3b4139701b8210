/** @module `quanlu gateway record start|stop|status --console URL`: the room's recording through the console's local REST API. */
import type { Command } from 'commander';

/** An error answered by the console, with its code (GW_...) so the command line prints it as one line. */
export class ConsoleAnswerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleAnswerError';
  }
}

type ErrorBody = {
  error?: { code?: string; message?: string; fields?: Record<string, { message: string }[]> };
};

/** Calls the console API; a non-2xx answer becomes a ConsoleAnswerError with its code and every field error. */
export async function callConsole(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ConsoleAnswerError(
      'GW_CONSOLE_UNREACHABLE',
      `the console at ${base} does not answer: ${(err as Error).message}`,
    );
  }
  const json = (await res.json().catch(() => ({}))) as ErrorBody;
  if (res.ok) return json;
  const fields = Object.entries(json.error?.fields ?? {}).flatMap(([f, errs]) =>
    errs.map((e) => `  ${f}: ${e.message}`),
  );
  throw new ConsoleAnswerError(
    json.error?.code ?? 'GW_CONSOLE_BAD_REQUEST',
    [json.error?.message ?? `HTTP ${res.status}`, ...fields].join('\n'),
  );
}

/** Adds `record start|stop|status` under the `gateway` command. */
export function recordCommand(gateway: Command, out: NodeJS.WritableStream = process.stdout): void {
  const record = gateway
    .command('record')
    .description("start, stop or show the room's recording through the gateway's console API");
  const consoleOption = [
    '--console <url>',
    'the operator console of the gateway',
    'http://127.0.0.1:8090',
  ] as const;
  record
    .command('start')
    .description('start recording on every camera of the room (every element is checked first)')
    .option(...consoleOption)
    .requiredOption('--case <id>', 'case id (案件编号)')
    .requiredOption('--matter <id>', 'matter id from the matter list (执法事项)')
    .requiredOption('--officer <number...>', 'credential numbers (执法证号) of the officers present')
    .option('--by <name>', 'who starts the recording', 'cli')
    .action(async (o: { console: string; case: string; matter: string; officer: string[]; by: string }) => {
      const answer = (await callConsole(o.console, 'POST', '/api/v1/recording/start', {
        caseId: o.case,
        matter: o.matter,
        officers: o.officer,
        startedBy: o.by,
      })) as { recording: { id: string; case: { id: string } } };
      out.write(`recording ${answer.recording.id} of case ${answer.recording.case.id} started\n`);
    });
  record
    .command('stop')
    .description('stop the recording: every camera tail is sealed; prints the summary')
    .option(...consoleOption)
    .requiredOption('--yes', 'confirm the stop')
    .action(async (o: { console: string }) => {
      const { summary } = (await callConsole(o.console, 'POST', '/api/v1/recording/stop', {
        confirm: true,
      })) as {
        summary: {
          recording: string;
          durationMs: number;
          segments: number;
          gaps: number;
          pendingHashes: string[];
        };
      };
      out.write(
        `recording ${summary.recording} stopped after ${Math.round(summary.durationMs / 1000)} s: ` +
          `${summary.segments} segments, ${summary.gaps} gaps, ${summary.pendingHashes.length} entries await acknowledgement\n`,
      );
    });
  record
    .command('status')
    .description('show the recording state per camera, the upload backlog and the alarms')
    .option(...consoleOption)
    .option('--json', 'print the whole answer as JSON')
    .action(async (o: { console: string; json?: boolean }) => {
      const s = (await callConsole(o.console, 'GET', '/api/v1/recording')) as {
        state: string;
        recording: { id: string; case: { id: string } } | null;
        tracks: { track: string; camera: string; segments: number; gaps: unknown[]; pending: number }[];
        backlog: { entries: number };
        alarms: { code: string; message: string }[];
      };
      if (o.json) return void out.write(`${JSON.stringify(s, null, 2)}\n`);
      out.write(
        s.recording ? `recording ${s.recording.id} of case ${s.recording.case.id}\n` : 'not recording\n',
      );
      for (const t of s.tracks) {
        out.write(
          `  ${t.track}: ${t.camera}, ${t.segments} segments, ${t.gaps.length} gaps, ${t.pending} pending\n`,
        );
      }
      out.write(`upload backlog: ${s.backlog.entries} entries\n`);
      for (const a of s.alarms) out.write(`alarm ${a.code}: ${a.message}\n`);
    });
}
