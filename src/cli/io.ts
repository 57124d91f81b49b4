import type { Command } from 'commander';
import cliProgress from 'cli-progress';

/** Where a command writes. Taken from the program's output configuration so tests can capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function io(command: Command): Io {
  const config = command.configureOutput();
  return {
    out: config.writeOut ?? ((text) => process.stdout.write(text)),
    err: config.writeErr ?? ((text) => process.stderr.write(text)),
  };
}

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/**
 * A progress bar on stderr, only when stderr is a terminal: in pipes, logs and CI a redrawn
 * bar is noise, and stdout must stay clean for `--json` consumers.
 */
export function progress(label: string, total: number, unit = 'rows'): Progress {
  if (!process.stderr.isTTY || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | eta {eta}s`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

/** Fixed-width two-column text, labels left and values left-aligned after them. */
export function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}
