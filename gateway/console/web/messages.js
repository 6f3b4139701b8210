/**
 * @module The operator console's message catalogue: every string a person sees, in zh-CN (the default) and English,
 * under the same keys. `{name}` marks a value filled in at run time. test/console/messages.test.ts checks that both
 * languages have the same keys.
 */

/** The languages, the default first. */
export const LANGUAGES = ['zh-CN', 'en'];

const zh = {
  'app.title': '全录 · 操作台',
  'app.plaintext': '警告：操作台未启用 TLS（console.tls.mode: off），页面与接口以明文传输。',
  'app.plaintextUplink':
    '警告：网关与接收端之间的 MQTT 以明文传输（ingest.tls.plaintext: true），证据未加密。',
  'lang.switch': 'English',
  'room.label': '场所',
  'common.none': '—',
  'common.loading': '正在加载…',

  'form.title': '记录要素',
  'form.caseId': '案件编号',
  'form.caseIdHint': '格式按场所配置校验；无法连接调阅端时离线接受',
  'form.matter': '执法事项',
  'form.matterPick': '请选择执法事项',
  'form.officers': '在场执法人员（执法证号）',
  'form.officersOther': '其他执法证号（空格分隔）',
  'form.officersMin': '至少 {min} 名执法人员',
  'officers.synced': '执法人员名单：{count} 人，{at} 从调阅端同步',
  'officers.syncFailed': '无法从调阅端同步执法人员名单，使用 {at} 同步的名单',
  'officers.notSynced': '执法人员名单尚未从调阅端同步',
  'officers.file': '执法人员名单：本地文件',
  'officers.none': '未配置执法人员名单：仅核对证号格式',
  'form.room': '场所',
  'form.start': '开始录制',
  'form.starting': '正在开始…',

  'field.required': '此项必填。',
  'field.pattern': '案件编号“{value}”格式不正确。',
  'field.unknown': '“{value}{id}”不在清单中。',
  'field.too-few': '至少需要 {min} 名执法人员，当前 {given} 名。',
  'field.duplicate': '执法证号 {id} 重复。',
  'field.format': '“{id}”不是有效的执法证号。',
  'field.mismatch': '本网关记录场所“{room}”，不是“{value}”。',
  'field.invalid': '填写内容无效。',

  'rec.title': '录制状态',
  'rec.idle': '未在录制',
  'rec.running': '正在录制',
  'rec.case': '案件 {caseId} · {matter}',
  'rec.officers': '执法人员：{officers}',
  'rec.duration': '已录制 {duration}',
  'rec.offline': '案件编号未经调阅端核验（离线接受）',
  'rec.caseFound': '案件编号已在调阅端核验',
  'rec.caseNew': '调阅端尚无此案件：作为新案件录制',
  'rec.stop': '停止录制',
  'rec.backlog': '待上传：{entries} 条（{mib} MiB）',
  'rec.uplinkOff': '未连接调阅端：录像保存在本地',
  'rec.uplinkOn': '已连接调阅端',

  'cam.state.starting': '正在连接',
  'cam.state.recording': '录制中',
  'cam.state.down': '信号中断',
  'cam.state.stopping': '正在停止',
  'cam.state.stopped': '已停止',
  'cam.segments': '片段 {segments} · 中断 {gaps}',
  'cam.lastSegment': '最新片段 {age} 秒前',
  'cam.bitrate': '码率 {kbps} kbit/s',
  'cam.pending': '待确认 {pending}',
  'cam.noPreview': '等待第一个片段…',

  'stop.title': '确认停止录制？',
  'stop.body': '所有摄像机的最后片段将被封存，录制链将关闭。',
  'stop.confirm': '确认停止',
  'stop.cancel': '继续录制',

  'summary.title': '录制已停止',
  'summary.recording': '录制 {id}',
  'summary.duration': '时长 {duration}',
  'summary.segments': '片段 {segments} 个，中断 {gaps} 处',
  'summary.pending': '待调阅端确认的哈希：{count} 个',

  'alarm.title': '告警',
  'alarm.camera-lost': '摄像机 {track} 信号中断：已记录中断并自动重试',
  'alarm.disk-low': '磁盘空间不足：剩余 {freeMiB} MiB',
  'alarm.disk-full': '磁盘已满：剩余 {freeMiB} MiB，不能开始新的录制',
  'alarm.ingest-unreachable': '无法连接调阅端：继续本地录制，{entries} 条待上传',
  'alarm.clock-offset': '网关时钟偏差 {offsetMs} 毫秒，超过 {limitMs} 毫秒',

  'error.GW_DISK_FULL': '磁盘已满，不能开始新的录制；未确认的证据不会被删除。',
  'error.GW_RECORDING_ACTIVE': '本场所已在录制。',
  'error.GW_RECORDING_NONE': '当前没有录制。',
  'error.GW_RECORDING_ELEMENTS': '请更正标出的记录要素。',
  'error.GW_CONSOLE_BAD_REQUEST': '请求内容无效。',
  'error.network': '无法连接网关：{message}',
};

const en = {
  'app.title': 'quanlu · operator console',
  'app.plaintext':
    'Warning: TLS is off on this console (console.tls.mode: off): the page and its API travel in plain text.',
  'app.plaintextUplink':
    'Warning: MQTT from this gateway to the ingest travels in plain text (ingest.tls.plaintext: true): evidence is not encrypted.',
  'lang.switch': '中文',
  'room.label': 'Room',
  'common.none': '—',
  'common.loading': 'Loading…',

  'form.title': 'Recording elements',
  'form.caseId': 'Case ID',
  'form.caseIdHint':
    "Checked against the room profile's pattern; accepted offline when the ingest is out of reach",
  'form.matter': 'Matter',
  'form.matterPick': 'Choose the matter',
  'form.officers': 'Officers present (credential numbers)',
  'form.officersOther': 'Other credential numbers (space separated)',
  'form.officersMin': 'At least {min} officers',
  'officers.synced': 'Officer list: {count} officers, synced from the ingest {at}',
  'officers.syncFailed': 'Cannot sync the officer list from the ingest; using the list synced {at}',
  'officers.notSynced': 'The officer list has not been synced from the ingest yet',
  'officers.file': 'Officer list: local file',
  'officers.none': 'No officer list: credential numbers are checked for form only',
  'form.room': 'Room',
  'form.start': 'Start recording',
  'form.starting': 'Starting…',

  'field.required': 'This is required.',
  'field.pattern': 'Case ID "{value}" does not have the right form.',
  'field.unknown': '"{value}{id}" is not on the list.',
  'field.too-few': 'At least {min} officers must be present; {given} given.',
  'field.duplicate': 'Credential number {id} is listed twice.',
  'field.format': '"{id}" is not a credential number.',
  'field.mismatch': 'This gateway records room "{room}", not "{value}".',
  'field.invalid': 'This value is not valid.',

  'rec.title': 'Recording',
  'rec.idle': 'Not recording',
  'rec.running': 'Recording',
  'rec.case': 'Case {caseId} · {matter}',
  'rec.officers': 'Officers: {officers}',
  'rec.duration': 'Recording for {duration}',
  'rec.offline': 'Case ID not checked at the ingest (accepted offline)',
  'rec.caseFound': 'Case ID found at the ingest',
  'rec.caseNew': 'The ingest does not know this case yet: recorded as a new case',
  'rec.stop': 'Stop recording',
  'rec.backlog': 'Waiting to upload: {entries} entries ({mib} MiB)',
  'rec.uplinkOff': 'Not connected to the ingest: footage is kept locally',
  'rec.uplinkOn': 'Connected to the ingest',

  'cam.state.starting': 'Connecting',
  'cam.state.recording': 'Recording',
  'cam.state.down': 'Signal lost',
  'cam.state.stopping': 'Stopping',
  'cam.state.stopped': 'Stopped',
  'cam.segments': '{segments} segments · {gaps} gaps',
  'cam.lastSegment': 'Last segment {age} s ago',
  'cam.bitrate': '{kbps} kbit/s',
  'cam.pending': '{pending} unacknowledged',
  'cam.noPreview': 'Waiting for the first segment…',

  'stop.title': 'Stop the recording?',
  'stop.body': "Every camera's last segment is sealed and the chains are closed.",
  'stop.confirm': 'Stop',
  'stop.cancel': 'Keep recording',

  'summary.title': 'Recording stopped',
  'summary.recording': 'Recording {id}',
  'summary.duration': 'Duration {duration}',
  'summary.segments': '{segments} segments, {gaps} gaps',
  'summary.pending': 'Hashes awaiting acknowledgement by the ingest: {count}',

  'alarm.title': 'Alarms',
  'alarm.camera-lost': 'Camera {track} lost: the gap is recorded and capture retries',
  'alarm.disk-low': 'Disk space low: {freeMiB} MiB free',
  'alarm.disk-full': 'Disk full: {freeMiB} MiB free; no new recording can start',
  'alarm.ingest-unreachable':
    'Ingest out of reach: recording goes on locally, {entries} entries wait to upload',
  'alarm.clock-offset': 'Gateway clock off by {offsetMs} ms, more than {limitMs} ms',

  'error.GW_DISK_FULL':
    'The disk is full: no new recording can start; unacknowledged evidence is never deleted.',
  'error.GW_RECORDING_ACTIVE': 'A recording is already running in this room.',
  'error.GW_RECORDING_NONE': 'No recording is running.',
  'error.GW_RECORDING_ELEMENTS': 'Correct the marked recording elements.',
  'error.GW_CONSOLE_BAD_REQUEST': 'The request is not valid.',
  'error.network': 'The gateway does not answer: {message}',
};

/** Every message by language. */
export const messages = { 'zh-CN': zh, en };
