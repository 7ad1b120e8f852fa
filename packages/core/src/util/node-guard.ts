// Imported first by core's entry points: an older Node.js fails here, at import, by name.
import { assertNodeVersion } from './node-floor.js';

assertNodeVersion('@sessionfactory/core');
