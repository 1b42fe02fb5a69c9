/*
 * db_migrate.h: applies the embedded migrations.
 */
#ifndef CERTDEPLOY_DB_MIGRATE_H
#define CERTDEPLOY_DB_MIGRATE_H

/* Connects to conninfo, takes a session advisory lock (so instances that
 * start together apply each migration once), applies every migration not
 * yet in schema_migrations, each in its own transaction, and records it.
 * Returns 0, or -1 after logging which migration failed and why. */
int db_migrate(const char *conninfo);

#endif
