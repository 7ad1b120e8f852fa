import { describeConformance } from '@sessionfactory/conformance';
import { pgbouncerConformanceTarget } from './pg-conformance-setup.js';
import { usePgBouncer } from './support/pgbouncer.js';

// The whole suite again, every factory connecting through PgBouncer in transaction mode
// (PGBOUNCER_URL from .ci/run, or a PgBouncer of this run's own; see usePgBouncer).
describeConformance('postgres through pgbouncer (transaction pooling)', async () => {
  const bouncer = await usePgBouncer();
  const target = await pgbouncerConformanceTarget(bouncer.url);
  return {
    ...target,
    async teardown() {
      try {
        await target.teardown();
      } finally {
        bouncer.stop();
      }
    },
  };
});
