// Worker entry from src only: Node 20 cannot start a .ts worker directly, so register tsx first
// (dist starts the compiled fit-thread.js; the build does not copy this file).
import { register } from 'tsx/esm/api';

register();
await import('./fit-thread.ts');
