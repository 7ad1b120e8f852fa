import { describeConformance } from '@sessionfactory/conformance';
import { postgresConformanceTarget } from './pg-conformance-setup.js';

describeConformance('postgres', postgresConformanceTarget);
