import t from 'tap';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../protocol/merkle.ts';

const N = 70;
const leaves = Array.from({ length: N }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

t.test('RFC 6962 reference roots for the 8-leaf test tree are reproduced', async (t) => {
  const data = [
    '',
    '00',
    '10',
    '2021',
    '3031',
    '40414243',
    '5051525354555657',
    '606162636465666768696a6b6c6d6e6f',
  ].map((h) => Buffer.from(h, 'hex'));
  const expected = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  for (let n = 1; n <= 8; n++)
    t.equal(merkleRoot(data.slice(0, n)).toString('hex'), expected[n - 1], `size ${n}`);
  t.equal(merkleRoot([]).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('inclusion proofs verify for every leaf of every size 1..70', async (t) => {
  let checked = 0;
  for (let n = 1; n <= N; n++) {
    const tree = leaves.slice(0, n);
    const root = rootFromLeafHashes(tree);
    for (let m = 0; m < n; m++) {
      if (!verifyInclusion(tree[m]!, m, n, inclusionProof(m, tree), root)) t.fail(`leaf ${m} of ${n}`);
      checked++;
    }
  }
  t.equal(checked, (N * (N + 1)) / 2);
});

t.test('consistency proofs verify for every pair of sizes 1..70', async (t) => {
  const roots = Array.from({ length: N + 1 }, (_, n) => rootFromLeafHashes(leaves.slice(0, n)));
  let checked = 0;
  for (let n = 1; n <= N; n++) {
    for (let m = 1; m <= n; m++) {
      if (!verifyConsistency(m, n, roots[m]!, roots[n]!, consistencyProof(m, leaves.slice(0, n))))
        t.fail(`${m} → ${n}`);
      checked++;
    }
  }
  t.equal(checked, (N * (N + 1)) / 2);
});

t.test('altered inclusion proofs fail', async (t) => {
  for (const n of [2, 3, 7, 8, 33, 64, 70]) {
    const tree = leaves.slice(0, n);
    const root = rootFromLeafHashes(tree);
    for (const m of [0, Math.floor(n / 2), n - 1]) {
      const proof = inclusionProof(m, tree);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 1;
        t.notOk(verifyInclusion(tree[m]!, m, n, bad, root), `flipped element ${i} of leaf ${m}/${n}`);
      }
      t.notOk(verifyInclusion(tree[m]!, m, n, proof.slice(0, -1), root), `truncated proof ${m}/${n}`);
      t.notOk(verifyInclusion(tree[m]!, m, n, [...proof, proof[0]!], root), `extended proof ${m}/${n}`);
      // A wrong tree size is not always detectable from the path alone (leaf 0 of 3 and of 4 share a
      // path shape): that is why the size must come from a signed tree head [DESIGN invariant 7].
      if (n > 1) t.notOk(verifyInclusion(tree[m]!, m, 2 * n, proof, root), `claimed doubled tree ${m}/${n}`);
      if (n > 1) t.notOk(verifyInclusion(tree[m]!, (m + 1) % n, n, proof, root), `wrong index ${m}/${n}`);
      t.notOk(verifyInclusion(leafHash(Buffer.from('other')), m, n, proof, root), `wrong leaf ${m}/${n}`);
    }
  }
});

t.test('altered consistency proofs fail', async (t) => {
  const roots = Array.from({ length: N + 1 }, (_, n) => rootFromLeafHashes(leaves.slice(0, n)));
  for (const [m, n] of [
    [1, 2],
    [3, 7],
    [4, 8],
    [5, 64],
    [31, 70],
    [64, 70],
  ] as const) {
    const proof = consistencyProof(m, leaves.slice(0, n));
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((p) => Buffer.from(p));
      bad[i]![31]! ^= 0x80;
      t.notOk(verifyConsistency(m, n, roots[m]!, roots[n]!, bad), `flipped element ${i} of ${m} → ${n}`);
    }
    t.notOk(verifyConsistency(m, n, roots[m]!, roots[n]!, proof.slice(1)), `truncated ${m} → ${n}`);
    t.notOk(
      verifyConsistency(m, n, roots[m - 1] ?? roots[0]!, roots[n]!, proof),
      `wrong first root ${m} → ${n}`,
    );
    t.notOk(
      verifyConsistency(m, 2 * n, roots[m]!, roots[n]!, proof),
      `claimed doubled second size ${m} → ${n}`,
    );
  }
  t.notOk(verifyConsistency(0, 5, roots[0]!, roots[5]!, []), 'size 0 has no consistency proof');
  t.notOk(verifyConsistency(6, 5, roots[6]!, roots[5]!, []), 'first larger than second');
  t.ok(verifyConsistency(5, 5, roots[5]!, roots[5]!, []), 'equal sizes, equal roots, empty proof');
  t.notOk(verifyConsistency(5, 5, roots[5]!, roots[5]!, [roots[1]!]), 'equal sizes with a non-empty proof');
});

t.test('proof generation refuses out-of-range requests', async (t) => {
  t.throws(() => inclusionProof(5, leaves.slice(0, 5)), RangeError);
  t.throws(() => inclusionProof(-1, leaves.slice(0, 5)), RangeError);
  t.throws(() => consistencyProof(0, leaves.slice(0, 5)), RangeError);
  t.throws(() => consistencyProof(6, leaves.slice(0, 5)), RangeError);
});
