/* routes.c: the route table. Follow a handler's name to its file. */
#include "handlers.h"
#include "router.h"

const route routes[] = {
    {"GET", "/healthz", ROUTE_PUBLIC, health_live},
    {"GET", "/readyz", ROUTE_PUBLIC, health_ready},
    {"GET", "/metrics", ROUTE_PUBLIC, metrics_get},

    {"POST", "/api/v1/tokens", ROUTE_API_WRITE, tokens_create},
    {"GET", "/api/v1/tokens", ROUTE_API_READ, tokens_list},
    {"DELETE", "/api/v1/tokens/{id}", ROUTE_API_WRITE, tokens_delete},
    {"GET", "/api/v1/whoami", ROUTE_API_READ, tokens_whoami},

    {"POST", "/api/v1/cas", ROUTE_API_WRITE, cas_create},
    {"GET", "/api/v1/cas", ROUTE_API_READ, cas_list},
    {"GET", "/api/v1/cas/{id}", ROUTE_API_READ, cas_get},
    {"PATCH", "/api/v1/cas/{id}", ROUTE_API_WRITE, cas_update},
    {"DELETE", "/api/v1/cas/{id}", ROUTE_API_WRITE, cas_delete},

    {"POST", "/api/v1/profiles", ROUTE_API_WRITE, profiles_create},
    {"GET", "/api/v1/profiles", ROUTE_API_READ, profiles_list},
    {"GET", "/api/v1/profiles/{id}", ROUTE_API_READ, profiles_get},
    {"PATCH", "/api/v1/profiles/{id}", ROUTE_API_WRITE, profiles_update},
    {"DELETE", "/api/v1/profiles/{id}", ROUTE_API_WRITE, profiles_delete},
    {"POST", "/api/v1/profiles/{id}/assignments", ROUTE_API_WRITE, assignments_add},
    {"DELETE", "/api/v1/profiles/{id}/assignments/{device_id}", ROUTE_API_WRITE,
     assignments_remove},
    {"POST", "/api/v1/profiles/{id}/resend", ROUTE_API_WRITE, profile_resend},

    {"POST", "/api/v1/enroll-secrets", ROUTE_API_WRITE, enroll_secrets_create},
    {"GET", "/api/v1/enroll-secrets", ROUTE_API_READ, enroll_secrets_list},
    {"DELETE", "/api/v1/enroll-secrets/{id}", ROUTE_API_WRITE, enroll_secrets_delete},

    {"GET", "/api/v1/devices", ROUTE_API_READ, devices_list},
    {"GET", "/api/v1/devices/{id}", ROUTE_API_READ, devices_get},
    {"DELETE", "/api/v1/devices/{id}", ROUTE_API_WRITE, devices_delete},
    {"GET", "/api/v1/devices/{id}/profiles/{profile_id}", ROUTE_API_READ, deployment_get},
    {"POST", "/api/v1/devices/{id}/profiles/{profile_id}/resend", ROUTE_API_WRITE,
     deployment_resend},
    {"GET", "/api/v1/devices/{id}/profiles/{profile_id}/history", ROUTE_API_READ,
     deployment_history},

    {"GET", "/api/v1/status", ROUTE_API_READ, status_get},
    {"GET", "/api/v1/audit", ROUTE_API_READ, audit_list},

    {"POST", "/device/v1/enroll", ROUTE_PUBLIC, device_enroll},
    {"POST", "/device/v1/checkin", ROUTE_DEVICE_SELF, device_checkin},
    {"POST", "/device/v1/profiles/{profile_id}/csr", ROUTE_DEVICE, device_csr},
    {"POST", "/device/v1/profiles/{profile_id}/ack", ROUTE_DEVICE, device_ack},
};

const int route_count = (int)(sizeof(routes) / sizeof(routes[0]));
