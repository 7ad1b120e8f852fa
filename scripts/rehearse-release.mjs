#!/usr/bin/env node
// The release rehearsal (CI runs it): a local registry (verdaccio on 127.0.0.1), the real
// release script run on a clone of this repository for a core patch and then a core minor,
// and fresh applications outside the workspace that `npm i` the packages from that registry
// and run a smoke test on SQLite, Postgres and MariaDB. Exits 1 on the first broken promise.
//
//   pnpm rehearse-release        (needs Postgres on 127.0.0.1:5432 and MariaDB on :3306, as the tests do)
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './release-lib.mjs';

const PACKAGES = ['core', 'pg', 'mysql', 'sqlite', 'conformance'].map((p) => `@sessionfactory/${p}`);
const DATABASES = {
  sqlite: (dir) => `sqlite:${join(dir, 'smoke.db')}`,
  postgres: () => 'postgres://postgres@127.0.0.1:5432/test',
  mysql: () => 'mysql://root@127.0.0.1:3306/test',
};
// Tests the release script runs in the rehearsal: CI ran the whole suite on this commit just
// before, so a quick but real one stands in (the refusal on a failing test command is checked below).
const QUICK_TESTS = 'pnpm exec vitest run packages/core/test/node-floor.test.ts';

const work = mkdtempSync(join(tmpdir(), 'sessionfactory-rehearsal-'));
const clone = join(work, 'repo');
const started = Date.now();
let registryProcess;

const step = (text) => console.log(`\n== rehearsal (${Math.round((Date.now() - started) / 1000)} s): ${text}`);
function check(ok, text) {
  if (!ok) throw new Error(`rehearsal: ${text}`);
  console.log(`ok   ${text.trimEnd()}`);
}

// Child processes run as a user's would: the real node binary first on PATH (npm's shebang
// finds it), no NODE_PATH from the workspace's node shim, the rehearsal's npmrc.
const npmrc = join(work, 'npmrc');
const env = { ...process.env };
for (const key of Object.keys(env)) if (/^npm_(config|package|lifecycle)_/i.test(key)) delete env[key];
delete env.NODE_PATH;
Object.assign(env, { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NPM_CONFIG_USERCONFIG: npmrc });

function sh(command, args, options = {}) {
  const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { status: result.status, signal: result.signal, out: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
function must(command, args, options = {}) {
  const result = sh(command, args, options);
  if (result.status !== 0)
    throw new Error(
      `rehearsal: ${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.out}`,
    );
  return result.out;
}

// One HTTP request on a fresh connection (verdaccio closes idle keep-alive sockets, which a
// pooled fetch may reuse at the wrong moment): { status, body }.
function http(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: { 'content-type': 'application/json' }, timeout: 30_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRegistry() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(work, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(work, 'htpasswd')}`,
      '    max_users: 5',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = join(repoRoot, 'node_modules/verdaccio/bin/verdaccio');
  const log = openSync(join(work, 'verdaccio.log'), 'a');
  registryProcess = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (registryProcess.exitCode !== null)
      throw new Error(
        `verdaccio exited (${registryProcess.exitCode}):\n${readFileSync(join(work, 'verdaccio.log'), 'utf8')}`,
      );
    try {
      if ((await http('GET', `${url}-/ping`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('verdaccio did not answer within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // a user for publishing: verdaccio's htpasswd registration answers with a token
  const response = await http(
    'PUT',
    `${url}-/user/org.couchdb.user:rehearsal`,
    JSON.stringify({ name: 'rehearsal', password: `rehearsal-${process.pid}` }),
  );
  const { token } = JSON.parse(response.body);
  if (!token) throw new Error(`verdaccio gave no token (HTTP ${response.status})`);
  writeFileSync(npmrc, `//127.0.0.1:${port}/:_authToken=${token}\n@sessionfactory:registry=${url}\n`);
  return url;
}

function stopRegistry() {
  if (registryProcess && registryProcess.exitCode === null) registryProcess.kill('SIGTERM');
}

async function published(registry, name) {
  const response = await http('GET', `${registry}${name.replace('/', '%2f')}`);
  if (response.status === 404) return { versions: {} };
  return JSON.parse(response.body);
}

async function expectRegistry(registry, version, peer) {
  for (const name of PACKAGES) {
    const doc = await published(registry, name);
    check(doc['dist-tags']?.latest === version, `${name}@latest is ${version} (${doc['dist-tags']?.latest})`);
    if (name !== '@sessionfactory/core') {
      const actual = doc.versions[version]?.peerDependencies?.['@sessionfactory/core'];
      check(actual === peer, `${name}@${version} peer-depends on @sessionfactory/core ${peer} (${actual})`);
    }
  }
}

function release(registry, testCommand) {
  return sh(process.execPath, [join(clone, 'scripts/release.mjs'), '--registry', registry], {
    cwd: clone,
    env: { ...env, RELEASE_TEST_COMMAND: testCommand },
  });
}

function addChangeset(name, bump, summary) {
  writeFileSync(join(clone, '.changeset', `${name}.md`), `---\n'@sessionfactory/core': ${bump}\n---\n\n${summary}\n`);
}

function freshApp(name, registry, dependencies) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(join(dir, '.npmrc'), `@sessionfactory:registry=${registry}\n`);
  const install = sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], { cwd: dir });
  return { dir, install };
}

function installedVersions(dir) {
  return Object.fromEntries(
    PACKAGES.filter((name) => name !== '@sessionfactory/conformance').map((name) => {
      try {
        return [name, JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version];
      } catch {
        return [name, undefined];
      }
    }),
  );
}

function smoke(dir, databases) {
  copyFileSync(join(repoRoot, 'scripts/rehearsal/smoke.mjs'), join(dir, 'smoke.mjs'));
  for (const database of databases) {
    const run = sh(process.execPath, ['smoke.mjs'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: DATABASES[database](dir) },
      timeout: 120_000,
    });
    check(
      run.status === 0 && run.out.includes(`smoke ok ${database}`),
      `smoke test on ${database} from ${dir}\n${run.status === 0 ? '' : run.out}`,
    );
  }
}

async function main() {
  step(`cloning ${repoRoot} into ${clone}`);
  must('git', ['clone', '--quiet', repoRoot, clone]);
  must('git', ['-C', clone, 'config', 'user.name', 'Release Rehearsal']);
  must('git', ['-C', clone, 'config', 'user.email', 'rehearsal@localhost']);
  must('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--config.engine-strict=false'], { cwd: clone });

  step('starting verdaccio on 127.0.0.1');
  const registry = await startRegistry();
  console.log(`registry ${registry} (pid ${registryProcess.pid}), storage in ${work}`);

  step('publishing the current versions as the baseline');
  must('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*'], { cwd: clone });
  must(
    'pnpm',
    ['-r', '--filter=./packages/*', 'publish', '--access', 'public', '--no-git-checks', '--registry', registry],
    { cwd: clone },
  );
  const baseline = JSON.parse(readFileSync(join(clone, 'packages/core/package.json'), 'utf8')).version;
  check(baseline === '0.1.0', `baseline is 0.1.0 (the rehearsal's version arithmetic starts there; it is ${baseline})`);
  await expectRegistry(registry, '0.1.0', '^0.1.0');

  step('the release script refuses a dirty tree');
  addChangeset('rehearsal-patch', 'patch', 'Rehearsal: a core patch.');
  let run = release(registry, QUICK_TESTS);
  check(run.status === 1 && run.out.includes('working tree is not clean'), 'a dirty tree is refused');
  must('git', ['add', '-A'], { cwd: clone });
  must('git', ['commit', '-q', '-m', 'rehearsal: a core patch'], { cwd: clone });

  step('the release script runs the tests first, and a failure publishes nothing');
  const head = must('git', ['rev-parse', 'HEAD'], { cwd: clone }).trim();
  run = release(registry, 'echo the-tests-ran && exit 3');
  check(
    run.status === 1 && run.out.includes('the-tests-ran') && run.out.includes('the tests failed'),
    'failing tests stop the release',
  );
  check(must('git', ['rev-parse', 'HEAD'], { cwd: clone }).trim() === head, 'nothing was committed');
  check(must('git', ['status', '--porcelain'], { cwd: clone }).trim() === '', 'nothing was changed');
  await expectRegistry(registry, '0.1.0', '^0.1.0');

  step('a core patch: every package 0.1.1, the peer range stays ^0.1.0');
  run = release(registry, QUICK_TESTS);
  check(run.status === 0, `release of the patch\n${run.status === 0 ? '' : run.out}`);
  await expectRegistry(registry, '0.1.1', '^0.1.0');

  step('a core minor: every package 0.2.0, peer range ^0.2.0');
  addChangeset('rehearsal-minor', 'minor', 'Rehearsal: a core minor.');
  must('git', ['add', '-A'], { cwd: clone });
  must('git', ['commit', '-q', '-m', 'rehearsal: a core minor'], { cwd: clone });
  run = release(registry, QUICK_TESTS);
  check(run.status === 0, `release of the minor\n${run.status === 0 ? '' : run.out}`);
  await expectRegistry(registry, '0.2.0', '^0.2.0');
  check(must('git', ['status', '--porcelain'], { cwd: clone }).trim() === '', 'the release left a clean tree');

  step('a fresh app on the 0.1 line: npm i @sessionfactory/core@^0.1 + adapters@^0.1 + kysely');
  const old = freshApp('app-0.1', registry, [
    '@sessionfactory/core@^0.1',
    '@sessionfactory/sqlite@^0.1',
    '@sessionfactory/pg@^0.1',
    '@sessionfactory/mysql@^0.1',
    'kysely@^0.29',
  ]);
  check(
    old.install.status === 0,
    `npm i on the 0.1 line after a core minor resolves\n${old.install.status === 0 ? '' : old.install.out}`,
  );
  const oldVersions = installedVersions(old.dir);
  check(
    Object.values(oldVersions).every((v) => v === '0.1.1'),
    `the 0.1 line installs 0.1.1 everywhere: ${JSON.stringify(oldVersions)}`,
  );
  smoke(old.dir, ['sqlite']);

  step('a fresh app on the latest release: npm i core + each adapter + kysely');
  const latest = freshApp('app-latest', registry, [
    '@sessionfactory/core',
    '@sessionfactory/sqlite',
    '@sessionfactory/pg',
    '@sessionfactory/mysql',
    'kysely',
    'typescript@5.9.3',
    '@types/node@24',
    'esbuild@0.28.2',
  ]);
  check(
    latest.install.status === 0,
    `npm i of the latest release\n${latest.install.status === 0 ? '' : latest.install.out}`,
  );
  const latestVersions = installedVersions(latest.dir);
  check(
    Object.values(latestVersions).every((v) => v === '0.2.0'),
    `latest installs 0.2.0 everywhere: ${JSON.stringify(latestVersions)}`,
  );
  smoke(latest.dir, ['sqlite', 'postgres', 'mysql']);

  step('the published types check in a fresh app with skipLibCheck off (no TS7016)');
  for (const file of ['types-check.ts', 'tsconfig.json'])
    copyFileSync(join(repoRoot, 'scripts/rehearsal', file), join(latest.dir, file));
  const tsc = sh(process.execPath, [join(latest.dir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: latest.dir,
  });
  check(tsc.status === 0, `tsc --noEmit with skipLibCheck: false\n${tsc.out}`);

  step('an app bundled with esbuild runs on each database, with no node_modules but the native addon');
  for (const file of ['app.mjs', 'sync-worker.mjs', 'build.mjs']) {
    copyFileSync(join(repoRoot, 'scripts/rehearsal/bundle', file), join(latest.dir, file));
  }
  must(process.execPath, ['build.mjs'], { cwd: latest.dir });
  const deployed = join(work, 'bundled');
  cpSync(join(latest.dir, 'dist'), deployed, { recursive: true });
  cpSync(join(latest.dir, 'node_modules/better-sqlite3'), join(deployed, 'node_modules/better-sqlite3'), {
    recursive: true,
    dereference: true,
  });
  for (const database of Object.keys(DATABASES)) {
    const bundled = sh(process.execPath, ['app.js'], {
      cwd: deployed,
      env: { ...env, DATABASE_URL: DATABASES[database](deployed) },
      timeout: 120_000,
    });
    check(
      bundled.status === 0 && bundled.out.includes(`bundled ok ${database}`),
      `the bundled app on ${database}\n${bundled.status === 0 ? '' : bundled.out}`,
    );
  }

  step(`done: release rehearsal passed in ${Math.round((Date.now() - started) / 1000)} s`);
}

let status = 0;
try {
  await main();
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : error}${error?.cause ? `\ncause: ${error.cause}` : ''}`);
  console.error(`verdaccio's log:\n${readFileSync(join(work, 'verdaccio.log'), 'utf8').slice(-3000)}`);
  status = 1;
} finally {
  stopRegistry();
  if (registryProcess && registryProcess.exitCode === null)
    await new Promise((resolve) => registryProcess.once('exit', resolve));
  if (process.env.KEEP_REHEARSAL) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(status);
