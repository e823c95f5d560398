/* kh-server-http.h: the HTTP front of the server (libmicrohttpd, thread pool)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-server-core.h"

G_BEGIN_DECLS

typedef struct
{
  guint  threads;            /* libmicrohttpd's thread pool; one database connection each */
  guint  max_connections;    /* more are answered 503 busy */
  gsize  max_body;           /* bytes as sent */
  gsize  max_inflated;       /* bytes after gzip */
  int    max_depth;          /* JSON nesting */
  int    request_seconds;    /* time for a request to arrive, headers and body: a deadline */
  guint  max_per_address;    /* connections from one client address (proxies named aside) */
  gsize  max_in_flight;      /* bytes of request bodies held at once, over all connections */
  char **trusted_proxies;    /* addresses whose X-Forwarded-For names the client; not owned */
  const char *tls_cert;      /* PEM text of the certificate chain and key: HTTPS; not owned */
  const char *tls_key;
} KhHttpLimits;

void kh_http_limits_init (KhHttpLimits *limits);

typedef struct _KhHttpServer KhHttpServer;

/* @listen is "HOST:PORT", with an IPv6 HOST in brackets ("[::]:8080" takes IPv4 too); port 0
 * picks a free one, returned in @port. */
KhHttpServer *kh_http_server_start (KhServer            *server,
                                    const char          *listen,
                                    const KhHttpLimits  *limits,
                                    guint16             *port,
                                    GError             **error);
void          kh_http_server_stop  (KhHttpServer        *http);
/* An IPv4 or IPv6 address in the one form the server compares; NULL when @text is none. */
char         *kh_http_normalize_address (const char    *text);

/* Stops taking requests (new ones are answered 503 with Retry-After, which clients retry) and
 * waits up to @seconds for those in flight to be answered; FALSE if some were still running. */
gboolean      kh_http_server_drain           (KhHttpServer *http,
                                              int           seconds);
guint         kh_http_server_get_connections (KhHttpServer *http);
guint         kh_http_server_get_in_flight   (KhHttpServer *http);

G_END_DECLS
