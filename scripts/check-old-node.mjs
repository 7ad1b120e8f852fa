#!/usr/bin/env node
// Imports every published package's entry points with each Node.js binary given (releases
// older than the floor) and checks that the import fails the way the README promises: exit
// code 1 with a ConfigurationError naming the release needed, never a crash (a signal).
//
//   node scripts/check-old-node.mjs /path/to/node-22.13.1 /path/to/node-20
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE_FLOOR, publicPackages } from './release-lib.mjs';

const binaries = process.argv.slice(2);
if (binaries.length === 0) {
  console.error('usage: check-old-node.mjs NODE_BINARY...');
  process.exit(2);
}
const env = { ...process.env };
delete env.NODE_PATH; // as a user's process would run: no workspace shim

let failures = 0;
for (const bin of binaries) {
  const version = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  for (const { name, dir, manifest } of publicPackages()) {
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const entry = pathToFileURL(join(dir, target.import)).href;
      // the import, then a use that crashed old releases before the check existed
      const script = `await import(${JSON.stringify(entry)}); console.log('imported');`;
      const run = spawnSync(bin, ['--input-type=module', '-e', script], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const label = `${name}${subpath.slice(1)} on Node.js ${version}`;
      const ok =
        run.signal === null &&
        run.status === 1 &&
        run.stderr.includes('ConfigurationError') &&
        run.stderr.includes(`needs Node.js >= ${NODE_FLOOR}; this is Node.js ${version}`);
      if (ok) console.log(`ok   ${label}: ConfigurationError naming ${NODE_FLOOR}`);
      else {
        failures++;
        console.log(`FAIL ${label}: status ${run.status}, signal ${run.signal}\n${run.stdout}${run.stderr}`);
      }
    }
  }
}
console.log(`${failures === 0 ? 'old Node.js: every import refused by name' : `old Node.js: ${failures} failure(s)`}`);
process.exit(failures === 0 ? 0 : 1);
