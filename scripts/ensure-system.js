#!/usr/bin/env node
// Checks the Debian packages a job needs and installs the missing ones with apt-get when run as
// root; otherwise prints the exact command to run. Usage: node scripts/ensure-system.js start|test
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What each job needs: a file that proves the package is there, and the package that brings it. */
const NEEDS = {
  start: [
    { file: '/usr/bin/ffmpeg', pkg: 'ffmpeg' },
    { file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', pkg: 'fonts-wqy-microhei' },
  ],
  test: [
    { file: '/usr/bin/ffmpeg', pkg: 'ffmpeg' },
    { file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', pkg: 'fonts-wqy-microhei' },
    { file: '/usr/bin/ffprobe', pkg: 'ffmpeg' },
    { file: '/usr/bin/chromium', pkg: 'chromium' },
    {
      file: '/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib',
      pkg: 'gir1.2-gst-rtsp-server-1.0',
    },
    { file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstrtsp.so', pkg: 'gstreamer1.0-plugins-good' },
    { file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstx264.so', pkg: 'gstreamer1.0-plugins-ugly' },
    { file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibav.so', pkg: 'gstreamer1.0-libav' },
    {
      file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so',
      pkg: 'gstreamer1.0-plugins-bad',
    },
    {
      file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideotestsrc.so',
      pkg: 'gstreamer1.0-plugins-base',
    },
    { file: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstrtspclientsink.so', pkg: 'gstreamer1.0-rtsp' },
    { file: '/usr/lib/python3/dist-packages/gi/__init__.py', pkg: 'python3-gi' },
  ],
};

const job = process.argv[2] ?? 'test';
const needs = NEEDS[job];
if (!needs) {
  console.error(`usage: ensure-system.js ${Object.keys(NEEDS).join('|')}`);
  process.exit(2);
}
const missing = [...new Set(needs.filter((n) => !existsSync(n.file)).map((n) => n.pkg))];
if (missing.length === 0) process.exit(0);

const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
if (process.getuid?.() !== 0) {
  console.error(
    `quanlu needs these Debian packages for "${job}": ${missing.join(', ')}\nInstall them with:\n  sudo sh -c '${command}'`,
  );
  process.exit(1);
}
console.error(`installing Debian packages for "${job}": ${missing.join(', ')}`);
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
  stdio: 'inherit',
  env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
process.exit(r.status ?? 1);
