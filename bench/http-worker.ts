import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { msSince, runConcurrently } from './support';

/**
 * The benchmarks' HTTP client, on a thread of its own. In the server's thread the client
 * would share the event loop with what it measures: its own parsing would count as the
 * service's cost, and work the server defers (a reconcile pass kicked by a lease, which on
 * embedded PGlite runs its queries on that thread) would delay reading a response that is
 * already on the wire. The worker only times the fetch; the main thread decides what to send.
 */

export interface HttpRequest {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  /** Statuses that count as success; anything else fails the call. */
  expect: number[];
}

export interface Timed {
  ms: number;
  status: number;
  body: Record<string, unknown>;
}

export interface Burst {
  wallMs: number;
  latencies: number[];
}

type Call =
  | { op: 'time'; request: HttpRequest }
  | { op: 'burst'; request: HttpRequest; total: number; concurrency: number };
type Message = Call & { id: number };

type Reply = { id: number; result?: unknown; error?: string };

const WORKER_FLAG = 'warmpoolBenchHttpWorker';

export class HttpWorker {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void }
  >();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
      else waiter?.resolve(reply.result);
    });
    worker.on('error', (err) => {
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    });
  }

  /** A worker running this file (compiled by ts-node as the main script was). */
  static start(baseUrl: string): HttpWorker {
    const tsNode = JSON.stringify(require.resolve('ts-node'));
    const project = JSON.stringify(join(__dirname, '..', 'tsconfig.json'));
    const code =
      `require(${tsNode}).register({ transpileOnly: true, project: ${project} });` +
      `require(${JSON.stringify(__filename)});`;
    return new HttpWorker(
      new Worker(code, { eval: true, workerData: { [WORKER_FLAG]: true, baseUrl } }),
    );
  }

  /** One request, timed in the worker from before fetch() until the body is read. */
  time(request: HttpRequest): Promise<Timed> {
    return this.call({ op: 'time', request }) as Promise<Timed>;
  }

  /** `total` copies of the request from `concurrency` concurrent callers. */
  burst(request: HttpRequest, total: number, concurrency: number): Promise<Burst> {
    return this.call({ op: 'burst', request, total, concurrency }) as Promise<Burst>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private call(message: Call): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }
}

async function send(baseUrl: string, request: HttpRequest): Promise<Timed> {
  const headers: Record<string, string> = {};
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const start = process.hrtime.bigint();
  const res = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const text = await res.text();
  const ms = msSince(start);
  if (!request.expect.includes(res.status)) {
    throw new Error(
      `${request.method} ${request.path}: expected ${request.expect.join('/')}, got ${res.status} ${text}`,
    );
  }
  return {
    ms,
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function serve(baseUrl: string): void {
  parentPort!.on('message', (message: Message) => {
    const work = async (): Promise<unknown> => {
      if (message.op === 'time') return send(baseUrl, message.request);
      const latencies: number[] = [];
      const wallMs = await runConcurrently(message.total, message.concurrency, async () => {
        latencies.push((await send(baseUrl, message.request)).ms);
      });
      return { wallMs, latencies } satisfies Burst;
    };
    work().then(
      (result) => parentPort!.postMessage({ id: message.id, result } satisfies Reply),
      (err: unknown) =>
        parentPort!.postMessage({ id: message.id, error: String(err) } satisfies Reply),
    );
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG]) {
  serve((workerData as { baseUrl: string }).baseUrl);
}
