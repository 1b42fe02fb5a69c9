/* routes.c: the route table. Follow a handler's name to its file. */
#include "handlers.h"
#include "router.h"

const route routes[] = {
    {"GET", "/healthz", ROUTE_PUBLIC, health_live},
    {"GET", "/readyz", ROUTE_PUBLIC, health_ready},

    {"POST", "/api/v1/tokens", ROUTE_API_WRITE, tokens_create},
    {"GET", "/api/v1/tokens", ROUTE_API_READ, tokens_list},
    {"DELETE", "/api/v1/tokens/{id}", ROUTE_API_WRITE, tokens_delete},

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
};

const int route_count = (int)(sizeof(routes) / sizeof(routes[0]));
