/* bench-store.c: the local store's write rate against plain SQLite, search latency, size
 *
 * 1. The demo generator makes N records (default 1,000,000; KH_BENCH_RECORDS) through the
 *    store API into a source database.
 * 2. Those rows are read back in batches of 2000 and written twice in the same run, batch by
 *    batch: through kh_store_create() (validation, references, outbox and audit rows, one
 *    transaction per batch) into a fresh store, and with plain prepared INSERTs of the same
 *    rows into the same tables (same schema, checks, indexes, the report's covering indexes and
 *    the search index, which each batch feeds from its queue before COMMIT as the store does;
 *    same pragmas, one transaction per batch). Only the writing is timed, not the reading. For
 *    reference, the same rows also go into bare tables (the same columns, no checks, indexes
 *    or search).
 * 3. Search as a person types: every prefix of real names from the data, with and without
 *    diacritics, through kh_store_search(); p50 and p95.
 * 4. The size of the database files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "kh-demo.h"
#include "kh-entity.h"
#include "kh-fold.h"
#include "kh-schema.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"

#define BATCH 2000

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static void
die_on (GError *error)
{
  if (error != NULL)
    g_error ("%s", error->message);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;
  gint64 total = 0;
  g_autofree char *wal = g_strdup_printf ("%s-wal", path);

  if (g_stat (path, &st) == 0)
    total += st.st_size;
  if (g_stat (wal, &st) == 0)
    total += st.st_size;
  return total;
}

/* Entities in an order where every reference points at an entity written before. */
static void
visit (const KhEntity *entity,
       GHashTable     *seen,
       GPtrArray      *order)
{
  if (g_hash_table_contains (seen, entity->name))
    return;
  g_hash_table_add (seen, (gpointer) entity->name);
  /* Not a reference, but a rule: a minor's award is approved only with a consent already
   * written (kh-privacy.c), so the consents come before the award entries. */
  if (strcmp (entity->name, "award_entry") == 0)
    visit (kh_entity_lookup ("consent"), seen, order);
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];

      if (f->type != KH_FIELD_REF)
        continue;
      if (f->ref_entity != NULL)
        {
          if (strcmp (f->ref_entity, entity->name) != 0)
            visit (kh_entity_lookup (f->ref_entity), seen, order);
        }
      else
        {
          /* subject_id: any entity named by subject_kind's values. */
          const KhField *kind = kh_entity_get_field (entity, "subject_kind");

          for (guint k = 0; kind != NULL && kind->enum_values[k] != NULL; k++)
            if (kh_entity_lookup (kind->enum_values[k]) != NULL)
              visit (kh_entity_lookup (kind->enum_values[k]), seen, order);
        }
    }
  g_ptr_array_add (order, (gpointer) entity);
}

static char *
insert_sql (const KhEntity *entity)
{
  GString *sql = g_string_new (NULL);

  g_string_printf (sql, "INSERT INTO %s (id, version, deleted, created_at, updated_at, updated_by", entity->name);
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append_printf (sql, ", %s", entity->fields[i].name);
  g_string_append (sql, ") VALUES (?, 0, 0, ?, ?, ?");
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append (sql, ", ?");
  g_string_append (sql, ")");
  return g_string_free (sql, FALSE);
}

static sqlite3 *
open_raw (const char *path)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  if (sqlite3_open (path, &db) != SQLITE_OK)
    g_error ("open %s", path);
  /* The same settings as the store. */
  kh_sqlite_exec (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                      "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;", &error);
  die_on (error);
  kh_sqlite_register_functions (db, &error);
  die_on (error);
  kh_schema_migrate (db, KH_SCHEMA_VERSION, &error);
  die_on (error);
  return db;
}

/* The same columns, without checks, indexes or search triggers. */
static sqlite3 *
open_bare (const char *path)
{
  g_autoptr(GError) error = NULL;
  const KhEntity * const *entities;
  sqlite3 *db = NULL;
  guint n;

  if (sqlite3_open (path, &db) != SQLITE_OK)
    g_error ("open %s", path);
  kh_sqlite_exec (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;", &error);
  die_on (error);
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autoptr(GString) sql = g_string_new (NULL);

      g_string_printf (sql, "CREATE TABLE %s (rid INTEGER PRIMARY KEY, id TEXT, version INTEGER, "
                            "deleted INTEGER, created_at TEXT, updated_at TEXT, updated_by TEXT",
                       entities[e]->name);
      for (guint i = 0; i < entities[e]->n_fields; i++)
        g_string_append_printf (sql, ", %s", entities[e]->fields[i].name);
      g_string_append (sql, ")");
      kh_sqlite_exec (db, sql->str, &error);
      die_on (error);
    }
  return db;
}

static double
raw_batch (sqlite3        *db,
           sqlite3_stmt   *ins,
           const KhEntity *entity,
           GPtrArray      *batch)
{
  g_autoptr(GError) error = NULL;
  double t0 = now_s ();

  kh_sqlite_exec (db, "BEGIN IMMEDIATE", &error);
  die_on (error);
  for (guint r = 0; r < batch->len; r++)
    {
      json_object *row = batch->pdata[r];
      g_autofree char *id = kh_uuid_v7_new ();
      g_autofree char *stamp = kh_store_now ();

      sqlite3_bind_text (ins, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 2, stamp, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 3, stamp, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 4, "bench", -1, SQLITE_STATIC);
      for (guint i = 0; i < entity->n_fields; i++)
        kh_store_bind_value (ins, 5 + (int) i, &entity->fields[i],
                             json_object_object_get (row, entity->fields[i].name));
      if (sqlite3_step (ins) != SQLITE_DONE)
        g_error ("raw insert into %s: %s", entity->name, sqlite3_errmsg (db));
      sqlite3_reset (ins);
    }
  /* The search triggers queue the rows (schema 5); a writer indexes them before COMMIT, as
   * the store does. Bare tables have no queue: nothing to do there. */
  kh_schema_flush_search (db, &error);
  die_on (error);
  kh_sqlite_exec (db, "COMMIT", &error);
  die_on (error);
  return now_s () - t0;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *records_env = g_getenv ("KH_BENCH_RECORDS");
  gint64 records = records_env ? g_ascii_strtoll (records_env, NULL, 10) : 1000000;
  g_autofree char *dir = g_dir_make_tmp ("khuyenhoc-bench-XXXXXX", NULL);
  g_autofree char *gen_path = g_build_filename (dir, "demo.db", NULL);
  g_autofree char *store_path = g_build_filename (dir, "store.db", NULL);
  g_autofree char *raw_path = g_build_filename (dir, "raw.db", NULL);
  g_autofree char *bare_path = g_build_filename (dir, "bare.db", NULL);
  g_autoptr(KhStore) gen = NULL;
  g_autoptr(KhStore) store = NULL;
  g_autoptr(GHashTable) remap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const KhEntity * const *entities;
  KhDemoStats stats = { 0 };
  double t_store = 0, t_raw = 0, t_bare = 0, t0;
  gint64 written = 0;
  sqlite3 *raw;
  sqlite3 *bare;
  guint n;

  setvbuf (stdout, NULL, _IOLBF, 0);
  printf ("records: %" G_GINT64_FORMAT " (KH_BENCH_RECORDS), in %s\n", records, dir);

  /* 1. The demo generator, through the store. */
  gen = kh_store_open (gen_path, &error);
  die_on (error);
  kh_demo_generate (gen, records, 2025, &stats, &error);
  die_on (error);
  printf ("demo generator (store API, with generation): %" G_GINT64_FORMAT " records in %.1f s = %.0f records/s\n",
          stats.records, stats.seconds, stats.records / stats.seconds);

  /* 2. The same rows through the store and through plain SQLite, batch by batch. */
  store = kh_store_open (store_path, &error);
  die_on (error);
  raw = open_raw (raw_path);
  bare = open_bare (bare_path);
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    visit (entities[e], seen, order);

  for (guint e = 0; e < order->len; e++)
    {
      const KhEntity *entity = order->pdata[e];
      g_autofree char *columns = kh_store_select_columns (entity);
      g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s ORDER BY rid", columns, entity->name);
      g_autofree char *insert = insert_sql (entity);
      sqlite3_stmt *src = NULL;
      sqlite3_stmt *ins = NULL;
      sqlite3_stmt *bare_ins = NULL;
      gboolean more = TRUE;

      if (sqlite3_prepare_v2 (kh_store_get_db (gen), select, -1, &src, NULL) != SQLITE_OK
          || sqlite3_prepare_v2 (raw, insert, -1, &ins, NULL) != SQLITE_OK
          || sqlite3_prepare_v2 (bare, insert, -1, &bare_ins, NULL) != SQLITE_OK)
        g_error ("prepare: %s", sqlite3_errmsg (raw));

      while (more)
        {
          g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put);
          g_autoptr(GPtrArray) old_ids = g_ptr_array_new_with_free_func (g_free);

          while (batch->len < BATCH && (more = sqlite3_step (src) == SQLITE_ROW))
            {
              json_object *row = kh_store_row_to_json (entity, src, 0);

              g_ptr_array_add (old_ids, g_strdup (json_object_get_string (json_object_object_get (row, "id"))));
              json_object_object_del (row, "id");
              json_object_object_del (row, "version");
              json_object_object_del (row, "deleted");
              json_object_object_del (row, "created_at");
              json_object_object_del (row, "updated_at");
              json_object_object_del (row, "updated_by");
              g_ptr_array_add (batch, row);
            }
          if (batch->len == 0)
            break;

          /* Through the store: its references are the new ids of the records they named. */
          t0 = now_s ();
          kh_store_begin (store, &error);
          die_on (error);
          for (guint r = 0; r < batch->len; r++)
            {
              json_object *row = batch->pdata[r];
              char *id;

              for (guint i = 0; i < entity->n_fields; i++)
                {
                  json_object *v;

                  if (entity->fields[i].type == KH_FIELD_REF
                      && json_object_object_get_ex (row, entity->fields[i].name, &v) && v != NULL)
                    {
                      const char *mapped = g_hash_table_lookup (remap, json_object_get_string (v));

                      if (mapped != NULL)
                        json_object_object_add (row, entity->fields[i].name, json_object_new_string (mapped));
                    }
                }
              id = kh_store_create (store, entity->name, row, &error);
              die_on (error);
              g_hash_table_insert (remap, g_strdup (old_ids->pdata[r]), id);
            }
          kh_store_commit (store, &error);
          die_on (error);
          t_store += now_s () - t0;

          /* Plain SQLite: the same values bound to one prepared INSERT. */
          t_raw += raw_batch (raw, ins, entity, batch);
          t_bare += raw_batch (bare, bare_ins, entity, batch);
          written += batch->len;
        }
      sqlite3_finalize (src);
      sqlite3_finalize (ins);
      sqlite3_finalize (bare_ins);
    }
  g_hash_table_remove_all (remap);

  printf ("create through the store API: %" G_GINT64_FORMAT " records in %.1f s = %.0f records/s\n",
          written, t_store, written / t_store);
  printf ("plain SQLite INSERT, same rows and tables: %" G_GINT64_FORMAT " records in %.1f s = %.0f records/s\n",
          written, t_raw, written / t_raw);
  printf ("RATIO store/plain SQLite: %.2f (aim >= 0.5)\n", t_raw / t_store);
  printf ("for reference, plain SQLite INSERT into bare tables (same columns; no checks, indexes or search): "
          "%.0f records/s, ratio store/bare %.2f\n", written / t_bare, t_bare / t_store);

  /* 3. Search as people type it. */
  {
    sqlite3_stmt *stmt = NULL;
    GRand *rand = g_rand_new_with_seed (7);
    gint64 people = kh_store_count (store, "person", NULL, NULL);
    double total = 0;
    guint nq;
    guint with_hits = 0;

    sqlite3_prepare_v2 (kh_store_get_db (store), "SELECT full_name FROM person WHERE rid = ?", -1, &stmt, NULL);
    for (int i = 0; i < 120 && people > 0; i++)
      {
        sqlite3_bind_int64 (stmt, 1, g_rand_int_range (rand, 1, (gint32) MIN (people, G_MAXINT32)));
        if (sqlite3_step (stmt) == SQLITE_ROW)
          g_ptr_array_add (names, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
        sqlite3_reset (stmt);
      }
    sqlite3_finalize (stmt);
    g_rand_free (rand);

    /* Warm the cache the way an open app has it warm. */
    json_object_put (kh_store_search (store, "nguyen", NULL, 50, NULL));
    for (guint i = 0; i < names->len; i++)
      {
        g_autofree char *folded = kh_fold (names->pdata[i]);
        const char *variants[] = { names->pdata[i], folded };

        for (int v = 0; v < 2; v++)
          {
            const char *s = variants[v];

            /* Every keystroke: each prefix, character by character. */
            for (const char *p = g_utf8_next_char (s); ; p = g_utf8_next_char (p))
              {
                g_autofree char *typed = g_strndup (s, p - s);
                json_object *hits;
                double t, dt;

                t = now_s ();
                hits = kh_store_search (store, typed, NULL, 50, &error);
                dt = (now_s () - t) * 1000;
                die_on (error);
                if (json_object_array_length (hits) > 0)
                  with_hits++;
                json_object_put (hits);
                g_array_append_val (latencies, dt);
                total += dt;
                if (*p == '\0')
                  break;
              }
          }
      }
    g_array_sort (latencies, compare_double);
    nq = latencies->len;
    if (nq > 0)
      printf ("search as you type: %u queries (every prefix of %u real names, with and without diacritics): "
              "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms, mean %.2f ms (aim < 30 ms)\n",
              nq, names->len, g_array_index (latencies, double, nq / 2),
              g_array_index (latencies, double, nq * 95 / 100),
              g_array_index (latencies, double, nq * 99 / 100),
              g_array_index (latencies, double, nq - 1), total / nq);
    if (nq > 0)
      printf ("search: %u of %u queries found something (every one should: they are prefixes of stored names)\n",
              with_hits, nq);
  }

  /* 4. Sizes. */
  g_clear_object (&store);
  g_clear_object (&gen);
  sqlite3_close (raw);
  sqlite3_close (bare);
  printf ("database size: store %.1f MB for %" G_GINT64_FORMAT " records (%.0f bytes/record, with outbox, audit "
          "and search index); plain SQLite tables %.1f MB\n",
          file_size (store_path) / 1e6, written, (double) file_size (store_path) / MAX (written, 1),
          file_size (raw_path) / 1e6);

  g_unlink (gen_path);
  g_unlink (store_path);
  g_unlink (raw_path);
  g_unlink (bare_path);
  {
    g_autofree char *w1 = g_strdup_printf ("%s-wal", bare_path);
    g_autofree char *w2 = g_strdup_printf ("%s-shm", bare_path);

    g_unlink (w1);
    g_unlink (w2);
  }
  g_rmdir (dir);
  return 0;
}
