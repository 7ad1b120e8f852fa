#!/usr/bin/env node
// The release: versions the packages from the pending changesets and publishes them.
//
//   pnpm release                           # to the registry npm is configured for
//   pnpm release --registry http://127.0.0.1:4873/
//
// 1. refuses a working tree with uncommitted or untracked files, and a release with no changeset;
// 2. runs the tests (RELEASE_TEST_COMMAND, default `pnpm test`); a failure publishes nothing;
// 3. `changeset version`: the fixed group moves every package to the same new version;
// 4. writes the adapters' peer range on core as the start of core's release line
//    (`^0.M.0`, or `^X.0.0` from 1.0), so a patch never raises it (README: Versioning);
// 5. refreshes the lockfile, builds from clean, checks the tarballs (scripts/check-packages.mjs);
// 6. commits "release: <version>", tags each package, then `pnpm -r publish`.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corePeerRange, publicPackages, repoRoot } from './release-lib.mjs';

const args = process.argv.slice(2);
const registryIndex = args.indexOf('--registry');
const registry = registryIndex >= 0 ? args[registryIndex + 1] : undefined;
if (registryIndex >= 0 && !registry) fail('--registry needs a URL');

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}
function run(command, commandArgs, options = {}) {
  console.log(`release: $ ${command} ${commandArgs.join(' ')}`);
  const result = spawnSync(command, commandArgs, { cwd: repoRoot, stdio: 'inherit', ...options });
  if (result.status !== 0) fail(`${command} ${commandArgs.join(' ')} failed (exit ${result.status ?? result.signal})`);
}
const git = (...gitArgs) => execFileSync('git', gitArgs, { cwd: repoRoot, encoding: 'utf8' }).trim();

// 1. A clean tree and something to release.
const dirty = git('status', '--porcelain', '--untracked-files=all');
if (dirty) fail(`the working tree is not clean; commit or stash first:\n${dirty}`);
const changesets = readdirSync(join(repoRoot, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
if (changesets.length === 0) fail('no pending changeset in .changeset/: nothing to release (pnpm changeset)');

// 2. The tests, before anything changes.
const testCommand = process.env.RELEASE_TEST_COMMAND || 'pnpm test';
console.log(`release: running the tests first: ${testCommand}`);
const tests = spawnSync(testCommand, { cwd: repoRoot, stdio: 'inherit', shell: true });
if (tests.status !== 0) fail(`the tests failed (${testCommand}): nothing was versioned or published`);

// 3. Versions.
run('pnpm', ['exec', 'changeset', 'version']);

// 4. The peer range policy.
const packages = publicPackages();
const coreVersion = packages.find((p) => p.name === '@sessionfactory/core').version;
const range = corePeerRange(coreVersion);
for (const { name, dir, version } of packages) {
  if (version !== coreVersion) fail(`${name} is at ${version} but core at ${coreVersion}: the fixed group broke`);
  const file = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  if (manifest.peerDependencies?.['@sessionfactory/core']) {
    manifest.peerDependencies['@sessionfactory/core'] = `workspace:${range}`;
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  }
}
console.log(`release: every package at ${coreVersion}; adapters peer on @sessionfactory/core ${range}`);

// 5. Lockfile, a clean build, the tarballs.
run('pnpm', ['install', '--lockfile-only', '--config.engine-strict=false']);
run('pnpm', ['exec', 'biome', 'format', '--write', '.changeset', 'packages']);
run('pnpm', ['exec', 'turbo', 'run', 'build', '--force', '--filter=./packages/*']);
run(process.execPath, [join(repoRoot, 'scripts/check-packages.mjs')]);

// 6. Commit, tag, publish.
git('add', '-A');
git('commit', '-q', '-m', `release: ${coreVersion}`);
for (const { name } of packages) git('tag', `${name}@${coreVersion}`);
const publishArgs = ['-r', '--filter=./packages/*', 'publish', '--access', 'public', '--no-git-checks'];
if (registry) publishArgs.push('--registry', registry);
run('pnpm', publishArgs);
console.log(`release: published ${packages.map((p) => `${p.name}@${coreVersion}`).join(', ')}`);
