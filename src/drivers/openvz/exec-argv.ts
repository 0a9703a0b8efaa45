const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws for what cannot reach a program intact: NUL bytes, env names that are not names. */
export function validateExec(command: readonly string[], env: Record<string, string> = {}): void {
  if (command.length === 0) throw new Error('empty command');
  for (const word of command) {
    if (word.includes('\0')) throw new Error('command words cannot contain NUL bytes');
  }
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME.test(key))
      throw new Error(`invalid environment variable name ${JSON.stringify(key)}`);
    if (value.includes('\0')) throw new Error(`environment variable ${key} contains a NUL byte`);
  }
}

/**
 * The argv to run `command` with extra environment inside a container whose exec takes an
 * argv (vzctl exec3, prlctl exec --without-shell): `env K=V… command…`. env(1) would take a
 * first command word containing '=' for one more assignment, so such a command goes through
 * `sh -c 'exec "$@"'`, which passes it on untouched.
 */
export function argvWithEnv(
  command: readonly string[],
  env: Record<string, string> = {},
): string[] {
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  if (assignments.length === 0) return [...command];
  const trampoline = command[0].includes('=') ? ['sh', '-c', 'exec "$@"', 'sh'] : [];
  return ['env', ...assignments, ...trampoline, ...command];
}

/** One word for a POSIX shell, taken literally: single quotes, each ' written as '\''. */
export function quoteForShell(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The single shell string for an exec that only takes one (vzctl exec2 joins its arguments
 * with spaces and runs `bash -c`): every word quoted, `exec` so the exit status and signals
 * are the program's own, the environment exported first.
 */
export function shellCommandLine(
  command: readonly string[],
  env: Record<string, string> = {},
): string {
  const exports = Object.entries(env)
    .map(([key, value]) => `export ${key}=${quoteForShell(value)}; `)
    .join('');
  return `${exports}exec ${command.map(quoteForShell).join(' ')}`;
}
