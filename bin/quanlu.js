#!/usr/bin/env node
// The quanlu command. Runs the TypeScript sources through tsx, so no build step stands between a
// checkout and a working command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
