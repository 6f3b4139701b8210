/**
 * @module The evidence package's human-readable report (Chinese and English), rendered only from the
 * package description, the signed tree head and the entries, so the same inputs always give the same
 * bytes and `quanlu verify` can re-render it and compare [EVIDENCE §21.4].
 */
import type { TreeHead } from '../../protocol/tree-head.ts';
import type { ChainSummary } from './chain-summary.ts';
import type { PackageInfo } from './package-layout.ts';

const GAP_REASONS: Record<string, string> = {
  'source-starting': '信号源启动中 source starting',
  'source-lost': '信号源丢失 source lost',
  'capture-restarted': '采集重启 capture restarted',
  'gateway-down': '网关停机 gateway down',
  'storage-error': '存储错误 storage error',
  'segment-invalid': '片段无效 segment invalid',
  other: '其他 other',
};

const SOURCE_KINDS: Record<string, string> = {
  camera: '摄像机 camera',
  microphone: '麦克风 microphone',
  bodycam: '执法记录仪 body-worn recorder',
};

function esc(text: string | number | null | undefined): string {
  return String(text ?? '—').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A duration as h:mm:ss. */
export function hms(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function span(a: string | null, b: string | null): string {
  if (!a || !b) return '—';
  const ms = Date.parse(b) - Date.parse(a);
  return Number.isFinite(ms) ? hms(ms) : '—';
}

function row(label: string, value: string): string {
  return `<tr><th>${label}</th><td>${value}</td></tr>`;
}

function chainSection(c: ChainSummary): string {
  const gaps = c.gaps.length
    ? `<table class="list"><tr><th>序号 seq</th><th>自 from</th><th>至 to</th><th>时长 duration</th><th>原因 reason</th><th>说明 detail</th></tr>${c.gaps
        .map(
          (g) =>
            `<tr><td>${g.seq}</td><td>${esc(g.from)}</td><td>${esc(g.to)}</td><td>${span(g.from, g.to)}</td><td>${esc(GAP_REASONS[g.reason] ?? g.reason)}</td><td>${esc(g.detail)}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>无缺口 no gaps</p>';
  const segments = `<details><summary>片段 segments (${c.segments.length})</summary><table class="list"><tr><th>序号 seq</th><th>开始 start</th><th>时长 duration</th><th>大小 bytes</th><th>SHA-256</th></tr>${c.segments
    .map(
      (s) =>
        `<tr><td>${s.seq}</td><td>${esc(s.start)}</td><td>${hms(s.durationMs)}</td><td>${s.size}</td><td class="hash">${esc(s.sha256)}</td></tr>`,
    )
    .join('')}</table></details>`;
  return `<section class="track"><h3>轨道 Track ${esc(c.track)}</h3><table>${[
    row(
      '来源 source',
      c.source
        ? `${esc(SOURCE_KINDS[c.source.kind] ?? c.source.kind)} · ${esc(c.source.name)}${c.source.device ? ` · ${esc(c.source.device)}` : ''}${c.source.officer ? ` · 警员 officer ${esc(c.source.officer)}` : ''}`
        : '—',
    ),
    row('网关 gateway', `${esc(c.gateway)} · 密钥 key <span class="hash">${esc(c.key)}</span>`),
    row('开始 start', esc(c.start)),
    row('结束 end', c.end ? `${esc(c.end)} (${esc(c.closeReason)})` : '未结束 not closed'),
    row('时长 duration', span(c.start, c.end)),
    row('录像时长 media', hms(c.mediaMs)),
    row('条目 entries', String(c.entries)),
    row('片段 segments', `${c.segments.length} · ${c.bytes} bytes`),
    row('默克尔根 Merkle root', `<span class="hash">${esc(c.merkleRoot)}</span>`),
    row('末条目哈希 last entry hash', `<span class="hash">${esc(c.lastHash)}</span>`),
  ].join('')}</table><h4>缺口 Gaps</h4>${gaps}${segments}</section>`;
}

/** Renders the report. Same inputs, same bytes. */
export function renderPackageReport(
  info: PackageInfo,
  head: TreeHead,
  chains: readonly ChainSummary[],
): string {
  const recordings = [...new Set(chains.map((c) => c.recording))];
  const body = recordings
    .map((rec) => {
      const mine = chains.filter((c) => c.recording === rec);
      const open = mine.find((c) => c.caseId !== null) ?? mine[0]!;
      const start =
        mine
          .map((c) => c.start)
          .filter((s): s is string => !!s)
          .sort()[0] ?? null;
      const end = mine.every((c) => c.end)
        ? mine
            .map((c) => c.end!)
            .sort()
            .at(-1)!
        : null;
      return `<section class="recording"><h2>录制 Recording ${esc(rec)}</h2><table>${[
        row('案件 case', esc(open.caseId)),
        row('事项 matter', esc(open.matter)),
        row('房间 room', esc(open.room)),
        row('在场警员 officers present', open.officers.length ? open.officers.map(esc).join(', ') : '—'),
        row('开始人 started by', esc(open.startedBy)),
        row('时间 time', `${esc(start)} → ${end ? esc(end) : '未结束 not closed'} (${span(start, end)})`),
        row('轨道 tracks', String(mine.length)),
      ].join('')}</table>${mine.map(chainSection).join('')}</section>`;
    })
    .join('');
  const audit = info.audit.included
    ? `${info.audit.records.length} 条审计记录 audit records (audit/records.jsonl)`
    : '本导出未包含审计记录 this package holds no audit records';
  return `<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>证据包 Evidence package · ${esc(info.case)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}th{background:#eee}.hash{font-family:monospace;font-size:.85em;word-break:break-all}section.track{margin-left:1.5em}</style>
</head><body>
<h1>证据包报告 Evidence package report</h1>
<table>${[
    row('案件 case', esc(info.case)),
    row('导出时间 exported at', esc(info.exportedAt)),
    row('导出人 exported by', esc(info.exportedBy)),
    row('导出节点 ingest node', esc(info.ingest)),
    row('录制 recordings', String(info.recordings.length)),
    row('条目 entries', String(info.entries)),
    row('对象 objects', `${info.objects} · ${info.bytes} bytes`),
    row('审计 audit', audit),
    row(
      '签名树头 signed tree head',
      `大小 size ${head.size} · 时间 ${esc(head.timestamp)}<br>根 root <span class="hash">${esc(head.root)}</span><br>密钥 key <span class="hash">${esc(head.key)}</span>`,
    ),
  ].join('')}</table>
<p>以 <code>quanlu verify</code> 离线核验本包：每个对象哈希、签名、链、缺口及日志证明。Verify this package offline with <code>quanlu verify</code>: every object hash, signature, chain, gap and log proof. 文件夹 derived/ 中的 MP4 为便利副本，不是证据。The MP4 files in derived/ are convenience copies, not evidence.</p>
${body}
</body></html>
`;
}
