/* bench-prefill.c: a PostgreSQL server database filled with many records, by the database
 *
 * Filling a table of 10,000,000 records through `demo` (the push path, record by record) takes
 * hours on a small machine. Here the database copies what one `demo` run stored, round after
 * round, with a few INSERT … SELECT … FROM generate_series statements, so the copies have the
 * shape of rows the server wrote itself:
 *
 * - every kind of record of the demo that belongs to a unit (people, households,
 *   registrations, evaluations, funds, donations…), with the same data, field sizes, scope
 *   units (the demo province's communes: the units themselves are not copied, nor the few
 *   records of the whole country, such as criteria sets) and deleted flags, in `records` with
 *   all its indexes;
 * - each one's mutation log row (`mutations`), and the rows of `registrations` and `ledger`
 *   the push keeps beside them;
 * - copy G of a record gets the id of the original with its first 8 hex digits replaced by
 *   those of 0x01000000 + G (a UUID v7 of an earlier time, unique, ascending from round to
 *   round like ids made over time), and the references between the demo's records inside the
 *   data and the mutation log are changed the same way, so a copy points at the copies of its
 *   round; references to units are kept;
 * - versions follow the counter: copy G of the seed's K-th record (by version) gets
 *   base + (G - 1) × n + K, every field's version is the record's (the demo only creates), and
 *   the counter is moved past them, as pushes would have moved it;
 * - then VACUUM (ANALYZE), as autovacuum would have done on a table that old.
 *
 * Every statement is prepared with bound parameters (the numbers are parameters).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <libpq-fe.h>
#include <string.h>

#include "bench-prefill.h"

/* The marker that stands for a copy's 8 hex digits in the seed's texts. */
#define MARK "@@@@@@@@"

static PGresult *
run (PGconn             *c,
     const char         *sql,
     int                 n,
     const char * const *values)
{
  PGresult *r = PQexecParams (c, sql, n, NULL, values, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus (r);

  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    g_error ("prefill: %s: %s", sql, PQerrorMessage (c));
  return r;
}

static void
run_clear (PGconn             *c,
           const char         *sql,
           int                 n,
           const char * const *values)
{
  PQclear (run (c, sql, n, values));
}

static gint64
run_int (PGconn             *c,
         const char         *sql,
         int                 n,
         const char * const *values)
{
  PGresult *r = run (c, sql, n, values);
  gint64 v = g_ascii_strtoll (PQgetvalue (r, 0, 0), NULL, 10);

  PQclear (r);
  return v;
}

static gboolean
is_uuid_at (const char *s)
{
  for (int i = 0; i < 36; i++)
    if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* @text with the first 8 hex digits of every id in @ids replaced by MARK. */
static char *
mark_refs (const char *text,
           GHashTable *ids)
{
  char *copy = g_strdup (text);
  size_t len = strlen (copy);
  char key[37];

  for (size_t i = 0; i + 36 <= len; i++)
    if (is_uuid_at (copy + i))
      {
        memcpy (key, copy + i, 36);
        key[36] = '\0';
        if (g_hash_table_contains (ids, key))
          memcpy (copy + i, MARK, 8);
        i += 35;
      }
  return copy;
}

/* @fv ({"field":VERSION,…}) with every VERSION replaced by '#'; they must all be @version. */
static char *
mark_versions (const char *fv,
               const char *version)
{
  g_autofree char *needle = g_strconcat (":", version, NULL);
  g_auto(GStrv) parts = g_strsplit (fv, needle, -1);
  char *out = g_strjoinv (":#", parts);

  for (const char *p = out; *p; p++)
    g_assert_false (g_ascii_isdigit (*p) && p > out && (p[-1] == ':' || p[-1] == '#'));
  return out;
}

static const char * const units[] = { "org_unit", "unit_succession" };

/* The seed: the records of the demo, but for the tree of units and the country's records
 * (criteria sets and the like, in no unit's scope, which every pull sends), in version order,
 * with their references marked, and their mutation log; in temporary tables of this session. */
static gint64
make_seed (PGconn *c)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) ord_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  PGresult *recs, *log;
  int n, m, logged = 0;

  recs = run (c, "SELECT entity, id, version, deleted, scope_unit, data, field_versions, updated_by, "
              "updated_at, created_at FROM records WHERE entity <> $1 AND entity <> $2 "
              "AND scope_unit IS NOT NULL ORDER BY version",
              2, units);
  n = PQntuples (recs);
  g_assert_cmpint (n, >, 0);
  for (int i = 0; i < n; i++)
    {
      g_hash_table_add (ids, g_strdup (PQgetvalue (recs, i, 1)));
      /* version → ord, and the record's id, for its log row */
      g_hash_table_insert (ord_of, g_strdup (PQgetvalue (recs, i, 2)),
                           g_strdup_printf ("%d\t%s", i + 1, PQgetvalue (recs, i, 1)));
    }

  run_clear (c, "CREATE TEMPORARY TABLE kh_prefill_seed (ord BIGINT PRIMARY KEY, entity TEXT, id TEXT, "
             "deleted INTEGER, scope_unit TEXT, data TEXT, fv TEXT, updated_by TEXT, updated_at TEXT, "
             "created_at TEXT)", 0, NULL);
  run_clear (c, "CREATE TEMPORARY TABLE kh_prefill_log (ord BIGINT PRIMARY KEY, mutation_id TEXT, "
             "user_id TEXT, entity TEXT, record_id TEXT, applied_at TEXT, device TEXT, op TEXT, "
             "changes TEXT)", 0, NULL);
  run_clear (c, "BEGIN", 0, NULL);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *ord = g_strdup_printf ("%d", i + 1);
      g_autofree char *data = mark_refs (PQgetvalue (recs, i, 5), ids);
      g_autofree char *fv = mark_versions (PQgetvalue (recs, i, 6), PQgetvalue (recs, i, 2));
      const char *v[10] = {
        ord, PQgetvalue (recs, i, 0), PQgetvalue (recs, i, 1), PQgetvalue (recs, i, 3),
        PQgetisnull (recs, i, 4) ? NULL : PQgetvalue (recs, i, 4), data, fv,
        PQgetisnull (recs, i, 7) ? NULL : PQgetvalue (recs, i, 7), PQgetvalue (recs, i, 8),
        PQgetvalue (recs, i, 9),
      };

      run_clear (c, "INSERT INTO kh_prefill_seed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, v);
    }

  /* The log row that created each record (the demo only creates: one per record). */
  log = run (c, "SELECT mutation_id, user_id, entity, record_id, version, applied_at, device, op, changes "
             "FROM mutations WHERE entity <> $1 AND entity <> $2 ORDER BY version", 2, units);
  m = PQntuples (log);
  for (int i = 0; i < m; i++)
    {
      const char *at = g_hash_table_lookup (ord_of, PQgetvalue (log, i, 4));
      g_auto(GStrv) ord_id = at ? g_strsplit (at, "\t", 2) : NULL;
      g_autofree char *changes = NULL;

      if (at == NULL || strcmp (ord_id[1], PQgetvalue (log, i, 3)) != 0)
        continue;
      changes = PQgetisnull (log, i, 8) ? NULL : mark_refs (PQgetvalue (log, i, 8), ids);
      {
        const char *v[9] = {
          ord_id[0], PQgetvalue (log, i, 0), PQgetvalue (log, i, 1), PQgetvalue (log, i, 2),
          PQgetvalue (log, i, 3), PQgetvalue (log, i, 5),
          PQgetisnull (log, i, 6) ? NULL : PQgetvalue (log, i, 6),
          PQgetisnull (log, i, 7) ? NULL : PQgetvalue (log, i, 7), changes,
        };

        run_clear (c, "INSERT INTO kh_prefill_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, v);
        logged++;
      }
    }
  g_assert_cmpint (logged, ==, n);

  /* The push's side tables, by the seed's ord; a reference to a seed record is marked. */
  run_clear (c, "CREATE TEMPORARY TABLE kh_prefill_reg AS SELECT s.ord, r.subject_id, "
             "r.subject_id IN (SELECT id FROM kh_prefill_seed) AS mapped, r.model, r.year, r.live "
             "FROM registrations r JOIN kh_prefill_seed s ON s.id = r.id", 0, NULL);
  run_clear (c, "CREATE TEMPORARY TABLE kh_prefill_ledger AS SELECT s.ord, l.fund_id, "
             "l.fund_id IN (SELECT id FROM kh_prefill_seed) AS mapped, l.earmark, l.kind, l.dated, "
             "l.amount, l.live FROM ledger l JOIN kh_prefill_seed s ON s.id = l.id", 0, NULL);
  run_clear (c, "COMMIT", 0, NULL);
  run_clear (c, "ANALYZE kh_prefill_seed, kh_prefill_log, kh_prefill_reg, kh_prefill_ledger", 0, NULL);
  PQclear (recs);
  PQclear (log);
  return n;
}

/* $1 base version, $2 records in a round, $3 first round, $4 last round; round G's prefix is
 * the hex of 0x01000000 + G, its versions base + (G - 1) × n + ord. */
#define ROUNDS \
  " FROM generate_series($3::bigint, $4::bigint) g" \
  " CROSS JOIN LATERAL (SELECT lpad(to_hex(16777216 + g), 8, '0') AS p," \
  "                            $1::bigint + (g - 1) * $2::bigint AS v0) k"

static const char copy_records[] =
  "INSERT INTO records (entity, id, version, deleted, scope_unit, data, field_versions, updated_by, "
  "updated_at, created_at) "
  "SELECT t.entity, k.p || substr(t.id, 9), k.v0 + t.ord, t.deleted, t.scope_unit, "
  "replace(t.data, '" MARK "', k.p), replace(t.fv, '#', (k.v0 + t.ord)::text), t.updated_by, "
  "t.updated_at, t.created_at" ROUNDS " CROSS JOIN kh_prefill_seed t ORDER BY g, t.ord";

static const char copy_log[] =
  "INSERT INTO mutations (mutation_id, user_id, entity, record_id, version, applied_at, device, op, changes) "
  "SELECT k.p || substr(t.mutation_id, 9), t.user_id, t.entity, k.p || substr(t.record_id, 9), "
  "k.v0 + t.ord, t.applied_at, t.device, t.op, replace(t.changes, '" MARK "', k.p)"
  ROUNDS " CROSS JOIN kh_prefill_log t ORDER BY g, t.ord";

static const char copy_registrations[] =
  "INSERT INTO registrations (id, subject_id, model, year, live) "
  "SELECT k.p || substr(s.id, 9), CASE WHEN t.mapped THEN k.p || substr(t.subject_id, 9) "
  "ELSE t.subject_id END, t.model, t.year, t.live"
  ROUNDS " CROSS JOIN kh_prefill_reg t JOIN kh_prefill_seed s ON s.ord = t.ord ORDER BY g, t.ord";

static const char copy_ledger[] =
  "INSERT INTO ledger (id, fund_id, earmark, kind, dated, amount, live) "
  "SELECT k.p || substr(s.id, 9), CASE WHEN t.mapped THEN k.p || substr(t.fund_id, 9) "
  "ELSE t.fund_id END, t.earmark, t.kind, t.dated, t.amount, t.live"
  ROUNDS " CROSS JOIN kh_prefill_ledger t JOIN kh_prefill_seed s ON s.ord = t.ord ORDER BY g, t.ord";

gint64
kh_bench_prefill_pg (const char *url,
                     gint64      records)
{
  PGconn *c = PQconnectdb (url);
  gint64 have, n, base, rounds, total;
  g_autofree char *n_text = NULL;
  g_autofree char *base_text = NULL;
  double t0 = g_get_monotonic_time () / 1e6;
  const char *one[] = { "1" };

  if (PQstatus (c) != CONNECTION_OK)
    g_error ("prefill: %s", PQerrorMessage (c));
  /* The copies of a few rounds are sorted by version before they go in, as pushes write them. */
  run_clear (c, "SET work_mem = '256MB'", 0, NULL);
  n = make_seed (c);
  have = run_int (c, "SELECT count(*) FROM records", 0, NULL);
  base = run_int (c, "SELECT version FROM counter WHERE id = $1", 1, one);
  rounds = records > have ? (records - have + n - 1) / n : 0;
  n_text = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  base_text = g_strdup_printf ("%" G_GINT64_FORMAT, base);
  g_print ("prefill: %" G_GINT64_FORMAT " records of a demo, copied %" G_GINT64_FORMAT " times\n",
           n, rounds);

  for (gint64 g = 1, step = MAX (1, 250000 / n); g <= rounds; g += step)
    {
      g_autofree char *from = g_strdup_printf ("%" G_GINT64_FORMAT, g);
      g_autofree char *to = g_strdup_printf ("%" G_GINT64_FORMAT, MIN (rounds, g + step - 1));
      const char *v[4] = { base_text, n_text, from, to };

      run_clear (c, "BEGIN", 0, NULL);
      run_clear (c, copy_records, 4, v);
      run_clear (c, copy_log, 4, v);
      run_clear (c, copy_registrations, 4, v);
      run_clear (c, copy_ledger, 4, v);
      run_clear (c, "COMMIT", 0, NULL);
      g_print ("prefill: %" G_GINT64_FORMAT " records copied, %.0f s\n",
               MIN (rounds, g + step - 1) * n, g_get_monotonic_time () / 1e6 - t0);
    }

  {
    g_autofree char *version = g_strdup_printf ("%" G_GINT64_FORMAT, base + rounds * n);
    const char *v[2] = { version, "1" };

    run_clear (c, "UPDATE counter SET version = $1::bigint WHERE id = $2::integer", 2, v);
  }
  run_clear (c, "VACUUM (ANALYZE) records, mutations, registrations, ledger", 0, NULL);
  total = run_int (c, "SELECT count(*) FROM records", 0, NULL);
  g_print ("prefill: %" G_GINT64_FORMAT " records in the table, %.0f s\n", total,
           g_get_monotonic_time () / 1e6 - t0);
  PQfinish (c);
  return total;
}
