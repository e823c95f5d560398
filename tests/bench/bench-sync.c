/* bench-sync.c: the sync engine's figures, server and client on this machine
 *
 * 1. Initial pull of KH_BENCH_RECORDS (default 1,000,000) records into an empty replica,
 *    end to end over HTTP, beside two rates of inserting the same rows with plain SQLite in
 *    the same run (one transaction per 5000 rows, the store's pragmas): into the same tables
 *    (the replica's schema with its keys, checks, indexes and search index), and into bare
 *    tables of the same columns (no key, index or search).
 * 2. Push of 10,000 pending mutations.
 * 3. A sync with nothing to do: requests, bytes, time; and the first sync of a new engine,
 *    which opens the database.
 * 4. Bytes on the wire per 1,000 changed records, up (push) and down (pull).
 *
 * Prints TAP with the figures as comments.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "kh-entity.h"
#include "kh-memory.h"
#include "kh-replica.h"
#include "kh-schema.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Inserts every row of @store's entity tables into a fresh plain SQLite database, in
 * transactions of 5000 rows (the pull's page size), with the store's pragmas. With
 * @same_schema the tables are the replica's own (kh_schema_migrate(): keys, unique ids,
 * checks, indexes, search triggers and the report's indexes), and each transaction indexes
 * its rows for search before COMMIT as the store does (kh_schema_flush_search()); without it
 * they are bare tables of the same columns (no key, check, index or search). */
static double
raw_insert_rate (KhStore    *store,
                 const char *path,
                 gboolean    same_schema,
                 gint64     *rows_out)
{
  const KhEntity * const *entities;
  g_autoptr(GError) error = NULL;
  sqlite3 *raw = NULL;
  guint n;
  gint64 rows = 0;
  double spent = 0;

  g_unlink (path);
  g_assert_cmpint (kh_sqlite_open (path, &raw, TRUE), ==, SQLITE_OK);
  g_assert_true (kh_sqlite_exec (raw, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                      "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;", &error));
  if (same_schema)
    {
      g_assert_true (kh_sqlite_register_functions (raw, &error));
      g_assert_true (kh_schema_migrate (raw, KH_SCHEMA_VERSION, &error));
      g_assert_no_error (error);
    }
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *cols = kh_store_select_columns (entity);
      g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s", cols, entity->name);
      g_autoptr(GString) create = g_string_new (NULL);
      g_autoptr(GString) insert = g_string_new (NULL);
      sqlite3_stmt *src = kh_store_prepare (store, select, NULL);
      sqlite3_stmt *dst = NULL;
      int ncols = sqlite3_column_count (src);
      GPtrArray *batch = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
      double t0;

      if (!same_schema)
        {
          g_string_printf (create, "CREATE TABLE %s (%s)", entity->name, cols);
          g_assert_cmpint (sqlite3_exec (raw, create->str, NULL, NULL, NULL), ==, SQLITE_OK);
        }
      g_string_printf (insert, "INSERT INTO %s (%s) VALUES (", entity->name, cols);
      for (int c = 0; c < ncols; c++)
        g_string_append (insert, c ? ", ?" : "?");
      g_string_append (insert, ")");
      g_assert_cmpint (sqlite3_prepare_v2 (raw, insert->str, -1, &dst, NULL), ==, SQLITE_OK);

      /* Read everything first, so only the inserts are timed. */
      while (sqlite3_step (src) == SQLITE_ROW)
        {
          GPtrArray *row = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite3_value_free);

          for (int c = 0; c < ncols; c++)
            g_ptr_array_add (row, sqlite3_value_dup (sqlite3_column_value (src, c)));
          g_ptr_array_add (batch, row);
        }
      sqlite3_reset (src);

      t0 = now_s ();
      for (guint i = 0; i < batch->len; i++)
        {
          GPtrArray *row = batch->pdata[i];

          if (i % 5000 == 0)
            {
              if (i > 0)
                {
                  g_assert_true (kh_schema_flush_search (raw, &error));
                  g_assert_true (kh_sqlite_exec (raw, "COMMIT", &error));
                }
              g_assert_true (kh_sqlite_exec (raw, "BEGIN IMMEDIATE", &error));
            }
          for (int c = 0; c < ncols; c++)
            sqlite3_bind_value (dst, c + 1, row->pdata[c]);
          if (sqlite3_step (dst) != SQLITE_DONE)
            g_error ("plain insert into %s: %s", entity->name, sqlite3_errmsg (raw));
          sqlite3_reset (dst);
        }
      if (batch->len > 0)
        {
          g_assert_true (kh_schema_flush_search (raw, &error));
          g_assert_true (kh_sqlite_exec (raw, "COMMIT", &error));
        }
      g_assert_no_error (error);
      spent += now_s () - t0;
      rows += batch->len;
      sqlite3_finalize (dst);
      g_ptr_array_unref (batch);
    }
  if (same_schema)
    {
      /* Every row went into the search index. */
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (raw, "SELECT (SELECT count(*) FROM person_fts) = "
                                                "(SELECT count(*) FROM person WHERE deleted = 0)", -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
      sqlite3_finalize (stmt);
    }
  sqlite3_close (raw);
  *rows_out = rows;
  return rows / spent;
}

/* Waits until everything committed to @store's database is in the database file, not only in
 * its log, so that no checkpoint still running competes with what is measured next. Returns
 * the seconds that took. */
static double
settle (KhStore *store)
{
  double t0 = now_s ();
  int rc;

  while ((rc = sqlite3_wal_checkpoint_v2 (kh_store_get_db (store), NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                          NULL, NULL)) == SQLITE_BUSY)
    g_usleep (10000);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  return now_s () - t0;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  gint64 records = g_getenv ("KH_BENCH_RECORDS") ? g_ascii_strtoll (g_getenv ("KH_BENCH_RECORDS"), NULL, 10) : 1000000;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *raw_path = NULL;
  g_autofree char *count = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *password = NULL;
  KhTestServer *server;
  KhTReplica *r;
  KhSyncReport rep;
  json_object *rows;
  KhQuery q = { 0 };
  double t0;
  double pull_rate;
  double raw_rate;
  double bare_rate;
  double settled;
  gint64 raw_rows;

  /* As the app and the CLI, whose engine this measures. */
  kh_memory_setup ();
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  g_print ("1..4\n");
  dir = kh_test_tmpdir ();

  server = kh_test_server_new ("sqlite");
  count = g_strdup_printf ("%" G_GINT64_FORMAT, records);
  credentials = g_build_filename (dir, "credentials.txt", NULL);
  t0 = now_s ();
  {
    /* KH_BENCH_CACHE=DIR keeps the filled server database there, to measure again without
     * filling it again (a help while working on the client; the figures are the same). */
    const char *cache = g_getenv ("KH_BENCH_CACHE");
    g_autofree char *server_db = g_build_filename (server->dir, "server.db", NULL);
    g_autofree char *cached_db = cache ? g_strdup_printf ("%s/server-%s.db", cache, count) : NULL;
    g_autofree char *cached_cred = cache ? g_strdup_printf ("%s/credentials-%s.txt", cache, count) : NULL;
    g_autofree char *bytes = NULL;
    gsize len;

    if (cache != NULL && g_file_test (cached_db, G_FILE_TEST_EXISTS) && g_file_test (cached_cred, G_FILE_TEST_EXISTS))
      {
        g_assert_true (g_file_get_contents (cached_db, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (server_db, bytes, len, NULL));
        g_clear_pointer (&bytes, g_free);
        g_assert_true (g_file_get_contents (cached_cred, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (credentials, bytes, len, NULL));
      }
    else
      {
        kh_test_server_cli (server, NULL, "demo", "--records", count, "--credentials", credentials, NULL);
        if (cache != NULL)
          {
            g_mkdir_with_parents (cache, 0700);
            g_assert_true (g_file_get_contents (server_db, &bytes, &len, NULL));
            g_assert_true (g_file_set_contents (cached_db, bytes, len, NULL));
            g_clear_pointer (&bytes, g_free);
            g_assert_true (g_file_get_contents (credentials, &bytes, &len, NULL));
            g_assert_true (g_file_set_contents (cached_cred, bytes, len, NULL));
          }
      }
  }
  kh_test_server_start (server, (const char * const[]) { "--threads", "4", NULL });
  {
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true (g_file_get_contents (credentials, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_auto(GStrv) cols = g_strsplit (lines[i], "\t", -1);

        if (g_strv_length (cols) >= 2 && strcmp (cols[0], "admin") == 0)
          password = g_strdup (cols[1]);
      }
    g_assert_nonnull (password);
  }
  g_print ("# server filled with %" G_GINT64_FORMAT " demo records in %.1f s (not measured)\n",
           records, now_s () - t0);

  /* 1. Initial pull. */
  r = kh_treplica_new_full (dir, "bench", server->base, "admin", password);
  /* The engine's own timeouts, not the tests' short ones: the server takes seconds to sum a
   * million records for the integrity check. */
  g_object_set (r->engine, "page-size", 5000, "low-speed-time", 60, "connect-timeout", 30, NULL);
  t0 = now_s ();
  g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  pull_rate = rep.pulled / (now_s () - t0);
  settled = settle (r->store);
  raw_path = g_build_filename (dir, "raw.db", NULL);
  raw_rate = raw_insert_rate (r->store, raw_path, TRUE, &raw_rows);
  bare_rate = raw_insert_rate (r->store, raw_path, FALSE, &raw_rows);
  g_print ("ok 1 initial pull\n");
  g_print ("# initial pull: %" G_GUINT64_FORMAT " records in %.2f s = %.0f records/s end to end "
           "(%" G_GUINT64_FORMAT " requests, %.1f MB received)\n",
           rep.pulled, rep.seconds, pull_rate, rep.requests, rep.bytes_received / 1e6);
  g_print ("# plain SQLite INSERTs of the same %" G_GINT64_FORMAT " rows into the same tables "
           "(the replica's schema: keys, checks, indexes, search index): %.0f rows/s; "
           "pull/same-schema = %.2f (target: >= 50000 records/s and >= 0.33)\n",
           raw_rows, raw_rate, pull_rate / raw_rate);
  g_print ("# plain SQLite INSERTs of the same rows into bare tables (same columns; no key, check, "
           "index or search): %.0f rows/s; pull/bare = %.2f\n", bare_rate, pull_rate / bare_rate);
  g_print ("# after the pull, the replica's log was copied back into its database on another "
           "thread for %.2f s more (not counted; waited for before the plain INSERTs)\n", settled);
  t0 = now_s ();
  if (!kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_VERIFY, &rep, NULL, &error))
    g_error ("integrity check: %s", error->message);
  g_print ("# integrity check over the whole replica: %.2f s, %s\n", now_s () - t0,
           rep.repaired == 0 ? "equal" : "repaired");

  /* 2. Push of 10,000 mutations, three times over (the median is the figure: one run on a
   * shared machine moves by a third from one minute to the next). */
  q.limit = 10000;
  rows = kh_store_list (r->store, "person", &q, &error);
  g_assert_no_error (error);
  {
    double rates[3];
    guint64 requests = 0;
    guint64 sent = 0;

    for (guint round = 0; round < G_N_ELEMENTS (rates); round++)
      {
        g_assert_true (kh_store_begin (r->store, NULL));
        for (size_t i = 0; i < json_object_array_length (rows); i++)
          {
            g_autofree char *json = g_strdup_printf ("{\"phone\": \"09%u%07zu\"}", round, i);
            json_object *changes = json_tokener_parse (json);

            g_assert_true (kh_store_update (r->store, "person", kh_tstr (json_object_array_get_idx (rows, i), "id"),
                                            changes, &error));
            json_object_put (changes);
          }
        g_assert_true (kh_store_commit (r->store, NULL));
        t0 = now_s ();
        g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
        g_assert_no_error (error);
        rates[round] = rep.pushed / (now_s () - t0);
        requests = rep.requests;
        sent = rep.bytes_sent;
        g_assert_cmpuint (rep.pushed, ==, json_object_array_length (rows));
        /* The replica's own changes come back once; then the replica is quiet. */
        g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
      }
    qsort (rates, G_N_ELEMENTS (rates), sizeof (double), compare_doubles);
    g_print ("ok 2 push\n");
    g_print ("# push: %u mutations at %.0f mutations/s (median of 3 pushes: %.0f, %.0f, %.0f; each %"
             G_GUINT64_FORMAT " requests, %.0f KB sent) (target: >= 10000/s)\n",
             (guint) json_object_array_length (rows), rates[1], rates[0], rates[1], rates[2],
             requests, sent / 1e3);
  }
  json_object_put (rows);

  /* 3. Nothing to do. */
  {
    double best = 1e9;
    double best_first = 1e9;
    KhSyncReport quiet = { 0 };

    for (int i = 0; i < 20; i++)
      {
        t0 = now_s ();
        g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &quiet, NULL, &error));
        best = MIN (best, now_s () - t0);
      }
    /* A new engine (the app just started, or the CLI) opens the database first. */
    for (int i = 0; i < 5; i++)
      {
        g_autoptr(KhSyncEngine) fresh = kh_sync_engine_new (r->path);

        t0 = now_s ();
        g_assert_true (kh_sync_engine_run (fresh, KH_SYNC_FLAGS_NO_VERIFY, NULL, NULL, &error));
        best_first = MIN (best_first, now_s () - t0);
      }
    g_print ("ok 3 no-op sync\n");
    g_print ("# sync with nothing to do: %" G_GUINT64_FORMAT " request(s), %" G_GUINT64_FORMAT
             " bytes sent + %" G_GUINT64_FORMAT " received = %" G_GUINT64_FORMAT " bytes, %.2f ms "
             "(best of 20; the engine keeps its connection to the database between syncs); "
             "the first sync of a new engine, which opens the database: %.2f ms (best of 5) "
             "(target: 1 request, < 1 KB, < 5 ms)\n",
             quiet.requests, quiet.bytes_sent, quiet.bytes_received,
             quiet.bytes_sent + quiet.bytes_received, best * 1000, best_first * 1000);
  }

  /* 4. Bytes per 1,000 changed records. */
  q.limit = 1000;
  q.offset = 0;
  rows = kh_store_list (r->store, "person", &q, &error);
  g_assert_true (kh_store_begin (r->store, NULL));
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"address\": \"Thôn %zu, xã Vĩnh Lương\"}", i);
      json_object *changes = json_tokener_parse (json);

      g_assert_true (kh_store_update (r->store, "person", kh_tstr (json_object_array_get_idx (rows, i), "id"),
                                      changes, &error));
      json_object_put (changes);
    }
  g_assert_true (kh_store_commit (r->store, NULL));
  json_object_put (rows);
  g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_print ("ok 4 bytes per 1000 changed records\n");
  g_print ("# up: %" G_GUINT64_FORMAT " changed records pushed with %" G_GUINT64_FORMAT " bytes sent "
           "(%" G_GUINT64_FORMAT " received)\n", rep.pushed, rep.bytes_sent, rep.bytes_received);
  g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_print ("# down: %" G_GUINT64_FORMAT " changed records pulled with %" G_GUINT64_FORMAT " bytes received "
           "(%" G_GUINT64_FORMAT " sent)\n", rep.pulled, rep.bytes_received, rep.bytes_sent);

  kh_treplica_free (r);
  kh_test_server_free (server);
  kh_test_rmdir (dir);
  return 0;
}
