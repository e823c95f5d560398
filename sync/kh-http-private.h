/* kh-http-private.h: the sync engine's HTTP client (libcurl, blocking; used on a worker thread)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

G_BEGIN_DECLS

typedef struct _KhHttp KhHttp;

typedef struct
{
  int      connect_timeout;   /* seconds to connect */
  int      low_speed_time;    /* seconds below 1 byte/s before giving up on a stalled link */
  int      max_attempts;      /* tries per request, for failures that may pass */
  double   backoff_base;      /* seconds before the first retry; doubles each time */
  double   backoff_max;       /* the longest wait between tries */
  gsize    max_body;          /* the largest answer accepted, decompressed, bytes */
  const char *ca_file;        /* extra CA bundle for a private server, or NULL */
} KhHttpOptions;

typedef struct
{
  guint64 requests;
  guint64 bytes_sent;         /* on the wire: request line, headers and (compressed) body */
  guint64 bytes_received;     /* on the wire: status, headers and (compressed) body */
  guint64 retries;
} KhHttpCounters;

KhHttp      *kh_http_new       (const char           *base_url,
                                const KhHttpOptions  *options);
void         kh_http_free      (KhHttp               *http);
void         kh_http_set_token (KhHttp               *http,
                                const char           *token);
/* Sends @body (or nothing for GET) and returns the parsed JSON answer of a 2xx. Failures that
 * may pass (network, 5xx, 408, 429) are retried with backoff and jitter, honouring Retry-After;
 * a 4xx answer becomes a KH_SYNC_ERROR with the server's words. */
json_object *kh_http_request   (KhHttp               *http,
                                const char           *method,
                                const char           *path,
                                json_object          *body,
                                GCancellable         *cancellable,
                                GError              **error);
/* Reads the text of a 2xx answer into whatever the caller needs; NULL with @error set when the
 * text cannot be read (often an answer cut short: the request is tried again). */
typedef gpointer (*KhHttpReadFunc) (const char  *text,
                                    gsize        len,
                                    gpointer     user_data,
                                    GError     **error);

/* kh_http_request() with the 2xx answer read by @read instead of parsed as a JSON object. */
gpointer     kh_http_request_read (KhHttp            *http,
                                   const char        *method,
                                   const char        *path,
                                   json_object       *body,
                                   KhHttpReadFunc     read,
                                   gpointer           user_data,
                                   GCancellable      *cancellable,
                                   GError           **error);
/* @payload sent as bytes (application/octet-stream), or nothing when NULL. */
gpointer     kh_http_request_bytes (KhHttp           *http,
                                    const char       *method,
                                    const char       *path,
                                    GBytes           *payload,
                                    KhHttpReadFunc    read,
                                    gpointer          user_data,
                                    GCancellable     *cancellable,
                                    GError          **error);
const KhHttpCounters *kh_http_get_counters (KhHttp   *http);
char        *kh_http_escape    (KhHttp               *http,
                                const char           *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhHttp, kh_http_free)

G_END_DECLS
