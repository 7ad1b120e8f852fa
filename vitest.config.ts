import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/example', 'apps/bench'],
    // The scale-out servers (replicas, PgBouncer, Galera ...), unless the environment names them.
    globalSetup: ['scripts/test-servers.ts'],
  },
});
