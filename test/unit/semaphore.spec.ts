import { Semaphore } from '../../src/common/semaphore';

interface Gate {
  promise: Promise<void>;
  open: () => void;
  fail: (err: Error) => void;
}

function gate(): Gate {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every pending microtask and timer of this turn settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks how many jobs run at once and in which order they started. */
function tracker() {
  let running = 0;
  const state = { max: 0, started: [] as number[], finished: [] as number[] };
  const job = (id: number, wait: Promise<void>) => async (): Promise<number> => {
    running++;
    state.max = Math.max(state.max, running);
    state.started.push(id);
    try {
      await wait;
      return id;
    } finally {
      running--;
      state.finished.push(id);
    }
  };
  return { state, job, running: () => running };
}

describe('Semaphore', () => {
  it.each([1, 2, 3, 5])('never runs more than %i at once', async (limit) => {
    const semaphore = new Semaphore(limit);
    const t = tracker();
    const gates = Array.from({ length: 12 }, () => gate());
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    await settle();
    expect(t.running()).toBe(limit);
    for (const g of gates) {
      g.open();
      await settle();
      expect(t.running()).toBeLessThanOrEqual(limit);
    }
    expect(await Promise.all(runs)).toEqual(gates.map((_, i) => i));
    expect(t.state.max).toBe(limit);
  });

  it('starts waiters in arrival order (FIFO)', async () => {
    const semaphore = new Semaphore(1);
    const t = tracker();
    const gates = Array.from({ length: 6 }, () => gate());
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    // Each job that finishes hands its slot to the longest waiter.
    for (let i = 0; i < gates.length; i++) {
      await settle();
      expect(t.state.started).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
      gates[i].open();
    }
    await Promise.all(runs);
    expect(t.state.finished).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps FIFO order with a limit above 1', async () => {
    const semaphore = new Semaphore(2);
    const t = tracker();
    const gates = Array.from({ length: 5 }, () => gate());
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    await settle();
    expect(t.state.started).toEqual([0, 1]);
    gates[1].open();
    await settle();
    expect(t.state.started).toEqual([0, 1, 2]);
    gates[0].open();
    await settle();
    expect(t.state.started).toEqual([0, 1, 2, 3]);
    gates.forEach((g) => g.open());
    await Promise.all(runs);
  });

  it('setLimit growing releases waiters at once', async () => {
    const semaphore = new Semaphore(1);
    const t = tracker();
    const gates = Array.from({ length: 5 }, () => gate());
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    await settle();
    expect(t.running()).toBe(1);
    semaphore.setLimit(3);
    await settle();
    expect(t.running()).toBe(3);
    expect(t.state.started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.open());
    await Promise.all(runs);
    expect(t.state.max).toBe(3);
  });

  it('setLimit shrinking lets running jobs finish but starts no more than the new limit', async () => {
    const semaphore = new Semaphore(3);
    const t = tracker();
    const gates = Array.from({ length: 6 }, () => gate());
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    await settle();
    expect(t.running()).toBe(3);
    semaphore.setLimit(1);
    gates[0].open();
    gates[1].open();
    await settle();
    expect(t.running()).toBe(1);
    expect(t.state.started).toEqual([0, 1, 2]);
    gates[2].open();
    await settle();
    expect(t.state.started).toEqual([0, 1, 2, 3]);
    expect(t.running()).toBe(1);
    gates.forEach((g) => g.open());
    await Promise.all(runs);
  });

  it('setLimit never goes below 1', async () => {
    const semaphore = new Semaphore(2);
    semaphore.setLimit(0);
    await expect(semaphore.run(async () => 'ran')).resolves.toBe('ran');
    semaphore.setLimit(-5);
    await expect(semaphore.run(async () => 'ran again')).resolves.toBe('ran again');
  });

  it('passes the value and the error of the job through', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(async () => 42)).resolves.toBe(42);
    await expect(
      semaphore.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });

  it('releases the slot when a job rejects', async () => {
    const semaphore = new Semaphore(1);
    const g = gate();
    const failing = semaphore.run(() => g.promise);
    const next = semaphore.run(async () => 'next');
    await settle();
    g.fail(new Error('job failed'));
    await expect(failing).rejects.toThrow('job failed');
    await expect(next).resolves.toBe('next');
  });

  it('releases the slot when a job throws synchronously', async () => {
    const semaphore = new Semaphore(1);
    const throwing = semaphore.run((): Promise<never> => {
      throw new Error('sync');
    });
    await expect(throwing).rejects.toThrow('sync');
    await expect(semaphore.run(async () => 'after')).resolves.toBe('after');
  });

  it('keeps full capacity after many failures', async () => {
    const semaphore = new Semaphore(2);
    for (let i = 0; i < 10; i++) {
      await expect(semaphore.run(() => Promise.reject(new Error(`f${i}`)))).rejects.toThrow();
    }
    const t = tracker();
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) => semaphore.run(t.job(i, g.promise)));
    await settle();
    expect(t.running()).toBe(2);
    gates.forEach((g) => g.open());
    await Promise.all(runs);
  });
});
