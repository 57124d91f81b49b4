#!/usr/bin/env node
// The compiled CLI (dist/, built by `npm run build` and before pack, test, demo and bench).
import { run } from '../dist/cli.js';

process.exitCode = await run(process.argv);
