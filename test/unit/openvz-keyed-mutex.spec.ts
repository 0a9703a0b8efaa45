import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from '../../src/drivers/openvz/keyed-mutex';

describe('KeyedMutex', () => {
  it('runs tasks of one key one at a time, in arrival order', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const task = (id: string, ms: number) => async () => {
      events.push(`start ${id}`);
      await sleep(ms);
      events.push(`end ${id}`);
      return id;
    };
    const results = await Promise.all([
      mutex.run('ct', task('a', 30)),
      mutex.run('ct', task('b', 5)),
      mutex.run('ct', task('c', 1)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs different keys concurrently', async () => {
    const mutex = new KeyedMutex();
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(20);
      running--;
    };
    await Promise.all([mutex.run('a', task), mutex.run('b', task), mutex.run('c', task)]);
    expect(peak).toBe(3);
  });

  it('keeps going after a failure and reports it to its caller only', async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run('ct', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('ct', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('forgets idle keys', async () => {
    const mutex = new KeyedMutex();
    await mutex.run('ct', async () => undefined);
    await sleep(0);
    expect(mutex.size).toBe(0);
  });
});
