#!/usr/bin/env node
// Registers tsx so the TypeScript sources run as they are, with no build step after install.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli.ts');
process.exitCode = await run(process.argv);
