/** @module Renders a verification report for a person: one block per track, then every finding. */
import type { Finding, TrackReport, VerifyReport } from '../../protocol/verifier.ts';

const STATUS: Record<TrackReport['status'], string> = {
  verified: 'VERIFIED',
  open: 'OPEN (no close yet)',
  failed: 'FAILED',
};

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.file) parts.push(f.line ? `${f.file}:${f.line}` : f.file);
  if (f.seq !== undefined) parts.push(`seq ${f.seq}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function signed(ms: number): string {
  return `${ms > 0 ? '+' : ''}${ms} ms`;
}

/** One line on which clock stamped the track [EVIDENCE §7.4]. */
export function timeLine(p: TrackReport['time']): string {
  const offset = p.offsetMs
    ? p.offsetMs.min === p.offsetMs.max
      ? signed(p.offsetMs.min)
      : `${signed(p.offsetMs.min)} … ${signed(p.offsetMs.max)}`
    : 'not measured';
  const parts = [
    `time: clock source ${p.sources.join(', ') || '-'}`,
    `offset ${offset}${p.worstBoundMs !== null ? ` (± ${p.worstBoundMs} ms at worst)` : ''}`,
    p.untrustedEntries
      ? `${p.untrustedEntries} of ${p.trustedEntries + p.untrustedEntries} entries without a trusted source`
      : 'every entry measured',
  ];
  if (p.deviceClockOffsetMs !== null) parts.push(`device clock ${signed(p.deviceClockOffsetMs)} vs gateway`);
  return parts.join(' · ');
}

/** The report as text. */
export function renderReport(report: VerifyReport, folder: string, keysFrom: string): string {
  const out: string[] = [];
  out.push(`quanlu verify ${folder}`);
  out.push(
    `keys from ${keysFrom}; ${report.entries} entries; ${report.objects.checked} objects (${mib(report.objects.bytes)}) hashed`,
  );
  out.push('');
  for (const t of report.tracks) {
    out.push(`track ${t.track} of recording ${t.recording}: ${STATUS[t.status]}`);
    out.push(
      `  case ${t.caseId ?? '-'} · ${t.source ?? 'source unknown'} · gateway ${t.gateway} · key ${t.key.slice(0, 16)}…`,
    );
    out.push(
      `  ${t.start ?? '?'} → ${t.end ?? '(open)'} · ${t.entries} entries · ${t.segments} segments · ${duration(t.mediaMs)} of media · ${mib(t.bytes)}`,
    );
    if (t.merkleRoot) out.push(`  segment root ${t.merkleRoot}`);
    out.push(`  ${timeLine(t.time)}`);
    for (const g of t.gaps)
      out.push(`  gap seq ${g.seq}: ${g.from} → ${g.to} (${g.reason}${g.detail ? `: ${g.detail}` : ''})`);
    for (const f of t.findings)
      out.push(`  ${f.severity === 'error' ? '✗' : '!'} ${f.code}${where(f)}: ${f.message}`);
    out.push('');
  }
  if (report.findings.length) {
    out.push('not tied to one track:');
    for (const f of report.findings)
      out.push(`  ${f.severity === 'error' ? '✗' : '!'} ${f.code}${where(f)}: ${f.message}`);
    out.push('');
  }
  const failed = report.tracks.filter((t) => t.status === 'failed').length;
  const errors =
    report.findings.filter((f) => f.severity === 'error').length +
    report.tracks.reduce((n, t) => n + t.findings.filter((f) => f.severity === 'error').length, 0);
  out.push(
    report.ok
      ? `RESULT: OK — ${report.tracks.length} track(s) hold; every signature, hash, link, gap and root checked`
      : `RESULT: FAILED — ${errors} problem(s)${failed ? ` in ${failed} of ${report.tracks.length} track(s)` : ''}`,
  );
  return out.join('\n');
}
