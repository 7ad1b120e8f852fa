// Bundles app.mjs and sync-worker.mjs into dist/ with esbuild, as the README's "Bundlers"
// section says: ESM output, a `require` for the CommonJS drivers, better-sqlite3 (a native
// addon) and pg's optional pg-native left outside the bundle.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: { app: 'app.mjs', 'sync-worker': 'sync-worker.mjs' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['better-sqlite3', 'pg-native'],
  banner: {
    js: "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
writeFileSync('dist/package.json', '{ "type": "module" }\n');
