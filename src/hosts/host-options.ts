import { parseHostAddress, InvalidHostAddressError } from '../drivers/command-runner.factory';
import { BRIDGE_NAME } from '../drivers/lxc/lxc-network';
import { parseSshOptions } from '../drivers/ssh-command-runner';
import type { HostDriver } from './host.entity';

const SSH_KEYS = ['sshKey', 'knownHosts', 'strictHostKeyChecking'];
const SIM_LATENCIES = ['cloneMs', 'startMs', 'resetMs', 'destroyMs', 'buildMs'];

const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Keys each driver reads from a host's `options` (ssh keys apply to every remote host). */
function allowedKeys(driver: HostDriver): string[] {
  switch (driver) {
    case 'sim':
      return [...SIM_LATENCIES, 'failureRate'];
    case 'lxc':
      return ['lxcPath', 'bridge', 'blockDevice'];
    case 'openvz':
      return ['tool', 'legacy', 'execMode'];
    case 'auto':
      return [
        ...SIM_LATENCIES,
        'failureRate',
        'lxcPath',
        'bridge',
        'blockDevice',
        'tool',
        'legacy',
        'execMode',
      ];
  }
}

/** Problems with a host's address and driver options, as messages naming the field. */
export function hostConfigProblems(
  driver: HostDriver,
  address: string,
  options: Record<string, unknown>,
): { field: string; problems: string[] }[] {
  const out: { field: string; problems: string[] }[] = [];
  try {
    parseHostAddress(address);
  } catch (err) {
    if (!(err instanceof InvalidHostAddressError)) throw err;
    out.push({ field: 'address', problems: [err.message] });
  }
  const allowed = new Set([...allowedKeys(driver), ...SSH_KEYS]);
  for (const [key, value] of Object.entries(options)) {
    const field = `options.${key}`;
    if (!allowed.has(key)) {
      out.push({ field, problems: [`${key} is not an option of the ${driver} driver`] });
    } else if (SIM_LATENCIES.includes(key)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 600_000) {
        out.push({ field, problems: [`${key} must be an integer number of ms from 0 to 600000`] });
      }
    } else if (key === 'failureRate') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
        out.push({ field, problems: ['failureRate must be a number from 0 to 1'] });
      }
    } else if (key === 'lxcPath') {
      if (typeof value !== 'string' || !ABSOLUTE_PATH.test(value) || value.includes('..')) {
        out.push({ field, problems: ['lxcPath must be an absolute path'] });
      }
    } else if (key === 'bridge') {
      if (typeof value !== 'string' || !BRIDGE_NAME.test(value)) {
        out.push({
          field,
          problems: ['bridge must be 1-15 letters, digits or _, starting with a letter'],
        });
      }
    } else if (key === 'blockDevice') {
      if (
        typeof value !== 'string' ||
        !/^\/dev\/[A-Za-z0-9._/-]+$/.test(value) ||
        value.includes('..')
      ) {
        out.push({ field, problems: ['blockDevice must be a /dev/ path'] });
      }
    } else if (key === 'tool') {
      if (value !== 'vzctl' && value !== 'prlctl') {
        out.push({ field, problems: ["tool must be 'vzctl' or 'prlctl'"] });
      }
    } else if (key === 'execMode') {
      if (value !== 'exec3' && value !== 'exec2') {
        out.push({ field, problems: ["execMode must be 'exec3' or 'exec2'"] });
      }
    } else if (key === 'legacy') {
      if (typeof value !== 'boolean')
        out.push({ field, problems: ['legacy must be true or false'] });
    }
  }
  try {
    parseSshOptions(options);
  } catch (err) {
    out.push({ field: 'options', problems: [(err as Error).message] });
  }
  return out;
}
