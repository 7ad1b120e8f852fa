import { ConfigurationError, createSessionFactory } from '@sessionfactory/core';
import { findSecret } from '@sessionfactory/core/testing';
import { describe, expect, it } from 'vitest';
import { resolveMysqlConfig } from '../src/config/resolve-mysql-config.js';
import { mysql } from '../src/index.js';
import { mariadbGtids, mysqlGtids } from '../src/replication/gtid-position.js';
import { mysqlReplication } from '../src/replication/mysql-replication.js';

const SECRET = 'hunter2';
const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '4f22fb58-82db-22f2-af44-d91bb9539673';

describe('host lists', () => {
  it('reads every host of a multi-host URL in order, default port filled in', () => {
    const resolved = resolveMysqlConfig(`mysql://root:${SECRET}@127.0.0.1:3311,127.0.0.1:3312,node3/test`);
    expect(resolved.hosts).toEqual([
      { host: '127.0.0.1', port: 3311 },
      { host: '127.0.0.1', port: 3312 },
      { host: 'node3', port: 3306 },
    ]);
    expect(resolved.description).not.toContain(SECRET);
  });

  it('never shows the password: host-list adapter, its factory, a failed connect', async () => {
    const adapter = mysql(`mysql://root:${SECRET}@127.0.0.1:1,127.0.0.1:2/test?connectTimeoutMs=2000`);
    const sf = createSessionFactory(adapter);
    const error = await adapter.connect().catch((e: unknown) => e);
    expect(findSecret(SECRET, adapter, adapter.description, adapter.workerSpec, sf, error)).toBeUndefined();
    await sf.close();
  });

  it('is absent for one host', () => {
    expect(resolveMysqlConfig('mysql://root@127.0.0.1:3311/test').hosts).toBeUndefined();
  });

  it('refuses a host list together with a socket path', () => {
    expect(() => resolveMysqlConfig('mysql://root@h1,h2/test?socketPath=/run/mysqld/mysqld.sock')).toThrow(
      ConfigurationError,
    );
  });

  it('fails with a ConnectionError naming every host when none answers (no password shown)', async () => {
    const adapter = mysql(`mysql://root:${SECRET}@127.0.0.1:1,127.0.0.1:2/test?connectTimeoutMs=2000`);
    const error = await adapter.connect().catch((e: unknown) => e);
    expect((error as Error).name).toBe('ConnectionError');
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).toContain('127.0.0.1:2');
    expect((error as Error).message).not.toContain(SECRET);
  });
});

describe('wsrepSyncWait', () => {
  it('becomes a parameterized SET on each connection, from the URL or the config', () => {
    const fromUrl = resolveMysqlConfig('mysql://root@h/test?wsrepSyncWait=1');
    expect(fromUrl.sessionSetup.map((q) => [q.sql, q.parameters])).toEqual([['SET SESSION wsrep_sync_wait = ?', [1]]]);
    const fromConfig = resolveMysqlConfig({ url: 'mysql://root@h/test', wsrepSyncWait: 7 });
    expect(fromConfig.sessionSetup[0]?.parameters).toEqual([7]);
    expect(resolveMysqlConfig('mysql://root@h/test').sessionSetup).toEqual([]);
  });

  it.each([16, -1, 1.5, '1'])('refuses %j', (value) => {
    expect(() => resolveMysqlConfig({ url: 'mysql://root@h/test', wsrepSyncWait: value as number })).toThrow(
      /wsrepSyncWait/,
    );
  });

  it('refuses a URL value that is not a whole number', () => {
    expect(() => resolveMysqlConfig('mysql://root@h/test?wsrepSyncWait=all')).toThrow(ConfigurationError);
  });
});

describe('flavor', () => {
  it('is MariaDB by default, MySQL when asked', () => {
    expect(resolveMysqlConfig('mysql://root@h/test').flavor).toBe('mariadb');
    expect(resolveMysqlConfig('mysql://root@h/test?flavor=mysql').flavor).toBe('mysql');
    expect(resolveMysqlConfig({ url: 'mysql://root@h/test', flavor: 'mysql' }).flavor).toBe('mysql');
  });

  it('refuses an unknown flavor, and mysql on a mariadb:// URL', () => {
    expect(() => resolveMysqlConfig('mysql://root@h/test?flavor=percona')).toThrow(ConfigurationError);
    expect(() => resolveMysqlConfig('mariadb://root@h/test?flavor=mysql')).toThrow(ConfigurationError);
  });

  it('chooses the replication SQL: MariaDB GTID lists or MySQL 8 GTID sets, values as parameters', () => {
    const maria = mysql('mysql://root@h/test').replication!;
    expect(maria.positionSql).toBe('SELECT @@global.gtid_binlog_pos AS position');
    const wait = maria.waitForPosition!('0-1-42', 500);
    expect([wait.sql, wait.parameters]).toEqual(['SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached', ['0-1-42', 0.5]]);
    expect(maria.replicaStatusSql).toBe('SHOW ALL SLAVES STATUS');
    expect(maria.parseStatus!({ Gtid_Slave_Pos: '0-1-9', Seconds_Behind_Master: 3 })).toEqual({
      position: '0-1-9',
      lagMs: 3000,
    });
    expect(maria.parseStatus!({ Gtid_Slave_Pos: '0-1-9', Seconds_Behind_Master: null })).toEqual({
      position: '0-1-9',
      lagMs: undefined,
    });
    expect(maria.parseStatus!({})).toEqual({ position: undefined, lagMs: undefined });

    const my = mysql('mysql://root@h/test?flavor=mysql').replication!;
    expect(my.positionSql).toBe('SELECT @@global.gtid_executed AS position');
    expect(my.waitForPosition!(`${U1}:1-5`, 2000).sql).toBe('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) = 0 AS reached');
    expect(my.replicaStatusSql).toBe('SHOW REPLICA STATUS');
    expect(my.parseStatus!({ Executed_Gtid_Set: `${U1}:1-5`, Seconds_Behind_Source: 0 })).toEqual({
      position: `${U1}:1-5`,
      lagMs: 0,
    });
  });

  it('opens replicas given as URLs with the primary flavour', () => {
    const support = mysqlReplication('mysql', (url) => mysql({ url, flavor: 'mysql' }));
    expect(support.replicaAdapter('mysql://root@r1/test').replication?.positionSql).toContain('gtid_executed');
    const fromPrimary = mysql('mysql://root@h/test?flavor=mysql').replication!;
    expect(fromPrimary.replicaAdapter('mysql://root@r1/test').replication?.positionSql).toContain('gtid_executed');
  });
});

describe('MariaDB GTID lists', () => {
  it('recognises well-formed positions only', () => {
    expect(mariadbGtids.isPosition('0-1-42')).toBe(true);
    expect(mariadbGtids.isPosition('0-1-42,1-2-7')).toBe(true);
    for (const bad of ['', '0-1', '0-1-x', "0-1-1'; DROP TABLE t; --", `${U1}:1-5`]) {
      expect(mariadbGtids.isPosition(bad)).toBe(false);
    }
  });

  it('combines per domain, keeping the highest sequence number', () => {
    expect(mariadbGtids.combine('0-1-7,1-2-3', '0-1-9')).toBe('0-1-9,1-2-3');
    expect(mariadbGtids.combine('2-1-5', '0-3-1')).toBe('0-3-1,2-1-5');
  });

  it('has reached a target when every domain of it is at or past its sequence number', () => {
    expect(mariadbGtids.hasReached('0-1-9,1-2-3', '0-1-9')).toBe(true);
    expect(mariadbGtids.hasReached('0-1-8,1-2-3', '0-1-9')).toBe(false);
    expect(mariadbGtids.hasReached('0-1-9', '0-1-9,1-2-1')).toBe(false);
    expect(mariadbGtids.hasReached('', '0-1-1')).toBe(false);
  });
});

describe('MySQL GTID sets', () => {
  it('recognises sets with intervals, several sources, tags and the newlines @@gtid_executed has', () => {
    expect(mysqlGtids.isPosition(`${U1}:1-5`)).toBe(true);
    expect(mysqlGtids.isPosition(`${U1}:1-5:7,\n${U2}:1`)).toBe(true);
    expect(mysqlGtids.isPosition(`${U1}:1-5:batch:1-2`)).toBe(true);
    for (const bad of ['', `${U1}`, `${U1}:5-1`, `${U1}:0`, 'nope:1-2', '0-1-42']) {
      expect(mysqlGtids.isPosition(bad)).toBe(false);
    }
  });

  it('combines by merging intervals per source', () => {
    expect(mysqlGtids.combine(`${U1}:1-5`, `${U1}:6-9`)).toBe(`${U1}:1-9`);
    expect(mysqlGtids.combine(`${U1}:1-3`, `${U1}:7,${U2}:1-2`)).toBe(`${U1}:1-3:7,${U2}:1-2`);
  });

  it('has reached a target when every transaction of it is in the replayed set', () => {
    expect(mysqlGtids.hasReached(`${U1}:1-9`, `${U1}:3-4`)).toBe(true);
    expect(mysqlGtids.hasReached(`${U1}:1-3:5-9`, `${U1}:3-5`)).toBe(false);
    expect(mysqlGtids.hasReached(`${U1}:1-9`, `${U1}:1,${U2}:1`)).toBe(false);
  });
});
