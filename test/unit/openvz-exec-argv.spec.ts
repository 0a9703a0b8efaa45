import { spawnSync } from 'node:child_process';
import {
  argvWithEnv,
  quoteForShell,
  shellCommandLine,
  validateExec,
} from '../../src/drivers/openvz/exec-argv';

const HOSTILE = [
  'echo $0',
  '; rm -rf /',
  "it's",
  '"double"',
  '$(touch /tmp/pwned-by-subst)',
  '`touch /tmp/pwned-by-backtick`',
  'line one\nline two',
  '',
  '  padded  ',
  '*',
  '~',
  '$HOME',
  ';|&<>(){}[]!#',
  "'; exec sh; '",
  '\\',
  'tab\there',
  'ünïcödé',
];

/** Runs a shell string the way vzctl exec2 does (bash -c) and returns the words printf saw. */
function wordsVia(shell: string, line: string): string[] {
  const res = spawnSync(shell, ['-c', line], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  expect(res.status).toBe(0);
  return res.stdout.split('\0').slice(0, -1);
}

describe('quoteForShell', () => {
  it.each(['bash', 'sh'])('gives %s every hostile word back literally', (shell) => {
    const line = `printf '%s\\0' ${HOSTILE.map(quoteForShell).join(' ')}`;
    expect(wordsVia(shell, line)).toEqual(HOSTILE);
  });
});

describe('shellCommandLine', () => {
  it('execs the argv literally, exporting the environment first', () => {
    const line = shellCommandLine(['sh', '-c', 'printf "%s\\0" "$GREETING" "$@"', ...HOSTILE], {
      GREETING: "hi $(id) `id` 'q'",
    });
    expect(line.startsWith("export GREETING='hi $(id) `id` '\\''q'\\'''; exec 'sh' '-c'")).toBe(
      true,
    );
    // $0 takes the first hostile word, the rest are "$@".
    expect(wordsVia('bash', line)).toEqual(["hi $(id) `id` 'q'", ...HOSTILE.slice(1)]);
  });

  it('keeps the program exit status', () => {
    const res = spawnSync('bash', ['-c', shellCommandLine(['sh', '-c', 'exit 42'])]);
    expect(res.status).toBe(42);
  });
});

describe('argvWithEnv', () => {
  it('is the command itself without environment', () => {
    expect(argvWithEnv(['true'])).toEqual(['true']);
  });

  it('prefixes env assignments', () => {
    const argv = argvWithEnv(['printenv', 'K'], { K: 'v $(x)' });
    expect(argv).toEqual(['env', 'K=v $(x)', 'printenv', 'K']);
    const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    expect(res.stdout).toBe('v $(x)\n');
  });

  it('does not let env(1) take a command word containing = for an assignment', () => {
    const argv = argvWithEnv(['A=b', 'arg'], { K: 'v' });
    const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    // The command "A=b" is looked up and not found, rather than env printing its environment.
    expect(res.status).toBe(127);
    expect(res.stdout).toBe('');
  });
});

describe('validateExec', () => {
  it('accepts ordinary commands', () => {
    expect(() => validateExec(['sh', '-c', 'x'], { CI: 'true', _A1: '' })).not.toThrow();
  });

  it.each([
    [[], {}],
    [['a\0b'], {}],
    [['x'], { 'BAD-NAME': 'v' }],
    [['x'], { '1X': 'v' }],
    [['x'], { 'A B': 'v' }],
    [['x'], { K: 'a\0b' }],
  ])('rejects %j %j', (command, env) => {
    expect(() => validateExec(command as string[], env as Record<string, string>)).toThrow();
  });
});
