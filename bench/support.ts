import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { join } from 'node:path';

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: msSince(start), value };
}

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length === 0
      ? NaN
      : sorted.length % 2
        ? sorted[mid]
        : (sorted[mid - 1] + sorted[mid]) / 2;
  return {
    n: sorted.length,
    median,
    p99: percentile(sorted, 99),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * The ratio of two paired series, as the median of per-pair ratios: each pair ran back to
 * back, so a noisy moment on a shared machine inflates both sides of the same pair.
 */
export function pairedRatio(numerator: number[], denominator: number[]): number {
  const n = Math.min(numerator.length, denominator.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(numerator[i] / denominator[i]);
  return summarize(ratios).median;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  return ratio >= 10 ? `${ratio.toFixed(0)}×` : `${ratio.toFixed(2)}×`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `bench/results/<name>-<YYYY-MM-DD>.md`; a second run the same day replaces the file. */
export function writeResult(name: string, markdown: string): string {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${new Date().toISOString().slice(0, 10)}.md`);
  writeFileSync(path, `${markdown.trimEnd()}\n`);
  return path;
}

/** The machine the numbers came from, for the results file. */
export function machineLine(): string {
  const cores = cpus();
  return (
    `${new Date().toISOString()} · node ${process.version} · ${platform()} ${release()} · ` +
    `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'} · load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`
  );
}

/** `--name value` and `--flag` from argv. */
export class Args {
  constructor(private readonly argv: string[] = process.argv.slice(2)) {}

  flag(name: string): boolean {
    return this.argv.includes(`--${name}`);
  }

  int(name: string, fallback: number): number {
    const at = this.argv.indexOf(`--${name}`);
    if (at < 0) return fallback;
    const value = Number(this.argv[at + 1]);
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`--${name} needs a non-negative integer`);
    }
    return value;
  }
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

/** A tiny JSON client over the global fetch (undici), keep-alive by default. */
export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  withToken(token: string): Client {
    return new Client(this.baseUrl, { ...this.headers, authorization: `Bearer ${token}` });
  }

  async request(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers:
        body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  }

  /** The request, and an error naming it unless the status is one of `expected`. */
  async expect(
    expected: number[],
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const res = await this.request(method, path, body);
    if (!expected.includes(res.status)) {
      throw new Error(
        `${method} ${path}: expected ${expected.join('/')}, got ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    return res.body as Record<string, unknown>;
  }
}

/** Runs `total` calls of `fn` from `concurrency` workers; returns the wall time in ms. */
export async function runConcurrently(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) await fn(i);
    }),
  );
  return msSince(start);
}
