import { describeConformance } from '@sessionfactory/conformance';
import { pgbouncerConformanceTarget } from './pg-conformance-setup.js';

// The whole suite again, through PgBouncer in transaction mode (scripts/pgbouncer.sh; .ci/run
// starts it and exports PGBOUNCER_URL). Without it the suite cannot run, and says so.
const url = process.env.PGBOUNCER_URL;

describeConformance('postgres through pgbouncer (transaction pooling)', () => {
  if (url === undefined || url === '') {
    throw new Error(
      'PGBOUNCER_URL is not set: start PgBouncer with scripts/pgbouncer.sh start and export the PGBOUNCER_URL it prints (.ci/run does both)',
    );
  }
  return pgbouncerConformanceTarget(url);
});
