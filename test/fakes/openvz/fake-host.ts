import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type FakeFlavor = 'vz7' | 'legacy';

/** What the fake keeps for a container (its stand-in for ve.conf). */
export interface FakeContainer {
  ctid: string;
  name: string | null;
  state: 'running' | 'stopped';
  mounted: boolean;
  ip: string[];
  params: Record<string, string>;
  snapshots: { guid: string; dump: boolean }[];
}

export interface FakeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A fake OpenVZ host: a temp dir with bin/ wrappers (vzctl, vzlist, and prlctl on OpenVZ 7)
 * and the state they share. The wrappers bake the state dir and flavour into environment
 * variables set inside the script, because the command runner hands children only a
 * minimal environment and the real tools take no flag for it.
 */
export class FakeOpenVzHost {
  readonly root: string;
  readonly binDir: string;
  readonly stateDir: string;

  constructor(readonly flavor: FakeFlavor = 'vz7') {
    this.root = mkdtempSync(join(tmpdir(), `fake-openvz-${flavor}-`));
    this.binDir = join(this.root, 'bin');
    this.stateDir = join(this.root, 'state');
    mkdirSync(this.binDir);
    mkdirSync(this.stateDir);
    const tools = flavor === 'legacy' ? ['vzctl', 'vzlist'] : ['vzctl', 'vzlist', 'prlctl'];
    for (const tool of tools) {
      const script = [
        '#!/bin/sh',
        `FAKE_OPENVZ_STATE=${shq(this.stateDir)}`,
        `FAKE_OPENVZ_FLAVOR=${shq(flavor)}`,
        'export FAKE_OPENVZ_STATE FAKE_OPENVZ_FLAVOR',
        `exec ${shq(process.execPath)} ${shq(join(__dirname, `${tool}.js`))} "$@"`,
        '',
      ].join('\n');
      const file = join(this.binDir, tool);
      writeFileSync(file, script);
      chmodSync(file, 0o755);
    }
  }

  /** PATH with the fake tools first, for process.env.PATH while a test runs. */
  path(base = process.env.PATH ?? ''): string {
    return `${this.binDir}:${base}`;
  }

  /** An OS template cache `vzctl create --ostemplate <name>` can use. */
  addOsTemplate(
    name: string,
    files: Record<string, string> = { 'etc/os-release': 'ID=fake\n' },
  ): void {
    const dir = join(this.stateDir, 'template', 'cache', name);
    for (const [rel, content] of Object.entries(files)) {
      const file = join(dir, rel);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, content);
    }
  }

  containers(): FakeContainer[] {
    const result = this.runTool('vzlist', ['-a', '-H', '-o', 'ctid']);
    return result.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((ctid) => this.read(ctid))
      .filter((c): c is FakeContainer => c !== null);
  }

  find(name: string): FakeContainer | null {
    return this.containers().find((c) => c.name === name) ?? null;
  }

  read(ctid: string): FakeContainer | null {
    try {
      return JSON.parse(readFileSync(join(this.stateDir, 'cts', ctid, 've.json'), 'utf8'));
    } catch {
      return null;
    }
  }

  /** The container's root directory, where its files live. */
  rootOf(name: string): string {
    const ct = this.find(name);
    if (!ct) throw new Error(`no fake container named ${name}`);
    return join(this.stateDir, 'cts', ct.ctid, 'root');
  }

  /**
   * Holds the vzctl lock of a container as another vzctl would (a lock file with a live
   * pid: ours). Returns the release function.
   */
  holdLock(name: string): () => void {
    const ct = this.find(name);
    if (!ct) throw new Error(`no fake container named ${name}`);
    const file = join(this.stateDir, 'lock', `${ct.ctid}.lck`);
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return () => rmSync(file, { force: true });
  }

  /** Runs one of the fake tools directly (for tests of the fakes themselves). */
  runTool(tool: 'vzctl' | 'vzlist' | 'prlctl', args: string[], input?: string): FakeRun {
    const res = spawnSync(join(this.binDir, tool), args, {
      encoding: 'utf8',
      input,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    if (res.error) throw res.error;
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
