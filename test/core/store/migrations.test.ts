import { describe, expect, it } from 'vitest';
import { parseMigrationId, registeredMigrations, registerMigration } from '../../../core/store/migrations.ts';

describe('migration registry', () => {
  it('parses namespace and number from an id', () => {
    expect(parseMigrationId('latency-001')).toEqual({ namespace: 'latency', number: 1 });
    expect(parseMigrationId('search-runs-012')).toEqual({ namespace: 'search-runs', number: 12 });
    expect(parseMigrationId('latency')).toBeUndefined();
    expect(parseMigrationId('Latency-1')).toBeUndefined();
  });

  it('rejects malformed ids, out-of-order numbers and two different migrations with one id', () => {
    expect(() => registerMigration({ id: 'bad id', up() {} })).toThrow(/must look like/);
    registerMigration({ id: 'order-002', up() {} });
    expect(() => registerMigration({ id: 'order-001', up() {} })).toThrow(/increasing order/);
    registerMigration({ id: 'dup-001', up: (db) => void db.exec('SELECT 1') });
    expect(() => registerMigration({ id: 'dup-001', up: (db) => void db.exec('SELECT 2') })).toThrow(/two different/);
  });

  it('ignores an identical re-registration (a module evaluated twice)', () => {
    const before = registeredMigrations().length;
    registerMigration({ id: 'twice-001', up: (db) => void db.exec('SELECT 1') });
    registerMigration({ id: 'twice-001', up: (db) => void db.exec('SELECT 1') });
    expect(registeredMigrations().length).toBe(before + 1);
  });
});
