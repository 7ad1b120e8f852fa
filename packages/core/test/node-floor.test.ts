import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertNodeVersion, ConfigurationError, NODE_FLOOR, nodeVersionProblem } from '../src/index.js';

const root = new URL('../../..', import.meta.url).pathname;

describe('the Node floor', () => {
  it('is what every package.json declares in engines, the root included', () => {
    const manifests = ['package.json'];
    for (const group of ['packages', 'apps']) {
      for (const entry of readdirSync(join(root, group))) manifests.push(join(group, entry, 'package.json'));
    }
    for (const path of manifests) {
      const manifest = JSON.parse(readFileSync(join(root, path), 'utf8'));
      expect({ path, node: manifest.engines?.node }).toEqual({ path, node: `>=${NODE_FLOOR}` });
    }
  });

  it.each([
    ['22.13.1', true],
    ['22.15.1', true],
    ['20.20.2', true],
    ['v21.9.0', true],
    ['22.16.0', false],
    ['22.23.0', false],
    ['24.21.0', false],
    ['25.0.0', false],
  ])('Node.js %s is refused: %s', (version, refused) => {
    expect(nodeVersionProblem(version) !== undefined).toBe(refused);
  });

  it('assertNodeVersion throws ConfigurationError naming the package and the release it needs', () => {
    const error = (() => {
      try {
        assertNodeVersion('@sessionfactory/sqlite', '22.13.1');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(
      `@sessionfactory/sqlite needs Node.js >= ${NODE_FLOOR}; this is Node.js 22.13.1`,
    );
    expect(() => assertNodeVersion('@sessionfactory/sqlite', NODE_FLOOR)).not.toThrow();
  });
});
