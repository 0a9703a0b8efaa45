#!/usr/bin/env node
// migration:generate / check / run / revert, through TypeORM's CLI and src/database/data-source.ts.
// generate and check diff the entities against a scratch PostgreSQL database that has every
// migration applied, so they never depend on the state of a developer's own database.
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');

const cli = require.resolve('typeorm/cli-ts-node-commonjs.js');
const dataSource = 'src/database/data-source.ts';

function typeorm(args, env) {
  const result = spawnSync(process.execPath, [cli, ...args, '-d', dataSource], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return result.status ?? 1;
}

async function withScratchDatabase(fn) {
  const admin =
    process.env.DATABASE_URL ||
    process.env.TEST_DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `wp_migrations_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  try {
    const env = { DATABASE_URL: url.toString() };
    const ran = typeorm(['migration:run'], env);
    if (ran !== 0) return ran;
    return fn(env);
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}

async function main() {
  const [command, name] = process.argv.slice(2);
  switch (command) {
    case 'generate':
      if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
        console.error('usage: npm run migration:generate -- <PascalCaseName>');
        return 2;
      }
      return withScratchDatabase((env) =>
        typeorm(['migration:generate', `migrations/${name}`, '--pretty'], env),
      );
    case 'check':
      // Fails when the entities describe a schema the migrations do not create.
      return withScratchDatabase((env) =>
        typeorm(['migration:generate', 'migrations/Drift', '--check', '--dryrun'], env),
      );
    case 'run':
      return typeorm(['migration:run'], {});
    case 'revert':
      return typeorm(['migration:revert'], {});
    default:
      console.error('usage: migration.js generate <Name> | check | run | revert');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
