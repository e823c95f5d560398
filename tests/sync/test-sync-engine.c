/* test-sync-engine.c: KhSyncEngine as the window uses it, and server identity and epochs
 *
 * - A sync on the worker thread reports progress and state on the main context and ends with
 *   "finished"; a sync asked for while one runs runs again after it.
 * - A sync stuck on a stalled link is cancelled at once.
 * - A replica bound to one server refuses another, at sign-in and at sync, and is left as it
 *   was; the token lives in a 0600 file when no keyring is used.
 * - After the server is restored from a backup (epoch bump), the replica re-pulls and keeps its
 *   unsent change, which then reaches the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-schema.h"
#include "kh-search-build.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  char      *dir;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving ("sqlite");
  f->dir = kh_test_tmpdir ();
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_test_server_free (f->server);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
}

typedef struct
{
  GMainLoop *loop;
  int        finished;
  gboolean   ok;
  double     last_progress;
  int        progress_notes;
  gboolean   saw_syncing;
  gboolean   main_thread;
} Watch;

static void
progress_cb (GObject    *object,
             GParamSpec *pspec,
             gpointer    data)
{
  Watch *w = data;

  w->progress_notes++;
  w->last_progress = kh_sync_engine_get_progress (KH_SYNC_ENGINE (object));
  w->main_thread = w->main_thread && g_main_context_is_owner (g_main_context_default ());
}

static void
state_cb (GObject    *object,
          GParamSpec *pspec,
          gpointer    data)
{
  Watch *w = data;

  if (kh_sync_engine_get_state (KH_SYNC_ENGINE (object)) == KH_SYNC_STATE_SYNCING)
    w->saw_syncing = TRUE;
}

static void
finished_cb (KhSyncEngine *engine,
             gboolean      ok,
             const char   *message,
             gpointer      data)
{
  Watch *w = data;

  w->finished++;
  w->ok = ok;
  g_main_loop_quit (w->loop);
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  KhTReplica *r = kh_treplica_new (f->server, f->dir, "r", f->server->base, "officer_a");
  Watch w = { .loop = g_main_loop_new (NULL, FALSE), .main_thread = TRUE };
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *scratch = g_strdup_printf ("%s-search", r->path);
  g_autoptr(GError) error = NULL;
  json_object *hits;

  g_signal_connect (r->engine, "notify::progress", G_CALLBACK (progress_cb), &w);
  g_signal_connect (r->engine, "notify::state", G_CALLBACK (state_cb), &w);
  g_signal_connect (r->engine, "finished", G_CALLBACK (finished_cb), &w);

  kh_sync_engine_request_sync (r->engine);
  /* Asked again while it runs: it runs once more afterwards. */
  kh_sync_engine_request_sync (r->engine);
  g_main_loop_run (w.loop);
  g_assert_cmpint (w.finished, ==, 1);
  g_main_loop_run (w.loop);
  g_assert_cmpint (w.finished, ==, 2);
  g_assert_true (w.ok);
  g_assert_true (w.saw_syncing);
  g_assert_cmpint (w.progress_notes, >, 0);
  g_assert_cmpfloat (w.last_progress, ==, 1.0);
  g_assert_true (w.main_thread);
  g_assert_cmpint (kh_sync_engine_get_state (r->engine), ==, KH_SYNC_STATE_IDLE);

  /* The first pull built the search index beside the replica (here for every table that has
   * rows, however few), and that index took its place: it finds what was pulled, is sound,
   * and its scratch file is gone. */
  hits = kh_store_search (r->store, "thon a1", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  json_object_put (hits);
  g_assert_true (kh_sqlite_exec (kh_store_get_db (r->store),
                                 "INSERT INTO org_unit_fts (org_unit_fts) VALUES ('integrity-check')", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (scratch, G_FILE_TEST_EXISTS));

  /* The org units arrived, through the worker's own connection. */
  json = g_strdup_printf ("{\"full_name\": \"Hà\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (r, "A"));
  id = kh_treplica_add (r, "person", json);
  kh_sync_engine_request_sync (r->engine);
  g_main_loop_run (w.loop);
  g_assert_true (w.ok);
  g_assert_cmpint (kh_store_count_pending (r->store), ==, 0);

  g_main_loop_unref (w.loop);
  kh_treplica_free (r);
}


/* With "automatic" on, the engine syncs at start and a few seconds after a local edit. */
static void
test_automatic (Fixture       *f,
                gconstpointer  data)
{
  KhTReplica *r;
  Watch w = { .loop = g_main_loop_new (NULL, FALSE), .main_thread = TRUE };
  g_autofree char *json = NULL;
  g_autofree char *id = NULL;
  gint64 start;
  GNetworkMonitor *monitor = g_network_monitor_get_default ();

  if (!g_network_monitor_get_network_available (monitor) || g_network_monitor_get_network_metered (monitor))
    {
      g_test_skip ("this machine's network monitor says there is no (unmetered) network");
      g_main_loop_unref (w.loop);
      return;
    }
  r = kh_treplica_new (f->server, f->dir, "r", f->server->base, "officer_a");
  g_signal_connect (r->engine, "finished", G_CALLBACK (finished_cb), &w);
  g_object_set (r->engine, "edit-delay", 1, "interval", 3600, NULL);
  kh_sync_engine_set_automatic (r->engine, TRUE);
  g_main_loop_run (w.loop);
  g_assert_cmpint (w.finished, ==, 1);
  g_assert_true (w.ok);

  json = g_strdup_printf ("{\"full_name\": \"Tự động\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (r, "A"));
  id = kh_treplica_add (r, "person", json);
  g_assert_cmpint (kh_store_count_pending (r->store), ==, 1);
  start = g_get_monotonic_time ();
  kh_sync_engine_local_changed (r->engine);
  g_main_loop_run (w.loop);
  g_assert_cmpint (w.finished, ==, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC / 2);
  g_assert_cmpint (kh_store_count_pending (r->store), ==, 0);

  kh_sync_engine_set_automatic (r->engine, FALSE);
  g_main_loop_unref (w.loop);
  kh_treplica_free (r);
}

static void
cancel_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  GError **error = data;

  g_assert_false (kh_sync_engine_sync_finish (KH_SYNC_ENGINE (source), result, NULL, error));
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  KhFaultProxy *proxy = kh_fault_proxy_new (f->server->port, 1);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (proxy));
  KhTReplica *r = kh_treplica_new (f->server, f->dir, "r", url, "officer_a");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GError *error = NULL;
  gint64 start;

  g_object_set (r->engine, "low-speed-time", 60, NULL);
  kh_fault_proxy_set_fault (proxy, KH_FAULT_STALL, NULL, -1);
  kh_sync_engine_sync_async (r->engine, KH_SYNC_FLAGS_NONE, cancellable, cancel_done_cb, &error);
  g_usleep (300 * 1000);
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* At once, not at libcurl's next progress call (about a second on a silent link). */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);
  g_clear_error (&error);
  kh_treplica_free (r);
  kh_fault_proxy_free (proxy);
}

static void
test_identity (Fixture       *f,
               gconstpointer  data)
{
  KhTestServer *other = kh_test_server_new_serving ("sqlite");
  KhTReplica *r = kh_treplica_new (f->server, f->dir, "r", f->server->base, "officer_a");
  g_autoptr(GError) error = NULL;
  g_autofree char *token_file = kh_credentials_file (r->path);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  KhSyncReport rep;
  struct stat st;

  kh_treplica_sync (r);
  g_assert_cmpint (g_stat (token_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  before = kh_treplica_dump (r);

  /* Signing in to another server with this replica is refused. */
  g_assert_false (kh_sync_engine_login (r->engine, other->base, "officer_a", "password-officer_a", NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN);
  g_clear_error (&error);

  /* So is a sync that finds another server at the same address. */
  g_assert_true (kh_replica_set_state (r->store, KH_SYNC_SERVER_URL, other->base, NULL));
  g_assert_false (kh_treplica_try_sync (r, &rep, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  after = kh_treplica_dump (r);
  g_assert_cmpstr (after, ==, before);
  g_assert_true (kh_replica_set_state (r->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
  kh_treplica_sync (r);

  /* Signed out, the token is gone; unsent changes stay. */
  g_assert_true (kh_sync_engine_logout (r->engine, &error));
  g_assert_false (g_file_test (token_file, G_FILE_TEST_EXISTS));
  g_assert_false (kh_treplica_try_sync (r, &rep, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);

  kh_treplica_free (r);
  kh_test_server_free (other);
}

static void
test_epoch (Fixture       *f,
            gconstpointer  data)
{
  KhTReplica *a = kh_treplica_new (f->server, f->dir, "a", f->server->base, "officer_a");
  KhTReplica *b = kh_treplica_new (f->server, f->dir, "b", f->server->base, "officer_a");
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *epoch = NULL;
  json_object *rec;

  kh_treplica_sync (a);
  json = g_strdup_printf ("{\"full_name\": \"Lý\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (a, "A"));
  id = kh_treplica_add (a, "person", json);
  kh_treplica_sync (a);

  /* The server is restored from a backup while a has an unsent change. */
  kh_treplica_set (a, "person", id, "{\"phone\": \"0912345678\"}");
  kh_test_server_stop (f->server);
  kh_test_server_cli (f->server, NULL, "epoch", "bump", NULL);
  kh_test_server_start (f->server, NULL);
  g_assert_true (kh_replica_set_state (a->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
  g_assert_true (kh_replica_set_state (b->store, KH_SYNC_SERVER_URL, f->server->base, NULL));

  kh_treplica_sync (a);
  epoch = kh_replica_get_state (a->store, KH_SYNC_EPOCH);
  g_assert_cmpstr (epoch, ==, "2");
  g_assert_cmpint (kh_store_count_pending (a->store), ==, 0);
  kh_treplica_sync (b);
  rec = kh_treplica_get (b, "person", id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0912345678");
  json_object_put (rec);
  {
    g_autofree char *da = kh_treplica_dump (a);
    g_autofree char *db = kh_treplica_dump (b);

    g_assert_cmpstr (da, ==, db);
  }
  kh_treplica_free (a);
  kh_treplica_free (b);
}


/* A replica damaged behind the engine's back (a record lost, one with the wrong version, one
 * the server never had) is found by the integrity check and repaired. */
static void
test_repair (Fixture       *f,
             gconstpointer  data)
{
  KhTReplica *a = kh_treplica_new (f->server, f->dir, "a", f->server->base, "officer_a");
  KhTReplica *fresh;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *p1 = NULL;
  g_autofree char *p2 = NULL;
  g_autofree char *da = NULL;
  g_autofree char *df = NULL;
  sqlite3 *db;
  KhSyncReport rep;

  kh_treplica_sync (a);
  json = g_strdup_printf ("{\"full_name\": \"Một\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (a, "A"));
  p1 = kh_treplica_add (a, "person", json);
  p2 = kh_treplica_add (a, "person", json);
  kh_treplica_sync (a);
  rep = kh_treplica_sync (a);
  g_assert_cmpuint (rep.repaired, ==, 0);

  db = kh_store_get_db (a->store);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE person SET version = version + 1000, phone = '0999999999' "
                                     "WHERE rowid = (SELECT min(rowid) FROM person)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM household", NULL, NULL, NULL), ==, SQLITE_OK);
  {
    g_autofree char *sql = g_strdup_printf ("INSERT INTO person (id, version, created_at, updated_at, full_name, org_unit_id) "
                                            "VALUES ('0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d99', 77, 'x', 'x', 'Ma', '%s')",
                                            kh_treplica_unit (a, "A"));
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  }
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM org_unit WHERE code = 'A1'", NULL, NULL, NULL), ==, SQLITE_OK);

  g_assert_true (kh_sync_engine_run (a->engine, KH_SYNC_FLAGS_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rep.repaired, >=, 3);

  fresh = kh_treplica_new (f->server, f->dir, "fresh", f->server->base, "officer_a");
  kh_treplica_sync (fresh);
  da = kh_treplica_dump (a);
  df = kh_treplica_dump (fresh);
  g_assert_cmpstr (da, ==, df);
  rep = kh_treplica_sync (a);
  g_assert_cmpuint (rep.repaired, ==, 0);
  kh_treplica_free (fresh);
  kh_treplica_free (a);
}


/* The officer's area changes on the server: the next sync re-pulls, records of the old area
 * leave the replica, those of the new one arrive, and an unsent change in the old area is kept
 * (the server refuses it, with its reason) rather than dropped. */
static void
test_scope_change (Fixture       *f,
                   gconstpointer  data)
{
  KhTReplica *a = kh_treplica_new (f->server, f->dir, "a", f->server->base, "officer_a");
  KhTReplica *b = kh_treplica_new (f->server, f->dir, "b", f->server->base, "officer_b");
  g_autofree char *in_a = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *in_b = NULL;
  g_autofree char *json = NULL;
  KhSyncReport rep;
  KhQuery q = { 0 };

  kh_treplica_sync (a);
  kh_treplica_sync (b);
  json = g_strdup_printf ("{\"full_name\": \"Ở A\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (a, "A"));
  in_a = kh_treplica_add (a, "person", json);
  g_free (json);
  json = g_strdup_printf ("{\"full_name\": \"Còn giữ\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (a, "A"));
  kept = kh_treplica_add (a, "person", json);
  g_free (json);
  json = g_strdup_printf ("{\"full_name\": \"Ở B\", \"org_unit_id\": \"%s\"}", kh_treplica_unit (b, "B"));
  in_b = kh_treplica_add (b, "person", json);
  kh_treplica_sync (a);
  kh_treplica_sync (b);

  /* An edit waits on the laptop while the officer is moved to commune B. */
  kh_treplica_set (a, "person", kept, "{\"phone\": \"0977000111\"}");
  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", "B", NULL);
  rep = kh_treplica_sync (a);
  g_assert_cmpuint (rep.rejected, ==, 1);

  q.where = json_object_new_object ();
  json_object_object_add (q.where, "id", json_object_new_string (in_a));
  g_assert_cmpint (kh_store_count (a->store, "person", &q, NULL), ==, 0);
  json_object_put (q.where);
  {
    json_object *rec = kh_treplica_get (a, "person", in_b);
    json_object *mine = kh_treplica_get (a, "person", kept);

    g_assert_cmpstr (kh_tstr (rec, "full_name"), ==, "Ở B");
    g_assert_cmpstr (kh_tstr (mine, "phone"), ==, "0977000111");
    json_object_put (rec);
    json_object_put (mine);
  }
  g_assert_cmpint (kh_replica_count_rejected (a->store), ==, 1);
  kh_treplica_free (a);
  kh_treplica_free (b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  kh_search_build_set_min_rows (1);
  g_test_add ("/sync/engine/async", Fixture, NULL, set_up, test_async, tear_down);
  g_test_add ("/sync/engine/cancel", Fixture, NULL, set_up, test_cancel, tear_down);
  g_test_add ("/sync/engine/automatic", Fixture, NULL, set_up, test_automatic, tear_down);
  g_test_add ("/sync/engine/identity", Fixture, NULL, set_up, test_identity, tear_down);
  g_test_add ("/sync/engine/epoch", Fixture, NULL, set_up, test_epoch, tear_down);
  g_test_add ("/sync/engine/repair", Fixture, NULL, set_up, test_repair, tear_down);
  g_test_add ("/sync/engine/scope-change", Fixture, NULL, set_up, test_scope_change, tear_down);
  return g_test_run ();
}
