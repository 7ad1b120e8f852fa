import { describeConformance } from '@sessionfactory/conformance';
import { mysqlConformanceTarget } from './mysql-conformance-setup.js';

describeConformance('mysql (MariaDB)', mysqlConformanceTarget);
