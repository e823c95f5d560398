/* kh-report.c: the figures of a unit for a year
 *
 * What provinces report upwards each December, for any unit and year: registrations,
 * evaluations, achievements and recognitions for each of the five learning models (with the
 * share of the eligible population where every unit counted has one), learning units at each
 * level, the number and total of scholarships, awards and grants for adult learners, and the
 * money each fund mobilized and disbursed; the same figures for each unit directly below
 * (as a workbook in kh-report-xlsx.c; several years side by side in kh-report-years.c).
 *
 * A share is a promise that numerator and denominator cover the same units. The denominator of
 * a unit is its own eligible population, else the sum of those of the units below it that
 * count (units that existed in the year and are communes or above, or that have registrations
 * of the model): one of them without a figure and the share is not given, and the report names
 * the units that lack one. A share is never above 100 %: more registered than eligible is an
 * error in the figures, said as such.
 *
 * Units are rolled up through the tree, and, when asked, through succession links: since the
 * 2025 reform a record keeps the unit it had when it happened, so a 2024 record of an abolished
 * commune counts under today's commune that succeeded it when reporting by today's units, and
 * under its old district when reporting by that year's tree.
 *
 * The units in scope are put once into a temporary table, each tagged with the child of the
 * reported unit it rolls up to (its "bucket"); every figure is then one indexed, grouped query
 * joined to that table, which gives the totals and the breakdown in the same pass.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-privacy.h"
#include "kh-report.h"
#include "kh-report-private.h"
#include "kh-schema.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"

#define N_MODELS KH_N_MODELS
#define N_CATEGORIES 4
#define N_RESULTS 9
#define N_ISSUERS 4
#define MAX_MISSING 20

static const char * const categories[N_CATEGORIES] = { "hardship", "merit", "special", "adult_learner" };
static const char * const results[N_RESULTS] = {
  "pass", "fail", "level1", "level2", "level3", "good", "fair", "average", "not_achieved"
};
static const char * const issuers[N_ISSUERS] = { "commune", "district", "province", "unit" };

typedef struct
{
  gint64 registered[N_MODELS];
  gint64 evaluated[N_MODELS];
  gint64 achieved[N_MODELS];
  gint64 result[N_MODELS][N_RESULTS];
  gint64 reviewed[N_MODELS];      /* evaluations counted at the review stage */
  gint64 recognized[N_MODELS];
  gint64 recognized_by[N_MODELS][N_ISSUERS];
  gint64 recognized_result[N_MODELS][N_RESULTS];
  gint64 award_count[N_CATEGORIES];
  gint64 award_amount[N_CATEGORIES];
  gint64 donations;
  gint64 mobilized;
  gint64 in_kind;
  gint64 disbursed;
} Figures;

typedef struct
{
  char   *fund_id;
  gint64  donations;
  gint64  mobilized;
  gint64  in_kind;
  gint64  disbursements;
  gint64  disbursed;
} FundFigures;

/* A unit of the roll-up, with what the denominators need to know of it. */
typedef struct
{
  char     *kind;
  gboolean  existed;             /* valid at some time in the year */
  gint64    registered[N_MODELS];
  gint64    eligible[N_MODELS];  /* its own figure, or -1 */
  gint64    below_registered[N_MODELS];  /* itself and every unit below */
  gboolean  below_eligible[N_MODELS];    /* a figure of its own or below */
} UnitInfo;

typedef struct
{
  KhStore    *store;
  char       *root;
  int         year;
  gboolean    has_stage;  /* evaluations have a stage (self-assessment, review) */
  GHashTable *parent;     /* unit id → parent id in the rollup tree */
  GHashTable *children;   /* unit id → GPtrArray of child ids */
  GHashTable *info;       /* unit id → UnitInfo */
  GHashTable *buckets;    /* bucket id → Figures */
  GPtrArray  *bucket_ids; /* in order of appearance */
  GHashTable *funds;      /* fund id → FundFigures */
} Report;

static int
index_of (const char * const *values,
          int                 n,
          const char         *value)
{
  for (int i = 0; value != NULL && i < n; i++)
    if (strcmp (values[i], value) == 0)
      return i;
  return -1;
}

static Figures *
bucket (Report     *r,
        const char *id)
{
  Figures *f = g_hash_table_lookup (r->buckets, id);

  if (f == NULL)
    {
      char *key = g_strdup (id);

      f = g_new0 (Figures, 1);
      g_hash_table_insert (r->buckets, key, f);
      g_ptr_array_add (r->bucket_ids, key);
    }
  return f;
}

static char *
resolve_unit (KhStore     *store,
              const char  *unit,
              int          year,
              GError     **error)
{
  sqlite3_stmt *stmt;
  char *id = NULL;
  g_autofree char *start = g_strdup_printf ("%04d-01-01", year);
  g_autofree char *end = g_strdup_printf ("%04d-12-31", year);

  /* A code may have been reused across the reform: prefer the unit valid in that year. */
  stmt = kh_store_prepare (store,
                           "SELECT id FROM org_unit WHERE (id = ?1 OR code = ?1) AND deleted = 0 "
                           "ORDER BY (coalesce(valid_from, '0000') <= ?3 AND coalesce(valid_to, '9999') >= ?2) DESC, "
                           "valid_to IS NOT NULL, valid_to DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, start, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, end, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (id == NULL)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                 _("There is no unit with the code or id “%s”."), unit);
  return id;
}

/* The figures are counted from covering indexes, so a province of a million records is read
 * from index pages alone: kh_report_registration, kh_report_evaluation (with the stage from
 * version 18), kh_report_recognition and kh_report_award_entry, made by the schema
 * (data/kh-schema.c). */
static gboolean
collect_units (Report    *r,
               gboolean   by_successor,
               GError   **error)
{
  sqlite3 *db = kh_store_get_db (r->store);
  sqlite3_stmt *stmt;
  int rc;

  if (!kh_sqlite_exec (db,
                       "CREATE TEMP TABLE IF NOT EXISTS kh_report_unit ("
                       "  id TEXT PRIMARY KEY, bucket TEXT NOT NULL, parent TEXT);"
                       "DELETE FROM temp.kh_report_unit;", error))
    return FALSE;

  /* The shallowest path to a unit wins, so a unit reached twice (a split) counts once. */
  stmt = kh_store_prepare (r->store,
    "INSERT OR IGNORE INTO temp.kh_report_unit (id, bucket, parent) "
    "WITH RECURSIVE tree (id, bucket, parent, depth) AS ("
    "  VALUES (?1, ?1, NULL, 0)"
    "  UNION"
    "  SELECT o.id, CASE WHEN t.depth = 0 THEN o.id ELSE t.bucket END, t.id, t.depth + 1"
    "    FROM tree t JOIN org_unit o ON o.parent_id = t.id AND o.deleted = 0 WHERE t.depth < 32"
    "  UNION"
    "  SELECT s.predecessor_id, CASE WHEN t.depth = 0 THEN s.predecessor_id ELSE t.bucket END, t.id, t.depth + 1"
    "    FROM tree t JOIN unit_succession s ON s.successor_id = t.id AND s.deleted = 0"
    "    WHERE ?2 AND t.depth < 32"
    ") SELECT id, bucket, parent FROM tree ORDER BY depth", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, r->root, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, by_successor ? 1 : 0);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, db, "report units");
      return FALSE;
    }

  stmt = kh_store_prepare (r->store,
    "SELECT t.id, t.parent, o.kind,"
    "       coalesce(o.valid_from, '0000') <= ?2 AND coalesce(o.valid_to, '9999') >= ?1"
    "  FROM temp.kh_report_unit t LEFT JOIN org_unit o ON o.id = t.id", error);
  if (stmt == NULL)
    return FALSE;
  {
    g_autofree char *start = g_strdup_printf ("%04d-01-01", r->year);
    g_autofree char *end = g_strdup_printf ("%04d-12-31", r->year);

    sqlite3_bind_text (stmt, 1, start, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (stmt, 2, end, -1, SQLITE_TRANSIENT);
  }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      const char *parent = (const char *) sqlite3_column_text (stmt, 1);
      UnitInfo *info = g_new0 (UnitInfo, 1);
      GPtrArray *kids;

      info->kind = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      info->existed = sqlite3_column_int (stmt, 3) != 0;
      for (int m = 0; m < N_MODELS; m++)
        info->eligible[m] = -1;
      g_hash_table_insert (r->info, g_strdup (id), info);
      if (parent == NULL)
        continue;
      g_hash_table_insert (r->parent, g_strdup (id), g_strdup (parent));
      kids = g_hash_table_lookup (r->children, parent);
      if (kids == NULL)
        {
          kids = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (r->children, g_strdup (parent), kids);
        }
      g_ptr_array_add (kids, g_strdup (id));
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE;
}

static gboolean
step_error (Report      *r,
            int          rc,
            const char  *what,
            GError     **error)
{
  if (rc == SQLITE_DONE)
    return TRUE;
  kh_sqlite_set_error (error, kh_store_get_db (r->store), what);
  return FALSE;
}

static UnitInfo *
unit_info (Report     *r,
           const char *id)
{
  return id != NULL ? g_hash_table_lookup (r->info, id) : NULL;
}

/* After an evaluation's result, "|" and the level that recognized it (the latest decision)
 * when it is an achievement: a recognition is of the year's registration (a 2024 learning
 * family is recognized in early 2025 for 2024), counts once however many decisions name it,
 * and counts with the achievements (recognized is part of achieved). Looked up in the
 * evaluation's own subquery, only for an achievement, through the figures' covering index of
 * recognitions: driven from the recognitions, each had to fetch its registration's row from
 * the largest table to learn the year, nine times slower; looked up for every registration in
 * a column of its own, a third slower; every recognition read into a hash table first (they
 * are of every year), slower than these lookups by a tenth. */
#define RECOGNIZED_BY \
  " || coalesce('|' || CASE WHEN e.result IN ('fail', 'not_achieved') THEN NULL" \
  "      ELSE (SELECT c.issuing_level FROM recognition c WHERE c.registration_id = e.registration_id" \
  "              AND c.deleted = 0 ORDER BY c.decision_date DESC LIMIT 1) END, '')"

/* A unit as count_models() finds it by its row: what it adds to, the bucket's once it has
 * something to add. */
typedef struct
{
  UnitInfo *info;
  char     *bucket;
  Figures  *figures;
} Slot;

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  g_free (slot->bucket);
  g_free (slot);
}

/* Adds one registration of @model (its latest evaluation's @text, "result[:review][|issuer]",
 * or NULL) to @f and @info. */
static void
add_registration (Figures    *f,
                  UnitInfo   *info,
                  int         m,
                  const char *text)
{
  char result[64];
  char *issuer = NULL;
  char *stage = NULL;
  int res = -1;

  f->registered[m]++;
  if (info != NULL)
    info->registered[m]++;
  if (text == NULL)
    return;
  g_strlcpy (result, text, sizeof result);
  if ((issuer = strchr (result, '|')) != NULL)
    {
      int by;

      *issuer++ = '\0';
      by = index_of (issuers, N_ISSUERS, issuer);
      f->recognized[m]++;
      if (by >= 0)
        f->recognized_by[m][by]++;
    }
  if ((stage = strchr (result, ':')) != NULL)
    *stage++ = '\0';
  res = index_of (results, N_RESULTS, result);
  if (res < 0)
    return;
  if (issuer != NULL)
    f->recognized_result[m][res]++;
  f->evaluated[m]++;
  f->result[m][res]++;
  if (stage != NULL)
    f->reviewed[m]++;
  if (strcmp (results[res], "fail") != 0 && strcmp (results[res], "not_achieved") != 0)
    f->achieved[m]++;
}

static gboolean
count_models (Report  *r,
              GError **error)
{
  /* An evaluation redone (after an appeal) replaces the earlier one: the latest counts. Where
   * evaluations have a stage, a review by the level above counts before any self-assessment,
   * and the stage counted is said (":review" after the result), read from the covering index
   * of evaluations in that order (schema 18; before it, each registration's evaluations were
   * read from the table and sorted, half as long again). The units drive the query (CROSS JOIN
   * keeps SQLite from scanning the big table instead: the temporary table has no statistics).
   * The registrations are then taken in the order of their ids, which is the order of both
   * lookups' indexes: each lookup lands near the one before, in pages just read, and the
   * figures take an eighth less CPU than unit by unit. Added up here as they come (grouped in
   * SQL they were sorted a second time). Counted per unit, not per bucket: the denominators
   * need to know which units have registrations. */
#define REGISTRATIONS \
  "WITH g AS MATERIALIZED (" \
  "  SELECT u.rowid AS unit, r.model AS model, r.id AS id" \
  "    FROM temp.kh_report_unit u CROSS JOIN registration r ON r.org_unit_id = u.id AND r.year = ?1" \
  "   WHERE r.deleted = 0 AND r.status <> 'withdrawn' ORDER BY r.id" \
  ") "
  static const char *without_stage =
    REGISTRATIONS
    "SELECT unit, model,"
    "    (SELECT e.result" RECOGNIZED_BY " FROM evaluation e WHERE e.registration_id = g.id AND e.deleted = 0"
    "      ORDER BY e.evaluated_on DESC, e.rid DESC LIMIT 1)"
    "  FROM g";
  static const char *with_stage =
    REGISTRATIONS
    "SELECT unit, model,"
    "    (SELECT e.result || CASE WHEN e.stage = 'review' THEN ':review' ELSE '' END" RECOGNIZED_BY
    "      FROM evaluation e WHERE e.registration_id = g.id AND e.deleted = 0"
    "      ORDER BY e.stage = 'review' DESC, e.evaluated_on DESC, e.rid DESC LIMIT 1)"
    "  FROM g";
#undef REGISTRATIONS
  g_autoptr(GHashTable) units = g_hash_table_new_full (NULL, NULL, NULL, slot_free);
  sqlite3_stmt *stmt;
  int rc;

  /* The rows name their unit by its row in the table of units, a small number to sort by. */
  stmt = kh_store_prepare (r->store, "SELECT rowid, id, bucket FROM temp.kh_report_unit", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Slot *slot = g_new0 (Slot, 1);

      slot->info = unit_info (r, (const char *) sqlite3_column_text (stmt, 1));
      slot->bucket = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      g_hash_table_insert (units, GINT_TO_POINTER (sqlite3_column_int (stmt, 0)), slot);
    }
  sqlite3_reset (stmt);
  if (!step_error (r, rc, "report units", error))
    return FALSE;

  stmt = kh_store_prepare (r->store, r->has_stage ? with_stage : without_stage, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, r->year);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Slot *slot = g_hash_table_lookup (units, GINT_TO_POINTER (sqlite3_column_int (stmt, 0)));
      int m = index_of (kh_models (), N_MODELS, (const char *) sqlite3_column_text (stmt, 1));

      if (slot == NULL || m < 0)
        continue;
      if (slot->figures == NULL)
        slot->figures = bucket (r, slot->bucket);
      add_registration (slot->figures, slot->info, m, (const char *) sqlite3_column_text (stmt, 2));
    }
  sqlite3_reset (stmt);
  return step_error (r, rc, "report registrations", error);
}

static gboolean
count_awards (Report  *r,
              GError **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *year = g_strdup_printf ("%04d", r->year);
  int rc;

  /* An award belongs to the year of its list's decision, else of its receipt, else of the
   * school year's half the occasion falls in (Tết and the year's end in the second calendar
   * year, the new school year in the first). Proposed and cancelled entries are not awards. */
  stmt = kh_store_prepare (r->store,
    "SELECT u.bucket, e.category, count(*), sum(e.amount)"
    "  FROM temp.kh_report_unit u CROSS JOIN award_entry e ON e.org_unit_id = u.id"
    "  JOIN award_list l ON l.id = e.list_id"
    " WHERE e.deleted = 0 AND e.status IN ('approved', 'paid') AND l.deleted = 0"
    "   AND coalesce(substr(l.decision_date, 1, 4), substr(e.received_on, 1, 4),"
    "                CASE WHEN l.occasion IN ('tet', 'year_end') THEN substr(l.school_year, 6, 4)"
    "                     ELSE substr(l.school_year, 1, 4) END) = ?1"
    " GROUP BY u.bucket, e.category", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, year, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Figures *f = bucket (r, (const char *) sqlite3_column_text (stmt, 0));
      int c = index_of (categories, N_CATEGORIES, (const char *) sqlite3_column_text (stmt, 1));

      if (c < 0)
        continue;
      f->award_count[c] += sqlite3_column_int64 (stmt, 2);
      f->award_amount[c] += sqlite3_column_int64 (stmt, 3);
    }
  sqlite3_reset (stmt);
  return step_error (r, rc, "report awards", error);
}

static FundFigures *
fund (Report     *r,
      const char *id)
{
  FundFigures *f = g_hash_table_lookup (r->funds, id);

  if (f == NULL)
    {
      f = g_new0 (FundFigures, 1);
      f->fund_id = g_strdup (id);
      g_hash_table_insert (r->funds, f->fund_id, f);
    }
  return f;
}

static gboolean
count_money (Report  *r,
             GError **error)
{
  g_autofree char *start = g_strdup_printf ("%04d-01-01", r->year);
  g_autofree char *end = g_strdup_printf ("%04d-12-31", r->year);
  sqlite3_stmt *stmt;
  int rc;

  stmt = kh_store_prepare (r->store,
    "SELECT u.bucket, d.fund_id, count(*), sum(coalesce(d.amount, 0)), sum(coalesce(d.in_kind_value, 0))"
    "  FROM temp.kh_report_unit u CROSS JOIN donation d ON d.org_unit_id = u.id"
    "   AND d.donated_on BETWEEN ?1 AND ?2"
    " WHERE d.deleted = 0 GROUP BY u.bucket, d.fund_id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, start, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, end, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Figures *f = bucket (r, (const char *) sqlite3_column_text (stmt, 0));
      FundFigures *ff = fund (r, (const char *) sqlite3_column_text (stmt, 1));

      f->donations += sqlite3_column_int64 (stmt, 2);
      f->mobilized += sqlite3_column_int64 (stmt, 3);
      f->in_kind += sqlite3_column_int64 (stmt, 4);
      ff->donations += sqlite3_column_int64 (stmt, 2);
      ff->mobilized += sqlite3_column_int64 (stmt, 3);
      ff->in_kind += sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);
  if (!step_error (r, rc, "report donations", error))
    return FALSE;

  stmt = kh_store_prepare (r->store,
    "SELECT u.bucket, d.fund_id, count(*), sum(d.amount)"
    "  FROM temp.kh_report_unit u CROSS JOIN disbursement d ON d.org_unit_id = u.id"
    "   AND d.paid_on BETWEEN ?1 AND ?2"
    " WHERE d.deleted = 0 GROUP BY u.bucket, d.fund_id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, start, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, end, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Figures *f = bucket (r, (const char *) sqlite3_column_text (stmt, 0));
      FundFigures *ff = fund (r, (const char *) sqlite3_column_text (stmt, 1));

      f->disbursed += sqlite3_column_int64 (stmt, 3);
      ff->disbursements += sqlite3_column_int64 (stmt, 2);
      ff->disbursed += sqlite3_column_int64 (stmt, 3);
    }
  sqlite3_reset (stmt);
  return step_error (r, rc, "report disbursements", error);
}

static gboolean
load_population (Report  *r,
                 GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  /* Two figures for one unit and model: the later entry holds. */
  stmt = kh_store_prepare (r->store,
    "SELECT p.org_unit_id, p.model, p.eligible FROM temp.kh_report_unit u"
    "  CROSS JOIN population p ON p.org_unit_id = u.id AND p.year = ?1 WHERE p.deleted = 0"
    " ORDER BY p.rid", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, r->year);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      UnitInfo *info = unit_info (r, (const char *) sqlite3_column_text (stmt, 0));
      int m = index_of (kh_models (), N_MODELS, (const char *) sqlite3_column_text (stmt, 1));

      if (info != NULL && m >= 0)
        info->eligible[m] = sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  return step_error (r, rc, "report population", error);
}

/* What each unit and the units below it hold: registrations, and whether a figure was entered
 * at or below it. */
static void
fill_below (Report     *r,
            const char *unit,
            int         depth)
{
  UnitInfo *info = unit_info (r, unit);
  GPtrArray *kids = g_hash_table_lookup (r->children, unit);

  if (info == NULL)
    return;
  for (int m = 0; m < N_MODELS; m++)
    {
      info->below_registered[m] = info->registered[m];
      info->below_eligible[m] = info->eligible[m] >= 0;
    }
  for (guint i = 0; kids != NULL && depth < 32 && i < kids->len; i++)
    {
      UnitInfo *kid = unit_info (r, kids->pdata[i]);

      fill_below (r, kids->pdata[i], depth + 1);
      for (int m = 0; kid != NULL && m < N_MODELS; m++)
        {
          info->below_registered[m] += kid->below_registered[m];
          info->below_eligible[m] |= kid->below_eligible[m];
        }
    }
}

/* Whether @unit must be covered by a denominator for model @m: a commune, ward or special
 * zone of the year (a village, school or agency is covered by its commune's figure), a
 * province or district of the year, or a unit that did not exist then, with such a unit below
 * it (a former district whose communes are counted under their successors has none), or any
 * unit whose registrations are counted or with a figure at or below it. */
static gboolean
counts_for_share (Report     *r,
                  const char *unit,
                  int         m,
                  int         depth)
{
  static const char * const communes[] = { "commune", "ward", "special_zone", NULL };
  static const char * const above[] = { "province", "district", NULL };
  UnitInfo *info = unit_info (r, unit);
  GPtrArray *kids;

  if (info == NULL)
    return FALSE;
  if (info->below_registered[m] > 0 || info->below_eligible[m])
    return TRUE;
  if (info->existed && info->kind != NULL && g_strv_contains (communes, info->kind))
    return TRUE;
  /* A unit of later (today's commune, reporting 2023) stands for the former units it took
   * over. */
  if ((info->existed && (info->kind == NULL || !g_strv_contains (above, info->kind))) || depth >= 32
      || (kids = g_hash_table_lookup (r->children, unit)) == NULL)
    return FALSE;
  for (guint i = 0; i < kids->len; i++)
    if (counts_for_share (r, kids->pdata[i], m, depth + 1))
      return TRUE;
  return FALSE;
}

/* The eligible population of a unit for model @m: the figure entered for the unit itself, or
 * else the sum over the units below it that count (so a figure entered at two levels is never
 * counted twice); -1 when no figure was entered at or below it. The units that count and have
 * no figure, at or below them, are added to @missing: the highest such unit, not each of the
 * villages under a commune without one. */
static gint64
eligible (Report     *r,
          const char *unit,
          int         m,
          int         depth,
          GPtrArray  *missing)
{
  UnitInfo *info = unit_info (r, unit);
  GPtrArray *kids = g_hash_table_lookup (r->children, unit);
  g_autoptr(GPtrArray) below = NULL;
  gint64 sum = -1;

  if (info == NULL)
    return -1;
  if (info->eligible[m] >= 0)
    return info->eligible[m];
  /* Nothing entered at or below a unit of the year: the unit itself lacks a figure. One that
   * did not exist then (today's commune, reporting 2024) sends the question down to the
   * former units it took over. */
  if ((!info->below_eligible[m] && info->existed) || kids == NULL || depth >= 32)
    {
      g_ptr_array_add (missing, (gpointer) unit);
      return -1;
    }
  below = g_ptr_array_new ();
  for (guint i = 0; i < kids->len; i++)
    {
      gint64 v;

      if (!counts_for_share (r, kids->pdata[i], m, depth + 1))
        continue;
      v = eligible (r, kids->pdata[i], m, depth + 1, below);
      if (v >= 0)
        sum = MAX (sum, 0) + v;
    }
  if (sum < 0 && below->len == 0)
    g_ptr_array_add (missing, (gpointer) unit);
  g_ptr_array_extend (missing, below, NULL, NULL);
  return sum;
}

static void
add_figures (Figures       *to,
             const Figures *from)
{
  for (int m = 0; m < N_MODELS; m++)
    {
      to->registered[m] += from->registered[m];
      to->evaluated[m] += from->evaluated[m];
      to->achieved[m] += from->achieved[m];
      to->reviewed[m] += from->reviewed[m];
      to->recognized[m] += from->recognized[m];
      for (int k = 0; k < N_RESULTS; k++)
        {
          to->result[m][k] += from->result[m][k];
          to->recognized_result[m][k] += from->recognized_result[m][k];
        }
      for (int k = 0; k < N_ISSUERS; k++)
        to->recognized_by[m][k] += from->recognized_by[m][k];
    }
  for (int c = 0; c < N_CATEGORIES; c++)
    {
      to->award_count[c] += from->award_count[c];
      to->award_amount[c] += from->award_amount[c];
    }
  to->donations += from->donations;
  to->mobilized += from->mobilized;
  to->in_kind += from->in_kind;
  to->disbursed += from->disbursed;
}

static json_object *
unit_json (KhStore    *store,
           const char *id)
{
  json_object *o = json_object_new_object ();
  json_object *KH_AUTO_JSON unit = kh_store_get (store, "org_unit", id, NULL);

  json_object_object_add (o, "id", json_object_new_string (id));
  if (unit != NULL)
    {
      json_object_object_add (o, "code", json_object_get (json_object_object_get (unit, "code")));
      json_object_object_add (o, "name", json_object_get (json_object_object_get (unit, "name")));
      json_object_object_add (o, "kind", json_object_get (json_object_object_get (unit, "kind")));
    }
  return o;
}

static json_object *
share (gint64 part,
       gint64 whole)
{
  if (whole <= 0 || part > whole)
    return NULL;
  return json_object_new_double ((double) part * 100.0 / (double) whole);
}

/* The stage the evaluations counted were at, where evaluations have one. */
static json_object *
stage_json (Report        *r,
            const Figures *f,
            int            m)
{
  if (!r->has_stage || f->evaluated[m] == 0)
    return NULL;
  if (f->reviewed[m] == f->evaluated[m])
    return json_object_new_string ("review");
  if (f->reviewed[m] == 0)
    return json_object_new_string ("self_assessment");
  return json_object_new_string ("mixed");
}

static json_object *
counts_json (const gint64        *counts,
             const char * const  *names,
             int                  n)
{
  json_object *o = json_object_new_object ();

  for (int k = 0; k < n; k++)
    if (counts[k] > 0)
      json_object_object_add (o, names[k], json_object_new_int64 (counts[k]));
  return o;
}

/* The units that lack a denominator, by code and name, at most MAX_MISSING of them. */
static json_object *
missing_json (Report    *r,
              GPtrArray *missing)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < missing->len && i < MAX_MISSING; i++)
    json_object_array_add (array, unit_json (r->store, missing->pdata[i]));
  return array;
}

static json_object *
models_json (Report        *r,
             const Figures *f,
             const char    *unit)
{
  const char * const *models = kh_models ();
  json_object *array = json_object_new_array ();

  for (int m = 0; m < N_MODELS; m++)
    {
      json_object *o = json_object_new_object ();
      g_autoptr(GPtrArray) missing = g_ptr_array_new ();
      gint64 elig = eligible (r, unit, m, 0, missing);
      gboolean complete = elig >= 0 && missing->len == 0;

      json_object_object_add (o, "model", json_object_new_string (models[m]));
      json_object_object_add (o, "label", json_object_new_string (kh_model_label (models[m])));
      json_object_object_add (o, "registered", json_object_new_int64 (f->registered[m]));
      json_object_object_add (o, "evaluated", json_object_new_int64 (f->evaluated[m]));
      json_object_object_add (o, "achieved", json_object_new_int64 (f->achieved[m]));
      json_object_object_add (o, "results", counts_json (f->result[m], results, N_RESULTS));
      json_object_object_add (o, "stage", stage_json (r, f, m));
      json_object_object_add (o, "reviewed", json_object_new_int64 (f->reviewed[m]));
      json_object_object_add (o, "recognized", json_object_new_int64 (f->recognized[m]));
      json_object_object_add (o, "recognized_by", counts_json (f->recognized_by[m], issuers, N_ISSUERS));
      json_object_object_add (o, "recognized_results", counts_json (f->recognized_result[m], results, N_RESULTS));
      /* A sum that leaves out a unit is not the denominator: it is not given. Nothing entered
       * anywhere is no denominator, not a list of every unit. */
      json_object_object_add (o, "eligible", complete ? json_object_new_int64 (elig) : NULL);
      if (elig >= 0 && missing->len > 0)
        {
          json_object_object_add (o, "eligible_missing", missing_json (r, missing));
          json_object_object_add (o, "eligible_missing_count", json_object_new_int64 (missing->len));
        }
      if (complete && f->registered[m] > elig)
        json_object_object_add (o, "over_eligible", json_object_new_boolean (TRUE));
      json_object_object_add (o, "registered_share", complete ? share (f->registered[m], elig) : NULL);
      json_object_object_add (o, "achieved_share",
                              complete && f->registered[m] <= elig ? share (f->achieved[m], elig) : NULL);
      json_object_object_add (o, "recognized_share",
                              complete && f->registered[m] <= elig ? share (f->recognized[m], elig) : NULL);
      json_object_array_add (array, o);
    }
  return array;
}

static json_object *
awards_json (const Figures *f)
{
  const KhField *category = kh_entity_get_field (kh_entity_lookup ("award_entry"), "category");
  json_object *array = json_object_new_array ();

  for (int c = 0; c < N_CATEGORIES; c++)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "category", json_object_new_string (categories[c]));
      json_object_object_add (o, "label", json_object_new_string (kh_field_enum_label (category, categories[c])));
      json_object_object_add (o, "count", json_object_new_int64 (f->award_count[c]));
      json_object_object_add (o, "amount", json_object_new_int64 (f->award_amount[c]));
      json_object_array_add (array, o);
    }
  return array;
}

static gint64
sum4 (const gint64 *v)
{
  return v[0] + v[1] + v[2] + v[3];
}

static const char *
gets_or_empty (json_object *o,
               const char  *key)
{
  const char *s = json_object_get_string (json_object_object_get (o, key));

  return s ? s : "";
}

static int
compare_by_name (const void *a,
                 const void *b)
{
  json_object *x = *(json_object * const *) a;
  json_object *y = *(json_object * const *) b;
  const char *nx = json_object_get_string (json_object_object_get (x, "name"));
  const char *ny = json_object_get_string (json_object_object_get (y, "name"));

  return g_utf8_collate (nx ? nx : "", ny ? ny : "");
}

/* Funds by their unit, then by name: most are all called "Quỹ khuyến học". */
static int
compare_funds (const void *a,
               const void *b)
{
  json_object *x = *(json_object * const *) a;
  json_object *y = *(json_object * const *) b;
  int c = g_utf8_collate (gets_or_empty (x, "unit_name"), gets_or_empty (y, "unit_name"));

  return c != 0 ? c : compare_by_name (a, b);
}

static void
report_clear (Report *r)
{
  g_free (r->root);
  g_clear_pointer (&r->parent, g_hash_table_unref);
  g_clear_pointer (&r->children, g_hash_table_unref);
  g_clear_pointer (&r->buckets, g_hash_table_unref);
  g_clear_pointer (&r->bucket_ids, g_ptr_array_unref);
  g_clear_pointer (&r->funds, g_hash_table_unref);
  g_clear_pointer (&r->info, g_hash_table_unref);
}

static void
unit_info_free (gpointer data)
{
  UnitInfo *info = data;

  g_free (info->kind);
  g_free (info);
}

static void
fund_free (gpointer data)
{
  FundFigures *f = data;

  g_free (f->fund_id);
  g_free (f);
}

/* One entry per unit under the root, sorted by name, adding every bucket (the root's too)
 * into @total. */
static json_object *
children_json (Report  *r,
               Figures *total)
{
  json_object *children = json_object_new_array ();

  for (guint i = 0; i < r->bucket_ids->len; i++)
    {
      const char *id = r->bucket_ids->pdata[i];
      Figures *f = g_hash_table_lookup (r->buckets, id);
      json_object *child;

      add_figures (total, f);
      if (strcmp (id, r->root) == 0)
        continue;
      child = unit_json (r->store, id);
      json_object_object_add (child, "models", models_json (r, f, id));
      json_object_object_add (child, "awards_count", json_object_new_int64 (sum4 (f->award_count)));
      json_object_object_add (child, "awards_amount", json_object_new_int64 (sum4 (f->award_amount)));
      json_object_object_add (child, "mobilized", json_object_new_int64 (f->mobilized));
      json_object_object_add (child, "disbursed", json_object_new_int64 (f->disbursed));
      json_object_array_add (children, child);
    }
  json_object_array_sort (children, compare_by_name);
  return children;
}

/* One entry per fund that moved money in the year, with its name, level and owner, sorted. */
static json_object *
funds_json (Report *r)
{
  json_object *funds = json_object_new_array ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, r->funds);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FundFigures *ff = value;
      json_object *o = json_object_new_object ();
      json_object *KH_AUTO_JSON rec = kh_store_get (r->store, "fund", ff->fund_id, NULL);

      json_object_object_add (o, "fund_id", json_object_new_string (ff->fund_id));
      if (rec != NULL)
        {
          json_object *KH_AUTO_JSON owner = NULL;
          json_object *owner_id = json_object_object_get (rec, "org_unit_id");

          json_object_object_add (o, "name", json_object_get (json_object_object_get (rec, "name")));
          json_object_object_add (o, "level", json_object_get (json_object_object_get (rec, "level")));
          owner = owner_id ? kh_store_get (r->store, "org_unit", json_object_get_string (owner_id), NULL) : NULL;
          if (owner != NULL)
            json_object_object_add (o, "unit_name", json_object_get (json_object_object_get (owner, "name")));
        }
      json_object_object_add (o, "donations", json_object_new_int64 (ff->donations));
      json_object_object_add (o, "mobilized", json_object_new_int64 (ff->mobilized));
      json_object_object_add (o, "in_kind", json_object_new_int64 (ff->in_kind));
      json_object_object_add (o, "disbursements", json_object_new_int64 (ff->disbursements));
      json_object_object_add (o, "disbursed", json_object_new_int64 (ff->disbursed));
      json_object_array_add (funds, o);
    }
  json_object_array_sort (funds, compare_funds);
  return funds;
}

json_object *
kh_report_compute (KhStore     *store,
                   const char  *unit,
                   int          year,
                   gboolean     by_successor,
                   GError     **error)
{
  Report r = { 0 };
  Figures total = { 0 };
  json_object *out = NULL;
  json_object *children, *learning, *totals;
  gint64 no_consent = 0;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (unit != NULL, NULL);

  if (year < 1945 || year > 2100)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("Year: must be between %d and %d."), 1945, 2100);
      return NULL;
    }
  r.store = store;
  r.year = year;
  r.root = resolve_unit (store, unit, year, error);
  if (r.root == NULL)
    return NULL;
  r.parent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r.children = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  r.buckets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  r.bucket_ids = g_ptr_array_new_with_free_func (g_free);
  r.funds = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, fund_free);
  r.info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unit_info_free);
  r.has_stage = kh_entity_get_field (kh_entity_lookup ("evaluation"), "stage") != NULL;

  /* One read transaction: every figure comes from the same snapshot. */
  ok = kh_sqlite_exec (kh_store_get_db (store), "SAVEPOINT kh_report", error);
  ok = ok && collect_units (&r, by_successor, error)
       && count_models (&r, error) && count_awards (&r, error) && count_money (&r, error)
       && load_population (&r, error);
  if (ok)
    {
      /* The minors of these units whose record lacks a consent that counts (Decree 13/2023). */
      g_autoptr(GHashTable) units = g_hash_table_new (g_str_hash, g_str_equal);
      GHashTableIter it;
      gpointer key;

      g_hash_table_add (units, r.root);
      g_hash_table_iter_init (&it, r.parent);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_hash_table_add (units, key);
      no_consent = kh_store_count_without_consent_in (store, units, error);
      ok = no_consent >= 0;
    }
  kh_sqlite_exec (kh_store_get_db (store), "RELEASE kh_report", NULL);
  if (!ok)
    {
      report_clear (&r);
      return NULL;
    }

  fill_below (&r, r.root, 0);
  children = children_json (&r, &total);

  out = json_object_new_object ();
  json_object_object_add (out, "unit", unit_json (store, r.root));
  json_object_object_add (out, "year", json_object_new_int (year));
  json_object_object_add (out, "by_successor", json_object_new_boolean (by_successor));
  json_object_object_add (out, "stages", json_object_new_boolean (r.has_stage));
  json_object_object_add (out, "units", json_object_new_int64 (g_hash_table_size (r.parent) + 1));
  json_object_object_add (out, "models", models_json (&r, &total, r.root));

  learning = json_object_new_object ();
  for (int k = 2; k < N_RESULTS; k++)
    json_object_object_add (learning, results[k], json_object_new_int64 (total.result[4][k]));
  json_object_object_add (out, "learning_units", learning);

  json_object_object_add (out, "awards", awards_json (&total));
  totals = json_object_new_object ();
  json_object_object_add (totals, "count", json_object_new_int64 (sum4 (total.award_count)));
  json_object_object_add (totals, "amount", json_object_new_int64 (sum4 (total.award_amount)));
  json_object_object_add (out, "awards_total", totals);

  json_object_object_add (out, "funds", funds_json (&r));
  totals = json_object_new_object ();
  json_object_object_add (totals, "donations", json_object_new_int64 (total.donations));
  json_object_object_add (totals, "mobilized", json_object_new_int64 (total.mobilized));
  json_object_object_add (totals, "in_kind", json_object_new_int64 (total.in_kind));
  json_object_object_add (totals, "disbursed", json_object_new_int64 (total.disbursed));
  json_object_object_add (out, "funds_total", totals);
  json_object_object_add (out, "children", children);
  json_object_object_add (out, "minors_without_consent", json_object_new_int64 (no_consent));

  report_clear (&r);
  return out;
}

/* Reading a report ---------------------------------------------------------------------------- */

/* Appends @text padded with spaces to @width characters (not bytes: Vietnamese labels have
 * many two- and three-byte letters). */
void
_kh_report_append_padded (GString    *s,
                          const char *text,
                          int         width)
{
  glong n = g_utf8_strlen (text, -1);

  g_string_append (s, text);
  for (glong i = n; i < width; i++)
    g_string_append_c (s, ' ');
}

/* The share of the eligible population, or why there is none. */
void
_kh_report_append_share (GString       *s,
                         json_object   *m,
                         KhFormatStyle  style)
{
  json_object *missing = json_object_object_get (m, "eligible_missing");

  if (json_object_object_get (m, "eligible") != NULL)
    {
      g_autofree char *elig = kh_format_number_style (geti (m, "eligible"), style);
      json_object *sh = json_object_object_get (m, "achieved_share");

      if (json_object_get_boolean (json_object_object_get (m, "over_eligible")))
        g_string_append_printf (s, _(" of %s eligible: more registered than eligible, check the eligible population"), elig);
      else
        {
          g_autofree char *pct = kh_format_percent_style (json_object_get_double (sh), style);

          g_string_append_printf (s, _(" of %s eligible (%s achieved)"), elig, pct);
        }
    }
  else if (missing != NULL)
    {
      g_autoptr(GString) names = g_string_new (NULL);
      gint64 n = geti (m, "eligible_missing_count");

      for (size_t i = 0; i < json_object_array_length (missing); i++)
        {
          if (i > 0)
            g_string_append (names, ", ");
          g_string_append (names, gets (json_object_array_get_idx (missing, i), "name"));
        }
      if (n > (gint64) json_object_array_length (missing))
        g_string_append_printf (names, _(" and %d more"), (int) (n - (gint64) json_object_array_length (missing)));
      g_string_append_printf (s, _("; no share: no eligible population for %s"), names->str);
    }
}

/* The recognitions of a model, by the level that recognized them, on a line of their own. */
static void
append_recognized (GString       *s,
                   json_object   *m,
                   KhFormatStyle  style)
{
  static const char * const keys[] = { "commune", "district", "province", "unit" };
  json_object *by = json_object_object_get (m, "recognized_by");
  g_autofree char *n = NULL;
  gboolean first = TRUE;

  if (geti (m, "recognized") == 0 && json_object_object_get (m, "stage") == NULL)
    return;
  n = kh_format_number_style (geti (m, "recognized"), style);
  g_string_append (s, "  ");
  _kh_report_append_padded (s, "", 29);
  g_string_append_printf (s, _("recognized %s"), n);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      json_object *v = json_object_object_get (by, keys[k]);
      g_autofree char *c = NULL;

      if (v == NULL)
        continue;
      c = kh_format_number_style (json_object_get_int64 (v), style);
      g_string_append (s, first ? " (" : ", ");
      /* Literal formats, one per level: each language words them its own way. */
      switch (k)
        {
        case 0:
          g_string_append_printf (s, _("%s by the commune"), c);
          break;
        case 1:
          g_string_append_printf (s, _("%s by the district"), c);
          break;
        case 2:
          g_string_append_printf (s, _("%s by the province"), c);
          break;
        default:
          g_string_append_printf (s, _("%s by the unit itself"), c);
          break;
        }
      first = FALSE;
    }
  if (!first)
    g_string_append_c (s, ')');
  if (json_object_object_get (m, "stage") != NULL)
    {
      const char *stage = gets (m, "stage");

      g_string_append_printf (s, "; %s", strcmp (stage, "review") == 0 ? _("evaluations counted at review")
                                         : strcmp (stage, "self_assessment") == 0 ? _("evaluations counted at self-assessment")
                                         : _("evaluations counted at review where there is one, else at self-assessment"));
    }
  g_string_append_c (s, '\n');
}

char *
kh_report_to_text (json_object   *report,
                   KhFormatStyle  style)
{
  GString *s = g_string_new (NULL);
  json_object *unit = json_object_object_get (report, "unit");
  json_object *list;

  g_return_val_if_fail (report != NULL, NULL);

  g_string_append_printf (s, _("Figures for %s (%s), %d"), gets (unit, "name"), gets (unit, "code"),
                          (int) geti (report, "year"));
  if (json_object_get_boolean (json_object_object_get (report, "by_successor")))
    g_string_append_printf (s, " — %s", _("including the records of former units it succeeded"));
  g_string_append (s, "\n\n");

  g_string_append_printf (s, "%s\n", _("Learning models"));
  list = json_object_object_get (report, "models");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *m = json_object_array_get_idx (list, i);
      g_autofree char *reg = kh_format_number_style (geti (m, "registered"), style);
      g_autofree char *ev = kh_format_number_style (geti (m, "evaluated"), style);
      g_autofree char *ach = kh_format_number_style (geti (m, "achieved"), style);

      g_string_append (s, "  ");
      _kh_report_append_padded (s, gets (m, "label"), 29);
      g_string_append_printf (s, _("registered %s, evaluated %s, achieved %s"), reg, ev, ach);
      _kh_report_append_share (s, m, style);
      g_string_append_c (s, '\n');
      append_recognized (s, m, style);
    }

  {
    json_object *lu = json_object_object_get (report, "learning_units");

    g_string_append_printf (s, "\n%s\n", _("Learning units by level"));
    g_string_append_printf (s, _("  level 1: %d, level 2: %d, level 3: %d; good: %d, fair: %d, average: %d\n"),
                            (int) geti (lu, "level1"), (int) geti (lu, "level2"), (int) geti (lu, "level3"),
                            (int) geti (lu, "good"), (int) geti (lu, "fair"), (int) geti (lu, "average"));
  }

  g_string_append_printf (s, "\n%s\n", _("Scholarships, awards and grants"));
  list = json_object_object_get (report, "awards");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *a = json_object_array_get_idx (list, i);
      g_autofree char *money = kh_format_money_style (geti (a, "amount"), style);

      g_string_append (s, "  ");
      _kh_report_append_padded (s, gets (a, "label"), 29);
      g_string_append_printf (s, "%6d  %s\n", (int) geti (a, "count"), money);
    }
  {
    json_object *t = json_object_object_get (report, "awards_total");
    g_autofree char *money = kh_format_money_style (geti (t, "amount"), style);

    g_string_append (s, "  ");
    _kh_report_append_padded (s, _("Total"), 29);
    g_string_append_printf (s, "%6d  %s\n", (int) geti (t, "count"), money);
  }

  g_string_append_printf (s, "\n%s\n", _("Funds"));
  list = json_object_object_get (report, "funds");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *f = json_object_array_get_idx (list, i);
      g_autofree char *in = kh_format_money_style (geti (f, "mobilized"), style);
      g_autofree char *outm = kh_format_money_style (geti (f, "disbursed"), style);

      g_string_append_printf (s, "  %s (%s): ", gets (f, "name"), gets (f, "unit_name"));
      g_string_append_printf (s, _("mobilized %s, disbursed %s"), in, outm);
      g_string_append_c (s, '\n');
    }
  {
    json_object *t = json_object_object_get (report, "funds_total");
    g_autofree char *in = kh_format_money_style (geti (t, "mobilized"), style);
    g_autofree char *outm = kh_format_money_style (geti (t, "disbursed"), style);

    g_string_append_printf (s, "  %s: ", _("Total"));
    g_string_append_printf (s, _("mobilized %s, disbursed %s"), in, outm);
    g_string_append_c (s, '\n');
  }
  if (json_object_object_get (report, "minors_without_consent") != NULL)
    {
      g_autofree char *n = kh_format_number_style (geti (report, "minors_without_consent"), style);

      g_string_append_printf (s, "\n%s\n", _("Personal data"));
      g_string_append_printf (s, _("  minors without a valid consent: %s (khuyenhoc-cli no-consent lists them)\n"), n);
    }
  return g_string_free (s, FALSE);
}

/* The unit a replica's figures are about by default: its top unit that is valid today (the
 * province after the reform, rather than the one before it), or NULL in an empty replica. */
char *
kh_report_default_unit (KhStore *store)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  sqlite3_stmt *stmt;
  char *id = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  stmt = kh_store_prepare (store,
                           "SELECT id FROM org_unit WHERE deleted = 0 AND (parent_id IS NULL"
                           "   OR parent_id NOT IN (SELECT id FROM org_unit WHERE deleted = 0))"
                           " ORDER BY coalesce(valid_to, '9999') >= ?1 DESC, kind = 'province' DESC, rid"
                           " LIMIT 1", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, today, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return id;
}

/* The latest year anything was registered for, or the current year in an empty replica. */
int
kh_report_latest_year (KhStore *store)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  sqlite3_stmt *stmt;
  int year = g_date_time_get_year (now);

  g_return_val_if_fail (KH_IS_STORE (store), year);

  stmt = kh_store_prepare (store, "SELECT max(year) FROM registration WHERE deleted = 0", NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    year = sqlite3_column_int (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return year;
}
