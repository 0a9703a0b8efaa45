#!/usr/bin/env node
'use strict';
/**
 * A fake vzlist over the fake vzctl's state. Output follows src/vzlist.c: each field is
 * printed with its printf format (ctid right-aligned in 36 columns on OpenVZ 7, 10 on
 * vzctl 4.x; names left-aligned in 32), fields joined by one space, trailing blanks trimmed.
 * Only running containers are listed unless -a/-S or CT ids are given.
 */
const { openState } = require('./lib/state');
const { getoptLong } = require('./lib/getopt');

const st = openState('vzlist');
const legacy = st.flavor === 'legacy';

const LONGOPTS = [
  { name: 'no-header', hasArg: false, id: 'H' },
  { name: 'stopped', hasArg: false, id: 'S' },
  { name: 'all', hasArg: false, id: 'a' },
  { name: 'name', hasArg: false, id: 'n' },
  { name: 'name_filter', hasArg: true, id: 'N' },
  { name: 'hostname', hasArg: true, id: 'h' },
  { name: 'description', hasArg: true, id: 'd' },
  { name: 'output', hasArg: true, id: 'o' },
  { name: 'sort', hasArg: true, id: 's' },
  { name: 'list', hasArg: false, id: 'L' },
  { name: 'help', hasArg: false, id: 'e' },
  ...(legacy
    ? []
    : [
        { name: 'netif', hasArg: true, id: 'i' },
        { name: 'compat', hasArg: false, id: 'c' },
        { name: 'skipowner', hasArg: false, id: 'w' },
      ]),
];
const SHORTOPTS = legacy ? 'HSanN:h:d:o:s:Le1' : 'HSanN:h:d:o:s:i:Le1cw';

const CTID_FMT = legacy ? '%10s' : '%36s';
const FIELDS = {
  ctid: { hdr: 'CTID', fmt: CTID_FMT, get: (c) => c.ctid },
  veid: { hdr: 'CTID', fmt: CTID_FMT, get: (c) => c.ctid },
  name: { hdr: 'NAME', fmt: '%-32s', get: (c) => c.name || '-' },
  hostname: { hdr: 'HOSTNAME', fmt: '%-32s', get: (c) => c.hostname || '-' },
  description: { hdr: 'DESCRIPTION', fmt: '%-32s', get: (c) => c.description || '-' },
  ostemplate: { hdr: 'OSTEMPLATE', fmt: '%-24s', get: (c) => c.ostemplate || '-' },
  status: { hdr: 'STATUS', fmt: '%-9s', get: statusWord },
  ip: { hdr: 'IP_ADDR', fmt: '%-15s', get: ips },
  configured_ip: { hdr: 'IP_ADDR', fmt: '%-15s', get: ips },
};
// Real vzlist fields this fake does not model; asking for them fails loudly.
const REAL_FIELDS = new Set([
  'private',
  'root',
  'uuid',
  'smart_name',
  'tm',
  'numproc',
  'kmemsize',
  'privvmpages',
  'physpages',
  'swappages',
  'diskspace',
  'diskinodes',
  'laverage',
  'cpulimit',
  'cpuunits',
  'cpus',
  'cpumask',
  'nodemask',
  'onboot',
  'disabled',
  'bootorder',
  'uptime',
  'ioprio',
  'iolimit',
  'iopslimit',
  'features',
  'layout',
  'device',
  'ha_enable',
  'ha_prio',
  'netfilter',
  'devnodes',
  'netif',
  'ifname',
  'mac',
  'host_mac',
  'host_ifname',
  'gw',
  'network',
]);

function statusWord(c) {
  if (c.state === 'running') return 'running';
  if (c.mounted) return 'mounted';
  return 'stopped';
}

function ips(c) {
  return c.ip.length ? c.ip.join(' ') : '-';
}

function pad(fmt, value) {
  const m = /^%(-?)(\d+)s$/.exec(fmt);
  const width = Number(m[2]);
  return m[1] ? value.padEnd(width) : value.padStart(width);
}

function usage() {
  process.stderr.write(
    'Usage: vzlist\t[-a|-S] [-n] [-H] [-o field[,field...]] [-s [-]field]\n' +
      '\t\t[-h <pattern>] [-N <pattern>] [-d <pattern>]\n' +
      '\t\t[CTID [CTID ...]|-1]\n' +
      '       vzlist -L\n',
  );
}

function main(argv) {
  const res = getoptLong(argv, { prog: 'vzlist', longopts: LONGOPTS, shortopts: SHORTOPTS });
  if (res.error) {
    process.stderr.write(`${res.error}\n`);
    usage();
    return 1;
  }
  let all = false;
  let stoppedOnly = false;
  let header = true;
  let order = null;
  for (const o of res.options) {
    if (o.id === 'a') all = true;
    else if (o.id === 'S') stoppedOnly = true;
    else if (o.id === 'H') header = false;
    else if (o.id === 'o') order = o.value;
    else if (o.id === '1') order = 'veid';
    else if (o.id === 'e') {
      usage();
      return 1;
    } else {
      process.stderr.write(`fake vzlist: option -${o.id} is real but not emulated\n`);
      return 3;
    }
  }
  if (order === null) {
    process.stderr.write(
      'fake vzlist: the default field set (numproc...) is not emulated; use -o\n',
    );
    return 3;
  }
  const fields = order.split(',');
  for (const f of fields) {
    if (REAL_FIELDS.has(f)) {
      process.stderr.write(`fake vzlist: field ${f} is real but not emulated\n`);
      return 3;
    }
    if (!FIELDS[f]) {
      process.stderr.write(`Unknown field: ${f}\n`);
      return 1;
    }
  }

  let rows = st.all();
  if (res.operands.length > 0) {
    const wanted = new Set();
    for (const id of res.operands) {
      const conf = rows.find((c) => c.ctid === id || c.name === id);
      if (!conf) {
        process.stderr.write(`Container ID ${id} is invalid.\n`);
        return 1;
      }
      wanted.add(conf.ctid);
    }
    rows = rows.filter((c) => wanted.has(c.ctid));
  } else if (stoppedOnly) {
    rows = rows.filter((c) => c.state !== 'running');
  } else if (!all) {
    rows = rows.filter((c) => c.state === 'running');
  }
  rows.sort((a, b) =>
    legacy ? Number(a.ctid) - Number(b.ctid) : a.ctid < b.ctid ? -1 : a.ctid > b.ctid ? 1 : 0,
  );

  if (rows.length === 0 && legacy) {
    process.stderr.write('Container(s) not found\n');
    return 1;
  }
  if (header) {
    const cells = fields.map((f, i) => {
      const { hdr, fmt } = FIELDS[f];
      return i === fields.length - 1 && fmt.startsWith('%-') ? hdr : pad(fmt, hdr);
    });
    process.stdout.write(`${cells.join(' ')}\n`);
  }
  for (const conf of rows) {
    const line = fields.map((f) => pad(FIELDS[f].fmt, FIELDS[f].get(conf))).join(' ');
    process.stdout.write(`${line.replace(/\s+$/, '')}\n`);
  }
  return 0;
}

process.exit(main(process.argv.slice(2)));
