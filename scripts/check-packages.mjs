#!/usr/bin/env node
// Packs every published package the way `pnpm publish` would, then checks what a user would
// download: LICENSE, source maps, engines, dependency ranges, the peer range on core, and
// runs publint and arethetypeswrong (esm-only profile) on the tarball. Exits 1 on any problem.
//
//   node scripts/check-packages.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { CORE_PEER_RANGE, NODE_FLOOR, publicPackages, readTarball, repoRoot } from './release-lib.mjs';

// the CLI's bin (a root devDependency; the package exports no subpath for it)
const attw = join(repoRoot, 'node_modules/@arethetypeswrong/cli/dist/index.js');
const rootLicense = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
const problems = [];
const problem = (pkg, text) => problems.push(`${pkg}: ${text}`);

const out = mkdtempSync(join(tmpdir(), 'sessionfactory-pack-'));
try {
  for (const { name, dir } of publicPackages()) {
    const packed = JSON.parse(
      execFileSync('pnpm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }),
    );
    const tarball = packed.filename;
    const files = readTarball(tarball);
    const manifest = JSON.parse(files.get('package.json'));

    // LICENSE: the MIT text of the repository, in the tarball, and declared.
    if (manifest.license !== 'MIT') problem(name, `license is ${manifest.license}, not MIT`);
    if (files.get('LICENSE') !== rootLicense) problem(name, 'LICENSE missing from the tarball or not the root LICENSE');

    // Source maps carry their sources, and every sourceMappingURL points into the tarball.
    for (const [path, text] of files) {
      if (path.endsWith('.map')) {
        const map = JSON.parse(text);
        const content = map.sourcesContent ?? [];
        if (content.length !== map.sources.length || content.some((s) => typeof s !== 'string')) {
          problem(name, `${path} has no sourcesContent for ${map.sources.join(', ')}`);
        }
      }
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (ref && (path.endsWith('.js') || path.endsWith('.ts'))) {
        const target = join(path, '..', ref);
        if (!files.has(target)) problem(name, `${path} points at ${target}, which is not in the tarball`);
      }
    }

    // The Node floor, the same everywhere.
    if (manifest.engines?.node !== `>=${NODE_FLOOR}`) {
      problem(name, `engines.node is ${manifest.engines?.node}, expected >=${NODE_FLOOR}`);
    }

    // Dependencies as caret ranges (drivers and their types), never exact pins or workspace: links.
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      if (!/^\^\d/.test(range)) problem(name, `dependency ${dep} is ${range}, not a caret range`);
    }
    for (const [dep, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (range.startsWith('workspace:')) problem(name, `peer ${dep} still says ${range}`);
    }
    if (name !== '@sessionfactory/core' && manifest.peerDependencies?.['@sessionfactory/core'] !== CORE_PEER_RANGE) {
      problem(
        name,
        `peer @sessionfactory/core is ${manifest.peerDependencies?.['@sessionfactory/core']}, the policy says ${CORE_PEER_RANGE}`,
      );
    }
    // Types the published .d.ts files import must come with the package.
    const dts = [...files]
      .filter(([p]) => p.endsWith('.d.ts'))
      .map(([, t]) => t)
      .join('\n');
    for (const [module, types] of [
      ['pg', '@types/pg'],
      ['better-sqlite3', '@types/better-sqlite3'],
    ]) {
      if (new RegExp(`from '${module}'|import\\("${module}"\\)`).test(dts) && !manifest.dependencies?.[types]) {
        problem(name, `its .d.ts files import ${module} but ${types} is not a dependency`);
      }
    }

    // publint on the tarball, every level.
    const bytes = readFileSync(tarball);
    const { messages } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      strict: true,
    });
    for (const message of messages) problem(name, `publint ${message.type}: ${formatMessage(message, manifest)}`);

    // arethetypeswrong, ESM-only packages.
    try {
      execFileSync(process.execPath, [attw, tarball, '--profile', 'esm-only', '--format', 'table'], {
        encoding: 'utf8',
      });
    } catch (error) {
      problem(name, `arethetypeswrong:\n${error.stdout}${error.stderr}`);
    }
    console.log(`checked ${name}@${manifest.version}: ${files.size} files`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`\n${problems.length} package problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('package contents: all checks passed');
