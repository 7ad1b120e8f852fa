import { describeConformance } from '@sessionfactory/conformance';
import { sqliteConformanceTarget } from './sqlite-conformance-setup.js';

describeConformance('sqlite (file, WAL)', () => sqliteConformanceTarget('file'));
describeConformance('sqlite (:memory:)', () => sqliteConformanceTarget('memory'));
