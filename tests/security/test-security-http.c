/* test-security-http.c: the audit's probes of the server's HTTP front and accounts
 *
 * Against the real khuyenhoc-server on SQLite and (with KH_TEST_PG_URL) PostgreSQL: lock-out
 * by failed logins (per account and address, behind a trusted proxy, across a restart and in
 * parallel), slow and idle connections, bodies read before the token, login bodies and gzip
 * bombs, the answers libmicrohttpd would make itself, and tokens that expire. Clients pick
 * their address on the loopback network (127.0.0.2, 127.0.0.3, …) to be told apart.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <glib/gstdio.h>
#include <gnutls/gnutls.h>

#include "kh-test-server.h"

#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"
#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"

/* Helpers ---------------------------------------------------------------------------------- */

static KhTestServer *
serving (const char         *backend,
         const char * const *args)
{
  KhTestServer *s = kh_test_server_new (backend);

  if (s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set: no PostgreSQL to test against");
      return NULL;
    }
  kh_test_server_populate (s);
  kh_test_server_start (s, args);
  return s;
}

static void
done (KhTestServer *s)
{
  kh_test_server_stop (s);
  kh_test_server_free (s);
}

/* Runs @sql (no result) on the server's database, beside the server. */
static void
db_exec (KhTestServer *s,
         const char   *sql)
{
  if (g_strcmp0 (s->backend, "postgresql") == 0)
    {
      PGconn *conn = PQconnectdb (s->url);
      PGresult *res;

      g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
      res = PQexec (conn, sql);
      g_assert_cmpint (PQresultStatus (res), ==, PGRES_COMMAND_OK);
      PQclear (res);
      PQfinish (conn);
    }
  else
    {
      sqlite3 *db = NULL;

      g_assert_cmpint (sqlite3_open (s->url + strlen ("sqlite:"), &db), ==, SQLITE_OK);
      sqlite3_busy_timeout (db, 10000);
      g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (db);
    }
}

/* The two whole numbers of the first row of @sql (one parameter, @param) on the server's
 * database; FALSE when it has no row. */
static gboolean
db_row2 (KhTestServer *s,
         const char   *sql,
         const char   *param,
         gint64       *a,
         gint64       *b)
{
  gboolean found = FALSE;

  if (g_strcmp0 (s->backend, "postgresql") == 0)
    {
      PGconn *conn = PQconnectdb (s->url);
      const char *q = strchr (sql, '?');
      g_autofree char *pg_sql = NULL;
      PGresult *res;

      g_assert_nonnull (q);
      g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
      /* The one parameter, in PostgreSQL's way. */
      pg_sql = g_strdup_printf ("%.*s$1%s", (int) (q - sql), sql, q + 1);
      res = PQexecParams (conn, pg_sql, 1, NULL, &param, NULL, NULL, 0);
      g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
      if (PQntuples (res) > 0)
        {
          *a = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
          *b = g_ascii_strtoll (PQgetvalue (res, 0, 1), NULL, 10);
          found = TRUE;
        }
      PQclear (res);
      PQfinish (conn);
    }
  else
    {
      sqlite3 *db = NULL;
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_open (s->url + strlen ("sqlite:"), &db), ==, SQLITE_OK);
      sqlite3_busy_timeout (db, 10000);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_text (stmt, 1, param, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          *a = sqlite3_column_int64 (stmt, 0);
          *b = sqlite3_column_int64 (stmt, 1);
          found = TRUE;
        }
      sqlite3_finalize (stmt);
      sqlite3_close (db);
    }
  return found;
}

static size_t
append_cb (char   *data,
           size_t  size,
           size_t  n,
           void   *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

static CURL *
login_handle (KhTestServer *s,
              const char   *user,
              const char   *password,
              const char   *source,
              const char   *forwarded,
              GString      *out,
              char        **json_text)
{
  CURL *curl = curl_easy_init ();
  g_autofree char *url = g_strdup_printf ("%s/v1/login", s->base);
  json_object *body = json_object_new_object ();
  struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");

  json_object_object_add (body, "username", json_object_new_string (user));
  json_object_object_add (body, "password", json_object_new_string (password));
  *json_text = g_strdup (json_object_to_json_string (body));
  json_object_put (body);
  if (forwarded != NULL)
    {
      g_autofree char *h = g_strdup_printf ("X-Forwarded-For: %s", forwarded);

      headers = curl_slist_append (headers, h);
    }
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, *json_text);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_PRIVATE, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, append_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  if (source != NULL)
    curl_easy_setopt (curl, CURLOPT_INTERFACE, source);
  return curl;
}

static void
login_handle_free (CURL *curl)
{
  struct curl_slist *headers = NULL;

  curl_easy_getinfo (curl, CURLINFO_PRIVATE, (char **) &headers);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
}

/* A login of @user from the loopback address @source (NULL: 127.0.0.1), with an
 * X-Forwarded-For header when @forwarded is not NULL; the HTTP status. */
static long
login_from (KhTestServer *s,
            const char   *user,
            const char   *password,
            const char   *source,
            const char   *forwarded)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *json_text = NULL;
  CURL *curl = login_handle (s, user, password, source, forwarded, out, &json_text);
  long status = 0;

  g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  login_handle_free (curl);
  if (status == 429)
    g_assert_nonnull (strstr (out->str, "\"rate_limited\""));
  return status;
}

static long
wrong (KhTestServer *s,
       const char   *user,
       const char   *source,
       const char   *forwarded)
{
  return login_from (s, user, "not the password", source, forwarded);
}

static long
right (KhTestServer *s,
       const char   *user,
       const char   *source,
       const char   *forwarded)
{
  g_autofree char *password = g_strdup_printf ("password-%s", user);

  return login_from (s, user, password, source, forwarded);
}

/* The waits the failures so far earned start ten minutes later: on a loaded machine the
 * seconds between the last failure and the next try may pass a short wait, and what these
 * tests prove is which counts a failure raised, not how long their waits are. */
static void
hold_waits (KhTestServer *s)
{
  db_exec (s, "UPDATE login_failures SET last_at = last_at + 600");
}

/* A TCP connection to the server from the loopback address @source. */
static int
connect_from (KhTestServer *s,
              const char   *source)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((guint16) s->port) };

  g_assert_cmpint (fd, >=, 0);
  inet_pton (AF_INET, source, &from.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &from, sizeof from), ==, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &to, sizeof to), ==, 0);
  return fd;
}

static void
send_all (int         fd,
          const char *data,
          gsize       len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      g_assert_cmpint (n, >, 0);
      data += n;
      len -= (gsize) n;
    }
}

/* What the server sends on @fd within @ms milliseconds, until it closes. */
static GString *
read_for (int fd,
          int ms)
{
  GString *out = g_string_new (NULL);
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      char buf[4096];
      ssize_t n;

      if (left <= 0 || poll (&p, 1, (int) left) <= 0)
        break;
      n = recv (fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      g_string_append_len (out, buf, n);
    }
  return out;
}

#define SEND_TEXT(fd, literal) send_all ((fd), literal, sizeof literal - 1)

static const char * const plain[] = { "--threads", "4", NULL };

/* Lock-out --------------------------------------------------------------------------------- */

/* Five wrong passwords from one address made the right one fail from everywhere. */
static void
test_lockout_other_address (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);

  if (s == NULL)
    return;
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (wrong (s, "viewer_a", "127.0.0.2", NULL), ==, 401);
  hold_waits (s);
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.2", NULL), ==, 429);
  /* The person, elsewhere, is not locked out. */
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.3", NULL), ==, 200);
  done (s);
}

/* Behind a proxy every client shares its address: made-up names from one client must not lock
 * out the others, and only a proxy named in --trusted-proxy is believed. */
static void
test_lockout_behind_proxy (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--trusted-proxy", "127.0.0.1", NULL };
  KhTestServer *s = serving (data, args);

  if (s == NULL)
    return;
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("guess%d", i);

      g_assert_cmpint (wrong (s, name, "127.0.0.1", "10.0.0.66"), ==, 401);
    }
  hold_waits (s);
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "10.0.0.66"), ==, 429);
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "10.0.0.7"), ==, 200);
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "10.0.0.66"), ==, 429);
  /* A proxy of the client's own adds its hop on the left: the last untrusted one counts. */
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "10.0.0.8, 10.0.0.66"), ==, 429);

  /* An IPv6 /64 is one client: changing the address within it does not escape the count. */
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("guess%d", i);
      g_autofree char *address = g_strdup_printf ("2001:db8:0:7::%x", i + 1);

      g_assert_cmpint (wrong (s, name, "127.0.0.1", address), ==, 401);
    }
  hold_waits (s);
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "2001:db8:0:7::ffff"), ==, 429);
  g_assert_cmpint (right (s, "admin", "127.0.0.1", "2001:db8:0:8::1"), ==, 200);

  /* From an address that is no trusted proxy the header is ignored: changing it each time
   * does not escape the count. */
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *spoof = g_strdup_printf ("10.1.0.%d", i);

      g_assert_cmpint (wrong (s, "officer_a", "127.0.0.2", spoof), ==, 401);
    }
  hold_waits (s);
  g_assert_cmpint (right (s, "officer_a", "127.0.0.2", "10.1.0.99"), ==, 429);
  done (s);
}

/* One address behind which a colleague guesses names (an office's NAT): the officers signed
 * in from there on a device that still works are not locked out, the others wait. */
static void
test_lockout_shared_address (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);

  if (s == NULL)
    return;
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.9", NULL), ==, 200);
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("guess%d", i);

      g_assert_cmpint (wrong (s, name, "127.0.0.9", NULL), ==, 401);
    }
  hold_waits (s);
  g_assert_cmpint (right (s, "admin", "127.0.0.9", NULL), ==, 429);
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.9", NULL), ==, 200);
  /* Its own count still holds for that account: guessing its password stops at five. */
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (wrong (s, "viewer_a", "127.0.0.9", NULL), ==, 401);
  hold_waits (s);
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.9", NULL), ==, 429);
  done (s);
}

/* The counts are in the database: a restart keeps them, and a second server process on the
 * same database sees them. */
static void
test_lockout_shared (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  KhTestServer second;

  if (s == NULL)
    return;
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (wrong (s, "officer_b", "127.0.0.4", NULL), ==, 401);
  hold_waits (s);
  kh_test_server_kill (s, SIGTERM);
  kh_test_server_start (s, NULL);
  g_assert_cmpint (right (s, "officer_b", "127.0.0.4", NULL), ==, 429);

  for (int i = 0; i < 4; i++)
    g_assert_cmpint (wrong (s, "officer_a", "127.0.0.5", NULL), ==, 401);
  second = *s;
  second.base = NULL;
  second.serve_args = NULL;
  second.dir = g_build_filename (s->dir, "second", NULL);
  g_assert_cmpint (g_mkdir (second.dir, 0700), ==, 0);
  kh_test_server_start (&second, plain);
  g_assert_cmpint (wrong (&second, "officer_a", "127.0.0.5", NULL), ==, 401);
  hold_waits (s);
  g_assert_cmpint (right (&second, "officer_a", "127.0.0.5", NULL), ==, 429);
  g_assert_cmpint (right (s, "officer_a", "127.0.0.5", NULL), ==, 429);
  kh_test_server_stop (&second);
  g_free (second.base);
  g_strfreev (second.serve_args);
  g_free (second.dir);
  done (s);
}

/* 40 wrong logins at once for one account: at most the limit's worth are checked. Under a
 * heavy load the 40 may take longer than the wait after the fifth, which then lets one more
 * through, and so on, each wait twice the one before: what may pass is read from the server's
 * own count and clock (login_failures), never from how long the test thinks it took. */
static void
test_lockout_parallel (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  CURLM *multi = curl_multi_init ();
  CURL *handles[40];
  GString *outs[40];
  char *texts[40];
  int running = 0, checked = 0, limited = 0;
  gint64 start = g_get_real_time () / G_USEC_PER_SEC;
  gint64 failures = 0, last = 0, extra = 0;

  if (s == NULL)
    return;
  for (int i = 0; i < 40; i++)
    {
      outs[i] = g_string_new (NULL);
      handles[i] = login_handle (s, "officer_a", "not the password", "127.0.0.6", NULL, outs[i], &texts[i]);
      curl_multi_add_handle (multi, handles[i]);
    }
  do
    {
      curl_multi_perform (multi, &running);
      if (running > 0)
        curl_multi_poll (multi, NULL, 0, 1000, NULL);
    }
  while (running > 0);
  for (int i = 0; i < 40; i++)
    {
      long status = 0;

      curl_easy_getinfo (handles[i], CURLINFO_RESPONSE_CODE, &status);
      if (status == 401)
        checked++;
      else if (status == 429)
        limited++;
      curl_multi_remove_handle (multi, handles[i]);
      login_handle_free (handles[i]);
      g_string_free (outs[i], TRUE);
      g_free (texts[i]);
    }
  curl_multi_cleanup (multi);
  g_assert_cmpint (checked + limited, ==, 40);
  /* Every attempt checked was counted, under the lock, by the server. */
  g_assert_true (db_row2 (s, "SELECT failures, last_at FROM login_failures WHERE key = ?",
                          "u\n127.0.0.6\nofficer_a", &failures, &last));
  g_assert_cmpint (failures, ==, checked);
  /* The server's seconds: the first failure came at start or later, and the k-th attempt
   * past the limit only 2 + 4 + … + 2^k seconds after it. */
  while (((gint64) 1 << (extra + 2)) - 2 <= last - start)
    extra++;
  g_test_message ("%d of 40 checked, %d refused, over %" G_GINT64_FORMAT " s of the server's",
                  checked, limited, last - start);
  g_assert_cmpint (checked, <=, 5 + extra);
  done (s);
}

/* Bodies ---------------------------------------------------------------------------------- */

/* A request without a valid token is refused when its headers arrive, its body never read;
 * so is a login that announces more than a few KB. */
static void
test_token_before_body (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  int fd;
  g_autoptr(GString) reply = NULL;

  if (s == NULL)
    return;
  fd = connect_from (s, "127.0.0.2");
  SEND_TEXT (fd, "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer made-up\r\n"
                "Content-Type: application/json\r\nContent-Length: 8000000\r\n\r\n");
  reply = read_for (fd, 3000);
  close (fd);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 401"));
  g_assert_nonnull (strstr (reply->str, "\"unauthorized\""));

  fd = connect_from (s, "127.0.0.2");
  SEND_TEXT (fd, "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n");
  g_string_free (reply, TRUE);
  reply = read_for (fd, 3000);
  close (fd);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 413"));
  g_assert_nonnull (strstr (reply->str, "\"too_large\""));
  done (s);
}

/* A gzip bomb sent to login is refused without being inflated: 16 MiB of spaces, then a
 * login, in some 16 KB. */
static void
test_gzip_bomb (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autoptr(GByteArray) packed = g_byte_array_new ();
  z_stream z = { 0 };
  guint8 spaces[65536];
  guint8 out[65536];
  const char *tail = "{\"username\":\"admin\",\"password\":\"password-admin\"}";
  KhRequestOptions options = { NULL, "gzip", NULL };
  g_autoptr(KhReply) reply = NULL;
  gint64 start;

  if (s == NULL)
    return;
  memset (spaces, ' ', sizeof spaces);
  g_assert_cmpint (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
  for (int i = 0; i <= 256; i++)
    {
      gboolean last = i == 256;

      z.next_in = last ? (Bytef *) tail : spaces;
      z.avail_in = last ? (uInt) strlen (tail) : sizeof spaces;
      do
        {
          z.next_out = out;
          z.avail_out = sizeof out;
          deflate (&z, last ? Z_FINISH : Z_NO_FLUSH);
          g_byte_array_append (packed, out, sizeof out - z.avail_out);
        }
      while (z.avail_out == 0);
    }
  deflateEnd (&z);
  g_assert_cmpuint (packed->len, <, 4096 * 8);

  start = g_get_monotonic_time ();
  reply = kh_http (s, "POST", "/v1/login", (const char *) packed->data, packed->len, &options);
  g_assert_cmpint (reply->status, ==, 413);
  g_assert_nonnull (strstr (reply->body, "\"too_large\""));
  g_test_message ("refused in %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  done (s);
}

/* The bodies of all connections together stay under --max-body-memory: while one upload
 * holds most of it, another is answered busy, not buffered. */
static void
test_bodies_in_flight (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--max-body", "1048576", "--max-body-memory", "1500000", NULL };
  KhTestServer *s = serving (data, args);
  g_autofree char *token = NULL;
  g_autofree char *head = NULL;
  g_autofree char *filler = NULL;
  g_autoptr(KhReply) busy = NULL;
  KhRequestOptions options = { NULL, NULL, NULL };
  g_autoptr(GString) reply = NULL;
  int fd;

  if (s == NULL)
    return;
  token = kh_test_login (s, "officer_a", NULL);
  options.token = token;
  head = g_strdup_printf ("POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/json\r\nContent-Length: 1000010\r\n\r\n", token);
  filler = g_strnfill (1000000, ' ');
  fd = connect_from (s, "127.0.0.2");
  send_all (fd, head, strlen (head));
  send_all (fd, filler, 1000000);
  g_usleep (300000);

  busy = kh_http (s, "POST", "/v1/push", filler, 900000, &options);
  g_assert_cmpint (busy->status, ==, 503);
  g_assert_nonnull (strstr (busy->body, "\"busy\""));

  /* The first upload ends; its (empty) push is judged as usual. */
  SEND_TEXT (fd, "{\"x\":true}");
  reply = read_for (fd, 3000);
  close (fd);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 4"));
  done (s);
}

/* Slow and idle connections --------------------------------------------------------------- */

typedef struct
{
  int    fd;
  gint64 opened;
  int    sent;
} Slow;

/* Some hundred connections from 127.0.0.2 send their headers a byte at a time, and are
 * opened again when the server closes them; health checks and a login from 127.0.0.1 must
 * still answer, and every slow connection is closed by its deadline. */
static void
test_slow_headers (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--max-connections", "100", "--max-connections-per-address",
                                "1000", "--request-timeout", "2", NULL };
  static const char request[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaa"
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  enum { N = 300 };
  KhTestServer *s = serving (data, args);
  Slow slow[N];
  gint64 start, longest = 0;
  int checks = 0, answered = 0, closed = 0;

  if (s == NULL)
    return;
  start = g_get_monotonic_time ();
  for (int i = 0; i < N; i++)
    slow[i] = (Slow) { connect_from (s, "127.0.0.2"), g_get_monotonic_time (), 0 };
  while (g_get_monotonic_time () - start < 6 * G_USEC_PER_SEC)
    {
      g_autoptr(KhReply) health = NULL;
      gint64 asked;

      for (int i = 0; i < N; i++)
        {
          char buf[256];
          ssize_t n = recv (slow[i].fd, buf, sizeof buf, MSG_DONTWAIT);

          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            {
              /* Closed by the server: how long it was let live, and again. */
              longest = MAX (longest, g_get_monotonic_time () - slow[i].opened);
              closed++;
              close (slow[i].fd);
              slow[i] = (Slow) { connect_from (s, "127.0.0.2"), g_get_monotonic_time (), 0 };
              continue;
            }
          if (slow[i].sent < (int) sizeof request - 2
              && send (slow[i].fd, request + slow[i].sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            slow[i].sent++;
        }
      asked = g_get_monotonic_time ();
      health = kh_http_json (s, "GET", "/v1/health", NULL, NULL);
      checks++;
      if (health->status == 200 && g_get_monotonic_time () - asked < 3 * G_USEC_PER_SEC)
        answered++;
      g_usleep (200000);
    }
  /* Those still open count by their age: none may outlive its deadline (2 s) by much. */
  for (int i = 0; i < N; i++)
    longest = MAX (longest, g_get_monotonic_time () - slow[i].opened);
  g_test_message ("%d of %d health checks answered; %d slow connections closed, the longest "
                  "lived %" G_GINT64_FORMAT " ms", answered, checks, closed, longest / 1000);
  g_assert_cmpint (answered, ==, checks);
  g_assert_cmpint (closed, >=, N);
  g_assert_cmpint (longest, <, 4500000);
  g_assert_cmpint (right (s, "viewer_a", "127.0.0.1", NULL), ==, 200);
  for (int i = 0; i < N; i++)
    close (slow[i].fd);
  done (s);
}

/* One address holds at most --max-connections-per-address connections; others still get in. */
static void
test_per_address (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--max-connections-per-address", "10", NULL };
  KhTestServer *s = serving (data, args);
  int fds[30];
  int refused = 0;
  g_autoptr(KhReply) health = NULL;

  if (s == NULL)
    return;
  gboolean closed[30] = { FALSE };

  for (int i = 0; i < 30; i++)
    fds[i] = connect_from (s, "127.0.0.3");
  /* Until 20 were closed (a busy machine may take a moment), and a little longer: not one more. */
  for (int round = 0; round < 50; round++)
    {
      for (int i = 0; i < 30; i++)
        {
          struct pollfd p = { fds[i], POLLIN, 0 };
          char c;

          if (!closed[i] && poll (&p, 1, 0) == 1 && recv (fds[i], &c, 1, MSG_DONTWAIT) <= 0)
            {
              closed[i] = TRUE;
              refused++;
            }
        }
      if (refused >= 20 && round >= 3)
        break;
      g_usleep (100000);
    }
  g_assert_cmpint (refused, ==, 20);
  health = kh_http_json (s, "GET", "/v1/health", NULL, NULL);
  g_assert_cmpint (health->status, ==, 200);
  for (int i = 0; i < 30; i++)
    close (fds[i]);
  done (s);
}

/* A body trickled in is answered 408 at its deadline, not held until it ends. */
static void
test_slow_body (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--request-timeout", "2", NULL };
  KhTestServer *s = serving (data, args);
  g_autofree char *token = NULL;
  g_autofree char *head = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  gint64 start;
  int fd;

  if (s == NULL)
    return;
  token = kh_test_login (s, "officer_a", NULL);
  head = g_strdup_printf ("POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n", token);
  fd = connect_from (s, "127.0.0.2");
  start = g_get_monotonic_time ();
  send_all (fd, head, strlen (head));
  /* A byte every 200 ms: the body would take 200 s. */
  while (g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC && reply->len == 0)
    {
      g_autoptr(GString) some = NULL;

      if (send (fd, " ", 1, MSG_NOSIGNAL) != 1)
        break;
      some = read_for (fd, 200);
      g_string_append_len (reply, some->str, some->len);
    }
  close (fd);
  g_test_message ("answered after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 408"));
  g_assert_nonnull (strstr (reply->str, "\"timeout\""));
  done (s);
}

/* Answers libmicrohttpd would make itself ---------------------------------------------------- */

static void
test_json_answers (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autoptr(GString) url = g_string_new ("GET /v1/health?x=");
  g_autoptr(GString) reply = NULL;
  int fd;

  if (s == NULL)
    return;
  /* A 100 kB URL. */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (url, 'a');
  g_string_append (url, " HTTP/1.1\r\nHost: x\r\n\r\n");
  fd = connect_from (s, "127.0.0.2");
  send_all (fd, url->str, url->len);
  reply = read_for (fd, 3000);
  close (fd);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 414"));
  g_assert_nonnull (strstr (reply->str, "application/json"));
  g_assert_nonnull (strstr (reply->str, "{\"error\":"));

  /* A Content-Length beyond 2^63: one answer, in JSON. */
  fd = connect_from (s, "127.0.0.2");
  SEND_TEXT (fd, "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775809\r\n\r\n");
  g_string_free (reply, TRUE);
  reply = read_for (fd, 3000);
  close (fd);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 413"));
  g_assert_nonnull (strstr (reply->str, "{\"error\":"));
  g_assert_null (strstr (strstr (reply->str, "HTTP/1.1 413") + 1, "HTTP/1.1"));
  done (s);
}

/* Sends @len bytes of @data as far as the server takes them (it may answer and close before
 * the end), then reads its answer until it closes. */
static GString *
ask_raw (KhTestServer *s,
         const char   *data,
         gsize         len)
{
  int fd = connect_from (s, "127.0.0.2");
  GString *reply;

  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n <= 0)
        break;
      data += n;
      len -= (gsize) n;
    }
  reply = read_for (fd, 5000);
  close (fd);
  return reply;
}

/* Heads that libmicrohttpd refused itself, in HTML (some with their headers twice): each is
 * answered once, with its status, in JSON, and the connection closed. */
static void
test_head_refusals (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autoptr(GString) long_header = g_string_new ("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: ");
  g_autoptr(GString) many_headers = g_string_new ("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  g_autoptr(GString) long_url = g_string_new ("GET /v1/health?x=");
  struct { const char *what; const char *head; gsize len; int status; } cases[] = {
    { "Content-Length beyond 2^64",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 0, 413 },
    { "a malformed Content-Length", "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 0, 400 },
    { "a negative Content-Length", "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 0, 400 },
    { "two Content-Lengths that differ",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{", 0, 400 },
    { "HTTP/2.0", "GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n", 0, 505 },
    { "HTTP/0.9", "GET /v1/health HTTP/0.9\r\nHost: x\r\n\r\n", 0, 505 },
    { "a version that is none", "GET /v1/health HTTX/1.1\r\nHost: x\r\n\r\n", 0, 400 },
    { "no version", "GET /v1/health\r\nHost: x\r\n\r\n", 0, 400 },
    { "a header without a colon", "GET /v1/health HTTP/1.1\r\nHost: x\r\nBogus\r\n\r\n", 0, 400 },
    { "a transfer coding other than chunks",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 501 },
    { "a TLS handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, 400 },
    { "a header of 200 kB", NULL, 0, 431 },
    { "30,000 headers", NULL, 0, 431 },
    { "a URL of 200 kB", NULL, 0, 414 },
  };
  guint n = G_N_ELEMENTS (cases);
  g_autoptr(KhReply) health = NULL;

  if (s == NULL)
    return;
  for (int i = 0; i < 200000; i++)
    g_string_append_c (long_header, 'a');
  g_string_append (long_header, "\r\n\r\n");
  for (int i = 0; i < 30000; i++)
    g_string_append (many_headers, "X-A: b\r\n");
  g_string_append (many_headers, "\r\n");
  for (int i = 0; i < 200000; i++)
    g_string_append_c (long_url, 'a');
  g_string_append (long_url, " HTTP/1.1\r\nHost: x\r\n\r\n");
  cases[n - 3].head = long_header->str;
  cases[n - 3].len = long_header->len;
  cases[n - 2].head = many_headers->str;
  cases[n - 2].len = many_headers->len;
  cases[n - 1].head = long_url->str;
  cases[n - 1].len = long_url->len;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *status = g_strdup_printf ("HTTP/1.1 %d ", cases[i].status);
      gsize len = cases[i].len ? cases[i].len : strlen (cases[i].head);
      g_autoptr(GString) reply = ask_raw (s, cases[i].head, len);
      const char *body = strstr (reply->str, "\r\n\r\n");

      g_test_message ("%s: %.*s", cases[i].what, (int) MIN (reply->len, 200), reply->str);
      g_assert_true (g_str_has_prefix (reply->str, status));
      g_assert_nonnull (strstr (reply->str, "Content-Type: application/json\r\n"));
      g_assert_nonnull (body);
      g_assert_true (g_str_has_prefix (body + 4, "{\"error\":{\"code\":"));
      /* One answer, and no page of libmicrohttpd's. */
      for (const char *p = strstr (reply->str + 1, "HTTP/1."); p != NULL; p = strstr (p + 1, "HTTP/1."))
        g_assert_false (g_ascii_isdigit (p[7]) && p[8] == ' ' && g_ascii_isdigit (p[9]));
      g_assert_null (strstr (reply->str, "<html>"));
    }
  /* Heads that are well-formed still get through, kept alive. */
  health = kh_http_json (s, "GET", "/v1/health", NULL, NULL);
  g_assert_cmpint (health->status, ==, 200);
  done (s);
}

/* Listening: TLS and IPv6 --------------------------------------------------------------------- */

/* `serve` with @args (its own --listen among them) on @s's database; the port it took. */
static GPid
spawn_serve (KhTestServer        *s,
             const char * const  *args,
             int                 *port)
{
  g_autofree char *port_file = g_build_filename (s->dir, "own-port", NULL);
  g_autofree char *log = g_build_filename (s->dir, "own-serve.log", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GPid pid;

  g_unlink (port_file);
  g_ptr_array_add (argv, (gpointer) SERVER_BIN);
  g_ptr_array_add (argv, (gpointer) "--db");
  g_ptr_array_add (argv, s->url);
  g_ptr_array_add (argv, (gpointer) "serve");
  g_ptr_array_add (argv, (gpointer) "--port-file");
  g_ptr_array_add (argv, port_file);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_async (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD
                                | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 600; i++)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (port_file, &text, NULL, NULL) && strchr (text, '\n') != NULL)
        {
          *port = atoi (text);
          return pid;
        }
      g_assert_cmpint (waitpid (pid, NULL, WNOHANG), ==, 0);
      g_usleep (50000);
    }
  g_assert_not_reached ();
}

static void
stop_serve (GPid pid)
{
  int status = 0;

  kill (pid, SIGTERM);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

/* GET @url; the status, 0 when no HTTP answer came. */
static long
get_status (const char *url,
            const char *ca_file)
{
  CURL *curl = curl_easy_init ();
  g_autoptr(GString) out = g_string_new (NULL);
  long status = 0;

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, append_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 20L);
  if (ca_file != NULL)
    curl_easy_setopt (curl, CURLOPT_CAINFO, ca_file);
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  return status;
}

/* Writes a certificate for 127.0.0.1 and its key into @dir. */
static void
make_certificate (const char *dir,
                  char      **cert,
                  char      **key)
{
  g_autoptr(GError) error = NULL;
  int status = 0;

  *cert = g_build_filename (dir, "cert.pem", NULL);
  *key = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-keyout", *key, "-out", *cert, "-days", "2", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                                 | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
}

/* serve --tls-cert/--tls-key answers HTTPS, verified against the certificate, and on
 * [::]:PORT over IPv6 and IPv4 alike. */
static void
test_tls_and_ipv6 (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *url = NULL;
  int port = 0;
  GPid pid;

  if (s == NULL)
    return;
  make_certificate (s->dir, &cert, &key);
  {
    const char * const args[] = { "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, NULL };

    pid = spawn_serve (s, args, &port);
    url = g_strdup_printf ("https://127.0.0.1:%d/v1/health", port);
    g_assert_cmpint (get_status (url, cert), ==, 200);
    /* Plain HTTP to it gets no answer, and a client that does not trust the certificate none. */
    g_free (url);
    url = g_strdup_printf ("http://127.0.0.1:%d/v1/health", port);
    g_assert_cmpint (get_status (url, NULL), ==, 0);
    g_free (url);
    url = g_strdup_printf ("https://127.0.0.1:%d/v1/health", port);
    /* Each of these hangs up in the middle of the handshake, while the server is sending: the
     * server must live on (it once died of SIGPIPE). */
    for (int i = 0; i < 30; i++)
      g_assert_cmpint (get_status (url, "/nonexistent-ca.pem"), ==, 0);
    g_assert_cmpint (get_status (url, cert), ==, 200);
    stop_serve (pid);
  }
  {
    const char * const args[] = { "--listen", "[::]:0", NULL };

    pid = spawn_serve (s, args, &port);
    g_free (url);
    url = g_strdup_printf ("http://[::1]:%d/v1/health", port);
    g_assert_cmpint (get_status (url, NULL), ==, 200);
    g_free (url);
    url = g_strdup_printf ("http://127.0.0.1:%d/v1/health", port);
    g_assert_cmpint (get_status (url, NULL), ==, 200);
    stop_serve (pid);
  }
  done (s);
}

/* Every answer JSON ------------------------------------------------------------------------ */

/* A connection to the server, over TLS or not. */
typedef struct
{
  int              fd;
  gnutls_session_t tls;
  gnutls_certificate_credentials_t cred;
} Wire;

static Wire *
wire_open (int      port,
           gboolean tls)
{
  Wire *w = g_new0 (Wire, 1);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  int r;

  w->fd = socket (AF_INET, SOCK_STREAM, 0);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  g_assert_cmpint (connect (w->fd, (struct sockaddr *) &to, sizeof to), ==, 0);
  if (tls)
    {
      /* The certificate is the test's own: what is tested is what comes inside. */
      g_assert_cmpint (gnutls_certificate_allocate_credentials (&w->cred), ==, 0);
      g_assert_cmpint (gnutls_init (&w->tls, GNUTLS_CLIENT), ==, 0);
      g_assert_cmpint (gnutls_set_default_priority (w->tls), ==, 0);
      g_assert_cmpint (gnutls_credentials_set (w->tls, GNUTLS_CRD_CERTIFICATE, w->cred), ==, 0);
      gnutls_transport_set_int (w->tls, w->fd);
      do
        r = gnutls_handshake (w->tls);
      while (r < 0 && !gnutls_error_is_fatal (r));
      g_assert_cmpint (r, ==, 0);
    }
  return w;
}

static void
wire_close (Wire *w)
{
  if (w->tls != NULL)
    {
      gnutls_deinit (w->tls);
      gnutls_certificate_free_credentials (w->cred);
    }
  close (w->fd);
  g_free (w);
}

/* Sends as much of @data as the server takes (it may answer and close before the end). */
static void
wire_send (Wire       *w,
           const char *data,
           gsize       len)
{
  while (len > 0)
    {
      gssize n = w->tls != NULL ? gnutls_record_send (w->tls, data, MIN (len, 16384))
                                : send (w->fd, data, len, MSG_NOSIGNAL);

      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        return;
      data += n;
      len -= (gsize) n;
    }
}

/* Reads into @out for up to @ms: until the server closes, or with @one, until one whole
 * answer (with its Content-Length) is in. */
static void
wire_read (Wire    *w,
           GString *out,
           int      ms,
           gboolean one)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;)
    {
      struct pollfd p = { w->fd, POLLIN, 0 };
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      const char *body = strstr (out->str, "\r\n\r\n");
      const char *length = strstr (out->str, "Content-Length: ");
      char buf[4096];
      gssize n;

      if (one && body != NULL && length != NULL && length < body
          && out->len >= (gsize) (body + 4 - out->str) + (gsize) atoi (length + 16))
        return;
      if (left <= 0 || ((w->tls == NULL || gnutls_record_check_pending (w->tls) == 0)
                        && poll (&p, 1, (int) left) <= 0))
        return;
      n = w->tls != NULL ? gnutls_record_recv (w->tls, buf, sizeof buf) : recv (w->fd, buf, sizeof buf, 0);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        return;
      g_string_append_len (out, buf, n);
    }
}

typedef struct
{
  const char *what;
  GString    *request;
  int         status;
} HeadCase;

static void
head_case_free (HeadCase *c)
{
  g_string_free (c->request, TRUE);
  g_free (c);
}

/* What libmicrohttpd refused itself, in HTML (some with their headers twice). */
static GPtrArray *
head_cases (void)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify) head_case_free);
  static const struct { const char *what; const char *request; int status; } fixed[] = {
    { "Content-Length beyond 2^64",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 413 },
    { "a malformed Content-Length", "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400 },
    { "HTTP/2.0", "GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
    { "a header without a colon", "GET /v1/health HTTP/1.1\r\nHost: x\r\nBogus\r\n\r\n", 400 },
    { "HTTP/1.1 without a Host", "GET /v1/health HTTP/1.1\r\n\r\n", 400 },
    { "a chunk size that is no number",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400 },
    { "a chunk size beyond 2^64",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n", 413 },
    { "a chunk without its line end",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XY0\r\n\r\n", 400 },
    { "a malformed trailer",
      "POST /v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nBogus\r\n\r\n", 400 },
  };
  HeadCase *c;

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    {
      c = g_new0 (HeadCase, 1);
      c->what = fixed[i].what;
      c->request = g_string_new (fixed[i].request);
      c->status = fixed[i].status;
      g_ptr_array_add (cases, c);
    }
  c = g_new0 (HeadCase, 1);
  c->what = "headers of 200 kB";
  c->request = g_string_new ("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 20000; i++)
    g_string_append (c->request, "X-A: bbbb\r\n");
  g_string_append (c->request, "\r\n");
  c->status = 431;
  g_ptr_array_add (cases, c);
  /* Small enough to fit the limits of size, too many for libmicrohttpd's memory. */
  c = g_new0 (HeadCase, 1);
  c->what = "8,000 empty headers";
  c->request = g_string_new ("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 8000; i++)
    g_string_append (c->request, "a:\r\n");
  g_string_append (c->request, "\r\n");
  c->status = 431;
  g_ptr_array_add (cases, c);
  c = g_new0 (HeadCase, 1);
  c->what = "4,000 query arguments";
  c->request = g_string_new ("GET /v1/health?");
  for (int i = 0; i < 4000; i++)
    g_string_append (c->request, "a&");
  g_string_append (c->request, " HTTP/1.1\r\nHost: x\r\n\r\n");
  c->status = 414;
  g_ptr_array_add (cases, c);
  c = g_new0 (HeadCase, 1);
  c->what = "a URL of 100 kB";
  c->request = g_string_new ("GET /v1/health?x=");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (c->request, 'a');
  g_string_append (c->request, " HTTP/1.1\r\nHost: x\r\n\r\n");
  c->status = 414;
  g_ptr_array_add (cases, c);
  return cases;
}

/* @reply is one answer of @status with the protocol's JSON error, and nothing else. */
static void
assert_json_refusal (const char *reply,
                     int         status)
{
  g_autofree char *line = g_strdup_printf ("HTTP/1.1 %d ", status);
  const char *body = strstr (reply, "\r\n\r\n");

  g_assert_true (g_str_has_prefix (reply, line));
  g_assert_nonnull (body);
  g_assert_nonnull (g_strstr_len (reply, body - reply, "Content-Type: application/json\r\n"));
  g_assert_true (g_str_has_prefix (body + 4, "{\"error\":{\"code\":"));
  /* One answer, and no page of libmicrohttpd's. */
  for (const char *p = strstr (reply + 1, "HTTP/1."); p != NULL; p = strstr (p + 1, "HTTP/1."))
    g_assert_false (g_ascii_isdigit (p[7]) && p[8] == ' ' && g_ascii_isdigit (p[9]));
  g_assert_null (strstr (reply, "<html>"));
}

/* Each case on a new connection and on one kept alive after a good request, over @port. */
static void
check_every_answer (int      port,
                    gboolean tls)
{
  static const char good[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(GPtrArray) cases = head_cases ();

  for (guint i = 0; i < cases->len; i++)
    {
      HeadCase *c = cases->pdata[i];

      for (int kept = 0; kept < 2; kept++)
        {
          Wire *w = wire_open (port, tls);
          g_autoptr(GString) first = g_string_new (NULL);
          g_autoptr(GString) reply = g_string_new (NULL);

          if (kept)
            {
              wire_send (w, good, sizeof good - 1);
              wire_read (w, first, 5000, TRUE);
              g_assert_true (g_str_has_prefix (first->str, "HTTP/1.1 200 "));
              g_assert_nonnull (strstr (first->str, "\"status\":\"ok\""));
            }
          wire_send (w, c->request->str, c->request->len);
          wire_read (w, reply, 5000, FALSE);
          g_test_message ("%s%s%s: %.*s", c->what, kept ? ", kept alive" : "", tls ? ", TLS" : "",
                          (int) MIN (reply->len, 300), reply->str);
          assert_json_refusal (reply->str, c->status);
          wire_close (w);
        }
    }
}

/* Every malformed request gets the protocol's JSON error with its status, never a page of
 * libmicrohttpd's: on a new connection, on one kept alive after a good request, and under
 * native TLS both ways. A malformed body after an answer already given at the headers is
 * not answered twice. */
static void
test_every_answer_json (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  int port = 0;
  GPid pid;

  if (s == NULL)
    return;
  check_every_answer (s->port, FALSE);
  {
    static const char push[] = "POST /v1/push HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "2\r\n{}XY0\r\n\r\n";
    Wire *w = wire_open (s->port, FALSE);
    g_autoptr(GString) reply = g_string_new (NULL);

    wire_send (w, push, sizeof push - 1);
    wire_read (w, reply, 5000, FALSE);
    g_test_message ("malformed chunks after a refusal at the headers: %s", reply->str);
    assert_json_refusal (reply->str, 401);
    wire_close (w);
  }

  make_certificate (s->dir, &cert, &key);
  {
    const char * const args[] = { "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, NULL };

    pid = spawn_serve (s, args, &port);
    check_every_answer (port, TRUE);
    stop_serve (pid);
  }
  done (s);
}

/* Tokens ------------------------------------------------------------------------------------ */

static long
integrity_status (KhTestServer *s,
                  const char   *token,
                  char        **message)
{
  g_autoptr(KhReply) r = kh_http_json (s, "GET", "/v1/integrity", token, NULL);

  if (message != NULL)
    *message = g_strdup (r->body);
  return r->status;
}

/* A token unused for --token-days stops working, with a message that says to log in again;
 * one used within them goes on, its days counted again from the use. */
static void
test_token_expiry (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--token-days", "3", NULL };
  KhTestServer *s = serving (data, args);
  g_autofree char *old = NULL;
  g_autofree char *recent = NULL;
  g_autofree char *message = NULL;

  if (s == NULL)
    return;
  old = kh_test_login (s, "officer_a", NULL);
  recent = kh_test_login (s, "officer_b", NULL);
  g_assert_cmpint (integrity_status (s, old, NULL), ==, 200);
  db_exec (s, "UPDATE token_use SET used_at = '2000-01-01T00:00:00Z' WHERE hash IN "
              "(SELECT t.hash FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'officer_a')");
  g_assert_cmpint (integrity_status (s, old, &message), ==, 401);
  g_assert_nonnull (strstr (message, "log in again"));

  /* Two days unused of three: still good, and the use starts the three days again. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
    g_autoptr(GDateTime) then = g_date_time_add_days (now, -2);
    g_autofree char *when = g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
    g_autofree char *sql = g_strdup_printf ("UPDATE token_use SET used_at = '%s' WHERE hash IN "
                                            "(SELECT t.hash FROM tokens t JOIN users u ON u.id = t.user_id "
                                            "WHERE u.username = 'officer_b')", when);
    g_autofree char *count = g_strdup_printf ("SELECT count(*) FROM token_use WHERE used_at > '%s'", when);

    db_exec (s, sql);
    g_assert_cmpint (kh_test_server_count (s, count), ==, 0);
    g_assert_cmpint (integrity_status (s, recent, NULL), ==, 200);
    g_assert_cmpint (kh_test_server_count (s, count), ==, 1);
  }

  /* A token from before tokens had a lifetime (made long ago, no use noted) is not signed out
   * by the upgrade: its days start when the new server starts. */
  db_exec (s, "UPDATE tokens SET created_at = '2000-01-01T00:00:00Z'");
  db_exec (s, "DELETE FROM token_use WHERE hash IN (SELECT t.hash FROM tokens t JOIN users u ON "
              "u.id = t.user_id WHERE u.username = 'officer_b')");
  kh_test_server_kill (s, SIGTERM);
  kh_test_server_start (s, NULL);
  g_assert_cmpint (integrity_status (s, recent, NULL), ==, 200);
  g_assert_cmpint (integrity_status (s, old, NULL), ==, 401);
  done (s);
}

/* An admin lists a user's devices and signs one out, leaving the others. */
static void
test_devices (gconstpointer data)
{
  KhTestServer *s = serving (data, plain);
  g_autofree char *listing = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *hash = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *device = NULL;
  g_autofree char *out = NULL;
  int status = 0;
  const char *argv[] = { SERVER_BIN, "--db", NULL, "token", "list", "viewer_a", NULL };

  if (s == NULL)
    return;
  first = kh_test_login (s, "viewer_a", NULL);
  second = kh_test_login (s, "viewer_a", NULL);
  argv[2] = s->url;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                               &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);  /* a heading and two devices */
  g_assert_nonnull (strstr (lines[1], "127.0.0.1"));

  /* The device of the first token, by its id: the start of the token's hash. */
  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, first, -1);
  device = g_strndup (hash, 12);
  g_assert_true (strstr (out, device) != NULL);
  kh_test_server_cli (s, NULL, "token", "revoke", "viewer_a", device, NULL);
  g_assert_cmpint (integrity_status (s, first, NULL), ==, 401);
  g_assert_cmpint (integrity_status (s, second, NULL), ==, 200);
  done (s);
}

/* Runs khuyenhoc-cli --db @db ARGS…; its exit status, and what it wrote. */
static int
cli (const char  *db,
     char       **out,
     char       **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "LC_ALL", "C.UTF-8", TRUE);
  const char *a;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) CLI_BIN);
  g_ptr_array_add (argv, (gpointer) "--db");
  g_ptr_array_add (argv, (gpointer) db);
  va_start (ap, err);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "LANGUAGE", "", TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                               &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* When the server stops taking its token, the client says plainly that the officer must sign
 * in again, and that the change not yet sent is kept. */
static void
test_client_told (gconstpointer data)
{
  const char * const args[] = { "--threads", "4", "--token-days", "30", NULL };
  KhTestServer *s = serving (data, args);
  g_autofree char *replica = NULL;
  g_autofree char *pw = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *token = NULL;
  g_autofree char *field = NULL;
  char *out = NULL, *err = NULL;

  if (s == NULL)
    return;
  replica = g_build_filename (s->dir, "officer.db", NULL);
  pw = g_build_filename (s->dir, "officer.pw", NULL);
  g_assert_true (g_file_set_contents (pw, "password-officer_a\n", -1, NULL));
  token = kh_test_login (s, "officer_a", &unit);
  g_assert_cmpint (cli (replica, &out, &err, "login", "--server", s->base, "--user", "officer_a",
                        "--password-file", pw, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (replica, &out, &err, "sync", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  field = g_strdup_printf ("org_unit_id=%s", unit);
  if (cli (replica, &out, &err, "add", "person", "full_name=Nguyễn Văn Thử", field, NULL) != 0)
    g_error ("add: %s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  db_exec (s, "UPDATE token_use SET used_at = '2000-01-01T00:00:00Z'");
  g_assert_cmpint (cli (replica, &out, &err, "sync", NULL), !=, 0);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "signed out: log in again."));
  g_assert_nonnull (strstr (err, "Sign in again to go on syncing; the 1 change not yet sent stays on this "
                                 "computer until then."));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (replica, &out, &err, "outbox", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "person"));
  g_free (out);
  g_free (err);
  done (s);
}

int
main (int argc, char **argv)
{
  static const struct { const char *name; GTestDataFunc func; } tests[] = {
    { "lockout/other-address", test_lockout_other_address },
    { "lockout/behind-proxy", test_lockout_behind_proxy },
    { "lockout/shared-address", test_lockout_shared_address },
    { "lockout/restart-and-second-process", test_lockout_shared },
    { "lockout/parallel", test_lockout_parallel },
    { "bodies/token-before-body", test_token_before_body },
    { "bodies/gzip-bomb", test_gzip_bomb },
    { "bodies/in-flight", test_bodies_in_flight },
    { "connections/slow-headers", test_slow_headers },
    { "connections/per-address", test_per_address },
    { "connections/slow-body", test_slow_body },
    { "answers/json", test_json_answers },
    { "answers/heads", test_head_refusals },
    { "answers/every-one-json", test_every_answer_json },
    { "listen/tls-and-ipv6", test_tls_and_ipv6 },
    { "tokens/expiry", test_token_expiry },
    { "tokens/devices", test_devices },
    { "tokens/client-told", test_client_told },
  };
  static const char * const backends[] = { "sqlite", "postgresql" };

  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
      {
        g_autofree char *path = g_strdup_printf ("/security/http/%s/%s", backends[b], tests[i].name);

        g_test_add_data_func (path, backends[b], tests[i].func);
      }
  return g_test_run ();
}
