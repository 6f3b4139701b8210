/** @module Test gateway configurations: a room with a 2 s segment profile and the cameras a test asks for. */
import { type LoadedGatewayConfig, parseGatewayConfig } from '../../firmware-config/load.ts';

/** A camera entry for a test config (the config schema's input form). */
export type TestCamera = {
  id: string;
  name?: string;
  audio?: boolean;
  source: Record<string, unknown> & { kind: string };
};

/** A small synthetic camera: cheap to encode on a shared 2-core machine. */
export function smallSynthetic(id: string, tone = 440): TestCamera {
  return { id, source: { kind: 'synthetic', width: 320, height: 180, fps: 10, bitrateKbps: 300, tone } };
}

/** A loaded configuration for tests: interview-room rules with `segmentSeconds` segments. */
export function testGatewayConfig(
  dataDir: string,
  cameras: TestCamera[],
  segmentSeconds = 2,
  stallSeconds = 3,
  microphones: { id: string; source: Record<string, unknown> }[] = [],
): LoadedGatewayConfig {
  return parseGatewayConfig({
    gateway: { id: 'gw-test', dataDir },
    room: {
      id: 'interview-1',
      name: 'test room',
      profile: {
        name: 'test-room',
        kind: 'room',
        title: { zh: '测试室', en: 'Test room' },
        segmentSeconds,
        stallSeconds,
        cameras: { min: 1, max: 16 },
        audio: { required: false },
        requiredElements: { caseId: true, matter: true, officersMin: 2, room: true },
      },
    },
    cameras: cameras.map((c) => ({ name: c.id, ...c })),
    microphones: microphones.map((m) => ({ name: m.id, ...m })),
    log: { level: 'warn' },
  });
}

/** Recording elements that pass the checks. */
export const ELEMENTS = {
  caseId: 'TEST-2026-0001',
  matter: 'inquiry',
  officers: ['31010001', '31010002'],
  startedBy: 'test',
};
