import { describeConformance } from '../src/index.js';
import { fakeConformanceTarget } from './fake-conformance-setup.js';

// The shared suite against core's statement-recording fake adapter (a temp node:sqlite file).
// The exact BEGIN/SAVEPOINT/COMMIT sequences of its key cases are asserted in
// fake-adapter.statements.test.ts, which only the fake can show.
describeConformance('fake adapter', () => fakeConformanceTarget());
