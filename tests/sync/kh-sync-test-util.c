/* kh-sync-test-util.c: the real khuyenhoc-server and replicas, for the sync engine's tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-entity.h"
#include "kh-sync-test-util.h"
#include "kh-uuid.h"

#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"

static char *
pg_exec (const char *url,
         const char *sql)
{
  PGconn *conn = PQconnectdb (url);
  char *err = NULL;

  if (PQstatus (conn) != CONNECTION_OK)
    err = g_strdup (PQerrorMessage (conn));
  else
    {
      PGresult *res = PQexec (conn, sql);

      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        err = g_strdup (PQresultErrorMessage (res));
      PQclear (res);
    }
  PQfinish (conn);
  return err;
}

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

void
kh_tserver_cli (KhTServer  *s,
                const char *input,
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

/* A test that aborts must not leave its server running. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
kh_tserver_start (KhTServer *s)
{
  g_autofree char *port_file = g_build_filename (s->dir, "port", NULL);
  g_autofree char *log = g_build_filename (s->dir, "serve.log", NULL);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { SERVER_BIN, "--db", s->url, "serve", "--listen", "127.0.0.1:0",
                         "--port-file", port_file, "--threads", "4", NULL };
  int log_fd;

  g_unlink (port_file);
  log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  g_assert_cmpint (log_fd, >=, 0);
  g_spawn_async_with_fds (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL,
                          &s->pid, -1, log_fd, log_fd, &error);
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
        g_error ("the server exited at start");
      g_usleep (20000);
    }
  g_error ("the server did not start");
}

void
kh_tserver_stop (KhTServer *s)
{
  if (s->pid <= 0)
    return;
  kill (s->pid, SIGTERM);
  waitpid (s->pid, NULL, 0);
  g_spawn_close_pid (s->pid);
  s->pid = -1;
}

KhTServer *
kh_tserver_new (const char *backend)
{
  return kh_tserver_new_full (backend, TRUE);
}

KhTServer *
kh_tserver_new_full (const char *backend,
                     gboolean    populate)
{
  KhTServer *s;
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = NULL;
  const char *users[][3] = {
    { "admin", "admin", "P" }, { "officer_a", "officer", "A" }, { "officer_b", "officer", "B" },
  };

  if (strcmp (backend, "postgresql") == 0 && g_getenv ("KH_TEST_PG_URL") == NULL)
    return NULL;
  s = g_new0 (KhTServer, 1);
  s->backend = g_strdup (backend);
  s->dir = g_dir_make_tmp ("kh-sync-test-XXXXXX", &error);
  g_assert_no_error (error);
  s->pid = -1;
  if (strcmp (backend, "sqlite") == 0)
    s->url = g_strdup_printf ("sqlite:%s/server.db", s->dir);
  else
    {
      g_autofree char *rnd = kh_uuid_v7_new ();
      g_autofree char *sql = NULL;
      g_autofree char *err = NULL;

      s->pg_admin = g_strdup (g_getenv ("KH_TEST_PG_URL"));
      g_strdelimit (rnd, "-", '_');
      s->pg_db = g_strdup_printf ("kh_s_%s", rnd);
      sql = g_strdup_printf ("CREATE DATABASE %s", s->pg_db);
      err = pg_exec (s->pg_admin, sql);
      if (err != NULL)
        g_error ("cannot create the test database: %s", err);
      s->url = pg_url_with_db (s->pg_admin, s->pg_db);
    }
  kh_tserver_cli (s, NULL, "init", NULL);
  if (!populate)
    return s;

  csv = g_build_filename (s->dir, "units.csv", NULL);
  g_assert_true (g_file_set_contents (csv,
    "code,name,kind,parent_code,valid_from,valid_to,population,address,successor_codes,change,change_date,legal_basis\n"
    "P,Tỉnh Thử,province,,2025-07-01,,1000000,,,,,\n"
    "A,Xã A,commune,P,2025-07-01,,20000,,,,,\n"
    "B,Xã B,commune,P,2025-07-01,,15000,,,,,\n"
    "A1,Thôn A1,village,A,2025-07-01,,900,,,,,\n", -1, NULL));
  kh_tserver_cli (s, NULL, "org", "import", csv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *pw = g_strdup_printf ("password-%s\n", users[i][0]);

      kh_tserver_cli (s, pw, "user", "add", users[i][0], "--role", users[i][1],
                      "--scope", users[i][2], NULL);
    }
  kh_tserver_start (s);
  return s;
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_rmdir (path);
}

void
kh_tserver_free (KhTServer *s)
{
  if (s == NULL)
    return;
  kh_tserver_stop (s);
  if (s->pg_db != NULL)
    {
      g_autofree char *sql = g_strdup_printf ("DROP DATABASE IF EXISTS %s WITH (FORCE)", s->pg_db);
      g_autofree char *err = pg_exec (s->pg_admin, sql);

      if (err != NULL)
        g_printerr ("# could not drop %s: %s", s->pg_db, err);
    }
  rm_rf (s->dir);
  g_free (s->backend);
  g_free (s->dir);
  g_free (s->url);
  g_free (s->pg_admin);
  g_free (s->pg_db);
  g_free (s->base);
  g_free (s);
}

/* Replicas ------------------------------------------------------------------------------------ */

KhTReplica *
kh_treplica_new (KhTServer  *s,
                 const char *dir,
                 const char *name,
                 const char *url,
                 const char *user)
{
  g_autofree char *password = g_strdup_printf ("password-%s", user);

  return kh_treplica_new_full (dir, name, url, user, password);
}

KhTReplica *
kh_treplica_new_full (const char *dir,
                      const char *name,
                      const char *url,
                      const char *user,
                      const char *password)
{
  KhTReplica *r = g_new0 (KhTReplica, 1);
  g_autoptr(GError) error = NULL;

  r->path = g_strdup_printf ("%s/%s.db", dir, name);
  r->store = kh_store_open (r->path, &error);
  g_assert_no_error (error);
  kh_store_set_actor (r->store, user);
  r->engine = kh_sync_engine_new (r->path);
  g_object_set (r->engine, "low-speed-time", 2, "connect-timeout", 2, "max-attempts", 8,
                "backoff-base", 0.02, NULL);
  g_assert_true (kh_sync_engine_login (r->engine, url, user, password, NULL, &error));
  g_assert_no_error (error);
  return r;
}

void
kh_treplica_free (KhTReplica *r)
{
  if (r == NULL)
    return;
  g_clear_object (&r->engine);
  g_clear_object (&r->store);
  g_free (r->path);
  g_free (r);
}

gboolean
kh_treplica_try_sync (KhTReplica    *r,
                      KhSyncReport  *report,
                      GError       **error)
{
  return kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_VERIFY, report, NULL, error);
}

KhSyncReport
kh_treplica_sync (KhTReplica *r)
{
  g_autoptr(GError) error = NULL;
  KhSyncReport report;

  if (!kh_treplica_try_sync (r, &report, &error))
    g_error ("sync of %s failed: %s", r->path, error->message);
  return report;
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

char *
kh_treplica_dump (KhTReplica *r)
{
  GString *out = g_string_new (NULL);
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autoptr(GError) error = NULL;
      KhQuery q = { .include_deleted = TRUE };
      json_object *rows = kh_store_list (r->store, entities[e]->name, &q, &error);
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

      g_assert_no_error (error);
      for (size_t i = 0; i < json_object_array_length (rows); i++)
        {
          json_object *row = json_object_array_get_idx (rows, i);
          GString *line;

          /* A record created and deleted here before it was sent never existed elsewhere. */
          if (json_object_get_int64 (json_object_object_get (row, "version")) == 0
              && json_object_get_boolean (json_object_object_get (row, "deleted")))
            continue;
          line = g_string_new (NULL);

          g_string_append_printf (line, "%s %s v%s%s", entities[e]->name, kh_tstr (row, "id"),
                                  kh_tstr (row, "version"),
                                  json_object_get_boolean (json_object_object_get (row, "deleted")) ? " deleted" : "");
          for (guint k = 0; k < entities[e]->n_fields; k++)
            {
              json_object *v = json_object_object_get (row, entities[e]->fields[k].name);

              if (v != NULL)
                g_string_append_printf (line, " %s=%s", entities[e]->fields[k].name,
                                        json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
            }
          g_ptr_array_add (lines, g_string_free (line, FALSE));
        }
      g_ptr_array_sort (lines, compare_lines);
      for (guint i = 0; i < lines->len; i++)
        g_string_append_printf (out, "%s\n", (char *) lines->pdata[i]);
      json_object_put (rows);
    }
  return g_string_free (out, FALSE);
}

char *
kh_treplica_add (KhTReplica *r,
                 const char *entity,
                 const char *json)
{
  g_autoptr(GError) error = NULL;
  json_object *values = json_tokener_parse (json);
  char *id;

  g_assert_nonnull (values);
  id = kh_store_create (r->store, entity, values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  return id;
}

void
kh_treplica_set (KhTReplica *r,
                 const char *entity,
                 const char *id,
                 const char *json)
{
  g_autoptr(GError) error = NULL;
  json_object *values = json_tokener_parse (json);

  g_assert_nonnull (values);
  kh_store_update (r->store, entity, id, values, &error);
  g_assert_no_error (error);
  json_object_put (values);
}

json_object *
kh_treplica_get (KhTReplica *r,
                 const char *entity,
                 const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *rec = kh_store_get (r->store, entity, id, &error);

  g_assert_no_error (error);
  return rec;
}

const char *
kh_treplica_unit (KhTReplica *r,
                  const char *code)
{
  static char id[64];
  g_autoptr(GError) error = NULL;
  KhQuery q = { 0 };
  json_object *rows;

  q.where = json_object_new_object ();
  json_object_object_add (q.where, "code", json_object_new_string (code));
  rows = kh_store_list (r->store, "org_unit", &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (rows), ==, 1);
  g_strlcpy (id, kh_tstr (json_object_array_get_idx (rows, 0), "id"), sizeof id);
  json_object_put (rows);
  json_object_put (q.where);
  return id;
}

const char *
kh_tstr (json_object *obj,
         const char  *name)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}
