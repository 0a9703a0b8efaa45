#!/usr/bin/env node
// `npm start` on a fresh clone: build first when dist/ is missing or older than the sources.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'src', 'main.js');

function newest(dir) {
  let latest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    latest = Math.max(latest, name.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'migrations')));
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  console.log('warmpool: building (dist/ is missing or older than src/)…');
  const nest = require.resolve('@nestjs/cli/bin/nest.js');
  const result = spawnSync(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
