/*
 * schema.h: the migrations of db/schema/, embedded at build time by
 * scripts/embed-schema.sh, in file-name order.
 */
#ifndef CERTDEPLOY_SCHEMA_H
#define CERTDEPLOY_SCHEMA_H

typedef struct schema_migration {
  const char *version; /* file name without .sql, e.g. "0001_init" */
  const char *sql;
} schema_migration;

extern const schema_migration schema_migrations[];
extern const int schema_migration_count;

#endif
