// Shared by the release scripts: where the repository is, which packages are published, the
// Node floor and the versioning policy's peer range, and a small tarball reader.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The repository root (this file lives in scripts/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

/** The oldest Node.js every package runs on, from the root package.json's `engines` (">=X.Y.Z"). */
export const NODE_FLOOR = /^>=(\d+\.\d+\.\d+)$/.exec(rootManifest.engines?.node ?? '')?.[1];
if (!NODE_FLOOR) throw new Error('package.json: engines.node must read ">=X.Y.Z" (the Node floor)');

/** The published packages: every packages/* whose package.json is not private. */
export function publicPackages() {
  const base = join(repoRoot, 'packages');
  return readdirSync(base)
    .map((entry) => join(base, entry))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir, manifest }));
}

/**
 * The versioning policy's peer range on core for a core version: the start of its release
 * line, `^0.M.0` before 1.0 and `^X.0.0` from 1.0 on. Patches never raise it.
 */
export function corePeerRange(coreVersion) {
  const [major, minor] = coreVersion.split('.').map(Number);
  return major === 0 ? `^0.${minor}.0` : `^${major}.0.0`;
}

/** The peer range the adapters must declare today (from core's version in the repository). */
export const CORE_PEER_RANGE = corePeerRange(
  JSON.parse(readFileSync(join(repoRoot, 'packages/core/package.json'), 'utf8')).version,
);

/** The files of an npm tarball (.tgz) as a Map from path (without the leading "package/") to text. */
export function readTarball(path) {
  const data = gunzipSync(readFileSync(path));
  const files = new Map();
  let offset = 0;
  let longName;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = data.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '') {
      name = name.replace(/^[^/]+\//, '');
      files.set(name, body.toString('utf8'));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
