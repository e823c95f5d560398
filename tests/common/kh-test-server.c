/* kh-test-server.c: the real khuyenhoc-server started for a test, and HTTP with libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-test-dir.h"
#include "kh-test-server.h"
#include "kh-uuid.h"

#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"

static char *
pg_exec_admin (const char *url,
               const char *sql)
{
  PGconn *conn = PQconnectdb (url);
  PGresult *res;
  char *err = NULL;

  if (PQstatus (conn) != CONNECTION_OK)
    err = g_strdup (PQerrorMessage (conn));
  else
    {
      res = PQexec (conn, sql);
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        err = g_strdup (PQresultErrorMessage (res));
      PQclear (res);
    }
  PQfinish (conn);
  return err;
}

/* KH_TEST_PG_URL with another database name: postgresql:///DB?params. */
static char *
pg_url_with_db (const char *url,
                const char *db)
{
  PQconninfoOption *opts = PQconninfoParse (url, NULL);
  GString *s = g_string_new ("postgresql:///");
  gboolean first = TRUE;

  g_assert_nonnull (opts);
  g_string_append (s, db);
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (o->val != NULL && *o->val != '\0' && strcmp (o->keyword, "dbname") != 0)
      {
        g_autofree char *v = g_uri_escape_string (o->val, "/", FALSE);

        g_string_append_printf (s, "%c%s=%s", first ? '?' : '&', o->keyword, v);
        first = FALSE;
      }
  PQconninfoFree (opts);
  return g_string_free (s, FALSE);
}

/* A throwaway server database: a file in @dir for "sqlite", a new database in
 * KH_TEST_PG_URL's cluster for "postgresql" (its name in @pg_db, for kh_test_db_drop()).
 * Returns the --db URL, or NULL when @backend is postgresql and KH_TEST_PG_URL is not set. */
char *
kh_test_db_create (const char  *backend,
                   const char  *dir,
                   char       **pg_db)
{
  g_autofree char *sql = NULL;
  g_autofree char *err = NULL;
  g_autofree char *rnd = NULL;
  const char *admin = g_getenv ("KH_TEST_PG_URL");

  *pg_db = NULL;
  if (strcmp (backend, "sqlite") == 0)
    return g_strdup_printf ("sqlite:%s/server.db", dir);
  if (admin == NULL)
    return NULL;
  rnd = kh_uuid_v7_new ();
  g_strdelimit (rnd, "-", '_');
  *pg_db = g_strdup_printf ("kh_t_%s", rnd);
  sql = g_strdup_printf ("CREATE DATABASE %s", *pg_db);
  err = pg_exec_admin (admin, sql);
  if (err != NULL)
    g_error ("cannot create the test database: %s", err);
  return pg_url_with_db (admin, *pg_db);
}

/* Drops a database kh_test_db_create() made (nothing for NULL). */
void
kh_test_db_drop (const char *pg_db)
{
  g_autofree char *sql = NULL;
  g_autofree char *err = NULL;

  if (pg_db == NULL)
    return;
  sql = g_strdup_printf ("DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
  err = pg_exec_admin (g_getenv ("KH_TEST_PG_URL"), sql);
  if (err != NULL)
    g_printerr ("# could not drop %s: %s", pg_db, err);
}

KhTestServer *
kh_test_server_new (const char *backend)
{
  KhTestServer *s;

  if (strcmp (backend, "postgresql") == 0 && g_getenv ("KH_TEST_PG_URL") == NULL)
    return NULL;
  s = g_new0 (KhTestServer, 1);
  s->backend = g_strdup (backend);
  s->dir = kh_test_tmpdir ();
  s->pid = -1;
  s->url = kh_test_db_create (backend, s->dir, &s->pg_db);
  kh_test_server_cli (s, NULL, "init", NULL);
  return s;
}

void
kh_test_server_free (KhTestServer *s)
{
  if (s == NULL)
    return;
  kh_test_server_stop (s);
  kh_test_db_drop (s->pg_db);
  kh_test_rmdir (s->dir);
  g_free (s->backend);
  g_free (s->dir);
  g_free (s->url);
  g_free (s->pg_db);
  g_free (s->base);
  g_strfreev (s->serve_args);
  g_free (s);
}

void
kh_test_server_cli (KhTestServer *s,
                    const char   *input,
                    ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) SERVER_BIN);
  g_ptr_array_add (argv, (gpointer) "--db");
  g_ptr_array_add (argv, s->url);
  va_start (ap, input);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input ? input : "", NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc))
    g_error ("khuyenhoc-server %s failed: %s%s", (char *) argv->pdata[3], out, err);
}

/* The server dies with the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
kh_test_server_start (KhTestServer       *s,
                      const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *port_file = g_build_filename (s->dir, "port", NULL);
  g_autofree char *log = g_build_filename (s->dir, "serve.log", NULL);
  g_autoptr(GError) error = NULL;
  int log_fd;

  if (args != NULL)
    {
      g_strfreev (s->serve_args);
      s->serve_args = g_strdupv ((char **) args);
    }
  g_unlink (port_file);
  g_ptr_array_add (argv, (gpointer) SERVER_BIN);
  g_ptr_array_add (argv, (gpointer) "--db");
  g_ptr_array_add (argv, s->url);
  g_ptr_array_add (argv, (gpointer) "serve");
  g_ptr_array_add (argv, (gpointer) "--listen");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1:0");
  g_ptr_array_add (argv, (gpointer) "--port-file");
  g_ptr_array_add (argv, port_file);
  for (guint i = 0; s->serve_args != NULL && s->serve_args[i] != NULL; i++)
    g_ptr_array_add (argv, s->serve_args[i]);
  g_ptr_array_add (argv, NULL);

  log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  g_assert_cmpint (log_fd, >=, 0);
  g_spawn_async_with_fds (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                          die_with_parent, NULL, &s->pid, -1, log_fd, log_fd, &error);
  g_assert_no_error (error);
  close (log_fd);

  for (int i = 0; i < 600; i++)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (port_file, &text, NULL, NULL) && strchr (text, '\n') != NULL)
        {
          s->port = atoi (text);
          g_free (s->base);
          s->base = g_strdup_printf ("http://127.0.0.1:%d", s->port);
          return;
        }
      if (waitpid (s->pid, NULL, WNOHANG) == s->pid)
        {
          g_autofree char *text2 = NULL;

          g_file_get_contents (log, &text2, NULL, NULL);
          g_error ("the server exited at start: %s", text2);
        }
      g_usleep (20000);
    }
  g_error ("the server did not start in 12 s");
}

void
kh_test_server_kill (KhTestServer *s,
                     int           sig)
{
  int status;

  if (s->pid <= 0)
    return;
  kill (s->pid, sig);
  waitpid (s->pid, &status, 0);
  g_spawn_close_pid (s->pid);
  s->pid = -1;
  if (sig == SIGTERM)
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

void
kh_test_server_stop (KhTestServer *s)
{
  kh_test_server_kill (s, SIGTERM);
}

KhTestServer *
kh_test_server_new_serving (const char *backend)
{
  const char * const threads[] = { "--threads", "4", NULL };
  KhTestServer *s = kh_test_server_new (backend);

  if (s == NULL)
    return NULL;
  kh_test_server_populate (s);
  kh_test_server_start (s, threads);
  return s;
}

void
kh_test_server_populate (KhTestServer *s)
{
  g_autofree char *csv = g_build_filename (s->dir, "units.csv", NULL);
  const char *users[][3] = {
    { "admin", "admin", "P" }, { "officer_a", "officer", "A" },
    { "officer_b", "officer", "B" }, { "viewer_a", "viewer", "A" },
  };

  g_assert_true (g_file_set_contents (csv,
    "code,name,kind,parent_code,valid_from,valid_to,population,address,successor_codes,change,change_date,legal_basis\n"
    "P,Tỉnh Thử,province,,2025-07-01,,1000000,,,,,\n"
    "A,Xã A,commune,P,2025-07-01,,20000,,,,,\n"
    "B,\"Xã B, mới\",commune,P,2025-07-01,,15000,,,,,\n"
    "A1,Thôn A1,village,A,2025-07-01,,900,,,,,\n"
    "OLD,Xã Cũ,commune,P,,2025-06-30,,,A;B,split,01/07/2025,Nghị quyết 1667/NQ-UBTVQH15\n", -1, NULL));
  kh_test_server_cli (s, NULL, "org", "import", csv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *pw = g_strdup_printf ("password-%s\n", users[i][0]);

      kh_test_server_cli (s, pw, "user", "add", users[i][0], "--role", users[i][1],
                          "--scope", users[i][2], NULL);
    }
}

/* HTTP ----------------------------------------------------------------------------------------- */

void
kh_reply_free (KhReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->body);
  g_free (reply->encoding);
  g_free (reply->retry_after);
  json_object_put (reply->json);
  g_free (reply);
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  n,
          void   *user_data)
{
  g_byte_array_append (user_data, (guint8 *) data, (guint) (size * n));
  return size * n;
}

static size_t
header_cb (char   *data,
           size_t  size,
           size_t  n,
           void   *user_data)
{
  KhReply *reply = user_data;
  g_autofree char *line = g_strndup (data, size * n);

  g_strstrip (line);
  if (g_ascii_strncasecmp (line, "Content-Encoding:", 17) == 0)
    {
      g_free (reply->encoding);
      reply->encoding = g_strstrip (g_strdup (line + 17));
    }
  else if (g_ascii_strncasecmp (line, "Retry-After:", 12) == 0)
    {
      g_free (reply->retry_after);
      reply->retry_after = g_strstrip (g_strdup (line + 12));
    }
  return size * n;
}

KhReply *
kh_http (KhTestServer           *s,
         const char             *method,
         const char             *path,
         const char             *body,
         gsize                   length,
         const KhRequestOptions *options)
{
  static gsize once = 0;
  CURL *curl;
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strconcat (s->base, path, NULL);
  g_autofree char *auth = NULL;
  g_autofree char *ce = NULL;
  GByteArray *out = g_byte_array_new ();
  KhReply *reply = g_new0 (KhReply, 1);
  CURLcode rc;
  curl_off_t wire = 0;

  if (g_once_init_enter (&once))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&once, 1);
    }
  curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, reply);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) length);
      headers = curl_slist_append (headers, "Content-Type: application/json");
    }
  if (options != NULL && options->token != NULL)
    {
      auth = g_strdup_printf ("Authorization: Bearer %s", options->token);
      headers = curl_slist_append (headers, auth);
    }
  if (options != NULL && options->content_encoding != NULL)
    {
      ce = g_strdup_printf ("Content-Encoding: %s", options->content_encoding);
      headers = curl_slist_append (headers, ce);
    }
  if (options != NULL && options->accept_encoding != NULL)
    curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, options->accept_encoding);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);

  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK)
    reply->status = 0;
  else
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &reply->status);
  curl_easy_getinfo (curl, CURLINFO_SIZE_DOWNLOAD_T, &wire);
  reply->length = (gsize) wire;
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);

  reply->body = g_strndup ((const char *) out->data, out->len);
  if (out->len > 0)
    reply->json = json_tokener_parse (reply->body);
  g_byte_array_unref (out);
  return reply;
}

KhReply *
kh_http_json (KhTestServer *s,
              const char   *method,
              const char   *path,
              const char   *token,
              json_object  *body)
{
  KhRequestOptions o = { token, NULL, NULL };
  gsize len = 0;
  const char *text = body != NULL ? kh_codec_to_string (body, &len) : NULL;

  return kh_http (s, method, path, text, len, &o);
}

char *
kh_test_login (KhTestServer  *s,
               const char    *user,
               char         **unit_id)
{
  json_object *body = json_object_new_object ();
  g_autofree char *pw = g_strdup_printf ("password-%s", user);
  g_autoptr(KhReply) r = NULL;
  g_autoptr(KhLoginResponse) login = NULL;
  g_autoptr(GError) error = NULL;

  json_object_object_add (body, "username", json_object_new_string (user));
  json_object_object_add (body, "password", json_object_new_string (pw));
  r = kh_http_json (s, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  if (r->status != 200)
    g_error ("login of %s failed: %ld %s", user, r->status, r->body);
  login = kh_login_response_from_json (r->json, &error);
  g_assert_no_error (error);
  if (unit_id != NULL)
    *unit_id = g_strdup (login->scope_unit_id);
  return g_strdup (login->token);
}

json_object *
kh_test_mutation (const char  *op,
                  const char  *entity,
                  const char  *id,
                  gint64       base_version,
                  json_object *fields)
{
  json_object *m = json_object_new_object ();
  g_autofree char *mid = kh_uuid_v7_new ();

  json_object_object_add (m, "mutation_id", json_object_new_string (mid));
  json_object_object_add (m, "entity", json_object_new_string (entity));
  json_object_object_add (m, "id", json_object_new_string (id));
  json_object_object_add (m, "op", json_object_new_string (op));
  json_object_object_add (m, "base_version", json_object_new_int64 (base_version));
  json_object_object_add (m, "fields", fields != NULL ? fields : json_object_new_object ());
  return m;
}

KhPushResponse *
kh_test_push (KhTestServer *s,
              const char   *token,
              json_object  *mutations)
{
  json_object *body = json_object_new_object ();
  g_autofree char *client = kh_uuid_v7_new ();
  g_autoptr(KhReply) r = NULL;
  g_autoptr(GError) error = NULL;
  KhPushResponse *response;

  json_object_object_add (body, "client_id", json_object_new_string (client));
  json_object_object_add (body, "mutations", mutations);
  r = kh_http_json (s, "POST", "/v1/push", token, body);
  json_object_put (body);
  if (r->status != 200)
    g_error ("push failed: %ld %s", r->status, r->body);
  response = kh_push_response_from_json (r->json, &error);
  g_assert_no_error (error);
  return response;
}

char *
kh_test_pull_all (KhTestServer *s,
                  const char   *token,
                  const char   *cursor,
                  int           limit,
                  GHashTable   *records,
                  gboolean     *reset,
                  GPtrArray    *removed)
{
  char *cur = g_strdup (cursor ? cursor : "");

  if (reset != NULL)
    *reset = FALSE;
  for (;;)
    {
      g_autofree char *esc = g_uri_escape_string (cur, NULL, FALSE);
      g_autofree char *path = g_strdup_printf ("/v1/changes?cursor=%s&limit=%d", esc, limit);
      KhRequestOptions o = { token, NULL, "gzip" };
      g_autoptr(KhReply) r = kh_http (s, "GET", path, NULL, 0, &o);
      g_autoptr(KhChangesPage) page = NULL;
      g_autoptr(GError) error = NULL;

      if (r->status != 200)
        g_error ("pull failed: %ld %s", r->status, r->body);
      page = kh_changes_page_from_json (r->json, &error);
      g_assert_no_error (error);
      if (page->reset)
        {
          if (reset != NULL)
            *reset = TRUE;
          if (records != NULL)
            g_hash_table_remove_all (records);
        }
      while (records != NULL && page->records->len > 0)
        {
          KhRecord *rec = g_ptr_array_steal_index (page->records, 0);

          g_hash_table_replace (records, g_strdup (rec->id), rec);
        }
      for (guint i = 0; i < page->removed->len; i++)
        {
          KhRemoved *rm = page->removed->pdata[i];

          if (records != NULL)
            g_hash_table_remove (records, rm->id);
          if (removed != NULL)
            g_ptr_array_add (removed, g_strdup (rm->id));
        }
      g_free (cur);
      cur = g_strdup (page->cursor);
      if (!page->has_more)
        break;
    }
  return cur;
}

json_object *
kh_test_person (const char *name,
                const char *unit)
{
  json_object *f = json_object_new_object ();

  json_object_object_add (f, "full_name", json_object_new_string (name));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit));
  return f;
}

gint64
kh_test_server_count (KhTestServer *s,
                      const char   *sql)
{
  gint64 n = -1;

  if (g_strcmp0 (s->backend, "postgresql") == 0)
    {
      PGconn *conn = PQconnectdb (s->url);
      PGresult *res;

      g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
      res = PQexec (conn, sql);
      g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
      n = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
      PQclear (res);
      PQfinish (conn);
    }
  else
    {
      sqlite3 *db = NULL;
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_open_v2 (s->url + strlen ("sqlite:"), &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      n = sqlite3_column_int64 (stmt, 0);
      sqlite3_finalize (stmt);
      sqlite3_close (db);
    }
  return n;
}
