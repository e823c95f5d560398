/* kh-server-http.c: the HTTP front of the server
 *
 * Every answer, including every refusal, is a JSON body (PROTOCOL.md §1). Bodies are read
 * into memory up to the size limit, gunzipped up to the inflated limit, parsed with the
 * depth limit, decoded strictly by the codec, and only then handed to the core.
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

#include "kh-server-http.h"
#include "kh-server-metrics.h"
#include "kh-uuid.h"

#define LOGIN_ACCOUNT_LIMIT  5
#define LOGIN_ADDRESS_LIMIT  20
#define LOGIN_WINDOW_SECONDS (15 * 60)
#define LOGIN_MAX_WAIT       300

struct _KhHttpServer
{
  KhServer          *server;
  struct MHD_Daemon *daemon;
  KhHttpLimits       limits;
  gint               connections;
  gint               in_flight;       /* requests between their first byte and their answer */
  gint               draining;        /* stopping: new requests are answered 503 */
  GMutex             login_lock;
  GHashTable        *login_failures;  /* "u:name" or "a:address" → Failures */
};

typedef struct
{
  int    count;
  gint64 last;     /* monotonic seconds */
} Failures;

typedef struct
{
  GByteArray *body;
  gboolean    too_large;
  gint64      started;
  const char *endpoint;   /* for the metrics and the request log */
  char       *user;
  unsigned    status;
} Request;

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

static enum MHD_Result
send_text (struct MHD_Connection *c,
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
  ret = MHD_queue_response (c, status, response);
  MHD_destroy_response (response);
  if (current_request != NULL)
    current_request->status = status;
  return ret;
}

static enum MHD_Result
send_json (struct MHD_Connection *c,
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

static enum MHD_Result
send_error (struct MHD_Connection *c,
            KhSyncError            code,
            const char            *message,
            int                    retry_after)
{
  return send_json (c, (unsigned int) kh_sync_error_http_status (code),
                    kh_codec_error_to_json (code, message), retry_after);
}

/* A GError from the core or a backend, as the protocol's error. */
static enum MHD_Result
send_gerror (struct MHD_Connection *c,
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
      bytes = inflate_body (data, len, self->limits.max_inflated, error);
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

static KhServerUser *
authenticate (KhHttpServer          *self,
              struct MHD_Connection *c,
              GError               **error)
{
  const char *auth = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Log in first: this request needs a token."));
      return NULL;
    }
  return kh_server_authenticate (self->server, auth + 7, error);
}

static gboolean
parse_limit (struct MHD_Connection  *c,
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

/* Slowing failed logins ------------------------------------------------------------------------ */

static int
login_wait (KhHttpServer *self,
            const char   *key,
            int           threshold)
{
  Failures *f = g_hash_table_lookup (self->login_failures, key);
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;
  gint64 wait;

  if (f == NULL)
    return 0;
  if (now - f->last > LOGIN_WINDOW_SECONDS)
    {
      g_hash_table_remove (self->login_failures, key);
      return 0;
    }
  if (f->count < threshold)
    return 0;
  wait = MIN ((gint64) 1 << MIN (f->count - threshold + 1, 20), LOGIN_MAX_WAIT);
  return (int) MAX (f->last + wait - now, 0);
}

static void
login_failed (KhHttpServer *self,
              const char   *key)
{
  Failures *f = g_hash_table_lookup (self->login_failures, key);

  if (f == NULL)
    {
      f = g_new0 (Failures, 1);
      g_hash_table_insert (self->login_failures, g_strdup (key), f);
    }
  f->count++;
  f->last = g_get_monotonic_time () / G_USEC_PER_SEC;
}

static char *
client_address (struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *info = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  char buf[INET6_ADDRSTRLEN] = "unknown";

  if (info != NULL && info->client_addr != NULL)
    {
      if (info->client_addr->sa_family == AF_INET)
        inet_ntop (AF_INET, &((const struct sockaddr_in *) info->client_addr)->sin_addr, buf, sizeof buf);
      else if (info->client_addr->sa_family == AF_INET6)
        inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) info->client_addr)->sin6_addr, buf, sizeof buf);
    }
  return g_strdup (buf);
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
  g_autofree char *address = client_address (c);
  g_autofree char *ukey = NULL;
  g_autofree char *akey = g_strdup_printf ("a:%s", address);
  int wait;

  if (body == NULL)
    return send_gerror (c, error);
  login = kh_login_request_from_json (body, &error);
  if (login == NULL)
    return send_gerror (c, error);
  ukey = g_strdup_printf ("u:%s", login->username);

  g_mutex_lock (&self->login_lock);
  wait = MAX (login_wait (self, ukey, LOGIN_ACCOUNT_LIMIT), login_wait (self, akey, LOGIN_ADDRESS_LIMIT));
  g_mutex_unlock (&self->login_lock);
  if (wait > 0)
    return send_error (c, KH_SYNC_ERROR_RATE_LIMITED,
                       _("Too many failed logins: wait a little before trying again."), wait);

  user = kh_server_login (self->server, login->username, login->password, &token, &error);
  if (user == NULL)
    {
      if (g_error_matches (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
        {
          g_mutex_lock (&self->login_lock);
          login_failed (self, ukey);
          login_failed (self, akey);
          g_mutex_unlock (&self->login_lock);
        }
      return send_gerror (c, error);
    }
  g_mutex_lock (&self->login_lock);
  g_hash_table_remove (self->login_failures, ukey);
  g_mutex_unlock (&self->login_lock);

  response = kh_login_response_new ();
  response->token = g_steal_pointer (&token);
  response->username = g_strdup (user->username);
  response->role = g_strdup (user->role);
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
  if (page == NULL)
    return send_gerror (c, error);
  return send_text (c, MHD_HTTP_OK, page->str, page->len, 0);
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
  if (answer == NULL)
    return send_gerror (c, error);
  return send_text (c, MHD_HTTP_OK, answer->str, answer->len, 0);
}

static enum MHD_Result
dispatch (KhHttpServer          *self,
          struct MHD_Connection *c,
          const char            *url,
          const char            *method,
          Request               *req)
{
  static const struct { const char *path; const char *method; gboolean auth; } routes[] = {
    { "/v1/health", "GET", FALSE },
    { "/v1/login", "POST", FALSE },
    { "/v1/changes", "GET", TRUE },
    { "/v1/push", "POST", TRUE },
    { "/v1/integrity", "GET", TRUE },
    { "/v1/integrity/ids", "GET", TRUE },
    { "/v1/records", "POST", TRUE },
    { "/v1/integrity/buckets", "GET", TRUE },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServerUser) user = NULL;
  int route = -1;

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    if (strcmp (url, routes[i].path) == 0)
      route = (int) i;
  if (route < 0)
    return send_error (c, KH_SYNC_ERROR_NOT_FOUND, _("There is no such endpoint."), 0);
  if (strcmp (method, routes[route].method) != 0)
    return send_json (c, 405, kh_codec_error_to_json (KH_SYNC_ERROR_NOT_FOUND,
                                                      _("This endpoint does not take that method.")), 0);
  if (routes[route].auth)
    {
      user = authenticate (self, c, &error);
      if (user == NULL)
        return send_gerror (c, error);
      req->user = g_strdup (user->username);
    }
  switch (route)
    {
    case 0: return handle_health (self, c);
    case 1: return handle_login (self, c, req);
    case 2: return handle_changes (self, c, user);
    case 3: return handle_push (self, c, req, user);
    case 4: return handle_integrity (self, c, user);
    case 5: return handle_integrity_ids (self, c, user);
    case 6: return handle_records (self, c, req, user);
    case 7: return handle_integrity_buckets (self, c, user);
    default: g_assert_not_reached ();
    }
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
      const char *length = MHD_lookup_connection_value (c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

      req = g_new0 (Request, 1);
      req->body = g_byte_array_new ();
      req->started = g_get_monotonic_time ();
      req->endpoint = kh_server_metrics_endpoint (url);
      *con_cls = req;
      current_request = req;
      g_atomic_int_inc (&self->in_flight);
      if (g_atomic_int_get (&self->draining))
        return send_error (c, KH_SYNC_ERROR_BUSY, _("The server is restarting; try again shortly."), 1);
      if ((guint) g_atomic_int_get (&self->connections) > self->limits.max_connections)
        return send_error (c, KH_SYNC_ERROR_BUSY, _("The server has too many connections; try again shortly."), 1);
      /* Refuse an announced oversized body before it is sent (curl waits for 100-continue). */
      if (length != NULL && g_ascii_strtoull (length, NULL, 10) > self->limits.max_body)
        return send_error (c, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."), 0);
      return MHD_YES;
    }

  if (*upload_data_size > 0)
    {
      if (!req->too_large && req->body->len + *upload_data_size > self->limits.max_body)
        {
          req->too_large = TRUE;
          g_byte_array_set_size (req->body, 0);
        }
      if (!req->too_large)
        g_byte_array_append (req->body, (const guint8 *) upload_data, (guint) *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (req->too_large)
    return send_error (c, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."), 0);
  if (g_get_monotonic_time () - req->started > (gint64) self->limits.request_seconds * G_USEC_PER_SEC)
    return send_error (c, KH_SYNC_ERROR_TIMEOUT, _("The request took too long to arrive."), 0);
  return dispatch (self, c, url, method, req);
}

static void
completed_cb (void                            *cls,
              struct MHD_Connection           *c,
              void                           **con_cls,
              enum MHD_RequestTerminationCode  toe)
{
  KhHttpServer *self = cls;
  Request *req = *con_cls;

  if (req == NULL)
    return;
  if (current_request == req)
    current_request = NULL;
  kh_server_metrics_request (req->endpoint, req->user, req->status, g_get_monotonic_time () - req->started);
  g_atomic_int_add (&self->in_flight, -1);
  g_free (req->user);
  g_byte_array_unref (req->body);
  g_free (req);
  *con_cls = NULL;
}

static void
connection_cb (void                              *cls,
               struct MHD_Connection             *c,
               void                             **socket_context,
               enum MHD_ConnectionNotificationCode toe)
{
  KhHttpServer *self = cls;

  if (toe == MHD_CONNECTION_NOTIFY_STARTED)
    g_atomic_int_inc (&self->connections);
  else
    g_atomic_int_add (&self->connections, -1);
}

/* libmicrohttpd does not say why it could not listen; binding a socket of our own does, so the
 * person learns which of the usual three it was. */
static const char *
bind_problem (const struct sockaddr_in *addr)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  int one = 1;
  int saved;

  if (fd < 0)
    return NULL;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (const struct sockaddr *) addr, sizeof *addr) == 0)
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

KhHttpServer *
kh_http_server_start (KhServer            *server,
                      const char          *listen,
                      const KhHttpLimits  *limits,
                      guint16             *port,
                      GError             **error)
{
  KhHttpServer *self;
  struct sockaddr_in addr = { 0 };
  g_autofree char *host = NULL;
  const char *colon = listen != NULL ? strrchr (listen, ':') : NULL;
  char *end = NULL;
  guint64 p;
  const union MHD_DaemonInfo *info;

  if (colon == NULL)
    goto bad;
  host = g_strndup (listen, (gsize) (colon - listen));
  p = g_ascii_strtoull (colon + 1, &end, 10);
  if (*end != '\0' || p > 65535 || colon[1] == '\0')
    goto bad;
  addr.sin_family = AF_INET;
  addr.sin_port = htons ((guint16) p);
  if (inet_pton (AF_INET, *host == '\0' ? "0.0.0.0" : host, &addr.sin_addr) != 1)
    goto bad;

  self = g_new0 (KhHttpServer, 1);
  self->server = g_object_ref (server);
  self->limits = *limits;
  g_mutex_init (&self->login_lock);
  self->login_failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                                   | MHD_USE_TURBO | MHD_USE_SUPPRESS_DATE_NO_CLOCK,
                                   0, NULL, NULL, access_cb, self,
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                                   MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) limits->threads,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int) limits->max_connections + 64,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) limits->request_seconds,
                                   MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
                                   MHD_OPTION_NOTIFY_COMPLETED, completed_cb, self,
                                   MHD_OPTION_NOTIFY_CONNECTION, connection_cb, self,
                                   MHD_OPTION_END);
  if (self->daemon == NULL)
    {
      const char *why = bind_problem (&addr);

      if (why != NULL)
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("Cannot listen on %s: %s."), listen, why);
      else
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("Cannot listen on %s (is the port in use?)."), listen);
      kh_http_server_stop (self);
      return NULL;
    }
  info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (port != NULL)
    *port = info != NULL ? info->port : (guint16) p;
  return self;

bad:
  g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
               _("“%s” is not an address to listen on: write it as 127.0.0.1:8080."), listen ? listen : "");
  return NULL;
}

guint
kh_http_server_get_connections (KhHttpServer *self)
{
  return (guint) MAX (g_atomic_int_get (&self->connections), 0);
}

guint
kh_http_server_get_in_flight (KhHttpServer *self)
{
  return (guint) MAX (g_atomic_int_get (&self->in_flight), 0);
}

gboolean
kh_http_server_drain (KhHttpServer *self,
                      int           seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  g_atomic_int_set (&self->draining, 1);
  while (g_atomic_int_get (&self->in_flight) > 0)
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
  if (self->daemon != NULL)
    MHD_stop_daemon (self->daemon);
  g_hash_table_unref (self->login_failures);
  g_mutex_clear (&self->login_lock);
  g_object_unref (self->server);
  g_free (self);
}
