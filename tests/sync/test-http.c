/* test-http.c: the sync engine's HTTP client against a small server inside the test
 *
 * The engine's tests reach kh-http.c only through the real server, which always answers well.
 * Here a server on 127.0.0.1 answers exactly what each test sets (any status, any encoding,
 * nonsense, nothing at all) and keeps what the client sent, so each promise of kh-http.c is
 * checked by itself: the token and the compression it sends, the answers it decodes, the
 * counters, the errors each failure becomes, the size limit and a prompt cancel.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "kh-codec.h"
#include "kh-http-private.h"
#include "kh-test-http-server.h"

/* Compression, independent of kh-http.c's ------------------------------------------------------ */

static GBytes *
gzip (const void *data,
      gsize       len)
{
  z_stream z = { 0 };
  gsize cap = compressBound (len) + 64;
  guint8 *out = g_malloc (cap);

  g_assert_cmpint (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), ==, Z_OK);
  z.next_in = (Bytef *) data;
  z.avail_in = len;
  z.next_out = out;
  z.avail_out = cap;
  g_assert_cmpint (deflate (&z, Z_FINISH), ==, Z_STREAM_END);
  cap = z.total_out;
  deflateEnd (&z);
  return g_bytes_new_take (out, cap);
}

static GBytes *
gunzip (GBytes *compressed)
{
  z_stream z = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize len;
  const guint8 *data = g_bytes_get_data (compressed, &len);
  guint8 buf[4096];
  int rc;

  /* 15 + 16: gzip only, not zlib or raw deflate, so the header has to be the one it claims. */
  g_assert_cmpint (inflateInit2 (&z, 15 + 16), ==, Z_OK);
  z.next_in = (Bytef *) data;
  z.avail_in = len;
  do
    {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      rc = inflate (&z, Z_NO_FLUSH);
      g_assert_true (rc == Z_OK || rc == Z_STREAM_END);
      g_byte_array_append (out, buf, sizeof buf - z.avail_out);
    }
  while (rc != Z_STREAM_END);
  g_assert_cmpuint (z.avail_in, ==, 0);
  inflateEnd (&z);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static GBytes *
zstd (const void *data,
      gsize       len)
{
  gsize cap = ZSTD_compressBound (len);
  guint8 *out = g_malloc (cap);
  size_t n = ZSTD_compress (out, cap, data, len, 3);

  g_assert_false (ZSTD_isError (n));
  return g_bytes_new_take (out, n);
}

/* The client ------------------------------------------------------------------------------- */

static KhHttpOptions
options (void)
{
  KhHttpOptions o = {
    .connect_timeout = 5,
    .low_speed_time = 20,
    .max_attempts = 1,
    .backoff_base = 0.01,
    .backoff_max = 0.02,
    .max_body = 1 << 20,
    .ca_file = NULL,
  };

  return o;
}

static KhHttp *
client (TestServer *s)
{
  KhHttpOptions o = options ();

  return kh_http_new (s->base, &o);
}

/* {"n": @n, "pad": "@pad spaces"}: a JSON object of about the size asked. */
static json_object *
object_with (int   n,
             gsize pad)
{
  json_object *o = json_object_new_object ();
  g_autofree char *spaces = g_strnfill (pad, ' ');

  json_object_object_add (o, "n", json_object_new_int (n));
  json_object_object_add (o, "pad", json_object_new_string (spaces));
  return o;
}

static int
get_n (json_object *o)
{
  json_object *n = NULL;

  g_assert_nonnull (o);
  g_assert_true (json_object_object_get_ex (o, "n", &n));
  return json_object_get_int (n);
}

/* Tests ------------------------------------------------------------------------------------ */

/* The token goes in a bearer header, and only while one is set; the base URL's trailing slash
 * does not double. */
static void
test_token (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autofree char *base = g_strconcat (s->base, "//", NULL);
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = kh_http_new (base, &o);
  g_autoptr(GError) error = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *accept = NULL;
  json_object *answer;

  test_server_answer_text (s, 200, "{\"n\":5}");
  kh_http_set_token (http, "tok-123.abc");
  answer = kh_http_request (http, "GET", "/v1/ping", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (get_n (answer), ==, 5);
  json_object_put (answer);
  g_assert_true (g_str_has_prefix (s->head, "GET /v1/ping HTTP/1.1\r\n"));
  auth = test_server_header (s->head, "Authorization");
  g_assert_cmpstr (auth, ==, "Bearer tok-123.abc");
  accept = test_server_header (s->head, "Accept-Encoding");
  g_assert_cmpstr (accept, ==, "zstd, gzip");
  g_assert_cmpuint (g_bytes_get_size (s->body), ==, 0);

  g_clear_pointer (&auth, g_free);
  kh_http_set_token (http, NULL);
  answer = kh_http_request (http, "DELETE", "/v1/session", NULL, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);
  g_assert_true (g_str_has_prefix (s->head, "DELETE /v1/session HTTP/1.1\r\n"));
  auth = test_server_header (s->head, "Authorization");
  g_assert_null (auth);
}

/* A small body goes as it is; a larger one in gzip, saying so, and it inflates to the same
 * JSON text. */
static void
test_request_body (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(KhHttp) http = client (s);
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) small = object_with (1, 10);
  g_autoptr(json_object) large = object_with (2, 5000);
  g_autofree char *encoding = NULL;
  g_autofree char *type = NULL;
  g_autoptr(GBytes) inflated = NULL;
  const char *text;
  gsize len;
  json_object *answer;

  test_server_answer_text (s, 200, "{\"n\":0}");
  answer = kh_http_request (http, "POST", "/v1/push", small, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);
  g_assert_true (g_str_has_prefix (s->head, "POST /v1/push HTTP/1.1\r\n"));
  type = test_server_header (s->head, "Content-Type");
  g_assert_cmpstr (type, ==, "application/json");
  encoding = test_server_header (s->head, "Content-Encoding");
  g_assert_null (encoding);
  text = kh_codec_to_string (small, &len);
  g_assert_cmpmem (g_bytes_get_data (s->body, NULL), g_bytes_get_size (s->body), text, len);

  answer = kh_http_request (http, "POST", "/v1/push", large, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);
  g_clear_pointer (&encoding, g_free);
  encoding = test_server_header (s->head, "Content-Encoding");
  g_assert_cmpstr (encoding, ==, "gzip");
  text = kh_codec_to_string (large, &len);
  /* Compressed, it is far smaller than the 5 kB of spaces. */
  g_assert_cmpuint (g_bytes_get_size (s->body), <, len / 10);
  inflated = gunzip (s->body);
  g_assert_cmpmem (g_bytes_get_data (inflated, NULL), g_bytes_get_size (inflated), text, len);
}

/* Answers in gzip and in zstd are decoded, errors included; a body that does not decode as it
 * says is an error. */
static void
test_answer_encodings (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(KhHttp) http = client (s);
  g_autoptr(json_object) big = object_with (7, 3000);
  gsize len;
  const char *text = kh_codec_to_string (big, &len);
  const char *forbidden = "{\"error\":{\"code\":\"forbidden\",\"message\":\"Not yours.\"}}";
  struct
  {
    const char *header;
    GBytes *(*compress) (const void *, gsize);
  } encodings[] = {
    { "Content-Encoding: gzip\r\n", gzip },
    { "Content-Encoding: zstd\r\n", zstd },
    { "Content-Encoding: ZSTD\r\n", zstd },
  };

  for (guint i = 0; i < G_N_ELEMENTS (encodings); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) packed = encodings[i].compress (text, len);
      g_autoptr(GBytes) packed_error = encodings[i].compress (forbidden, strlen (forbidden));
      json_object *answer;

      test_server_answer (s, 200, encodings[i].header, g_bytes_get_data (packed, NULL),
                          g_bytes_get_size (packed));
      answer = kh_http_request (http, "GET", "/v1/changes", NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (get_n (answer), ==, 7);
      g_assert_true (json_object_equal (answer, big));
      json_object_put (answer);

      test_server_answer (s, 403, encodings[i].header, g_bytes_get_data (packed_error, NULL),
                          g_bytes_get_size (packed_error));
      answer = kh_http_request (http, "GET", "/v1/changes", NULL, NULL, &error);
      g_assert_null (answer);
      g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN);
      g_assert_cmpstr (error->message, ==, "Not yours.");
      g_clear_error (&error);

      /* Plain JSON that claims to be compressed. */
      test_server_answer (s, 200, encodings[i].header, text, len);
      answer = kh_http_request (http, "GET", "/v1/changes", NULL, NULL, &error);
      g_assert_null (answer);
      g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
      g_assert_cmpstr (error->message, ==,
                       "The server's answer is cut short or badly compressed; nothing was changed.");
      g_clear_error (&error);

      /* Cut short: the first half of the compressed bytes. */
      test_server_answer (s, 200, encodings[i].header, g_bytes_get_data (packed, NULL),
                          g_bytes_get_size (packed) / 2);
      answer = kh_http_request (http, "GET", "/v1/changes", NULL, NULL, &error);
      g_assert_null (answer);
      g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
    }
}

/* The counters count every try and exactly the bytes that crossed the socket. */
static void
test_counters (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(KhHttp) http = client (s);
  g_autoptr(json_object) large = object_with (3, 4000);
  g_autoptr(GBytes) packed = NULL;
  g_autoptr(GError) error = NULL;
  const KhHttpCounters *c = kh_http_get_counters (http);
  const char *text;
  gsize len;
  json_object *answer;

  g_assert_cmpuint (c->requests, ==, 0);
  g_assert_cmpuint (c->bytes_sent, ==, 0);
  g_assert_cmpuint (c->bytes_received, ==, 0);

  /* A compressed answer: bytes_received counts what came, not what it inflated to. */
  text = kh_codec_to_string (large, &len);
  packed = gzip (text, len);
  test_server_answer (s, 200, "Content-Encoding: gzip\r\n", g_bytes_get_data (packed, NULL),
                      g_bytes_get_size (packed));
  kh_http_set_token (http, "secret");
  answer = kh_http_request (http, "GET", "/v1/a", NULL, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);
  answer = kh_http_request (http, "POST", "/v1/b", large, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);

  g_assert_cmpuint (c->requests, ==, 2);
  g_assert_cmpuint (c->retries, ==, 0);
  g_assert_cmpuint (test_server_requests (s), ==, 2);
  g_assert_cmpuint (c->bytes_received, ==, s->bytes_out);
  g_assert_cmpuint (c->bytes_received, <, 2 * len);
  g_assert_cmpuint (c->bytes_sent, ==, s->bytes_in);
}

/* Failures that may pass are tried again, each try counted, and the server's Retry-After is
 * waited for; a refusal (4xx) is not tried again. */
static void
test_retries (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(GError) error = NULL;
  const KhHttpCounters *c;
  gint64 start;

  o.max_attempts = 3;
  http = kh_http_new (s->base, &o);
  c = kh_http_get_counters (http);

  test_server_answer_text (s, 500, "");
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INTERNAL);
  g_clear_error (&error);
  g_assert_cmpuint (test_server_requests (s), ==, 3);
  g_assert_cmpuint (c->requests, ==, 3);
  g_assert_cmpuint (c->retries, ==, 2);

  test_server_answer_text (s, 401, "");
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_cmpuint (test_server_requests (s), ==, 4);
  g_assert_cmpuint (c->requests, ==, 4);
  g_assert_cmpuint (c->retries, ==, 2);

  /* Retry-After: 1 is far above the 20 ms backoff; two tries take at least that second. */
  o.max_attempts = 2;
  g_clear_pointer (&http, kh_http_free);
  http = kh_http_new (s->base, &o);
  test_server_answer (s, 503, "Retry-After: 1\r\n", "", 0);
  start = g_get_monotonic_time ();
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BUSY);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpuint (test_server_requests (s), ==, 6);
}

/* Each status without the server's words becomes its protocol error and says the status; with
 * them, the server's code and message. */
static void
test_status_errors (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(KhHttp) http = client (s);
  struct
  {
    int          status;
    const char  *body;
    KhSyncError  code;
    const char  *message;
  } cases[] = {
    { 401, "", KH_SYNC_ERROR_UNAUTHORIZED, "The server answered with HTTP status 401." },
    { 403, "", KH_SYNC_ERROR_FORBIDDEN, "The server answered with HTTP status 403." },
    { 404, "<html>Not Found</html>", KH_SYNC_ERROR_NOT_FOUND,
      "The server answered with HTTP status 404." },
    { 409, "", KH_SYNC_ERROR_INVALID, "The server answered with HTTP status 409." },
    { 500, "", KH_SYNC_ERROR_INTERNAL, "The server answered with HTTP status 500." },
    { 503, "", KH_SYNC_ERROR_BUSY, "The server answered with HTTP status 503." },
    { 401, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"Sign in again.\"}}",
      KH_SYNC_ERROR_UNAUTHORIZED, "Sign in again." },
    { 403, "{\"error\":{\"code\":\"out_of_scope\",\"message\":\"Not in your commune.\"}}",
      KH_SYNC_ERROR_OUT_OF_SCOPE, "Not in your commune." },
    { 409, "{\"error\":{\"code\":\"epoch_changed\",\"message\":\"Start over.\"}}",
      KH_SYNC_ERROR_EPOCH_CHANGED, "Start over." },
    { 503, "{\"error\":{\"code\":\"busy\",\"message\":\"Later.\"}}", KH_SYNC_ERROR_BUSY, "Later." },
    /* A code this client does not know yet. */
    { 400, "{\"error\":{\"code\":\"martian\",\"message\":\"Odd.\"}}", KH_SYNC_ERROR_INTERNAL,
      "Odd." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      test_server_answer_text (s, cases[i].status, cases[i].body);
      g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
      g_assert_error (error, KH_SYNC_ERROR, (int) cases[i].code);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

/* No server on the port: a network error naming the server, tried again like any such. */
static void
test_refused (void)
{
  int port;
  g_autoptr(GSocket) closed = test_server_bind_local (&port, FALSE);
  g_autofree char *base = g_strdup_printf ("http://127.0.0.1:%d", port);
  g_autofree char *prefix = g_strdup_printf ("Could not reach the server at %s: ", base);
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(GError) error = NULL;

  /* Bound but not listening: a connection is refused, and no one else can take the port. */
  o.max_attempts = 2;
  http = kh_http_new (base, &o);
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_cmpuint (strlen (error->message), >, strlen (prefix));
  g_assert_cmpuint (kh_http_get_counters (http)->requests, ==, 2);
  g_assert_cmpuint (kh_http_get_counters (http)->retries, ==, 1);
}

static gpointer
read_fail (const char  *text,
           gsize        len,
           gpointer     user_data,
           GError     **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no page here");
  return NULL;
}

static gpointer
read_copy (const char  *text,
           gsize        len,
           gpointer     user_data,
           GError     **error)
{
  *(gsize *) user_data = len;
  return g_strndup (text, len);
}

/* A 2xx answer that is not one JSON object is an error (tried again, since a cut connection
 * looks the same), and a reader's own failure is reported in its words. */
static void
test_bad_answers (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = NULL;
  const char *bodies[] = { "{\"n\":", "not json", "[1, 2]", "{\"n\":1} trailing", "\xff\xfe{}" };
  g_autoptr(GError) error = NULL;
  g_autofree char *copy = NULL;
  gsize len = 0;
  guint before;

  o.max_attempts = 2;
  http = kh_http_new (s->base, &o);
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      before = test_server_requests (s);
      test_server_answer_text (s, 200, bodies[i]);
      g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
      g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
      g_assert_true (g_str_has_prefix (error->message, "The server's answer could not be read ("));
      g_clear_error (&error);
      g_assert_cmpuint (test_server_requests (s), ==, before + 2);
    }

  test_server_answer_text (s, 200, "");
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
  g_assert_cmpstr (error->message, ==,
                   "The server's answer could not be read (it is empty); nothing was changed.");
  g_clear_error (&error);

  test_server_answer_text (s, 200, "{\"n\":1}");
  g_assert_null (kh_http_request_read (http, "GET", "/v1/x", NULL, read_fail, NULL, NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
  g_assert_cmpstr (error->message, ==,
                   "The server's answer could not be read (no page here); nothing was changed.");
  g_clear_error (&error);

  /* A reader gets the answer's text as it came, not only JSON objects. */
  test_server_answer_text (s, 200, "line one\nline two\n");
  copy = kh_http_request_read (http, "GET", "/v1/x", NULL, read_copy, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "line one\nline two\n");
  g_assert_cmpuint (len, ==, 18);
}

/* An answer over max_body is refused whether it comes plain or inflates to it; one exactly at
 * the limit is taken. */
static void
test_too_large (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(json_object) at_limit = NULL;
  g_autoptr(json_object) over = NULL;
  g_autoptr(json_object) bomb = object_with (9, 1 << 20);
  gsize len;
  const char *text;
  GBytes *(*compress[]) (const void *, gsize) = { gzip, zstd };
  const char *headers[] = { "Content-Encoding: gzip\r\n", "Content-Encoding: zstd\r\n" };

  o.max_body = 4096;
  o.max_attempts = 2;
  http = kh_http_new (s->base, &o);

  /* {"n":1,"pad":"…"} is 16 bytes around the padding. */
  at_limit = object_with (1, 4096 - 16);
  text = kh_codec_to_string (at_limit, &len);
  g_assert_cmpuint (len, ==, 4096);
  test_server_answer_text (s, 200, text);
  {
    g_autoptr(GError) error = NULL;
    json_object *answer = kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (get_n (answer), ==, 1);
    json_object_put (answer);
  }

  over = object_with (1, 4096 - 15);
  text = kh_codec_to_string (over, &len);
  g_assert_cmpuint (len, ==, 4097);
  test_server_answer_text (s, 200, text);
  {
    g_autoptr(GError) error = NULL;
    guint before = test_server_requests (s);

    g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
    g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE);
    g_assert_cmpstr (error->message, ==, "The server's answer is too large; nothing was changed.");
    /* Not tried again: the same answer would come. */
    g_assert_cmpuint (test_server_requests (s), ==, before + 1);
  }

  /* A megabyte of spaces packs into far less than the limit. */
  text = kh_codec_to_string (bomb, &len);
  for (guint i = 0; i < G_N_ELEMENTS (compress); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) packed = compress[i] (text, len);

      g_assert_cmpuint (g_bytes_get_size (packed), <, 4096);
      test_server_answer (s, 200, headers[i], g_bytes_get_data (packed, NULL),
                          g_bytes_get_size (packed));
      g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, NULL, &error));
      g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE);
    }
}

typedef struct
{
  TestServer   *server;
  GCancellable *cancellable;
  gint64        cancelled_at;
} Canceller;

/* Waits until the server holds the request, then cancels it. */
static gpointer
cancel_when_held (gpointer data)
{
  Canceller *c = data;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&c->server->lock);
  while (!c->server->holding && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&c->server->cond, &c->server->lock, deadline);
  g_mutex_unlock (&c->server->lock);
  /* A little later, so the client is waiting on the silent link, not still sending. */
  g_usleep (100 * 1000);
  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

/* A request the server never answers stops as soon as it is cancelled. Without the wake-up
 * the client would notice only at libcurl's next progress call (100 ms here, a second in other
 * versions); the fastest of three tries, so that a busy machine does not fail the test, has to
 * beat that clearly. */
static void
test_cancel (void)
{
  gint64 fastest = G_MAXINT64;

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(TestServer) s = test_server_new ();
      g_autoptr(KhHttp) http = client (s);
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(json_object) body = object_with (1, 10);
      Canceller c = { s, cancellable, 0 };
      GThread *thread;
      gint64 took;

      s->hold = TRUE;
      thread = g_thread_new ("test-http-cancel", cancel_when_held, &c);
      g_assert_null (kh_http_request (http, "POST", "/v1/push", body, cancellable, &error));
      took = g_get_monotonic_time ();
      g_thread_join (thread);
      took -= c.cancelled_at;
      g_assert_true (s->holding);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "The sync was cancelled.");
      g_assert_cmpint (took, <, G_USEC_PER_SEC / 2);
      g_assert_cmpuint (test_server_requests (s), ==, 1);
      fastest = MIN (fastest, took);
    }
  g_test_message ("the fastest cancel took %" G_GINT64_FORMAT " us", fastest);
  g_assert_cmpint (fastest, <, G_USEC_PER_SEC / 20);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (300 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

/* A cancel also ends the wait between two tries. */
static void
test_cancel_backoff (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  KhHttpOptions o = options ();
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *thread;
  gint64 start;

  o.max_attempts = 5;
  o.backoff_base = 30;
  o.backoff_max = 30;
  http = kh_http_new (s->base, &o);
  test_server_answer_text (s, 503, "");
  /* The first try is answered at once; the cancel comes while the client waits 15 to 30 s. */
  thread = g_thread_new ("test-http-cancel", cancel_later, cancellable);
  start = g_get_monotonic_time ();
  g_assert_null (kh_http_request (http, "GET", "/v1/x", NULL, cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_server_requests (s), ==, 1);
}

/* A cursor or an entity name reaches the server as one query value, whatever it holds. */
static void
test_escape (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(KhHttp) http = client (s);
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = kh_http_escape (http, "12:ab+/c=d&e?f#g%h i");
  g_autofree char *plain = kh_http_escape (http, "AZaz09-._~");
  g_autofree char *empty = kh_http_escape (http, "");
  g_autofree char *vietnamese = kh_http_escape (http, "Đức");
  g_autofree char *path = NULL;
  g_autofree char *line = NULL;
  json_object *answer;

  g_assert_cmpstr (cursor, ==, "12%3Aab%2B%2Fc%3Dd%26e%3Ff%23g%25h%20i");
  g_assert_cmpstr (plain, ==, "AZaz09-._~");
  g_assert_cmpstr (empty, ==, "");
  g_assert_cmpstr (vietnamese, ==, "%C4%90%E1%BB%A9c");

  path = g_strconcat ("/v1/changes?cursor=", cursor, "&limit=5", NULL);
  line = g_strdup_printf ("GET %s HTTP/1.1\r\n", path);
  test_server_answer_text (s, 200, "{\"n\":0}");
  answer = kh_http_request (http, "GET", path, NULL, NULL, &error);
  g_assert_no_error (error);
  json_object_put (answer);
  g_assert_true (g_str_has_prefix (s->head, line));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* A proxy from the environment would stand between the client and the test's server. */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

  g_test_add_func ("/http/token", test_token);
  g_test_add_func ("/http/request-body", test_request_body);
  g_test_add_func ("/http/answer-encodings", test_answer_encodings);
  g_test_add_func ("/http/counters", test_counters);
  g_test_add_func ("/http/retries", test_retries);
  g_test_add_func ("/http/status-errors", test_status_errors);
  g_test_add_func ("/http/refused", test_refused);
  g_test_add_func ("/http/bad-answers", test_bad_answers);
  g_test_add_func ("/http/too-large", test_too_large);
  g_test_add_func ("/http/cancel", test_cancel);
  g_test_add_func ("/http/cancel-backoff", test_cancel_backoff);
  g_test_add_func ("/http/escape", test_escape);
  return g_test_run ();
}
