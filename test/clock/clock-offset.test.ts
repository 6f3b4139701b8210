import fc from 'fast-check';
import t from 'tap';
import { bestEstimate, estimateOffset, offsetBoundMs } from '../../protocol/clock-offset.ts';

/** An exchange with a known true offset: the request takes `up` ms, the reference holds it `hold` ms, the answer `down`. */
function exchange(t0: number, offset: number, up: number, hold: number, down: number) {
  const t1 = t0 + up + offset;
  const t2 = t1 + hold;
  const t3 = t2 - offset + down;
  return { t0, t1, t2, t3 };
}

const arb = {
  t0: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  offset: fc.integer({ min: -3_600_000, max: 3_600_000 }),
  leg: fc.integer({ min: 0, max: 5000 }),
  hold: fc.integer({ min: 0, max: 1000 }),
};

t.test('a symmetric exchange gives the true offset exactly', async (t) => {
  t.same(estimateOffset(exchange(1000, -90_000, 7, 3, 7)), { offsetMs: -90_000, rttMs: 14 });
  t.same(estimateOffset(exchange(1000, 250, 0, 0, 0)), { offsetMs: 250, rttMs: 0 });
});

t.test('the true offset lies within offset ± rtt/2 whatever the split of the round trip', async (t) => {
  fc.assert(
    fc.property(arb.t0, arb.offset, arb.leg, arb.hold, arb.leg, (t0, offset, up, hold, down) => {
      const e = estimateOffset(exchange(t0, offset, up, hold, down));
      if (!e) return false;
      // The reference's processing time is not part of the round trip.
      if (e.rttMs !== up + down) return false;
      return Math.abs(e.offsetMs - offset) <= offsetBoundMs(e.rttMs);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 exchanges');
});

t.test('an asymmetric path errs by half the difference of its legs', async (t) => {
  fc.assert(
    fc.property(arb.offset, arb.leg, arb.leg, (offset, up, down) => {
      const e = estimateOffset(exchange(0, offset, up, 0, down))!;
      return Math.abs(e.offsetMs - (offset + (up - down) / 2)) <= 0.5;
    }),
  );
  t.pass();
});

t.test('an impossible sample (negative delay, answer before request) is refused', async (t) => {
  t.equal(
    estimateOffset({ t0: 100, t1: 0, t2: 50, t3: 120 }),
    null,
    'reference held it longer than the trip',
  );
  t.equal(estimateOffset({ t0: 100, t1: 10, t2: 5, t3: 120 }), null, 't2 before t1');
  t.equal(estimateOffset({ t0: 100, t1: 10, t2: 10, t3: Number.NaN }), null);
});

t.test('a burst keeps the sample with the shortest round trip', async (t) => {
  fc.assert(
    fc.property(
      arb.offset,
      fc.array(fc.tuple(arb.leg, arb.hold, arb.leg), { minLength: 1, maxLength: 20 }),
      (offset, legs) => {
        const samples = legs.map(([up, hold, down], i) => exchange(i * 10_000, offset, up, hold, down));
        const best = bestEstimate(samples)!;
        const shortest = Math.min(...legs.map(([up, , down]) => up + down));
        return best.rttMs === shortest && Math.abs(best.offsetMs - offset) <= offsetBoundMs(best.rttMs);
      },
    ),
  );
  t.equal(bestEstimate([]), null, 'an empty burst says nothing');
  t.equal(
    bestEstimate([{ t0: 100, t1: 0, t2: 50, t3: 120 }]),
    null,
    'a burst of impossible samples says nothing',
  );
  t.same(
    bestEstimate([
      exchange(0, 5000, 400, 1, 10),
      exchange(1000, 5000, 3, 1, 3),
      exchange(2000, 5000, 90, 1, 1),
    ]),
    { offsetMs: 5000, rttMs: 6 },
  );
});
