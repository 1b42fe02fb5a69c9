/*
 * db_assignments.h: creating deployments and starting new generations for
 * a whole profile. Every change goes through the state machine's rules
 * (state.h) and writes history in the same statement; the database guard
 * rejects anything else. Return values follow db.h.
 */
#ifndef CERTDEPLOY_DB_ASSIGNMENTS_H
#define CERTDEPLOY_DB_ASSIGNMENTS_H

#include "db.h"

/* Assigns the profile to every enrolled device that does not have it yet
 * (new deployments: pending, generation 1, history "assigned" by actor).
 * Returns the number assigned. */
int db_assign_all_devices(db_conn *c, const char *profile_id, const char *actor);

/* Assigns the profile to the listed devices (ids must be UUIDs of
 * enrolled devices, see db_devices_first_missing; ones that already have
 * it are left as they are). Returns the number newly assigned. */
int db_assign_devices(db_conn *c, const char *profile_id, const char *const *device_ids, int n,
                      const char *actor);

/* Finds the first of the listed device ids (UUIDs) that is not enrolled.
 * Returns 1 and sets *index, 0 when all exist, or an error. */
int db_devices_first_missing(db_conn *c, const char *const *device_ids, int n, int *index);

/* Assigns every profile with assign_all to a newly enrolled device.
 * Returns the number assigned. */
int db_assign_profiles_to_device(db_conn *c, const char *device_id, const char *actor);

/* After a profile's subject fields changed: every pending, verifying and
 * verified deployment of the profile starts a new generation (pending,
 * attempts 0); failed ones stay failed, with an "ignored" history row.
 * Fills *requeued and *failed_untouched. Returns 0 or an error. Run it in
 * the same transaction as the profile update. */
int db_profile_requeue(db_conn *c, const char *profile_id, const char *actor, int *requeued,
                       int *failed_untouched);

/* Removes one deployment; its history stays. Returns 1 removed, 0 none. */
int db_unassign(db_conn *c, const char *profile_id, const char *device_id, const char *actor);

#endif
