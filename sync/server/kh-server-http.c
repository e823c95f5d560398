/* kh-server-http.c: the HTTP front of the server
 *
 * Every answer, including every refusal, is a JSON body (PROTOCOL.md §1). A request's token
 * is checked as soon as its headers are in, before any of its body is read; bodies are read
 * into memory up to the size limit (a few KB for a login) and while the bodies of all
 * connections stay under their common bound, gunzipped up to the inflated limit, parsed with
 * the depth limit, decoded strictly by the codec, and only then handed to the core.
 *
 * Slow and idle connections: every request has a deadline for its headers and body, counted
 * from when the connection is ready for it, which a watchdog thread enforces; one address may
 * hold only so many connections; and when connections run past the limit the watchdog closes
 * the ones waiting longest, so a health check or a login that arrives whole still finds room.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "kh-server-gate.h"
#include "kh-server-http-private.h"
#include "kh-server-http.h"
#include "kh-server-metrics.h"
#include "kh-uuid.h"
#include "kh-workflow.h"

/* A login is a name and a password: a few hundred bytes. */
#define LOGIN_MAX_BODY 4096
/* Connections beyond max_connections that libmicrohttpd still takes, so that new requests
 * find room while the watchdog closes the ones waiting longest. */
#define RESERVE_CONNECTIONS 64
/* A URL longer than this is refused (414); the connection's memory holds more, so the
 * refusal is ours, in JSON, and not libmicrohttpd's page. */
#define MAX_URL 8192
#define MAX_HEADERS (32 * 1024)
#define CONNECTION_MEMORY (128 * 1024)
/* Over the limit, a connection waiting longer than this for its request may be closed. */
#define SHED_AFTER (G_USEC_PER_SEC / 2)

struct _KhHttpServer
{
  KhServer          *server;
  struct MHD_Daemon *daemon;
  KhHttpGate        *gate;            /* over plain HTTP: reads heads before libmicrohttpd */
  KhHttpLimits       limits;
  gint               connections;
  gint64             in_flight;       /* bytes of bodies held (atomic) */
  GMutex             lock;            /* the two tables below and every Conn's state */
  GHashTable        *conns;           /* struct MHD_Connection * → Conn */
  GHashTable        *per_address;     /* address text → connections from it */
  GThread           *watchdog;
  GCond              stop_cond;
  gboolean           stopping;
  char              *late_answer;     /* the whole 408 the watchdog writes itself */
  gint               requests;        /* requests between their first byte and their answer */
  gint               draining;        /* stopping: new requests are answered 503 */
};

/* What the watchdog knows of a connection. */
typedef struct
{
  int       fd;
  char     *address;
  gboolean  proxy;       /* a trusted proxy: not held to the per-address limit */
  gboolean  answering;   /* the request is whole: no deadline while it is answered */
  gboolean  in_body;     /* its headers were read; the body is arriving */
  gboolean  killed;      /* the watchdog gave up on it */
  gint64    since;       /* monotonic µs: when it became ready for its request */
  gint64    killed_at;
} Conn;

typedef enum
{
  ROUTE_HEALTH,
  ROUTE_LOGIN,
  ROUTE_CHANGES,
  ROUTE_PUSH,
  ROUTE_INTEGRITY,
  ROUTE_INTEGRITY_IDS,
  ROUTE_RECORDS,
  ROUTE_INTEGRITY_BUCKETS,
  ROUTE_ERASE,
  ROUTE_ERASURES,
  ROUTE_FILE_STATUS,
  ROUTE_FILE_CHUNK,
  ROUTE_FILE_DATA,
  ROUTE_HISTORY,
  ROUTE_ACTIVITY,
} Route;

typedef struct
{
  GByteArray   *body;
  gsize         held;        /* bytes counted in in_flight */
  int           route;       /* a Route, or -1 */
  KhServerUser *user;
  gboolean      too_large;
  gboolean      busy;        /* the bodies in flight were over their bound */
  gboolean      refused;     /* answered at the headers */
  gint64        started;
  const char   *endpoint;   /* for the metrics and the request log */
  unsigned      status;
} Request;

/* The names this file answers with (kh-server-http-private.h). */
#define send_text   kh_http_send_text
#define send_json   kh_http_send_json
#define send_error  kh_http_send_error
#define send_gerror kh_http_send_gerror
#define parse_limit kh_http_arg_limit

/* The request the pool thread is answering, for send_text() to note its status in. */
static __thread Request *current_request;

void
kh_http_limits_init (KhHttpLimits *limits)
{
  limits->threads = 4;
  limits->max_connections = 1000;
  limits->max_body = 8 * 1024 * 1024;
  limits->max_inflated = 4 * limits->max_body;
  limits->max_depth = KH_CODEC_MAX_DEPTH;
  limits->request_seconds = 30;
  limits->max_per_address = 64;
  limits->max_in_flight = 64 * 1024 * 1024;
  limits->trusted_proxies = NULL;
  limits->tls_cert = NULL;
  limits->tls_key = NULL;
}

/* Responses ------------------------------------------------------------------------------------ */

static gboolean
accepts (struct MHD_Connection *c,
         const char            *coding)
{
  const char *ae = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

  return ae != NULL && strstr (ae, coding) != NULL;
}

static char *
gzip_buffer (const char *data,
             gsize       len,
             gsize      *out_len)
{
  z_stream z = { 0 };
  gsize cap = compressBound (len) + 32;
  char *out = g_malloc (cap);

  if (deflateInit2 (&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    {
      g_free (out);
      return NULL;
    }
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) len;
  z.next_out = (Bytef *) out;
  z.avail_out = (uInt) cap;
  if (deflate (&z, Z_FINISH) != Z_STREAM_END)
    {
      deflateEnd (&z);
      g_free (out);
      return NULL;
    }
  *out_len = z.total_out;
  deflateEnd (&z);
  return out;
}

enum MHD_Result
kh_http_send_text (struct MHD_Connection *c,
                   unsigned int           status,
                   const char            *text,
                   gsize                  len,
                   int                    retry_after)
{
  char *buf = NULL;
  gsize buf_len = 0;
  const char *encoding = NULL;
  struct MHD_Response *response;
  enum MHD_Result ret;

  if (len > 256 && accepts (c, "zstd"))
    {
      gsize cap = ZSTD_compressBound (len);

      /* Level 1: on the large pages of a first pull much less work than level 3, the
       * default, for an answer hardly larger, which also decompresses faster. */
      buf = g_malloc (cap);
      buf_len = ZSTD_compress (buf, cap, text, len, 1);
      if (ZSTD_isError (buf_len))
        g_clear_pointer (&buf, g_free);
      else
        encoding = "zstd";
    }
  if (buf == NULL && len > 256 && accepts (c, "gzip"))
    {
      buf = gzip_buffer (text, len, &buf_len);
      if (buf != NULL)
        encoding = "gzip";
    }
  if (buf == NULL)
    {
      buf = g_memdup2 (text, len);
      buf_len = len;
    }

  response = MHD_create_response_from_buffer (buf_len, buf, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header (response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (encoding != NULL)
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
  if (retry_after > 0)
    {
      char s[16];

      g_snprintf (s, sizeof s, "%d", retry_after);
      MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, s);
    }
  ret = kh_http_queue (c, status, response);
  MHD_destroy_response (response);
  return ret;
}

enum MHD_Result
kh_http_send_json (struct MHD_Connection *c,
                   unsigned int           status,
                   json_object           *body,
                   int                    retry_after)
{
  gsize len;
  const char *text = kh_codec_to_string (body, &len);
  enum MHD_Result ret = send_text (c, status, text, len, retry_after);

  json_object_put (body);
  return ret;
}

enum MHD_Result
kh_http_send_error (struct MHD_Connection *c,
                    KhSyncError            code,
                    const char            *message,
                    int                    retry_after)
{
  return send_json (c, (unsigned int) kh_sync_error_http_status (code),
                    kh_codec_error_to_json (code, message), retry_after);
}

/* A GError from the core or a backend, as the protocol's error. */
enum MHD_Result
kh_http_send_gerror (struct MHD_Connection *c,
                     const GError          *error)
{
  if (error->domain == KH_SYNC_ERROR)
    return send_error (c, (KhSyncError) error->code, error->message, 0);
  if (error->domain == KH_SERVER_ERROR && error->code == KH_SERVER_ERROR_BUSY)
    return send_error (c, KH_SYNC_ERROR_BUSY, _("The server is busy; try again shortly."), 1);
  g_message ("request failed: %s", error->message);
  return send_error (c, KH_SYNC_ERROR_INTERNAL,
                     _("The server failed; nothing was half-applied. Try again later."), 0);
}

enum MHD_Result
kh_http_send_answer (struct MHD_Connection *c,
                     const GString         *answer,
                     const GError          *error)
{
  if (answer == NULL)
    return send_gerror (c, error);
  return send_text (c, MHD_HTTP_OK, answer->str, answer->len, 0);
}

enum MHD_Result
kh_http_queue (struct MHD_Connection *c,
               unsigned int           status,
               struct MHD_Response   *response)
{
  enum MHD_Result ret = MHD_queue_response (c, status, response);

  if (current_request != NULL)
    current_request->status = status;
  return ret;
}

/* Requests ------------------------------------------------------------------------------------- */

static GBytes *
inflate_body (const guint8  *data,
              gsize          len,
              gsize          max,
              GError       **error)
{
  z_stream z = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 chunk[16384];
  int rc;

  if (inflateInit2 (&z, 15 + 16) != Z_OK)
    goto bad;
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) len;
  do
    {
      z.next_out = chunk;
      z.avail_out = sizeof chunk;
      rc = inflate (&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END)
        {
          inflateEnd (&z);
          goto bad;
        }
      g_byte_array_append (out, chunk, sizeof chunk - z.avail_out);
      /* Stops within a chunk of @max: a bomb is never inflated further than that. */
      if (out->len > max)
        {
          inflateEnd (&z);
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                       _("The body is larger than %zu bytes once decompressed."), (size_t) max);
          return NULL;
        }
    }
  while (rc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
  inflateEnd (&z);
  if (rc != Z_STREAM_END)
    goto bad;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));

bad:
  g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                       _("The body is not valid gzip data, or it was cut off."));
  return NULL;
}

static json_object *
read_body (KhHttpServer          *self,
           struct MHD_Connection *c,
           Request               *req,
           GError               **error)
{
  const char *encoding = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *data = req->body->data;
  gsize len = req->body->len;

  if (encoding != NULL && g_ascii_strcasecmp (encoding, "gzip") == 0)
    {
      bytes = inflate_body (data, len, req->route == ROUTE_LOGIN ? LOGIN_MAX_BODY : self->limits.max_inflated,
                            error);
      if (bytes == NULL)
        return NULL;
      data = g_bytes_get_data (bytes, &len);
    }
  else if (encoding != NULL && g_ascii_strcasecmp (encoding, "identity") != 0)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                   _("The body is compressed as “%s”; only gzip is accepted."), encoding);
      return NULL;
    }
  return kh_codec_parse ((const char *) data, len, self->limits.max_depth, error);
}

gboolean
kh_http_arg_limit (struct MHD_Connection  *c,
                   gint64                 *limit,
                   GError                **error)
{
  const char *text = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "limit");
  char *end = NULL;

  *limit = 0;
  if (text == NULL || *text == '\0')
    return TRUE;
  *limit = g_ascii_strtoll (text, &end, 10);
  if (*end != '\0' || *limit < 1)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                           _("“limit” must be a whole number from 1 to 5000."));
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_http_arg_count (struct MHD_Connection *c,
                   const char            *name,
                   gint64                *value)
{
  const char *text = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, name);

  *value = 0;
  return text == NULL || *text == '\0' || g_ascii_string_to_signed (text, 10, 0, G_MAXINT64, value, NULL);
}

/* The client's address ------------------------------------------------------------------------ */

static char *
sockaddr_text (const struct sockaddr *sa)
{
  char buf[INET6_ADDRSTRLEN] = "unknown";

  if (sa != NULL && sa->sa_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, sizeof buf);
  else if (sa != NULL && sa->sa_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

      /* An IPv4 client of a dual-stack socket is the same client as over IPv4. */
      if (IN6_IS_ADDR_V4MAPPED (a))
        inet_ntop (AF_INET, &a->s6_addr[12], buf, sizeof buf);
      else
        inet_ntop (AF_INET6, a, buf, sizeof buf);
    }
  return g_strdup (buf);
}

/* What the limits count as one client: an IPv4 address, or an IPv6 address's /64, which one
 * household or office is given whole (counting each of its addresses would let one client
 * use billions). */
static char *
limit_key (const char *address)
{
  struct in6_addr a;
  char buf[INET6_ADDRSTRLEN];

  if (strchr (address, ':') == NULL || inet_pton (AF_INET6, address, &a) != 1)
    return g_strdup (address);
  memset (&a.s6_addr[8], 0, 8);
  inet_ntop (AF_INET6, &a, buf, sizeof buf);
  return g_strdup_printf ("%s/64", buf);
}

/* @text as an address in the form sockaddr_text() writes, or NULL when it is none. */
char *
kh_http_normalize_address (const char *text)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  struct sockaddr_in v4 = { 0 };
  struct sockaddr_in6 v6 = { 0 };

  if (inet_pton (AF_INET, t, &v4.sin_addr) == 1)
    {
      v4.sin_family = AF_INET;
      return sockaddr_text ((struct sockaddr *) &v4);
    }
  if (inet_pton (AF_INET6, t, &v6.sin6_addr) == 1)
    {
      v6.sin6_family = AF_INET6;
      return sockaddr_text ((struct sockaddr *) &v6);
    }
  return NULL;
}

static gboolean
is_trusted_proxy (KhHttpServer *self,
                  const char   *address)
{
  return self->limits.trusted_proxies != NULL
         && g_strv_contains ((const char * const *) self->limits.trusted_proxies, address);
}

/* The peer's address, or, when the peer is a proxy named in --trusted-proxy, the client it
 * names: the last address of X-Forwarded-For that is not itself a trusted proxy. A header sent
 * by anyone else is ignored, so a client cannot pick the address its failures count against. */
static char *
client_address (KhHttpServer          *self,
                struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *info = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  g_autofree char *peer = sockaddr_text (info != NULL ? info->client_addr : NULL);
  const char *forwarded;
  g_auto(GStrv) hops = NULL;

  if (!is_trusted_proxy (self, peer))
    return g_steal_pointer (&peer);
  forwarded = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "X-Forwarded-For");
  if (forwarded == NULL)
    return g_steal_pointer (&peer);
  hops = g_strsplit (forwarded, ",", 64);
  for (int i = (int) g_strv_length (hops) - 1; i >= 0; i--)
    {
      g_autofree char *hop = kh_http_normalize_address (hops[i]);

      if (hop == NULL)
        break;
      if (!is_trusted_proxy (self, hop))
        return g_steal_pointer (&hop);
    }
  return g_steal_pointer (&peer);
}

static enum MHD_Result
handle_login (KhHttpServer          *self,
              struct MHD_Connection *c,
              Request               *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) body = read_body (self, c, req, &error);
  g_autoptr(KhLoginRequest) login = NULL;
  g_autoptr(KhServerUser) user = NULL;
  g_autoptr(KhLoginResponse) response = NULL;
  g_autofree char *token = NULL;
  g_autofree char *address = client_address (self, c);
  g_autofree char *client = limit_key (address);
  int wait = 0;

  if (body == NULL)
    return send_gerror (c, error);
  login = kh_login_request_from_json (body, &error);
  if (login == NULL)
    return send_gerror (c, error);

  /* The attempt is counted before the password is checked: parallel guesses cannot pass the
   * limit between a check and a count. */
  if (!kh_server_login_reserve (self->server, login->username, client, address, &wait, &error))
    return send_gerror (c, error);
  if (wait > 0)
    return send_error (c, KH_SYNC_ERROR_RATE_LIMITED,
                       _("Too many failed logins: wait a little before trying again."), wait);

  user = kh_server_login_from (self->server, login->username, login->password, address, &token, &error);
  if (user == NULL)
    return send_gerror (c, error);
  if (!kh_server_login_succeeded (self->server, login->username, client, &error))
    return send_gerror (c, error);

  response = kh_login_response_new ();
  response->token = g_steal_pointer (&token);
  response->username = g_strdup (user->username);
  response->role = g_strdup (user->role);
  response->permissions = kh_permits_to_string (user->permits);
  response->scope = g_strdup (user->scope_code);
  response->scope_unit_id = g_strdup (user->scope_unit_id);
  if (!kh_server_get_identity (self->server, &response->server_id, &response->epoch, &error))
    return send_gerror (c, error);
  return send_json (c, MHD_HTTP_OK, kh_login_response_to_json (response), 0);
}

static enum MHD_Result
handle_health (KhHttpServer          *self,
               struct MHD_Connection *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhHealth) health = kh_health_new ();

  if (!kh_server_get_identity (self->server, &health->server_id, &health->epoch, &error))
    return send_gerror (c, error);
  health->status = g_strdup ("ok");
  health->protocol = KH_PROTOCOL_VERSION;
  return send_json (c, MHD_HTTP_OK, kh_health_to_json (health), 0);
}

static enum MHD_Result
handle_push (KhHttpServer          *self,
             struct MHD_Connection *c,
             Request               *req,
             const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) body = read_body (self, c, req, &error);
  g_autoptr(KhPushRequest) request = NULL;
  g_autoptr(KhPushResponse) response = NULL;

  if (body == NULL)
    return send_gerror (c, error);
  request = kh_push_request_from_json (body, &error);
  if (request == NULL)
    return send_gerror (c, error);
  response = kh_server_push (self->server, user, request, &error);
  if (response == NULL)
    return send_gerror (c, error);
  return send_json (c, MHD_HTTP_OK, kh_push_response_to_json (response), 0);
}

static enum MHD_Result
handle_changes (KhHttpServer          *self,
                struct MHD_Connection *c,
                const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) page = NULL;
  const char *cursor = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "cursor");
  gint64 limit;

  if (!parse_limit (c, &limit, &error))
    return send_gerror (c, error);
  if (cursor != NULL && strlen (cursor) > 200)
    return send_error (c, KH_SYNC_ERROR_INVALID, _("The cursor is too long."), 0);
  page = kh_server_changes (self->server, user, cursor, limit, &error);
  return kh_http_send_answer (c, page, error);
}

static enum MHD_Result
handle_integrity (KhHttpServer          *self,
                  struct MHD_Connection *c,
                  const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhIntegrity) integrity = kh_server_integrity (self->server, user, &error);

  if (integrity == NULL)
    return send_gerror (c, error);
  return send_json (c, MHD_HTTP_OK, kh_integrity_to_json (integrity), 0);
}

/* An id suffix of the integrity buckets: lower-case hex digits, which LIKE reads as they are. */
static gboolean
suffix_is_valid (const char *suffix)
{
  if (suffix == NULL)
    return TRUE;
  if (strlen (suffix) > 32)
    return FALSE;
  for (const char *p = suffix; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* GET /v1/integrity/buckets?entity=E&suffix=S: where in an entity the records differ. */
static enum MHD_Result
handle_integrity_buckets (KhHttpServer          *self,
                          struct MHD_Connection *c,
                          const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhIntegrity) buckets = NULL;
  const char *entity = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "entity");
  const char *suffix = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "suffix");
  json_object *answer;
  json_object *entities = NULL;

  if (!suffix_is_valid (suffix))
    return send_error (c, KH_SYNC_ERROR_INVALID, _("“suffix” must be at most 32 lower-case hex digits."), 0);
  buckets = kh_server_integrity_buckets (self->server, user, entity, suffix, &error);
  if (buckets == NULL)
    return send_gerror (c, error);
  /* The summary's form, with the buckets in place of the entities. */
  answer = kh_integrity_to_json (buckets);
  json_object_object_get_ex (answer, "entities", &entities);
  json_object_object_add (answer, "buckets", json_object_get (entities));
  json_object_object_del (answer, "entities");
  return send_json (c, MHD_HTTP_OK, answer, 0);
}

static enum MHD_Result
handle_integrity_ids (KhHttpServer          *self,
                      struct MHD_Connection *c,
                      const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhIntegrityIds) ids = NULL;
  const char *entity = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "entity");
  const char *after = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "after");
  const char *suffix = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "suffix");
  gint64 limit;

  if (!parse_limit (c, &limit, &error))
    return send_gerror (c, error);
  if (after != NULL && strlen (after) > 36)
    return send_error (c, KH_SYNC_ERROR_INVALID, _("“after” must be a record id."), 0);
  if (!suffix_is_valid (suffix))
    return send_error (c, KH_SYNC_ERROR_INVALID, _("“suffix” must be at most 32 lower-case hex digits."), 0);
  ids = kh_server_integrity_ids (self->server, user, entity, after, suffix, limit, &error);
  if (ids == NULL)
    return send_gerror (c, error);
  return send_json (c, MHD_HTTP_OK, kh_integrity_ids_to_json (ids), 0);
}

/* POST /v1/records {"entity": E, "ids": [ID, …]}: the records the integrity check found
 * different, by id, in the user's scope. */
static enum MHD_Result
handle_records (KhHttpServer          *self,
                struct MHD_Connection *c,
                Request               *req,
                const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) body = read_body (self, c, req, &error);
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GString) answer = NULL;
  json_object *entity = NULL;
  json_object *list = NULL;

  if (body == NULL)
    return send_gerror (c, error);
  if (!json_object_is_type (body, json_type_object)
      || !json_object_object_get_ex (body, "entity", &entity) || !json_object_is_type (entity, json_type_string)
      || !json_object_object_get_ex (body, "ids", &list) || !json_object_is_type (list, json_type_array))
    return send_error (c, KH_SYNC_ERROR_WRONG_TYPE,
                       _("The request must name an “entity” and a list of “ids”."), 0);
  if (json_object_array_length (list) > KH_PAGE_DEFAULT)
    return send_error (c, KH_SYNC_ERROR_INVALID, _("Too many ids in one request."), 0);
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *id = json_object_array_get_idx (list, i);

      if (!json_object_is_type (id, json_type_string) || !kh_uuid_is_valid (json_object_get_string (id)))
        return send_error (c, KH_SYNC_ERROR_WRONG_TYPE, _("Every one of “ids” must be a record id."), 0);
      g_ptr_array_add (ids, (gpointer) json_object_get_string (id));
    }
  answer = kh_server_records_by_ids (self->server, user, json_object_get_string (entity),
                                     (const char * const *) ids->pdata, ids->len, &error);
  return kh_http_send_answer (c, answer, error);
}

/* POST /v1/erase {"entity": "person", "id": ID, "reason": TEXT}: erases a person (kh-server-privacy.c). */
static enum MHD_Result
handle_erase (KhHttpServer          *self,
              struct MHD_Connection *c,
              Request               *req,
              const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) body = read_body (self, c, req, &error);
  json_object *entity = NULL;
  json_object *id = NULL;
  json_object *reason = NULL;
  json_object *answer;
  gint64 version = 0;

  if (body == NULL)
    return send_gerror (c, error);
  if (!json_object_is_type (body, json_type_object)
      || !json_object_object_get_ex (body, "entity", &entity) || !json_object_is_type (entity, json_type_string)
      || !json_object_object_get_ex (body, "id", &id) || !json_object_is_type (id, json_type_string)
      || !kh_uuid_is_valid (json_object_get_string (id))
      || !json_object_object_get_ex (body, "reason", &reason) || !json_object_is_type (reason, json_type_string)
      || json_object_get_string_len (reason) > 500)
    return send_error (c, KH_SYNC_ERROR_WRONG_TYPE,
                       _("The request must name an “entity”, a record “id” and a “reason”."), 0);
  if (!kh_server_erase (self->server, user, json_object_get_string (entity), json_object_get_string (id),
                        json_object_get_string (reason), &version, &error))
    return send_gerror (c, error);
  answer = json_object_new_object ();
  json_object_object_add (answer, "version", json_object_new_int64 (version));
  return send_json (c, MHD_HTTP_OK, answer, 0);
}

/* GET /v1/erasures?after=V: the records the erasures after V changed, as they are now. */
static enum MHD_Result
handle_erasures (KhHttpServer          *self,
                 struct MHD_Connection *c,
                 const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) answer = NULL;
  gint64 v;

  if (!kh_http_arg_count (c, "after", &v))
    return send_error (c, KH_SYNC_ERROR_INVALID, _("“after” must be a version."), 0);
  answer = kh_server_erasures (self->server, user, v, &error);
  return kh_http_send_answer (c, answer, error);
}

static const struct { const char *path; const char *method; gboolean auth; } routes[] = {
  [ROUTE_HEALTH] = { "/v1/health", "GET", FALSE },
  [ROUTE_LOGIN] = { "/v1/login", "POST", FALSE },
  [ROUTE_CHANGES] = { "/v1/changes", "GET", TRUE },
  [ROUTE_PUSH] = { "/v1/push", "POST", TRUE },
  [ROUTE_INTEGRITY] = { "/v1/integrity", "GET", TRUE },
  [ROUTE_INTEGRITY_IDS] = { "/v1/integrity/ids", "GET", TRUE },
  [ROUTE_RECORDS] = { "/v1/records", "POST", TRUE },
  [ROUTE_INTEGRITY_BUCKETS] = { "/v1/integrity/buckets", "GET", TRUE },
  [ROUTE_ERASE] = { "/v1/erase", "POST", TRUE },
  [ROUTE_ERASURES] = { "/v1/erasures", "GET", TRUE },
  [ROUTE_FILE_STATUS] = { "/v1/files/status", "GET", TRUE },
  [ROUTE_FILE_CHUNK] = { "/v1/files/chunk", "POST", TRUE },
  [ROUTE_FILE_DATA] = { "/v1/files/data", "GET", TRUE },
  [ROUTE_HISTORY] = { "/v1/history", "GET", TRUE },
  [ROUTE_ACTIVITY] = { "/v1/activity", "GET", TRUE },
};

static enum MHD_Result
dispatch (KhHttpServer          *self,
          struct MHD_Connection *c,
          Request               *req)
{
  switch ((Route) req->route)
    {
    case ROUTE_HEALTH: return handle_health (self, c);
    case ROUTE_LOGIN: return handle_login (self, c, req);
    case ROUTE_CHANGES: return handle_changes (self, c, req->user);
    case ROUTE_PUSH: return handle_push (self, c, req, req->user);
    case ROUTE_INTEGRITY: return handle_integrity (self, c, req->user);
    case ROUTE_INTEGRITY_IDS: return handle_integrity_ids (self, c, req->user);
    case ROUTE_RECORDS: return handle_records (self, c, req, req->user);
    case ROUTE_INTEGRITY_BUCKETS: return handle_integrity_buckets (self, c, req->user);
    case ROUTE_ERASE: return handle_erase (self, c, req, req->user);
    case ROUTE_ERASURES: return handle_erasures (self, c, req->user);
    case ROUTE_FILE_STATUS: return kh_http_file_status (self->server, c, req->user);
    case ROUTE_FILE_CHUNK: return kh_http_file_chunk (self->server, c, req->body->data, req->body->len, req->user);
    case ROUTE_FILE_DATA: return kh_http_file_data (self->server, c, self->limits.max_body, req->user);
    case ROUTE_HISTORY: return kh_http_history (self->server, c, req->user);
    case ROUTE_ACTIVITY: return kh_http_activity (self->server, c, req->user);
    default: g_assert_not_reached ();
    }
}

/* Connections and their deadlines -------------------------------------------------------------- */

static gsize
body_limit (KhHttpServer  *self,
            const Request *req)
{
  return req->route == ROUTE_LOGIN ? LOGIN_MAX_BODY : self->limits.max_body;
}

/* The connection's Conn, FALSE when the watchdog already gave up on it; with @answering, the
 * request is whole and from now on answered, which the watchdog leaves alone. */
static gboolean
conn_claim (KhHttpServer          *self,
            struct MHD_Connection *c,
            gboolean               in_body,
            gboolean               answering)
{
  Conn *conn;
  gboolean alive = TRUE;

  g_mutex_lock (&self->lock);
  conn = g_hash_table_lookup (self->conns, c);
  if (conn != NULL)
    {
      alive = !conn->killed;
      if (alive)
        {
          conn->in_body = in_body;
          conn->answering = answering;
        }
    }
  g_mutex_unlock (&self->lock);
  return alive;
}

static void
release_body (KhHttpServer *self,
              Request      *req)
{
  if (req->held > 0)
    {
      g_atomic_pointer_add (&self->in_flight, -(gssize) req->held);
      req->held = 0;
    }
  g_byte_array_set_size (req->body, 0);
}

static enum MHD_Result
add_argument_length (void               *cls,
                     enum MHD_ValueKind  kind,
                     const char         *key,
                     const char         *value)
{
  *(gsize *) cls += strlen (key) + (value != NULL ? strlen (value) + 1 : 0) + 1;
  return MHD_YES;
}

/* The first call, once the headers are in: everything that can be refused without the body
 * is refused here, the token first, so nobody without one makes the server read a byte. */
static enum MHD_Result
begin_request (KhHttpServer          *self,
               struct MHD_Connection *c,
               const char            *url,
               const char            *method,
               Request               *req)
{
  const char *length = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  g_autoptr(GError) error = NULL;

  const union MHD_ConnectionInfo *header_size = MHD_get_connection_info (c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  gsize url_length = strlen (url);

  req->refused = TRUE;
  if (g_atomic_int_get (&self->draining))
    return send_error (c, KH_SYNC_ERROR_BUSY, _("The server is restarting; try again shortly."), 1);
  /* libmicrohttpd gives the path without its query: the arguments count too. */
  MHD_get_connection_values (c, MHD_GET_ARGUMENT_KIND, add_argument_length, &url_length);
  if (url_length > MAX_URL)
    return send_json (c, MHD_HTTP_URI_TOO_LONG,
                      kh_codec_error_to_json (KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long.")), 0);
  if (header_size != NULL && header_size->header_size > MAX_HEADERS)
    return send_json (c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                      kh_codec_error_to_json (KH_SYNC_ERROR_TOO_LARGE, _("The request's headers are too long.")), 0);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    if (strcmp (url, routes[i].path) == 0)
      req->route = (int) i;
  if (req->route < 0)
    return send_error (c, KH_SYNC_ERROR_NOT_FOUND, _("There is no such endpoint."), 0);
  if (strcmp (method, routes[req->route].method) != 0)
    return send_json (c, 405, kh_codec_error_to_json (KH_SYNC_ERROR_NOT_FOUND,
                                                      _("This endpoint does not take that method.")), 0);
  /* Past the limit only the health check and logins are let in: they are what the reserve of
   * connections is kept for. */
  if ((guint) g_atomic_int_get (&self->connections) > self->limits.max_connections
      && req->route != ROUTE_HEALTH && req->route != ROUTE_LOGIN)
    return send_error (c, KH_SYNC_ERROR_BUSY, _("The server has too many connections; try again shortly."), 1);
  /* Refuse an announced oversized body before it is sent (curl waits for 100-continue). */
  if (length != NULL && g_ascii_strtoull (length, NULL, 10) > body_limit (self, req))
    return send_error (c, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."), 0);
  if (routes[req->route].auth)
    {
      const char *auth = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

      if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
        return send_error (c, KH_SYNC_ERROR_UNAUTHORIZED, _("Log in first: this request needs a token."), 0);
      req->user = kh_server_authenticate (self->server, auth + 7, &error);
      if (req->user == NULL)
        return send_gerror (c, error);
    }
  req->refused = FALSE;
  return MHD_YES;
}

static void
take_body (KhHttpServer *self,
           Request      *req,
           const char   *data,
           gsize         size)
{
  if (req->too_large || req->busy)
    return;
  if (req->body->len + size > body_limit (self, req))
    {
      req->too_large = TRUE;
      release_body (self, req);
      return;
    }
  /* The bound on every connection's bodies together: 40 anonymous or slow uploads must not
   * each hold their megabytes. A body over it is dropped as it comes and answered busy. */
  if ((gsize) g_atomic_pointer_add (&self->in_flight, (gssize) size) + size > self->limits.max_in_flight)
    {
      g_atomic_pointer_add (&self->in_flight, -(gssize) size);
      req->busy = TRUE;
      release_body (self, req);
      return;
    }
  req->held += size;
  g_byte_array_append (req->body, (const guint8 *) data, (guint) size);
}

static enum MHD_Result
access_cb (void                  *cls,
           struct MHD_Connection *c,
           const char            *url,
           const char            *method,
           const char            *version,
           const char            *upload_data,
           size_t                *upload_data_size,
           void                 **con_cls)
{
  KhHttpServer *self = cls;
  Request *req = *con_cls;

  current_request = req;
  if (req == NULL)
    {
      if (!conn_claim (self, c, TRUE, FALSE))
        return MHD_NO;
      req = g_new0 (Request, 1);
      req->body = g_byte_array_new ();
      req->route = -1;
      req->started = g_get_monotonic_time ();
      req->endpoint = kh_server_metrics_endpoint (url);
      *con_cls = req;
      current_request = req;
      g_atomic_int_inc (&self->requests);
      return begin_request (self, c, url, method, req);
    }
  if (req->refused)
    {
      /* Answered at the headers: what still comes is dropped unread. */
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (*upload_data_size > 0)
    {
      if (!conn_claim (self, c, TRUE, FALSE))
        return MHD_NO;
      take_body (self, req, upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (!conn_claim (self, c, FALSE, TRUE))
    return MHD_NO;
  if (req->too_large)
    return send_error (c, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."), 0);
  if (req->busy)
    return send_error (c, KH_SYNC_ERROR_BUSY, _("The server is busy; try again shortly."), 1);
  return dispatch (self, c, req);
}

static void
completed_cb (void                            *cls,
              struct MHD_Connection           *c,
              void                           **con_cls,
              enum MHD_RequestTerminationCode  toe)
{
  KhHttpServer *self = cls;
  Request *req = *con_cls;
  Conn *conn;
  int fd = -1;

  /* A connection kept alive waits for its next request against a new deadline. */
  g_mutex_lock (&self->lock);
  conn = g_hash_table_lookup (self->conns, c);
  if (conn != NULL)
    {
      conn->answering = FALSE;
      conn->in_body = FALSE;
      conn->since = g_get_monotonic_time ();
      fd = conn->fd;
    }
  g_mutex_unlock (&self->lock);
  /* The gate counts the answers, to know whether a refusal of its own must follow them. */
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && fd >= 0)
    kh_http_gate_answered (self->gate, fd);
  if (req == NULL)
    return;
  release_body (self, req);
  if (current_request == req)
    current_request = NULL;
  kh_server_metrics_request (req->endpoint, req->user != NULL ? req->user->username : NULL, req->status,
                             g_get_monotonic_time () - req->started);
  g_atomic_int_add (&self->requests, -1);
  g_byte_array_unref (req->body);
  kh_server_user_free (req->user);
  g_free (req);
  *con_cls = NULL;
}

static void conn_kill (KhHttpServer *self,
                       Conn         *conn,
                       gint64        now);

static void
conn_free (Conn *conn)
{
  g_free (conn->address);
  g_free (conn);
}

static void
connection_cb (void                              *cls,
               struct MHD_Connection             *c,
               void                             **socket_context,
               enum MHD_ConnectionNotificationCode toe)
{
  KhHttpServer *self = cls;

  if (toe == MHD_CONNECTION_NOTIFY_STARTED)
    {
      const union MHD_ConnectionInfo *fd = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
      const union MHD_ConnectionInfo *addr = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      Conn *conn = g_new0 (Conn, 1);

      conn->fd = fd != NULL ? fd->connect_fd : -1;
      g_autofree char *peer = sockaddr_text (addr != NULL ? addr->client_addr : NULL);

      conn->proxy = is_trusted_proxy (self, peer);
      conn->address = limit_key (peer);
      conn->since = g_get_monotonic_time ();
      g_mutex_lock (&self->lock);
      g_hash_table_insert (self->conns, c, conn);
      if (!conn->proxy)
        {
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, conn->address)) + 1;

          g_hash_table_insert (self->per_address, g_strdup (conn->address), GUINT_TO_POINTER (n));
          /* policy_cb's look is only a first one: connections accepted at once on several
           * threads pass it together. This count is the exact one. */
          if (n > self->limits.max_per_address)
            conn_kill (self, conn, conn->since);
        }
      g_mutex_unlock (&self->lock);
      g_atomic_int_inc (&self->connections);
    }
  else
    {
      Conn *conn;

      /* libmicrohttpd says so before it closes the socket: once the entry is gone under the
       * lock, the watchdog cannot touch a descriptor that another connection now has. */
      g_mutex_lock (&self->lock);
      conn = g_hash_table_lookup (self->conns, c);
      if (conn != NULL)
        {
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, conn->address));

          if (!conn->proxy && n <= 1)
            g_hash_table_remove (self->per_address, conn->address);
          else if (!conn->proxy)
            g_hash_table_insert (self->per_address, g_strdup (conn->address), GUINT_TO_POINTER (n - 1));
          g_hash_table_remove (self->conns, c);
        }
      g_mutex_unlock (&self->lock);
      g_atomic_int_add (&self->connections, -1);
    }
}

/* Before libmicrohttpd takes a connection: one address may hold only so many. */
static enum MHD_Result
policy_cb (void                  *cls,
           const struct sockaddr *addr,
           socklen_t              addrlen)
{
  KhHttpServer *self = cls;
  g_autofree char *peer = sockaddr_text (addr);
  g_autofree char *address = limit_key (peer);
  guint n;

  if (is_trusted_proxy (self, peer))
    return MHD_YES;
  g_mutex_lock (&self->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));
  g_mutex_unlock (&self->lock);
  return n < self->limits.max_per_address ? MHD_YES : MHD_NO;
}

/* The gate's hooks (kh-server-gate.c): a connection waiting for its head counts against its
 * address like one of libmicrohttpd's; a trusted proxy is not limited. */
static gboolean
gate_admit (gpointer               data,
            const struct sockaddr *addr,
            socklen_t              addr_len,
            char                 **ticket)
{
  KhHttpServer *self = data;
  g_autofree char *peer = sockaddr_text (addr);
  g_autofree char *address = NULL;
  guint n;

  if (is_trusted_proxy (self, peer))
    return TRUE;
  address = limit_key (peer);
  g_mutex_lock (&self->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));
  if (n < self->limits.max_per_address)
    g_hash_table_insert (self->per_address, g_strdup (address), GUINT_TO_POINTER (n + 1));
  g_mutex_unlock (&self->lock);
  if (n >= self->limits.max_per_address)
    return FALSE;
  *ticket = g_steal_pointer (&address);
  return TRUE;
}

static void
gate_release (gpointer  data,
              char     *ticket)
{
  KhHttpServer *self = data;
  guint n;

  if (ticket == NULL)
    return;
  g_mutex_lock (&self->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, ticket));
  if (n <= 1)
    g_hash_table_remove (self->per_address, ticket);
  else
    g_hash_table_insert (self->per_address, g_strdup (ticket), GUINT_TO_POINTER (n - 1));
  g_mutex_unlock (&self->lock);
  g_free (ticket);
}

static void
gate_hand (gpointer               data,
           int                    fd,
           const struct sockaddr *addr,
           socklen_t              addr_len)
{
  KhHttpServer *self = data;

  /* On failure libmicrohttpd closes the socket itself. */
  MHD_add_connection (self->daemon, fd, addr, addr_len);
}

/* Gives up on @conn: a connection whose body is arriving is told so (408) and its sending side
 * closed, so the client reads the answer; reading is shut a second later, which makes
 * libmicrohttpd close it. One still sending its headers is shut at once. Under self->lock. */
static void
conn_kill (KhHttpServer *self,
           Conn         *conn,
           gint64        now)
{
  conn->killed = TRUE;
  conn->killed_at = now;
  if (conn->fd < 0)
    return;
  if (conn->in_body)
    {
      if (send (conn->fd, self->late_answer, strlen (self->late_answer), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        {
          shutdown (conn->fd, SHUT_WR);
          return;
        }
    }
  shutdown (conn->fd, SHUT_RDWR);
}

static int
compare_since (gconstpointer a,
               gconstpointer b)
{
  const Conn *x = *(Conn * const *) a;
  const Conn *y = *(Conn * const *) b;

  return x->since < y->since ? -1 : x->since > y->since;
}

static gpointer
watchdog_thread (gpointer data)
{
  KhHttpServer *self = data;
  gint64 deadline = (gint64) self->limits.request_seconds * G_USEC_PER_SEC;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      gint64 now = g_get_monotonic_time ();
      g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
      GHashTableIter iter;
      Conn *conn;
      guint alive = 0;
      guint excess;

      g_hash_table_iter_init (&iter, self->conns);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
        {
          if (conn->killed)
            {
              if (now - conn->killed_at > G_USEC_PER_SEC && conn->fd >= 0)
                shutdown (conn->fd, SHUT_RDWR);
              continue;
            }
          alive++;
          if (conn->answering)
            continue;
          if (now - conn->since > deadline)
            conn_kill (self, conn, now);
          else if (now - conn->since > SHED_AFTER)
            g_ptr_array_add (waiting, conn);
        }
      /* Over the limit, the connections waiting longest for their request make room. */
      /* Those already given up on are on their way out and count no more. */
      excess = alive > self->limits.max_connections ? alive - self->limits.max_connections : 0;
      if (excess > 0)
        {
          g_ptr_array_sort (waiting, compare_since);
          for (guint i = 0; i < MIN (excess, waiting->len); i++)
            conn_kill (self, waiting->pdata[i], now);
        }
      g_cond_wait_until (&self->stop_cond, &self->lock, g_get_monotonic_time () + G_USEC_PER_SEC / 10);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* libmicrohttpd does not say why it could not listen; binding a socket of our own does, so the
 * person learns which of the usual three it was. */
static const char *
bind_problem (const struct sockaddr *addr,
              socklen_t              len)
{
  int fd = socket (addr->sa_family, SOCK_STREAM, 0);
  int one = 1;
  int saved;

  if (fd < 0)
    return NULL;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, addr, len) == 0)
    {
      close (fd);
      return NULL;
    }
  saved = errno;
  close (fd);
  switch (saved)
    {
    case EADDRINUSE:
      return _("another program already uses that port; stop it or choose another port");
    case EADDRNOTAVAIL:
      return _("that address is not one of this machine's; use 127.0.0.1, 0.0.0.0 or one of its own");
    case EACCES:
      return _("ports below 1024 need root; choose a port from 1024 up and put a reverse proxy in front");
    default:
      return NULL;
    }
}

/* "HOST:PORT" or "[V6HOST]:PORT" into @addr. */
static gboolean
parse_listen (const char              *listen,
              struct sockaddr_storage *addr,
              socklen_t               *len,
              guint64                 *port)
{
  const char *colon = listen != NULL ? strrchr (listen, ':') : NULL;
  g_autofree char *host = NULL;
  char *end = NULL;

  if (colon == NULL || colon[1] == '\0')
    return FALSE;
  *port = g_ascii_strtoull (colon + 1, &end, 10);
  if (*end != '\0' || *port > 65535)
    return FALSE;
  memset (addr, 0, sizeof *addr);
  if (listen[0] == '[' && colon > listen && colon[-1] == ']')
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *) addr;

      host = g_strndup (listen + 1, (gsize) (colon - listen - 2));
      a->sin6_family = AF_INET6;
      a->sin6_port = htons ((guint16) *port);
      *len = sizeof *a;
      return inet_pton (AF_INET6, host, &a->sin6_addr) == 1;
    }
  else
    {
      struct sockaddr_in *a = (struct sockaddr_in *) addr;

      host = g_strndup (listen, (gsize) (colon - listen));
      a->sin_family = AF_INET;
      a->sin_port = htons ((guint16) *port);
      *len = sizeof *a;
      return inet_pton (AF_INET, *host == '\0' ? "0.0.0.0" : host, &a->sin_addr) == 1;
    }
}

KhHttpServer *
kh_http_server_start (KhServer            *server,
                      const char          *listen,
                      const KhHttpLimits  *limits,
                      guint16             *port,
                      GError             **error)
{
  KhHttpServer *self;
  struct sockaddr_storage addr;
  socklen_t addr_len = 0;
  guint64 p = 0;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO
                       | MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
  int listen_fd;

  if (!parse_listen (listen, &addr, &addr_len, &p))
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                   _("“%s” is not an address to listen on: write it as 127.0.0.1:8080 or [::]:8080."),
                   listen ? listen : "");
      return NULL;
    }
  /* The gate accepts, speaks TLS when asked, checks each request and hands libmicrohttpd one
   * end of a socket pair per connection (kh-server-gate.c). */
  listen_fd = kh_http_gate_listen ((struct sockaddr *) &addr, addr_len);
  if (listen_fd < 0)
    {
      const char *why = bind_problem ((struct sockaddr *) &addr, addr_len);

      if (why != NULL)
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("Cannot listen on %s: %s."), listen, why);
      else
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("Cannot listen on %s (is the port in use?)."), listen);
      return NULL;
    }
  self = g_new0 (KhHttpServer, 1);
  self->server = g_object_ref (server);
  self->limits = *limits;
  self->limits.trusted_proxies = g_strdupv (limits->trusted_proxies);
  self->limits.tls_cert = g_strdup (limits->tls_cert);
  self->limits.tls_key = g_strdup (limits->tls_key);
  g_mutex_init (&self->lock);
  g_cond_init (&self->stop_cond);
  self->conns = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) conn_free);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->daemon = MHD_start_daemon (flags, 0, policy_cb, self, access_cb, self,
                                   MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) limits->threads,
                                   MHD_OPTION_CONNECTION_LIMIT,
                                   (unsigned int) limits->max_connections + RESERVE_CONNECTIONS,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) limits->request_seconds,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
                                   MHD_OPTION_NOTIFY_COMPLETED, completed_cb, self,
                                   MHD_OPTION_NOTIFY_CONNECTION, connection_cb, self,
                                   MHD_OPTION_END);
  if (self->daemon == NULL)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                   _("Cannot listen on %s (is the port in use?)."), listen);
      close (listen_fd);
      kh_http_server_stop (self);
      return NULL;
    }
  {
    gsize len;
    g_autoptr(json_object) body = kh_codec_error_to_json (KH_SYNC_ERROR_TIMEOUT,
                                                          _("The request took too long to arrive."));
    const char *text = kh_codec_to_string (body, &len);

    self->late_answer = g_strdup_printf ("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
                                         "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", (size_t) len, text);
  }
  self->watchdog = g_thread_new ("kh-http-watchdog", watchdog_thread, self);
  {
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    KhHttpGateHooks hooks = {
      gate_admit, gate_release, gate_hand, self,
      limits->max_connections + RESERVE_CONNECTIONS, limits->max_connections,
      limits->request_seconds, limits->tls_cert, limits->tls_key,
    };

    if (port != NULL)
      {
        *port = (guint16) p;
        if (getsockname (listen_fd, (struct sockaddr *) &bound, &bound_len) == 0)
          *port = ntohs (bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
                                                     : ((struct sockaddr_in *) &bound)->sin_port);
      }
    self->gate = kh_http_gate_start (listen_fd, &hooks);
    if (self->gate == NULL)
      {
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("Cannot listen on %s: is the port in use, or the certificate or key not valid PEM?"),
                     listen);
        close (listen_fd);
        kh_http_server_stop (self);
        return NULL;
      }
  }
  return self;
}

guint
kh_http_server_get_connections (KhHttpServer *self)
{
  return (guint) MAX (g_atomic_int_get (&self->connections), 0);
}

guint
kh_http_server_get_in_flight (KhHttpServer *self)
{
  return (guint) MAX (g_atomic_int_get (&self->requests), 0);
}

gboolean
kh_http_server_drain (KhHttpServer *self,
                      int           seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  g_atomic_int_set (&self->draining, 1);
  while (g_atomic_int_get (&self->requests) > 0)
    {
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (5000);
    }
  return TRUE;
}

void
kh_http_server_stop (KhHttpServer *self)
{
  if (self == NULL)
    return;
  if (self->watchdog != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->stop_cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->watchdog);
    }
  kh_http_gate_stop (self->gate);
  if (self->daemon != NULL)
    MHD_stop_daemon (self->daemon);
  g_hash_table_unref (self->conns);
  g_hash_table_unref (self->per_address);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->stop_cond);
  g_strfreev (self->limits.trusted_proxies);
  g_free ((char *) self->limits.tls_cert);
  g_free ((char *) self->limits.tls_key);
  g_free (self->late_answer);
  g_object_unref (self->server);
  g_free (self);
}
