#!/usr/bin/env node
'use strict';
/**
 * A fake prlctl (OpenVZ 7) for the commands warmpool uses: clone, start, stop, delete,
 * exec. Option tables come from prlctl's src/CmdParam.cpp; prlctl's own parser matches
 * long options exactly (no abbreviations). Failures reported by the dispatcher exit 255
 * (prlerr2exitcode maps every negative PRL_RESULT to 255); command-line errors exit 1.
 * Everything else prlctl can do fails loudly with exit 3 and "not emulated".
 */
const { spawn } = require('node:child_process');
const os = require('node:os');
const fs = require('node:fs');
const { openState, copyTree, newUuid, normalizeGuid } = require('./lib/state');

const st = openState('prlctl');
if (st.flavor === 'legacy') {
  process.stderr.write('fake prlctl: prlctl does not exist on legacy OpenVZ (vzctl 4.x)\n');
  process.exit(127);
}

const DISPATCHER_ERROR = 255;
const USAGE_ERROR = 1;

const GLOBAL = {
  verbose: true,
  timeout: true,
  login: true,
  'read-passwd': true,
  compat: false,
};
const GLOBAL_SHORT = { v: 'verbose', l: 'login', p: 'read-passwd' };
const ACTION_OPTS = {
  clone: {
    long: {
      location: true,
      dst: true,
      name: true,
      template: false,
      changesid: false,
      linked: false,
      'detach-external-hdd': true,
      online: false,
    },
    short: { n: 'name', t: 'template', s: 'changesid' },
  },
  start: { long: { wait: false }, short: {} },
  stop: {
    long: { fast: false, kill: false, acpi: false, force: false, noforce: false },
    short: { k: 'kill' },
  },
  delete: { long: { force: false }, short: {} },
  exec: { long: { 'without-shell': false }, short: {} },
};
const REAL_BUT_NOT_EMULATED = new Set([
  'backup',
  'backup-list',
  'backup-delete',
  'restore',
  'capture',
  'console',
  'create',
  'installtools',
  'enter',
  'list',
  'migrate',
  'pause',
  'problem-report',
  'reinstall',
  'register',
  'reset',
  'resume',
  'restart',
  'status',
  'change-sid',
  'snapshot',
  'snapshot-delete',
  'snapshot-list',
  'snapshot-switch',
  'suspend',
  'statistics',
  'unregister',
  'reset-uptime',
  'mount',
  'umount',
  'move',
  'set',
]);

const out = (line) => process.stdout.write(`${line}\n`);
function die(code, message) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Parses prlctl options (exact names only). For exec, the first non-option starts the command. */
function parseOptions(action, args) {
  const spec = ACTION_OPTS[action];
  const opts = new Map();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    let name;
    let inline;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length === 2) {
      name = spec.short[arg[1]] || GLOBAL_SHORT[arg[1]];
      if (!name) die(USAGE_ERROR, `Unrecognized option: ${arg}`);
    } else if (action === 'exec') {
      break;
    } else {
      die(USAGE_ERROR, `Unrecognized option: ${arg}`);
    }
    const hasArg = name in spec.long ? spec.long[name] : GLOBAL[name];
    if (hasArg === undefined) die(USAGE_ERROR, `Unrecognized option: ${arg}`);
    let value = true;
    if (hasArg) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < args.length) value = args[++i];
      else die(USAGE_ERROR, `The \`${arg}' option requires an argument.`);
    }
    opts.set(name, value);
  }
  return { opts, rest: args.slice(i) };
}

function find(id) {
  const guid = normalizeGuid(id);
  const bare = guid ? guid.slice(1, -1) : null;
  return st.all().find((c) => c.name === id || c.ctid === id || (bare && c.uuid === bare)) || null;
}

function mustFind(id) {
  const conf = find(id);
  if (!conf)
    die(DISPATCHER_ERROR, 'Failed to get VM config: The virtual machine could not be found.');
  return conf;
}

function locked(conf, what) {
  if (st.isLocked(conf.ctid)) {
    die(
      DISPATCHER_ERROR,
      `Failed to ${what} the CT: Unable to lock the Container: it is in use by another operation`,
    );
  }
}

function doClone(src, opts) {
  const name = opts.get('name');
  if (name === undefined || name === true) die(USAGE_ERROR, 'The --name option is required');
  for (const key of opts.keys()) {
    if (key !== 'name' && !(key in GLOBAL)) {
      die(3, `fake prlctl: clone --${key} is a real option but is not emulated`);
    }
  }
  if (find(name)) {
    die(
      DISPATCHER_ERROR,
      `Failed to clone the CT: The virtual machine with name "${name}" already exists.`,
    );
  }
  locked(src, 'clone');
  out(`Clone the ${src.name || src.ctid} CT to CT ${name}...`);
  // prlctl gives a CT clone a fresh UUID, which is also its CT id on OpenVZ 7.
  const uuid = newUuid();
  fs.mkdirSync(st.ctDir(uuid), { recursive: true });
  copyTree(st.rootDir(src.ctid), st.rootDir(uuid));
  st.write({
    ...src,
    ctid: uuid,
    uuid,
    name,
    ip: [],
    state: 'stopped',
    mounted: false,
    snapshots: [],
  });
  out('The CT has been successfully cloned.');
  return 0;
}

function doStart(conf) {
  locked(conf, 'start');
  if (conf.state === 'running')
    die(DISPATCHER_ERROR, 'Failed to start the CT: The CT is already running.');
  out('Starting the CT...');
  conf.state = 'running';
  conf.mounted = true;
  st.write(conf);
  out('The CT has been successfully started.');
  return 0;
}

function doStop(conf) {
  locked(conf, 'stop');
  if (conf.state !== 'running')
    die(DISPATCHER_ERROR, 'Failed to stop the CT: The CT is not running.');
  out('Stopping the CT...');
  conf.state = 'stopped';
  conf.mounted = false;
  st.write(conf);
  out('The CT has been successfully stopped.');
  return 0;
}

function doDelete(conf, opts) {
  locked(conf, 'remove');
  if (conf.state === 'running') {
    if (!opts.has('force')) die(DISPATCHER_ERROR, 'Failed to remove the CT: The CT is running.');
    conf.state = 'stopped';
  }
  out('Removing the CT...');
  fs.rmSync(st.ctDir(conf.ctid), { recursive: true, force: true });
  out('The CT has been successfully removed.');
  return 0;
}

function doExec(conf, opts, words) {
  if (words.length === 0) die(USAGE_ERROR, 'The command is not specified.');
  if (conf.state !== 'running') die(DISPATCHER_ERROR, 'Failed to exec: The CT is not running.');
  // Without --without-shell the words are joined and run by `bash -c`, as the man page says.
  const argv = opts.has('without-shell') ? words : ['bash', '-c', words.join(' ')];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: st.rootDir(conf.ctid),
    stdio: 'inherit',
    env: {
      HOME: st.rootDir(conf.ctid),
      TERM: 'linux',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    },
  });
  child.on('error', () =>
    die(DISPATCHER_ERROR, `Failed to exec ${argv[0]}: No such file or directory`),
  );
  child.on('exit', (code, signal) =>
    process.exit(code ?? 128 + (os.constants.signals[signal] || 0)),
  );
  return null;
}

function main(argv) {
  if (argv.length === 0 || argv[0] === '--help') {
    out('Usage: prlctl ACTION <ID | NAME> [OPTIONS] [-l user[[:passwd]@server[:port]]');
    return argv.length === 0 ? USAGE_ERROR : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    out('prlctl version 7.0.250');
    return 0;
  }
  const action = argv[0];
  if (REAL_BUT_NOT_EMULATED.has(action)) {
    die(3, `fake prlctl: '${action}' is a real command but is not emulated`);
  }
  if (!ACTION_OPTS[action]) die(USAGE_ERROR, `Invalid action: ${action}`);
  if (action !== 'exec') {
    process.stderr.write(
      "WARNING: You are using a deprecated CLI component that won't be installed by default in the next major release. Please use virsh instead\n",
    );
  }
  if (argv.length < 2) die(USAGE_ERROR, 'The VM/CT ID or name is not specified.');
  const { opts, rest } = parseOptions(action, argv.slice(2));
  const conf = mustFind(argv[1]);
  switch (action) {
    case 'clone':
      return doClone(conf, opts);
    case 'start':
      return doStart(conf);
    case 'stop':
      return doStop(conf);
    case 'delete':
      return doDelete(conf, opts);
    default:
      return doExec(conf, opts, rest);
  }
}

const rc = main(process.argv.slice(2));
if (rc !== null) process.exit(rc);
