import { describe, expect, it } from 'vitest';
import {
  type HostAddress,
  MultiHostConnector,
  type MultiHostOptions,
  parseConnectionUrl,
  parseTargetSessionAttrs,
  resolveServerConfig,
  type ServerRole,
} from '../src/adapter/index.js';
import { ConfigurationError, ConnectionError } from '../src/index.js';

const SECRET = 'pa55-w0rd';

describe('multi-host URLs', () => {
  it('lists every host in order, ports where given; host/port are the first one', () => {
    const url = parseConnectionUrl(`postgres://app:${SECRET}@db1:5432,db2,[::1]:5434/shop?x=1`, ['postgres']);
    expect(url.hosts).toEqual([
      { host: 'db1', port: 5432 },
      { host: 'db2', port: undefined },
      { host: '::1', port: 5434 },
    ]);
    expect(url).toMatchObject({ host: 'db1', port: 5432, user: 'app', password: SECRET, database: 'shop' });
    expect(url.params).toEqual({ x: '1' });
    expect(url.redacted).toBe('postgres://app:***@db1:5432,db2,[::1]:5434/shop?x=1');
  });

  it('a URL with one host has no list', () => {
    expect(parseConnectionUrl('postgres://app@db1:5432/shop', ['postgres']).hosts).toBeUndefined();
  });

  it.each([
    ['an empty entry', 'postgres://app:SECRET@db1,,db2/shop', /invalid entry ""/],
    ['a port out of range', 'postgres://app:SECRET@db1,db2:70000/shop', /invalid port 70000/],
    ['a non-numeric port', 'postgres://app:SECRET@db1,db2:abc/shop', /invalid entry "db2:abc"/],
    ['a control character', 'postgres://app:SECRET@db1,db%0A2/shop', /control character U\+000A/],
  ])('%s is a ConfigurationError without the password', (_, raw, message) => {
    const url = raw.replace('SECRET', SECRET);
    let caught: unknown;
    try {
      parseConnectionUrl(url, ['postgres']);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain(SECRET);
  });

  it('resolveServerConfig fills default ports; a config port applies to all; a config host replaces the list', () => {
    const spec = {
      dialect: 'acme',
      schemes: ['acme'] as [string],
      defaults: { port: 7000 },
      driverOptions: { expected: 'an object' },
    };
    const url = `acme://app:${SECRET}@a:1,b/db`;
    const fromUrl = resolveServerConfig(url, spec);
    expect(fromUrl.server.hosts).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 7000 },
    ]);
    expect(fromUrl.description).toBe('acme://app:***@a:1,b/db');
    expect(resolveServerConfig({ url, port: 9 }, spec).server.hosts).toEqual([
      { host: 'a', port: 9 },
      { host: 'b', port: 9 },
    ]);
    const replaced = resolveServerConfig({ url, host: 'c' }, spec).server;
    expect(replaced.hosts).toBeUndefined();
    expect(replaced.host).toBe('c');
  });

  it('target_session_attrs takes libpq values only', () => {
    expect(parseTargetSessionAttrs('postgres', 'prefer-standby')).toBe('prefer-standby');
    expect(() => parseTargetSessionAttrs('postgres', 'master')).toThrow(ConfigurationError);
    expect(() => parseTargetSessionAttrs('postgres', 'master')).toThrow(/read-write/);
  });
});

const PRIMARY: ServerRole = { readOnly: false, standby: false };
const STANDBY: ServerRole = { readOnly: true, standby: true };

/** A made-up cluster: each host is down, a primary or a standby; records every open and close. */
function cluster(roles: Record<string, ServerRole | 'down' | Error>) {
  const opened: string[] = [];
  const closed: string[] = [];
  let clock = 0;
  const hosts: HostAddress[] = Object.keys(roles).map((host) => ({ host, port: 5432 }));
  const options = (overrides: Partial<MultiHostOptions<string>> = {}): MultiHostOptions<string> => ({
    dialect: 'acme',
    hosts,
    target: 'read-write',
    async open(host) {
      opened.push(host.host);
      const role = roles[host.host];
      if (role === 'down')
        throw Object.assign(new Error(`connect ECONNREFUSED ${host.host}:5432`), { code: 'ECONNREFUSED' });
      if (role instanceof Error) throw role;
      return host.host;
    },
    async role(connection) {
      return roles[connection] as ServerRole;
    },
    async close(connection) {
      closed.push(connection);
    },
    now: () => clock,
    recheckMs: 1000,
    ...overrides,
  });
  return {
    roles,
    opened,
    closed,
    options,
    advance(ms: number) {
      clock += ms;
    },
  };
}

describe('MultiHostConnector', () => {
  it('read-write skips a standby (closing it) and keeps the primary', async () => {
    const c = cluster({ s1: STANDBY, p1: PRIMARY });
    const connection = await new MultiHostConnector(c.options()).connect();
    expect(connection).toBe('p1');
    expect(c.opened).toEqual(['s1', 'p1']);
    expect(c.closed).toEqual(['s1']);
  });

  it('a failed host goes last for recheckMs, then is tried first again', async () => {
    const c = cluster({ a: 'down', b: PRIMARY });
    const connector = new MultiHostConnector(c.options({ target: 'any' }));
    expect(await connector.connect()).toBe('b');
    expect(connector.order().map((h) => h.host)).toEqual(['b', 'a']);
    expect(await connector.connect()).toBe('b');
    expect(c.opened).toEqual(['a', 'b', 'b']);
    c.advance(1001);
    expect(connector.order().map((h) => h.host)).toEqual(['a', 'b']);
  });

  it('failover: the old primary goes down, the standby is promoted; the next connect finds it', async () => {
    const c = cluster({ p: PRIMARY, s: STANDBY });
    const connector = new MultiHostConnector(c.options());
    expect(await connector.connect()).toBe('p');
    c.roles.p = 'down';
    c.roles.s = PRIMARY;
    expect(await connector.connect()).toBe('s');
    // The dead host is now tried last: no wait on it for new connections.
    c.opened.length = 0;
    expect(await connector.connect()).toBe('s');
    expect(c.opened).toEqual(['s']);
  });

  it('a host of the wrong role is still tried when nothing else is left (never skipped)', async () => {
    const c = cluster({ p: PRIMARY, s: STANDBY });
    const connector = new MultiHostConnector(c.options());
    await connector.connect();
    c.roles.p = 'down';
    // s was never tried (p answered first). Now p fails, s is a standby: no fit.
    await expect(connector.connect()).rejects.toBeInstanceOf(ConnectionError);
    c.roles.s = PRIMARY;
    // Both are marked failed now; they are still tried, in order.
    expect(await connector.connect()).toBe('s');
  });

  it('no host fits: a ConnectionError naming every host and why, no password, the last driver error as cause', async () => {
    const refused = new Error(`connect ECONNREFUSED via postgres://app:${SECRET}@x/db`);
    const c = cluster({ down: refused, standby: STANDBY });
    const error = await new MultiHostConnector(c.options()).connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const message = (error as Error).message;
    expect(message).toMatch(/target_session_attrs=read-write/);
    expect(message).toMatch(/down:5432 \(connect ECONNREFUSED/);
    expect(message).toMatch(/standby:5432 \(read-only\)/);
    expect(message).not.toContain(SECRET);
    expect((error as Error).cause).toBe(refused);
  });

  it('every host refusing the same non-connection way (a wrong password) rethrows that error', async () => {
    const auth = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    const c = cluster({ a: auth, b: auth });
    const classifyError = (e: unknown) =>
      (e as { code?: string }).code === '28P01' ? { code: 'AUTHENTICATION' as const } : { code: 'CONNECTION' as const };
    const error = await new MultiHostConnector(c.options({ classifyError })).connect().catch((e: unknown) => e);
    expect(error).toBe(auth);
  });

  it.each([
    ['primary', { p: PRIMARY, s: STANDBY }, 'p'],
    ['standby', { p: PRIMARY, s: STANDBY }, 's'],
    ['read-only', { p: PRIMARY, s: STANDBY }, 's'],
    ['read-only', { p: PRIMARY, ro: { readOnly: true, standby: false } }, 'ro'],
    ['primary', { ro: { readOnly: true, standby: false }, s: STANDBY }, 'ro'],
    ['any', { s: STANDBY, p: PRIMARY }, 's'],
    ['prefer-standby', { p: PRIMARY, s: STANDBY }, 's'],
    ['prefer-standby', { p: PRIMARY, q: PRIMARY }, 'p'],
  ] as const)('target %s picks the right host', async (target, roles, expected) => {
    const c = cluster({ ...roles });
    expect(await new MultiHostConnector(c.options({ target })).connect()).toBe(expected);
    // Only the chosen connection stays open.
    expect(c.opened.filter((host) => !c.closed.includes(host))).toEqual([expected]);
  });

  it('any never asks for the role', async () => {
    const c = cluster({ a: PRIMARY });
    let asked = 0;
    const connection = await new MultiHostConnector(
      c.options({
        target: 'any',
        role: async () => {
          asked += 1;
          return PRIMARY;
        },
      }),
    ).connect();
    expect(connection).toBe('a');
    expect(asked).toBe(0);
  });

  it('healthCheck runs on every host even for target any; throwing passes the host over', async () => {
    const c = cluster({ a: PRIMARY, b: PRIMARY });
    const checked: string[] = [];
    const connection = await new MultiHostConnector(
      c.options({
        target: 'any',
        healthCheck: async (conn) => {
          checked.push(conn);
          if (conn === 'a') throw new Error('wsrep_local_state_comment is Donor/Desynced');
        },
      }),
    ).connect();
    expect(connection).toBe('b');
    expect(checked).toEqual(['a', 'b']);
    expect(c.closed).toEqual(['a']);
  });

  it('a role check that throws rejects the host like a failed connect', async () => {
    const c = cluster({ a: PRIMARY, b: PRIMARY });
    const connection = await new MultiHostConnector(
      c.options({
        role: async (conn) => {
          if (conn === 'a') throw new Error('node not synced');
          return PRIMARY;
        },
      }),
    ).connect();
    expect(connection).toBe('b');
    expect(c.closed).toEqual(['a']);
  });
});
