/* schema.h: the numbered migrations of the SQLite schema (private to store/).
 *
 * Migration N brings the schema from version N-1 to N. Applied migrations are
 * recorded in schema_migrations; a database newer than this build is refused.
 * Never edit a released migration: add the next one. */
#ifndef TEND_STORE_SCHEMA_H
#define TEND_STORE_SCHEMA_H

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration schema_migrations[];
extern const int schema_migration_count;

#endif
