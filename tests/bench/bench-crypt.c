/* bench-crypt.c: what sealing a replica costs, as ratios to a plain one measured back to back
 *
 * A server is filled with KH_BENCH_RECORDS demo records (1,000,000 by default; KH_BENCH_CACHE
 * keeps the filled server database, as bench-sync does). Then a plain and a sealed replica
 * are pulled from empty, in pairs, and each, opened again with a cold SQLite cache, measured:
 *
 * 1. the first pull, end to end (records per second);
 * 2. search as you type: every prefix of 20 people's names, with and without diacritics,
 *    through kh_store_search() (p50 and p95 in ms);
 * 3. the window's lists, through the model they page through (KhRecordList, without drawing):
 *    people sorted by name, the row count, then 200 jumps to random rows and 20 pages read on
 *    from each (total ms).
 *
 * KH_BENCH_PAIRS pairs (3 by default), each in the other order than the one before: plain,
 * sealed; sealed, plain; plain, sealed. The ratios are of the medians, sealed / plain (for a
 * rate, plain / sealed), so that 1.20 means 20 % slower; the target is 1.20 or less for all
 * three. Each is given in wall time and in this process's CPU time, which the other work of a
 * shared machine does not lengthen (the pull's CPU is the client's, every thread), with the
 * pages each pull sealed and opened.
 *
 * KH_BENCH_PULL_ONLY=1 measures the first pulls only. With KH_BENCH_PERF_CTL (the control FIFO
 * of `perf record -D -1 --control fifo:…`), the phase KH_BENCH_PERF_PHASE ("pull-plain" or
 * "pull-sealed") is the only one profiled.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-fold.h"
#include "kh-record-item.h"
#include "kh-record-list.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

typedef struct
{
  double pull_rate;
  double pull_cpu;    /* this process's CPU seconds per 1,000 records pulled */
  double search_p50;
  double search_p95;
  double search_cpu;  /* CPU ms of the whole search run */
  double lists_ms;
  double lists_cpu;
  guint64 pull_sealed;  /* pages the pull sealed and opened */
  guint64 pull_opened;
} Figures;

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* CPU time: what the machine's other work does not lengthen. */
static double
cpu_s (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static char *
fill_server (KhTestServer *server,
             const char   *dir,
             gint64        records)
{
  const char *cache = g_getenv ("KH_BENCH_CACHE");
  g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, records);
  g_autofree char *credentials = g_build_filename (dir, "credentials.txt", NULL);
  g_autofree char *server_db = g_build_filename (server->dir, "server.db", NULL);
  g_autofree char *cached_db = cache ? g_strdup_printf ("%s/server-%s.db", cache, count) : NULL;
  g_autofree char *cached_cred = cache ? g_strdup_printf ("%s/credentials-%s.txt", cache, count) : NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
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
  g_assert_true (g_file_get_contents (credentials, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], "\t", -1);

      if (g_strv_length (cols) >= 2 && strcmp (cols[0], "admin") == 0)
        return g_strdup (cols[1]);
    }
  g_assert_not_reached ();
}

/* Turns the profiler on or off for @phase, if it is KH_BENCH_PERF_PHASE: see the top. */
static void
perf_control (const char *phase,
              gboolean    enable)
{
  const char *fifo = g_getenv ("KH_BENCH_PERF_CTL");
  FILE *f;

  if (fifo == NULL || g_strcmp0 (g_getenv ("KH_BENCH_PERF_PHASE"), phase) != 0)
    return;
  f = fopen (fifo, "w");
  if (f == NULL)
    return;
  fputs (enable ? "enable\n" : "disable\n", f);
  fclose (f);
  g_usleep (100000);
}

/* The median of the double at @offset in @n figures. */
static double
median (const Figures *figs,
        int            n,
        glong          offset)
{
  double values[16];

  for (int i = 0; i < n; i++)
    values[i] = G_STRUCT_MEMBER (double, &figs[i], offset);
  qsort (values, n, sizeof (double), compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static void
remove_replica (const char *path)
{
  static const char * const suffixes[] = { "", "-wal", "-shm", "-search", ".token", ".key" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      g_unlink (file);
    }
}

/* Every prefix of 20 people's names, as stored and folded, each searched as it is typed. */
static void
measure_search (KhStore *store,
                Figures *fig)
{
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  double cpu0;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store),
                                       "SELECT full_name FROM person WHERE rid % 50000 = 7 LIMIT 10",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);

      g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_add (names, kh_fold (name));
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (names->len, >, 0);
  cpu0 = cpu_s (CLOCK_THREAD_CPUTIME_ID);
  for (guint n = 0; n < names->len; n++)
    {
      const char *s = names->pdata[n];

      for (const char *p = g_utf8_next_char (s); ; p = g_utf8_next_char (p))
        {
          g_autofree char *typed = g_strndup (s, p - s);
          double t0 = now_s (), ms;

          json_object_put (kh_store_search (store, typed, NULL, 50, NULL));
          ms = (now_s () - t0) * 1000;
          g_array_append_val (times, ms);
          if (*p == '\0')
            break;
        }
    }
  fig->search_cpu = (cpu_s (CLOCK_THREAD_CPUTIME_ID) - cpu0) * 1000;
  g_array_sort (times, compare_doubles);
  fig->search_p50 = g_array_index (times, double, times->len / 2);
  fig->search_p95 = g_array_index (times, double, times->len * 95 / 100);
}

/* People sorted by name, counted, then read at 200 random rows, 20 pages on from each. */
static void
measure_lists (KhStore *store,
               Figures *fig)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  double t0 = now_s ();
  double cpu0 = cpu_s (CLOCK_THREAD_CPUTIME_ID);
  g_autoptr(KhRecordList) list = kh_record_list_new (store, "person");
  guint n;

  kh_record_list_set_sort (list, "full_name", FALSE);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, >, 1000);
  for (int jump = 0; jump < 200; jump++)
    {
      guint start = g_rand_int_range (rand, 0, (gint32) (n - 20 * KH_RECORD_LIST_PAGE_SIZE));

      for (guint row = start; row < start + 20 * KH_RECORD_LIST_PAGE_SIZE; row += KH_RECORD_LIST_PAGE_SIZE / 2)
        g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), row));
    }
  fig->lists_ms = (now_s () - t0) * 1000;
  fig->lists_cpu = (cpu_s (CLOCK_THREAD_CPUTIME_ID) - cpu0) * 1000;
}

static void
run_once (KhTestServer *server,
          const char   *dir,
          const char   *password,
          gboolean      sealed,
          int           round,
          Figures      *fig)
{
  g_autofree char *name = g_strdup_printf ("%s-%d", sealed ? "sealed" : "plain", round);
  g_autofree char *file = g_strdup_printf ("%s.db", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;
  KhSyncReport rep;
  KhTReplica *r;
  double t0, cpu0;
  guint64 sealed0, opened0;

  memset (fig, 0, sizeof *fig);
  if (sealed)
    {
      guint8 key[KH_CRYPT_KEY_BYTES];

      kh_crypt_key_generate (key);
      kh_crypt_vfs_set_key (path, key);
    }
  r = kh_treplica_new_full (dir, name, server->base, "admin", password);
  g_object_set (r->engine, "page-size", 5000, "low-speed-time", 60, "connect-timeout", 30, NULL);
  perf_control (sealed ? "pull-sealed" : "pull-plain", TRUE);
  kh_crypt_vfs_counts (&sealed0, &opened0);
  t0 = now_s ();
  cpu0 = cpu_s (CLOCK_PROCESS_CPUTIME_ID);
  g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  fig->pull_rate = rep.pulled / (now_s () - t0);
  fig->pull_cpu = (cpu_s (CLOCK_PROCESS_CPUTIME_ID) - cpu0) / rep.pulled * 1000;
  perf_control (sealed ? "pull-sealed" : "pull-plain", FALSE);
  kh_crypt_vfs_counts (&fig->pull_sealed, &fig->pull_opened);
  fig->pull_sealed -= sealed0;
  fig->pull_opened -= opened0;
  g_assert_cmpint (kh_crypt_file_state (path), ==, sealed ? KH_CRYPT_FILE_SEALED : KH_CRYPT_FILE_PLAIN);
  kh_treplica_free (r);

  /* Opened again, as the window does: SQLite's cache is cold, the system's is not. */
  if (g_getenv ("KH_BENCH_PULL_ONLY") == NULL)
    {
      g_autoptr(KhStore) store = kh_store_open (path, &error);

      g_assert_no_error (error);
      measure_search (store, fig);
      measure_lists (store, fig);
    }
  g_print ("# %s: first pull %.0f records/s (%.2f ms of CPU per 1,000; %" G_GUINT64_FORMAT
           " pages sealed, %" G_GUINT64_FORMAT " opened); search as you type "
           "p50 %.2f ms, p95 %.2f ms (%.0f ms of CPU in all); lists %.0f ms (%.0f ms of CPU)\n",
           name, fig->pull_rate, fig->pull_cpu * 1000, fig->pull_sealed, fig->pull_opened,
           fig->search_p50, fig->search_p95,
           fig->search_cpu, fig->lists_ms, fig->lists_cpu);
  kh_crypt_vfs_forget_key (path);
  remove_replica (path);
}

int
main (int   argc,
      char *argv[])
{
  const char *env = g_getenv ("KH_BENCH_RECORDS");
  gint64 records = env ? g_ascii_strtoll (env, NULL, 10) : 1000000;
  g_autofree char *dir = NULL;
  g_autofree char *password = NULL;
  KhTestServer *server;
  const char *pairs_env = g_getenv ("KH_BENCH_PAIRS");
  int pairs = pairs_env ? CLAMP (atoi (pairs_env), 1, 16) : 3;
  Figures plain[16], sealed[16];
  double t0;

  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  /* Keys are given here, to one replica of each pair. */
  g_unsetenv ("KHUYENHOC_PASSPHRASE");
  g_print ("1..1\n");
  dir = kh_test_tmpdir ();
  server = kh_test_server_new ("sqlite");
  t0 = now_s ();
  password = fill_server (server, dir, records);
  kh_test_server_start (server, (const char * const[]) { "--threads", "4", NULL });
  g_print ("# server filled with %" G_GINT64_FORMAT " demo records in %.1f s (not measured)\n",
           records, now_s () - t0);

  /* Plain, sealed, sealed, plain, plain, sealed…: each pair in the other order than the one
   * before, so that a machine getting busier or quieter weighs on both alike. */
  for (int i = 0; i < pairs; i++)
    {
      gboolean sealed_first = i % 2 == 1;

      run_once (server, dir, password, sealed_first, i, sealed_first ? &sealed[i] : &plain[i]);
      run_once (server, dir, password, !sealed_first, i, sealed_first ? &plain[i] : &sealed[i]);
    }

  g_print ("ok 1 sealed against plain\n");
  g_print ("# %" G_GINT64_FORMAT " records, %d pairs; sealed / plain, medians (1.00 = as fast; "
           "target <= 1.20):\n", records, pairs);
  g_print ("#   first pull: time %.2f, CPU %.2f\n",
           median (plain, pairs, G_STRUCT_OFFSET (Figures, pull_rate))
           / median (sealed, pairs, G_STRUCT_OFFSET (Figures, pull_rate)),
           median (sealed, pairs, G_STRUCT_OFFSET (Figures, pull_cpu))
           / median (plain, pairs, G_STRUCT_OFFSET (Figures, pull_cpu)));
  if (g_getenv ("KH_BENCH_PULL_ONLY") == NULL)
    {
      g_print ("#   search as you type: p50 %.2f, p95 %.2f, CPU %.2f\n",
               median (sealed, pairs, G_STRUCT_OFFSET (Figures, search_p50))
               / median (plain, pairs, G_STRUCT_OFFSET (Figures, search_p50)),
               median (sealed, pairs, G_STRUCT_OFFSET (Figures, search_p95))
               / median (plain, pairs, G_STRUCT_OFFSET (Figures, search_p95)),
               median (sealed, pairs, G_STRUCT_OFFSET (Figures, search_cpu))
               / median (plain, pairs, G_STRUCT_OFFSET (Figures, search_cpu)));
      g_print ("#   lists: time %.2f, CPU %.2f\n",
               median (sealed, pairs, G_STRUCT_OFFSET (Figures, lists_ms))
               / median (plain, pairs, G_STRUCT_OFFSET (Figures, lists_ms)),
               median (sealed, pairs, G_STRUCT_OFFSET (Figures, lists_cpu))
               / median (plain, pairs, G_STRUCT_OFFSET (Figures, lists_cpu)));
    }
  kh_test_server_free (server);
  kh_test_rmdir (dir);
  return 0;
}
