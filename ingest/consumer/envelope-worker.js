// @module Worker thread of the consumer's envelope pool: checks batches of entry messages (envelope-check.ts)
// off the ingest's event loop. Plain JavaScript that loads the TypeScript sources through tsx, as bin/quanlu.js
// does: a worker thread does not inherit its parent's loader.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { checkEntryMessage } = await import('./envelope-check.ts');

// Messages sent before the import finished wait in the port until this listener starts it.
// A verified entry goes back as its canonical text, hash and signature only: strings cross threads at a
// fraction of an object graph's cost, and the entry is that text parsed (the schemas transform nothing).
parentPort.on('message', (batch) => {
  parentPort.postMessage(
    batch.map((job) => {
      const o = checkEntryMessage(job);
      return o.ok
        ? { id: job.id, text: o.entryText, hash: o.signed.hash, sig: o.signed.sig }
        : { id: job.id, outcome: o };
    }),
  );
});
