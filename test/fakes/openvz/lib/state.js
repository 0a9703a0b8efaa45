'use strict';
/**
 * On-disk state shared by the fake vzctl, prlctl and vzlist. The state directory comes from
 * FAKE_OPENVZ_STATE, which the per-test wrapper scripts set (the real tools take no such
 * flag, so neither do the fakes). FAKE_OPENVZ_FLAVOR picks 'vz7' (OpenVZ 7, the default) or
 * 'legacy' (vzctl 4.x).
 *
 *   <state>/cts/<ctid>/ve.json               the container's config (our stand-in for ve.conf)
 *   <state>/cts/<ctid>/root/                 its root filesystem; exec runs with cwd here
 *   <state>/cts/<ctid>/snapshots/<uuid>/     root/ and ve.json as they were at the snapshot
 *   <state>/lock/<ctid>.lck                  the vzctl lock: the pid of its holder
 *   <state>/template/cache/<ostemplate>/     OS template caches that `create` copies from
 */
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function openState(tool) {
  const dir = process.env.FAKE_OPENVZ_STATE;
  if (!dir || !fs.existsSync(dir)) {
    process.stderr.write(
      `fake ${tool}: FAKE_OPENVZ_STATE is not set or missing; run me through a wrapper script\n`,
    );
    process.exit(3);
  }
  const flavor = process.env.FAKE_OPENVZ_FLAVOR || 'vz7';
  if (flavor !== 'vz7' && flavor !== 'legacy') {
    process.stderr.write(`fake ${tool}: FAKE_OPENVZ_FLAVOR must be vz7 or legacy\n`);
    process.exit(3);
  }
  for (const sub of ['cts', 'lock', 'template/cache']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  return new State(dir, flavor);
}

class State {
  constructor(dir, flavor) {
    this.dir = dir;
    this.flavor = flavor;
  }

  ctDir(ctid) {
    return path.join(this.dir, 'cts', ctid);
  }

  rootDir(ctid) {
    return path.join(this.ctDir(ctid), 'root');
  }

  snapshotDir(ctid, guid) {
    return path.join(this.ctDir(ctid), 'snapshots', guid.replace(/[{}]/g, ''));
  }

  cacheDir(ostemplate) {
    return path.join(this.dir, 'template', 'cache', ostemplate);
  }

  /** The private-area path the real tools would print. */
  privatePath(ctid) {
    return `/vz/private/${ctid}`;
  }

  read(ctid) {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.ctDir(ctid), 've.json'), 'utf8'));
    } catch {
      return null;
    }
  }

  write(conf) {
    const file = path.join(this.ctDir(conf.ctid), 've.json');
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(conf, null, 2));
    fs.renameSync(tmp, file);
  }

  all() {
    const out = [];
    for (const ctid of fs.readdirSync(path.join(this.dir, 'cts'))) {
      const conf = this.read(ctid);
      if (conf) out.push(conf);
    }
    return out;
  }

  byName(name) {
    return this.all().find((c) => c.name === name) || null;
  }

  /**
   * Takes the container lock the way vzctl does: a lock file holding the owner's pid; a
   * file whose pid is dead is stale and taken over. Returns a release function, or null
   * when a live process holds it (tests hold it by writing their own pid).
   */
  lock(ctid) {
    const file = path.join(this.dir, 'lock', `${ctid}.lck`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return () => {
          try {
            fs.unlinkSync(file);
          } catch {
            // already gone
          }
        };
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        const owner = Number.parseInt(readOrEmpty(file), 10);
        if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return null;
        try {
          fs.unlinkSync(file);
        } catch {
          // someone else removed the stale lock first
        }
      }
    }
    return null;
  }

  isLocked(ctid) {
    const owner = Number.parseInt(readOrEmpty(path.join(this.dir, 'lock', `${ctid}.lck`)), 10);
    return Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner);
  }
}

function readOrEmpty(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Recursive copy keeping modes and symlinks (no fs.cp, whose warnings would pollute stderr). */
function copyTree(src, dst) {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true, mode: st.mode & 0o7777 });
    for (const entry of fs.readdirSync(src)) {
      copyTree(path.join(src, entry), path.join(dst, entry));
    }
  } else {
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, st.mode & 0o7777);
  }
}

function removeTree(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** vzctl_get_normalized_guid: a UUID with or without braces, returned as {lowercase}. */
function normalizeGuid(text) {
  const bare = text.startsWith('{') && text.endsWith('}') ? text.slice(1, -1) : text;
  return UUID_RE.test(bare) ? `{${bare.toLowerCase()}}` : null;
}

function newUuid() {
  return crypto.randomUUID();
}

module.exports = { openState, copyTree, removeTree, normalizeGuid, newUuid, UUID_RE };
