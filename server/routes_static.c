/* routes_static.c: the dashboard's static files from CERTDEPLOY_WEB_DIR. */
#include "handlers.h"

#include "app.h"
#include "fileutil.h"
#include "reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATIC_MAX_BYTES (4 * 1024 * 1024)

static const struct {
  const char *ext;
  const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return NULL;
}

/* Only plain relative names: no "..", no hidden files, no backslashes. */
static int path_safe(const char *p) {
  if (strstr(p, "\\") != NULL || strstr(p, "//") != NULL)
    return 0;
  for (const char *seg = p; seg && *seg;) {
    if (seg[0] == '.')
      return 0;
    seg = strchr(seg, '/');
    if (seg)
      seg++;
  }
  return 1;
}

void static_file(request *req, reply *rep) {
  const char *rel = req->path[0] == '/' ? req->path + 1 : req->path;
  if (*rel == '\0')
    rel = "index.html";
  const char *type = content_type(rel);
  if (!path_safe(rel) || type == NULL) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No route for %s %s.", req->method, req->path);
    return;
  }
  char full[4096];
  if (snprintf(full, sizeof(full), "%s/%s", req->app->cfg->web_dir, rel) >= (int)sizeof(full)) {
    reply_error(rep, ERR_NOT_FOUND, NULL, NULL);
    return;
  }
  struct stat st;
  size_t len = 0;
  char *data = NULL;
  if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
    data = file_read(full, STATIC_MAX_BYTES, &len);
  if (data == NULL) {
    reply_errorf(rep, ERR_NOT_FOUND, NULL, "No route for %s %s.", req->method, req->path);
    return;
  }
  reply_text(rep, 200, type, data, len);
  free(data);
  rep->cache_control = "no-cache";
}
