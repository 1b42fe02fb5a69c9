/*
 * uuid.h: ids in canonical UUID form, in a query or a path.
 */
#ifndef CERTDEPLOY_UUID_H
#define CERTDEPLOY_UUID_H

#include "request.h"

/* 1 when s is a canonical UUID (8-4-4-4-12 hex). */
int uuid_valid(const char *s);

/* Checks path parameter `index` is a UUID; else sets rep to 400 whose
 * field is the parameter's name in the route pattern ("id", "profile_id")
 * and whose message calls it `what` ("profile id"); returns -1. */
int param_uuid(const request *req, reply *rep, int index, const char *what);

#endif
