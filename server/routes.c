/* routes.c: the route table. Follow a handler's name to its file. The
 * last column is the thread it runs on: only a handler that never waits
 * on PostgreSQL, the CA or the disk runs on the connection thread. */
#include "handlers.h"
#include "router.h"

const route routes[] = {
    {"GET", "/healthz", ROUTE_PUBLIC, health_live, ROUTE_NEVER_WAITS},
    {"GET", "/readyz", ROUTE_PUBLIC, health_ready, ROUTE_WAITS},
    {"GET", "/metrics", ROUTE_PUBLIC, metrics_get, ROUTE_WAITS},

    {"POST", "/api/v1/tokens", ROUTE_API_WRITE, tokens_create, ROUTE_WAITS},
    {"GET", "/api/v1/tokens", ROUTE_API_READ, tokens_list, ROUTE_WAITS},
    {"DELETE", "/api/v1/tokens/{id}", ROUTE_API_WRITE, tokens_delete, ROUTE_WAITS},
    {"GET", "/api/v1/whoami", ROUTE_API_READ, tokens_whoami, ROUTE_WAITS},

    {"POST", "/api/v1/cas", ROUTE_API_WRITE, cas_create, ROUTE_WAITS},
    {"GET", "/api/v1/cas", ROUTE_API_READ, cas_list, ROUTE_WAITS},
    {"GET", "/api/v1/cas/{id}", ROUTE_API_READ, cas_get, ROUTE_WAITS},
    {"PATCH", "/api/v1/cas/{id}", ROUTE_API_WRITE, cas_update, ROUTE_WAITS},
    {"DELETE", "/api/v1/cas/{id}", ROUTE_API_WRITE, cas_delete, ROUTE_WAITS},

    {"POST", "/api/v1/profiles", ROUTE_API_WRITE, profiles_create, ROUTE_WAITS},
    {"GET", "/api/v1/profiles", ROUTE_API_READ, profiles_list, ROUTE_WAITS},
    {"GET", "/api/v1/profiles/{id}", ROUTE_API_READ, profiles_get, ROUTE_WAITS},
    {"PATCH", "/api/v1/profiles/{id}", ROUTE_API_WRITE, profiles_update, ROUTE_WAITS},
    {"DELETE", "/api/v1/profiles/{id}", ROUTE_API_WRITE, profiles_delete, ROUTE_WAITS},
    {"POST", "/api/v1/profiles/{id}/assignments", ROUTE_API_WRITE, assignments_add, ROUTE_WAITS},
    {"DELETE", "/api/v1/profiles/{id}/assignments/{device_id}", ROUTE_API_WRITE, assignments_remove,
     ROUTE_WAITS},
    {"POST", "/api/v1/profiles/{id}/resend", ROUTE_API_WRITE, profile_resend, ROUTE_WAITS},

    {"POST", "/api/v1/enroll-secrets", ROUTE_API_WRITE, enroll_secrets_create, ROUTE_WAITS},
    {"GET", "/api/v1/enroll-secrets", ROUTE_API_READ, enroll_secrets_list, ROUTE_WAITS},
    {"DELETE", "/api/v1/enroll-secrets/{id}", ROUTE_API_WRITE, enroll_secrets_delete, ROUTE_WAITS},

    {"POST", "/api/v1/webhooks", ROUTE_API_WRITE, webhooks_create, ROUTE_WAITS},
    {"GET", "/api/v1/webhooks", ROUTE_API_READ, webhooks_list, ROUTE_WAITS},
    {"PATCH", "/api/v1/webhooks/{id}", ROUTE_API_WRITE, webhooks_update, ROUTE_WAITS},
    {"DELETE", "/api/v1/webhooks/{id}", ROUTE_API_WRITE, webhooks_delete, ROUTE_WAITS},

    {"GET", "/api/v1/devices", ROUTE_API_READ, devices_list, ROUTE_WAITS},
    {"GET", "/api/v1/devices/{id}", ROUTE_API_READ, devices_get, ROUTE_WAITS},
    {"DELETE", "/api/v1/devices/{id}", ROUTE_API_WRITE, devices_delete, ROUTE_WAITS},
    {"GET", "/api/v1/devices/{id}/profiles/{profile_id}", ROUTE_API_READ, deployment_get,
     ROUTE_WAITS},
    {"POST", "/api/v1/devices/{id}/profiles/{profile_id}/resend", ROUTE_API_WRITE,
     deployment_resend, ROUTE_WAITS},
    {"GET", "/api/v1/devices/{id}/profiles/{profile_id}/history", ROUTE_API_READ,
     deployment_history, ROUTE_WAITS},

    {"GET", "/api/v1/deployments", ROUTE_API_READ, deployments_list, ROUTE_WAITS},

    {"GET", "/api/v1/status", ROUTE_API_READ, status_get, ROUTE_WAITS},
    {"GET", "/api/v1/audit", ROUTE_API_READ, audit_list, ROUTE_WAITS},

    {"POST", "/device/v1/enroll", ROUTE_PUBLIC, device_enroll, ROUTE_WAITS},
    {"POST", "/device/v1/checkin", ROUTE_DEVICE_SELF, device_checkin, ROUTE_NEVER_WAITS},
    {"POST", "/device/v1/profiles/{profile_id}/csr", ROUTE_DEVICE, device_csr, ROUTE_WAITS},
    {"POST", "/device/v1/profiles/{profile_id}/ack", ROUTE_DEVICE, device_ack, ROUTE_WAITS},
};

const int route_count = (int)(sizeof(routes) / sizeof(routes[0]));
