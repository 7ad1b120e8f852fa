// Imported first by the entry point: an older Node.js fails here, at import, with the release
// it needs, instead of crashing later inside the driver.
import { assertNodeVersion } from '@sessionfactory/core';

assertNodeVersion('@sessionfactory/conformance');
