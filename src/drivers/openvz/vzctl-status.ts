/** What `vzctl status` says of a container. */
export interface VzctlStatus {
  ctid: string;
  exists: boolean;
  mounted: boolean;
  /** Running and not paused: the container can run commands. */
  running: boolean;
  paused: boolean;
  suspended: boolean;
}

/**
 * Parses `vzctl status`: "VEID <ctid> exist|deleted mounted|unmounted running|down"
 * (OpenVZ 7 says VEID, vzctl 4.x says CTID). OpenVZ 7 prints "paused" for a frozen running
 * container and "suspended" in the fifth word for a stopped one with a dump; vzctl 4.x
 * appends "suspended" as a sixth word.
 */
export function parseVzctlStatus(stdout: string): VzctlStatus {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^(VEID|CTID)\s/.test(l));
  const words = line?.split(/\s+/) ?? [];
  const [, ctid, exist, mount, run, extra] = words;
  if (
    !ctid ||
    (exist !== 'exist' && exist !== 'deleted') ||
    (mount !== 'mounted' && mount !== 'unmounted') ||
    !['running', 'down', 'paused', 'suspended'].includes(run ?? '')
  ) {
    throw new Error(`unexpected vzctl status output: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return {
    ctid,
    exists: exist === 'exist',
    mounted: mount === 'mounted',
    running: run === 'running',
    paused: run === 'paused',
    suspended: run === 'suspended' || extra === 'suspended',
  };
}

/** One row of `vzlist -H -o <first>,<second>[,ip]`: vzlist pads columns, '-' means unset. */
export interface VzlistRow {
  first: string;
  second: string | null;
  ips: string[];
}

/**
 * Parses `vzlist -H` output whose fields hold no blanks (ctid, name, status, ip). Columns
 * are padded with spaces and the ip field, when last, lists every address.
 */
export function parseVzlistRows(stdout: string): VzlistRow[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [first, second, ...rest] = line.split(/\s+/);
      return {
        first,
        second: second === undefined || second === '-' ? null : second,
        ips: rest.filter((ip) => ip !== '-'),
      };
    });
}

/** "vzctl version 7.0.262" → 7; null when the output is not a vzctl version line. */
export function parseVzctlMajorVersion(stdout: string): number | null {
  const match = /vzctl version (\d+)\./.exec(stdout);
  return match ? Number(match[1]) : null;
}
