/*
 * json_wipe.h: make jansson wipe every block it frees.
 *
 * The agent's JSON carries secrets (the device token in device.json and in
 * the enroll reply, the enroll secret, PKCS#12 passwords). Rather than
 * chasing each string, the agent routes all jansson allocations through a
 * free function that zeroes the block first.
 */
#ifndef CERTDEPLOY_AGENT_JSON_WIPE_H
#define CERTDEPLOY_AGENT_JSON_WIPE_H

/* Installs the wiping allocator. Call once at start, before any JSON
 * value exists (jansson requires it). */
void json_wipe_install(void);

/* Wipes and frees memory allocated by jansson, such as the text returned by
 * json_dumps() once json_wipe_install() ran. Accepts NULL. */
void json_wipe_free(void *p);

#endif
