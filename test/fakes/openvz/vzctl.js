#!/usr/bin/env node
'use strict';
/**
 * A fake vzctl that behaves like the real one where warmpool can observe it: the same
 * command line (option tables copied from vzctl 7's src/vzctl.c and vzctl 4.x's
 * src/vzctl-actions.c, parsed with getopt_long semantics), the same output formats and
 * the same exit codes (vzerror.h). Containers are directories; exec runs the argv for real
 * on this machine with cwd = the container's root (no chroot). Anything the real tool
 * accepts but this fake does not model fails loudly with exit 3 and "not emulated".
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const { openState, copyTree, removeTree, normalizeGuid, newUuid, UUID_RE } = require('./lib/state');
const { getoptLong, table } = require('./lib/getopt');

const st = openState('vzctl');
const legacy = st.flavor === 'legacy';
const VERSION = legacy ? '4.9.4' : '7.0.262';

// vzerror.h
const E = {
  SYSTEM: 3,
  EXEC: 8,
  LOCKED: 9,
  NOVE_CONFIG: 14,
  SYNTAX: 20,
  VALUE: 21,
  NOT_RUNNING: 31,
  RUNNING: 32,
  PRVT_EXISTS: 44,
  OSTEMPLATE: 91,
  SET_NAME: legacy ? 131 : 137,
  CREATE_SNAPSHOT: 156,
  SWITCH_SNAPSHOT: 159,
  DELETE_SNAPSHOT: 158,
  NOT_EMULATED: 3,
};

const LOCKING = new Set([
  'create',
  'set',
  'start',
  'stop',
  'destroy',
  'snapshot',
  'snapshot-switch',
  'snapshot-delete',
]);
const EMULATED = new Set([...LOCKING, 'delete', 'status', 'exec', 'exec2', 'exec3']);
const REAL_BUT_NOT_EMULATED = new Set([
  'setrate',
  'unset',
  'restart',
  'pause',
  'mount',
  'umount',
  'runscript',
  'execaction',
  'enter',
  'restore',
  'resume',
  'chkpnt',
  'suspend',
  'tsnapshot',
  'tsnapshot-delete',
  'snapshot-list',
  'snapshot-mount',
  'snapshot-umount',
  'reinstall',
  'monitor',
  'register',
  'unregister',
  'convert',
  'console',
  'compact',
  'quotaon',
  'quotaoff',
  'quotainit',
]);

const out = (line) => process.stdout.write(`${line}\n`);
const err = (line) => process.stderr.write(`${line}\n`);
function die(code, message) {
  if (message) err(message);
  process.exit(code);
}

// ---- option tables -------------------------------------------------------------------

const WITH = true;
const NO = false;

const VZ7_SET = table([
  ['save', NO],
  ['vetype', WITH],
  ['ext_ipadd', WITH],
  ['ext_ipdel', WITH],
  ['skip_arpdetect', NO],
  ['userpasswd', WITH],
  ['noatime', WITH],
  ['crypted', NO],
  ['reset_ub', NO],
  ['mount_opts', WITH],
  [['apply_iponly', 'apply-iponly'], WITH],
  ['setmode', WITH],
  ['ostemplate', WITH],
  ['distribution', WITH],
  ['device-add', WITH],
  [['diskspace', 'size'], WITH],
  ['image', WITH],
  ['device', WITH],
  ['device-uuid', WITH],
  ['mnt', WITH],
  ['offline', NO],
  ['storage-url', WITH],
  ['encryption-keyid', WITH],
  ['reencrypt', NO],
  ['wipe', NO],
  ['recreate', NO],
  ['enable', NO],
  ['disable', NO],
  ['device-del', WITH],
  [['detach-only', 'detach'], NO],
  ['device-set', WITH],
  ['applyconfig', WITH],
  ['applyconfig_map', WITH],
  ['netif_add', WITH],
  ['netif_del', WITH],
  ['netif_mac_renew', NO],
  [['default_gateway', 'default_gw'], WITH],
  ['ifname', WITH],
  ['mac', WITH],
  ['host_mac', WITH],
  ['host_ifname', WITH],
  [['gateway', 'gw'], WITH],
  [['gateway6', 'gw6'], WITH],
  ['network', WITH],
  ['dhcp', WITH],
  ['dhcp6', WITH],
  ['mac_filter', WITH],
  ['configure', WITH],
  ['nettype', WITH],
  ['vporttype', WITH],
  [['bindmount_add', 'bindmount-add'], WITH],
  [['bindmount_del', 'bindmount-del'], WITH],
  ['onboot', WITH],
  ['autostopt', WITH],
  ['root', WITH],
  ['private', WITH],
  [['ipadd', 'ip'], WITH],
  ['ipdel', WITH],
  ['diskinodes', WITH],
  ['quotatime', WITH],
  ['quotaugidlimit', WITH],
  [['journalled_quota', 'jquota'], WITH],
  ['slmmemorylimit', WITH],
  ['slmmode', WITH],
  ['description', WITH],
  ['name', WITH],
  ['hostname', WITH],
  ['nameserver', WITH],
  ['searchdomain', WITH],
  ['rate', WITH],
  ['ratebound', WITH],
  ['kmemsize', WITH],
  ['lockedpages', WITH],
  ['privvmpages', WITH],
  ['shmpages', WITH],
  ['ipcshmpages', WITH],
  ['anonshpages', WITH],
  ['numproc', WITH],
  ['physpages', WITH],
  ['rsspages', WITH],
  ['vmguarpages', WITH],
  ['oomguarpages', WITH],
  ['oomguar', WITH],
  ['numtcpsock', WITH],
  ['numsock', WITH],
  ['numflock', WITH],
  ['numpty', WITH],
  ['numsiginfo', WITH],
  [['tcpsndbuf', 'tcpsendbuf'], WITH],
  ['tcprcvbuf', WITH],
  ['othersockbuf', WITH],
  ['unixsockbuf', WITH],
  ['dgramrcvbuf', WITH],
  ['sockrcvbuf', WITH],
  ['numothersock', WITH],
  ['numunixsock', WITH],
  ['numfile', WITH],
  [['dcachesize', 'dcache'], WITH],
  [['numiptent', 'iptentries'], WITH],
  ['avnumproc', WITH],
  ['swappages', WITH],
  ['swap', WITH],
  ['totvmpages', WITH],
  [['ram', 'memory'], WITH],
  ['memguarantee', WITH],
  ['vm_overcommit', WITH],
  ['pagecache-isolation', WITH],
  ['num-memory-subgroups', WITH],
  ['numnetif', WITH],
  ['cpuweight', WITH],
  ['cpulimit', WITH],
  ['cpuunits', WITH],
  ['burst_cpu_avg_usage', WITH],
  ['burst_cpulimit', WITH],
  ['capability', WITH],
  ['devices', WITH],
  ['devnodes', WITH],
  ['config_customized', WITH],
  ['origin_sample', WITH],
  ['iptables', WITH],
  ['netfilter', WITH],
  [['netdev_add', 'netdev-add'], WITH],
  [['netdev_del', 'netdev-del'], WITH],
  ['disabled', WITH],
  ['meminfo', WITH],
  ['cpus', WITH],
  ['cpumask', WITH],
  ['nodemask', WITH],
  ['ioprio', WITH],
  ['iolimit', WITH],
  ['iopslimit', WITH],
  ['features', WITH],
  ['bootorder', WITH],
  [['pci_add', 'pci-add'], WITH],
  [['pci_del', 'pci-del'], WITH],
  [['ha_enable', 'ha-enable', 'ha'], WITH],
  [['ha_prio', 'ha-prio'], WITH],
  [['offline_management', 'offline_service'], WITH],
]);

// vzctl 4.x; --iolimit/--iopslimit arrived in 4.7, which is what this fake claims to be.
const LEGACY_SET = table([
  ['save', NO],
  ['force', NO],
  ['applyconfig', WITH],
  ['applyconfig_map', WITH],
  ['reset_ub', NO],
  ['iptables', WITH],
  ['kmemsize', WITH],
  ['lockedpages', WITH],
  ['privvmpages', WITH],
  ['shmpages', WITH],
  ['numproc', WITH],
  ['physpages', WITH],
  ['vmguarpages', WITH],
  ['oomguarpages', WITH],
  ['numtcpsock', WITH],
  ['numflock', WITH],
  ['numpty', WITH],
  ['numsiginfo', WITH],
  ['tcpsndbuf', WITH],
  ['tcprcvbuf', WITH],
  ['othersockbuf', WITH],
  ['dgramrcvbuf', WITH],
  ['numothersock', WITH],
  ['numfile', WITH],
  ['dcachesize', WITH],
  ['numiptent', WITH],
  ['avnumproc', WITH],
  ['swappages', WITH],
  ['capability', WITH],
  [['ipadd', 'ip'], WITH],
  ['ipdel', WITH],
  ['skip_arpdetect', NO],
  ['netdev_add', WITH],
  ['netdev_del', WITH],
  ['hostname', WITH],
  ['nameserver', WITH],
  ['searchdomain', WITH],
  ['userpasswd', WITH],
  ['devices', WITH],
  ['devnodes', WITH],
  ['pci_add', WITH],
  ['pci_del', WITH],
  ['root', WITH],
  ['private', WITH],
  ['noatime', WITH],
  ['mount_opts', WITH],
  ['ostemplate', WITH],
  ['cpuunits', WITH],
  ['cpuweight', WITH],
  ['cpulimit', WITH],
  ['cpus', WITH],
  ['cpumask', WITH],
  ['onboot', WITH],
  ['setmode', WITH],
  ['disabled', WITH],
  ['diskquota', WITH],
  ['diskspace', WITH],
  ['diskinodes', WITH],
  ['quotatime', WITH],
  ['quotaugidlimit', WITH],
  ['meminfo', WITH],
  ['netif_add', WITH],
  ['netif_del', WITH],
  ['mac_filter', WITH],
  ['mac', WITH],
  ['ifname', WITH],
  ['host_mac', WITH],
  ['host_ifname', WITH],
  ['bridge', WITH],
  ['name', WITH],
  ['features', WITH],
  ['ioprio', WITH],
  ['description', WITH],
  ['bootorder', WITH],
  ['ram', WITH],
  ['swap', WITH],
  ['iolimit', WITH],
  ['iopslimit', WITH],
]);

const VZ7_CREATE = table([
  [['layout', 've_layout'], WITH],
  ['ostemplate', WITH],
  ['vetype', WITH],
  ['config', WITH],
  ['private', WITH],
  ['root', WITH],
  ['ipadd', WITH],
  ['hostname', WITH],
  ['skip_app_templates', NO],
  ['name', WITH],
  ['description', WITH],
  ['expanded', NO],
  [['preallocated', 'plain'], NO],
  ['raw', NO],
  ['mount_opts', WITH],
  [['id', 'uuid'], WITH],
  ['force', NO],
  ['diskspace', WITH],
  ['diskinodes', WITH],
  ['no-hdd', NO],
  ['encryption-keyid', WITH],
]);

const LEGACY_CREATE = table([
  ['ostemplate', WITH],
  ['config', WITH],
  ['private', WITH],
  ['root', WITH],
  ['ipadd', WITH],
  ['hostname', WITH],
  ['name', WITH],
  ['description', WITH],
  [['layout', 've_layout', 'velayout'], WITH],
  ['diskspace', WITH],
]);

const VZ7_START = table([
  ['force', NO],
  ['skip_ve_setup', NO],
  ['wait', NO],
  ['osrelease', WITH],
  ['skip-fsck', NO],
  ['cloud-init', WITH],
  ['repair', NO],
]);
const VZ7_STOP = table([
  ['fast', NO],
  ['force', NO],
  ['skip-umount', NO],
]);
// vzctl 4.x parses start and stop with one table and rejects what does not apply.
const LEGACY_STARTSTOP = table([
  ['force', NO],
  ['skip_ve_setup', NO],
  ['wait', NO],
  ['fast', NO],
  ['skip-umount', NO],
]);

const VZ7_SNAPSHOT = table([
  [['id', 'uuid'], WITH],
  ['name', WITH],
  ['description', WITH],
  [['skip-suspend', 'skip_dump', 'skip-dump', 'skip_suspend'], NO],
  ['component-name', WITH],
  ['env', NO],
]);
const LEGACY_SNAPSHOT = table([
  [['id', 'uuid'], WITH],
  ['name', WITH],
  ['description', WITH],
  ['skip-suspend', NO],
  ['skip-config', NO],
]);
const VZ7_SNAPSHOT_SWITCH = table([
  [['id', 'uuid'], WITH],
  ['skip-resume', NO],
]);
const SNAPSHOT_ID_ONLY = table([[['id', 'uuid'], WITH]]);
const VZ7_DESTROY = table([['safe', NO]]);

const SET_EMULATED = new Set([
  'save',
  'ram',
  'swap',
  'cpus',
  'cpulimit',
  'diskspace',
  'iolimit',
  'iopslimit',
  'ipadd',
  'ipdel',
  'name',
  'description',
  'hostname',
  'onboot',
]);

// ---- parsing helpers -----------------------------------------------------------------

/** Runs getopt_long; '?' becomes `unknownCode` (vzctl returns 21 or 20 depending on the action). */
function parse(args, longopts, unknownCode, checkTail) {
  // vzctl 7 shifts argv by two before getopt, so glibc names the CT id as the program.
  const prog = legacy ? 'vzctl' : args.prog;
  const res = getoptLong(args.rest, { prog, longopts });
  if (res.error) die(unknownCode, res.error);
  if (checkTail && res.operands.length > 0) {
    out(`non-option ARGV-elements: ${res.operands.join(' ')} `);
    process.exit(E.SYNTAX);
  }
  const opts = new Map();
  for (const o of res.options) opts.set(o.id, o.value === undefined ? true : o.value);
  return opts;
}

function badParam(name, value) {
  die(E.VALUE, `Bad parameter for --${name}: ${value}`);
}

const SIZE_RE = /^(\d+)([kKmMgGtTpP]?)$/;
function checkSize(name, value) {
  if (!SIZE_RE.test(value)) badParam(name, value);
}

function validateSet(opts) {
  for (const [id, value] of opts) {
    if (!SET_EMULATED.has(id)) {
      die(E.NOT_EMULATED, `fake vzctl: set --${id} is a real option but is not emulated`);
    }
    switch (id) {
      case 'ram':
      case 'swap':
        checkSize(id, value);
        break;
      case 'cpus':
        if (!/^[1-9]\d*$/.test(value) && value !== 'unlimited') badParam(id, value);
        break;
      case 'cpulimit':
        if (!/^\d+(\.\d+)?[%m]?$/.test(value)) badParam(id, value);
        break;
      case 'diskspace': {
        if (!/^\d+[kKmMgGtT]?(:\d+[kKmMgGtT]?)?$/.test(value)) badParam(id, value);
        if (/^0+[kKmMgGtT]?(:|$)/.test(value)) {
          die(E.SYNTAX, `Incorrect size is specified: 0`);
        }
        break;
      }
      case 'iolimit':
        if (!/^\d+[bBkKmMgGtT]?$/.test(value)) badParam(id, value);
        break;
      case 'iopslimit':
        if (!/^\d+$/.test(value)) badParam(id, value);
        break;
      case 'ipadd':
      case 'ipdel':
        if (!(id === 'ipdel' && value === 'all') && !validIp(value)) badParam(id, value);
        break;
      case 'onboot':
        if (value !== 'yes' && value !== 'no') badParam(id, value);
        break;
      case 'name':
        if (!/^[0-9A-Za-z _.-]+$/.test(value)) badParam(id, value);
        break;
      default:
        break;
    }
  }
}

function validIp(value) {
  const [addr, mask] = value.split('/');
  if (net.isIP(addr) === 0) return false;
  return mask === undefined || /^\d{1,3}$/.test(mask) || net.isIPv4(mask);
}

// ---- container lookup ----------------------------------------------------------------

/** Returns the CT id the arguments name, exiting like vzctl when it cannot. */
function resolveCtid(action, given) {
  if (legacy) {
    if (/^\d+$/.test(given) && Number(given) <= 2147483644) return String(Number(given));
    const conf = st.byName(given);
    if (!conf) die(E.VALUE, `Bad CT ID ${given}`);
    return conf.ctid;
  }
  if (action !== 'create') {
    const conf = st.byName(given);
    if (conf) return conf.ctid;
  }
  const bare = given.replace(/^\{(.*)\}$/, '$1');
  if (UUID_RE.test(bare)) return bare.toLowerCase();
  if (/^\d+$/.test(given)) return String(Number(given));
  return die(E.VALUE, `Invalid ctid is specified: ${given}`);
}

function status(conf) {
  return {
    exist: conf ? 'exist' : 'deleted',
    mounted: conf && conf.mounted ? 'mounted' : 'unmounted',
    running: conf && conf.state === 'running' ? 'running' : 'down',
  };
}

// ---- actions ---------------------------------------------------------------------------

function doStatus(ctid, conf) {
  const s = status(conf);
  out(`${legacy ? 'CTID' : 'VEID'} ${ctid} ${s.exist} ${s.mounted} ${s.running}`);
  return 0;
}

function doCreate(ctid, opts) {
  if (st.read(ctid)) die(E.PRVT_EXISTS, `Private area already exists in ${st.privatePath(ctid)}`);
  const layout = opts.get('layout') || 'ploop';
  if (legacy) {
    if (!/^(ploop(:(expanded|plain|raw))?|simfs)$/.test(layout)) badParam('layout', layout);
  } else if (layout !== 'ploop' && layout !== '5') {
    process.exit(E.SYNTAX);
  }
  for (const id of opts.keys()) {
    if (!['layout', 'ostemplate', 'name', 'description', 'hostname', 'ipadd'].includes(id)) {
      die(E.NOT_EMULATED, `fake vzctl: create --${id} is a real option but is not emulated`);
    }
  }
  const name = opts.get('name');
  if (name !== undefined) {
    if (!/^[0-9A-Za-z _.-]+$/.test(name)) badParam('name', name);
    const other = st.byName(name);
    if (other) {
      die(
        E.SET_NAME,
        legacy
          ? `Conflict: name ${name} already used by container ${other.ctid}`
          : `Name ${name} is in use by CT ${other.ctid}`,
      );
    }
  }
  const ipadd = opts.get('ipadd');
  if (ipadd !== undefined && !validIp(ipadd)) badParam('ipadd', ipadd);
  const ostemplate = opts.get('ostemplate') || 'centos-7-x86_64';
  const cache = st.cacheDir(ostemplate);
  if (!fs.existsSync(cache)) {
    die(
      E.OSTEMPLATE,
      legacy
        ? `Cached OS template /vz/template/cache/${ostemplate}.tar.gz not found`
        : `Unable to get full ostemplate name for ${ostemplate}`,
    );
  }
  fs.mkdirSync(st.ctDir(ctid), { recursive: true });
  copyTree(cache, st.rootDir(ctid));
  st.write({
    ctid,
    uuid: legacy ? null : newUuid(),
    name: name ?? null,
    description: opts.get('description') ?? null,
    hostname: opts.get('hostname') ?? null,
    ostemplate,
    layout: layout.startsWith('simfs') ? 'simfs' : 'ploop',
    ip: ipadd ? [ipadd.split('/')[0]] : [],
    params: {},
    state: 'stopped',
    mounted: false,
    snapshots: [],
  });
  out(`Creating container private area (${ostemplate})`);
  out('Container private area was created');
  return 0;
}

function doSet(ctid, conf, opts) {
  validateSet(opts);
  const save = opts.has('save');
  if (opts.has('name') && !save) {
    die(
      E.SET_NAME,
      legacy
        ? 'Error: unable to use --name option without --save'
        : 'Unable to use the --name option without --save',
    );
  }
  if (opts.has('swap') && !legacy) {
    err('WARNING: Use of swap significantly slows down both the container and the node.');
  }
  const name = opts.get('name');
  if (name !== undefined) {
    const other = st.byName(name);
    if (other && other.ctid !== ctid) {
      die(
        E.SET_NAME,
        legacy
          ? `Conflict: name ${name} already used by container ${other.ctid}`
          : `Name ${name} is in use by CT ${other.ctid}`,
      );
    }
  }
  if (!save) {
    out(
      legacy
        ? 'WARNING: Settings were not saved to config (use --save flag)'
        : 'WARNING: Changes are not saved and will be dropped on the next start. Suspend or migrate operations may fail. Use --save to save the settings in the configuration file.',
    );
    return 0;
  }
  for (const [id, value] of opts) {
    if (id === 'save') continue;
    if (id === 'ipadd') {
      const ip = value.split('/')[0];
      if (!conf.ip.includes(ip)) conf.ip.push(ip);
    } else if (id === 'ipdel') {
      conf.ip = value === 'all' ? [] : conf.ip.filter((ip) => ip !== value.split('/')[0]);
    } else if (id === 'name' || id === 'description' || id === 'hostname') {
      conf[id] = value;
    } else {
      conf.params[id.toUpperCase()] = value;
    }
  }
  st.write(conf);
  out(`Saved parameters for ${legacy ? 'CT' : 'Container'} ${ctid}`);
  return 0;
}

function doStart(ctid, conf, opts) {
  if (legacy) {
    for (const id of ['fast', 'skip-umount']) {
      if (opts.has(id)) die(E.SYNTAX, `Option --${id} is not applicable to start command`);
    }
  }
  for (const id of opts.keys()) {
    if (id !== 'wait' && id !== 'skip-fsck') {
      die(E.NOT_EMULATED, `fake vzctl: start --${id} is a real option but is not emulated`);
    }
  }
  if (conf.state === 'running') die(E.RUNNING, 'Container is already running');
  out(legacy ? 'Starting container...' : 'Starting Container ...');
  conf.state = 'running';
  conf.mounted = true;
  st.write(conf);
  out(legacy ? 'Container start in progress...' : 'Container start in progress...');
  return 0;
}

function doStop(ctid, conf, opts) {
  if (legacy) {
    for (const id of ['force', 'skip_ve_setup', 'wait']) {
      if (opts.has(id)) die(E.SYNTAX, `Option --${id} is not applicable to stop command`);
    }
  }
  if (!conf) return 0;
  if (conf.state !== 'running') {
    err('Unable to stop: container is not running');
    return 0;
  }
  out(legacy ? 'Stopping container ...' : 'Stopping Container ...');
  conf.state = 'stopped';
  conf.mounted = opts.has('skip-umount');
  st.write(conf);
  out('Container was stopped');
  if (!conf.mounted) out('Container is unmounted');
  return 0;
}

function doDestroy(ctid, conf) {
  if (conf.state === 'running') {
    die(
      E.RUNNING,
      legacy
        ? 'Container is currently running. Stop it first.'
        : 'Container is running. Stop it first.',
    );
  }
  out(`Destroying container private area: ${st.privatePath(ctid)}`);
  removeTree(st.ctDir(ctid));
  out('Container private area was destroyed');
  return 0;
}

function guidOption(opts) {
  const raw = opts.get('id');
  if (raw === undefined) return undefined;
  const guid = normalizeGuid(raw);
  if (!guid) {
    if (legacy) badParam('id', raw);
    die(E.SYNTAX, `Invalid guid is specified: ${raw}`);
  }
  return guid;
}

function doSnapshot(ctid, conf, opts) {
  for (const id of opts.keys()) {
    if (!['id', 'name', 'description', 'skip-suspend'].includes(id)) {
      die(E.NOT_EMULATED, `fake vzctl: snapshot --${id} is a real option but is not emulated`);
    }
  }
  if (conf.layout !== 'ploop') {
    die(E.CREATE_SNAPSHOT, 'Snapshots are supported only for ploop-based containers');
  }
  const guid = guidOption(opts) || `{${newUuid()}}`;
  if (conf.snapshots.some((s) => s.guid === guid)) {
    die(E.CREATE_SNAPSHOT, `Snapshot ${guid} already exists`);
  }
  out(`Creating snapshot ${guid}`);
  const dir = st.snapshotDir(ctid, guid);
  fs.mkdirSync(dir, { recursive: true });
  copyTree(st.rootDir(ctid), `${dir}/root`);
  const saved = { ...conf, snapshots: [] };
  fs.writeFileSync(`${dir}/ve.json`, JSON.stringify(saved));
  conf.snapshots.push({
    guid,
    name: opts.get('name') ?? '',
    description: opts.get('description') ?? '',
    // Without --skip-suspend a running CT is suspended and its memory dumped with the disk.
    dump: conf.state === 'running' && !opts.has('skip-suspend'),
    date: new Date().toISOString(),
  });
  st.write(conf);
  return 0;
}

function doSnapshotSwitch(ctid, conf, opts) {
  const guid = guidOption(opts);
  if (!guid) {
    die(
      E.SYNTAX,
      legacy ? 'Invalid syntax: snapshot id is missing' : 'Snapshot uuid is not specified.',
    );
  }
  const snap = conf.snapshots.find((s) => s.guid === guid);
  if (!snap) die(E.SWITCH_SNAPSHOT, `Snapshot ${guid} not found`);
  out(`Switching to snapshot ${guid}`);
  const dir = st.snapshotDir(ctid, guid);
  removeTree(st.rootDir(ctid));
  copyTree(`${dir}/root`, st.rootDir(ctid));
  const saved = JSON.parse(fs.readFileSync(`${dir}/ve.json`, 'utf8'));
  // The snapshot carries the config; the snapshot list itself is the live one.
  const next = { ...saved, snapshots: conf.snapshots, state: 'stopped', mounted: false };
  if (snap.dump && !opts.has('skip-resume')) {
    next.state = 'running';
    next.mounted = true;
  }
  st.write(next);
  return 0;
}

function doSnapshotDelete(ctid, conf, opts) {
  const guid = guidOption(opts);
  if (!guid) {
    die(
      E.SYNTAX,
      legacy ? 'Invalid syntax: snapshot id is missing' : 'Snapshot uuid is not specified.',
    );
  }
  if (!conf.snapshots.some((s) => s.guid === guid)) {
    die(E.DELETE_SNAPSHOT, `Snapshot ${guid} not found`);
  }
  out(`Deleting snapshot ${guid}`);
  removeTree(st.snapshotDir(ctid, guid));
  conf.snapshots = conf.snapshots.filter((s) => s.guid !== guid);
  st.write(conf);
  return 0;
}

/** exec and exec2 join the words with spaces (an empty one as '') and run `bash -c`. */
function bashLine(words) {
  return words.map((w) => (w.length ? w : "''")).join(' ') + ' ';
}

function doExec(action, ctid, conf, words) {
  if (words.length === 0) {
    die(
      E.SYNTAX,
      legacy ? 'No command line given for exec' : 'No command to execute by vzctl exec',
    );
  }
  if (conf.state !== 'running')
    die(action === 'exec' ? E.EXEC : E.NOT_RUNNING, 'Container is not running');
  const argv = action === 'exec3' ? words : ['bash', '-c', bashLine(words)];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: st.rootDir(ctid),
    stdio: 'inherit',
    // exec runs with a fixed environment, never vzctl's own.
    env: {
      HOME: st.rootDir(ctid),
      TERM: 'linux',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    },
  });
  child.on('error', (e) => {
    err(
      `Unable to execute ${argv[0]}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}`,
    );
    process.exit(action === 'exec' ? E.EXEC : 127);
  });
  child.on('exit', (code, signal) => {
    const rc = code ?? 128 + (os.constants.signals[signal] || 0);
    process.exit(action === 'exec' && rc !== 0 ? E.EXEC : rc);
  });
  return null;
}

// ---- main ------------------------------------------------------------------------------

function usage(code) {
  const text =
    `vzctl version ${VERSION}\n` +
    'Usage: vzctl [options] <command> <ctid> [parameters]\n' +
    'vzctl create <ctid> [--ostemplate <name>] [--layout ploop] [--name <name>] ...\n' +
    'vzctl start | stop | destroy | status <ctid>\n' +
    'vzctl exec | exec2 <ctid> <command> [arg ...]\n' +
    'vzctl snapshot <ctid> [--id <uuid>] [--skip-suspend]\n' +
    'vzctl snapshot-switch | snapshot-delete <ctid> --id <uuid>\n';
  (code ? process.stderr : process.stdout).write(text);
  process.exit(code);
}

function main(argv) {
  let skiplock = false;
  while (argv.length > 0) {
    const a = argv[0];
    if (a === '--verbose' || a === '--quiet' || a === '--skipowner') argv.shift();
    else if (a === '--help') usage(0);
    else if (a === '--version') {
      out(`vzctl version ${VERSION}`);
      process.exit(0);
    } else if (a === '--skiplock') {
      skiplock = true;
      argv.shift();
    } else if (!legacy && a === '--ignore-ha-cluster') argv.shift();
    else break;
  }
  if (argv.length === 0) usage(E.SYNTAX);
  // `delete` is vzctl's own alias of `destroy`.
  const action = argv[0] === 'delete' ? 'destroy' : argv[0];
  if (REAL_BUT_NOT_EMULATED.has(action)) {
    die(E.NOT_EMULATED, `fake vzctl: '${action}' is a real command but is not emulated`);
  }
  if (!EMULATED.has(action)) die(E.SYNTAX, `Bad command: ${action}`);
  if (argv.length < 2) die(E.VALUE, legacy ? 'CT ID missing' : 'ctid is not given');
  const given = argv[1];
  const ctid = resolveCtid(action, given);
  const args = { prog: given, rest: argv.slice(2) };

  let opts = new Map();
  switch (action) {
    case 'create':
      opts = parse(args, legacy ? LEGACY_CREATE : VZ7_CREATE, E.VALUE, true);
      break;
    case 'set':
      opts = parse(args, legacy ? LEGACY_SET : VZ7_SET, E.VALUE, true);
      break;
    case 'start':
      opts = parse(
        args,
        legacy ? LEGACY_STARTSTOP : VZ7_START,
        legacy ? E.SYNTAX : E.VALUE,
        !legacy,
      );
      break;
    case 'stop':
      opts = parse(args, legacy ? LEGACY_STARTSTOP : VZ7_STOP, E.SYNTAX, false);
      break;
    case 'destroy':
      if (legacy && args.rest.length > 0) die(E.SYNTAX, `Invalid options: ${args.rest.join(' ')} `);
      opts = parse(args, VZ7_DESTROY, E.SYNTAX, false);
      break;
    case 'snapshot':
      opts = parse(args, legacy ? LEGACY_SNAPSHOT : VZ7_SNAPSHOT, E.VALUE, true);
      break;
    case 'snapshot-switch':
      opts = parse(args, legacy ? SNAPSHOT_ID_ONLY : VZ7_SNAPSHOT_SWITCH, E.VALUE, true);
      break;
    case 'snapshot-delete':
      opts = parse(args, SNAPSHOT_ID_ONLY, E.VALUE, true);
      break;
    case 'status':
      if (legacy && args.rest.length > 0) die(E.SYNTAX, `Invalid options: ${args.rest.join(' ')} `);
      break;
    default:
      break;
  }

  const conf = st.read(ctid);
  if (!conf) {
    const allowed = legacy ? ['create', 'status'] : ['create', 'stop', 'status'];
    if (!allowed.includes(action)) {
      die(
        E.NOVE_CONFIG,
        legacy
          ? 'Container config file does not exist'
          : 'Container configuration file does not exist',
      );
    }
  }

  if (LOCKING.has(action) && !skiplock) {
    releaseLock = st.lock(ctid);
    if (!releaseLock)
      die(E.LOCKED, legacy ? 'Container already locked' : 'Cannot lock the Container');
  }
  const handlers = {
    status: () => doStatus(ctid, conf),
    create: () => doCreate(ctid, opts),
    set: () => doSet(ctid, conf, opts),
    start: () => doStart(ctid, conf, opts),
    stop: () => doStop(ctid, conf, opts),
    destroy: () => doDestroy(ctid, conf),
    snapshot: () => doSnapshot(ctid, conf, opts),
    'snapshot-switch': () => doSnapshotSwitch(ctid, conf, opts),
    'snapshot-delete': () => doSnapshotDelete(ctid, conf, opts),
  };
  const rc = handlers[action] ? handlers[action]() : doExec(action, ctid, conf, args.rest);
  if (rc !== null) process.exit(rc);
}

// Released on every way out, including the process.exit() calls of the error paths.
let releaseLock = null;
process.on('exit', () => releaseLock && releaseLock());
main(process.argv.slice(2));
