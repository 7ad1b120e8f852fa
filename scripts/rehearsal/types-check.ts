// Type-checked by the rehearsal with skipLibCheck off: the published .d.ts files and the
// types they import (pg's, better-sqlite3's) resolve in a fresh application.
import { createSessionFactory, type SessionFactory } from '@sessionfactory/core';
import { mysql } from '@sessionfactory/mysql';
import { postgres } from '@sessionfactory/pg';
import { sqlite } from '@sessionfactory/sqlite';

interface DB {
  item: { id: number; name: string };
}

export const factories: SessionFactory<DB>[] = [
  createSessionFactory<DB>(postgres('postgres://app@db/shop')),
  createSessionFactory<DB>(mysql('mysql://app@db/shop')),
  createSessionFactory<DB>(sqlite(':memory:')),
];
