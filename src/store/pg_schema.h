/* pg_schema.h: the numbered migrations of the PostgreSQL schema (private to
 * store/).
 *
 * Version numbers mean the same schema on both backends: the first
 * PostgreSQL migration is version 15, the SQLite schema as of its migration
 * 15 (schema.c) created at once (a new backend has no old databases to
 * upgrade), and SQLite's migration N > 15 gets a PostgreSQL migration N with
 * the same meaning, in the same commit. So store_schema_version() answers the
 * same number for the same tables on either backend, and `tend migrate` can
 * compare them (migration 16: models.data_end and adopted_ms, as SQLite's
 * 16). Never edit a released migration: add the next one.
 * docs/store.md has the table-by-table mapping. */
#ifndef TEND_STORE_PG_SCHEMA_H
#define TEND_STORE_PG_SCHEMA_H

struct pg_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct pg_migration pg_schema_migrations[];
extern const int pg_schema_migration_count;

/* Keys of the advisory locks, one number space for the whole database
 * ('tend' in the high 32 bits): pg_migrate holds the first for the whole run
 * (a session lock: every migration is a transaction of its own);
 * tend_event_partitions_ensure() and _drop() take the second for their
 * transaction. */
#define PG_LOCK_MIGRATE    "8387231256823201793" /* 0x74656e6400000001 */
#define PG_LOCK_PARTITIONS "8387231256823201794" /* 0x74656e6400000002 */

#endif
