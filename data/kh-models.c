/* kh-models.c: the learning models' rules
 *
 * Every model runs registration → evaluation → recognition each year (DOMAIN.md). The rules
 * here make that chain hold in the store, the server holding the same ones
 * (sync/server/kh-server-models.c): the criteria set that applies to a registration, an
 * evaluation judged by its set (no score above its criterion's maximum, no criterion the set
 * lacks, the total and the result the set's rule gives), a set never changed in place once an
 * evaluation used it, a recognition only by a decision of a level that existed at its date and
 * only for a passed evaluation unless a reason is given, and the registration's state kept as
 * its evaluations and recognitions are written.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-evaluate.h"
#include "kh-fold.h"
#include "kh-models.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"

static const char *
str (json_object *obj,
     const char  *name)
{
  json_object *v;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v) || v == NULL
      || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

/* Whether @obj names @name, even as null (a change that clears the field). */
static gboolean
names (json_object *obj,
       const char  *name)
{
  return obj != NULL && json_object_object_get_ex (obj, name, NULL);
}

static gboolean
has (json_object *obj,
     const char  *name)
{
  json_object *v;

  return obj != NULL && json_object_object_get_ex (obj, name, &v) && v != NULL;
}

/* Rules without a store ------------------------------------------------------------------- */

/* Whether @result (an evaluation's) achieves the title: pass, a level, or a band. */
gboolean
kh_result_passed (const char *result)
{
  return result != NULL && strcmp (result, "fail") != 0 && strcmp (result, "not_achieved") != 0;
}

/* The registration state an evaluation with @result leads to. */
const char *
kh_registration_state_of (const char *result)
{
  if (result == NULL)
    return "registered";
  return kh_result_passed (result) ? "passed" : "not_passed";
}

/* A decision's issuing level must exist at its date: no district level from the reform on. */
gboolean
kh_issuing_level_validate (const char  *level,
                           const char  *decision_date,
                           GError     **error)
{
  if (g_strcmp0 (level, "district") == 0 && decision_date != NULL
      && strcmp (decision_date, KH_REFORM_DATE) >= 0)
    {
      kh_data_error_set_invalid (error, "issuing_level", "%s",
                                 _("Recognized at: there is no district level since 01/07/2025; a "
                                   "decision of that date is the commune’s or the province’s."));
      return FALSE;
    }
  return TRUE;
}

char *
kh_evaluation_stage_sql (const char *alias)
{
  return g_strdup_printf ("coalesce(%s.stage, 'self_assessment')", alias);
}

/* Judges @evaluation (its scores, and its total and result if it has them) by @criteria_set and
 * its @criteria. Sets *@total and *@result to what the set's rule gives. */
gboolean
kh_evaluation_judge (json_object  *criteria_set,
                     json_object  *criteria,
                     json_object  *evaluation,
                     int          *total,
                     const char  **result,
                     GError      **error)
{
  json_object *scores = NULL;
  const char *method = str (criteria_set, "method");
  const char *name = str (criteria_set, "name");
  gboolean share = g_strcmp0 (str (criteria_set, "level_rule"), "citizen_share") == 0;
  gboolean checklist = g_strcmp0 (method, "checklist") == 0;
  const char *computed;
  const char *typed;
  int sum = 0;

  g_return_val_if_fail (criteria_set != NULL && criteria != NULL, FALSE);

  json_object_object_get_ex (evaluation, "scores", &scores);
  if (scores != NULL && !json_object_is_type (scores, json_type_object))
    {
      kh_data_error_set_invalid (error, "scores", "%s",
                                 _("Scores per criterion: give them as criterion code and points."));
      return FALSE;
    }
  if (scores != NULL)
    {
      json_object_object_foreach (scores, code, points)
        {
          json_object *criterion = NULL;
          gint64 max = checklist ? 1 : 1000;
          gint64 p;

          if (share)
            {
              if (strcmp (code, "members") != 0 && strcmp (code, "learning_citizens") != 0)
                {
                  kh_data_error_set_invalid (error, "scores", _("Scores per criterion: “%s” is not part of "
                                                                "the set “%s”, which counts the members who are "
                                                                "learning citizens."), code, name);
                  return FALSE;
                }
              max = 200000000;
            }
          else
            {
              for (size_t i = 0; i < json_object_array_length (criteria); i++)
                if (g_strcmp0 (str (json_object_array_get_idx (criteria, i), "code"), code) == 0)
                  criterion = json_object_array_get_idx (criteria, i);
              if (criterion == NULL)
                {
                  kh_data_error_set_invalid (error, "scores", _("Scores per criterion: the set “%s” has no "
                                                                "criterion “%s”."), name, code);
                  return FALSE;
                }
              if (!checklist && has (criterion, "max_points"))
                max = json_object_get_int64 (json_object_object_get (criterion, "max_points"));
            }
          if (points == NULL || !json_object_is_type (points, json_type_int))
            {
              kh_data_error_set_invalid (error, "scores", _("Scores per criterion: the score of “%s” must "
                                                            "be a whole number."), code);
              return FALSE;
            }
          p = json_object_get_int64 (points);
          if (p < 0 || p > max)
            {
              kh_data_error_set_invalid (error, "scores", _("Scores per criterion: %s has %lld points, but "
                                                            "criterion “%s” gives at most %lld."),
                                         code, (long long) p, code, (long long) max);
              return FALSE;
            }
        }
      if (share && json_object_get_int64 (json_object_object_get (scores, "learning_citizens"))
                   > json_object_get_int64 (json_object_object_get (scores, "members")))
        {
          kh_data_error_set_invalid (error, "scores", "%s",
                                     _("Scores per criterion: there cannot be more learning citizens "
                                       "than members."));
          return FALSE;
        }
    }

  {
    json_object *empty = json_object_new_object ();

    computed = kh_evaluate_result (criteria_set, criteria, scores != NULL ? scores : empty, &sum);
    json_object_put (empty);
  }
  if (has (evaluation, "total") && json_object_get_int64 (json_object_object_get (evaluation, "total")) != sum)
    {
      kh_data_error_set_invalid (error, "total", _("Total points: %lld is not the sum the scores give, %d."),
                                 (long long) json_object_get_int64 (json_object_object_get (evaluation, "total")), sum);
      return FALSE;
    }
  typed = str (evaluation, "result");
  if (typed != NULL && strcmp (typed, computed) != 0)
    {
      const KhField *f = kh_entity_get_field (kh_entity_lookup ("evaluation"), "result");

      kh_data_error_set_invalid (error, "result", _("Result: “%s” contradicts the criteria set “%s”, "
                                                    "whose rule gives “%s” for %d points."),
                                 kh_field_enum_label (f, typed), name, kh_field_enum_label (f, computed), sum);
      return FALSE;
    }
  if (total != NULL)
    *total = sum;
  if (result != NULL)
    *result = computed;
  return TRUE;
}

/* Whether @changes may be made to a set an evaluation has used: only closing it (its end
 * date), which a new version does to the one it replaces. */
gboolean
kh_criteria_set_change_allowed (json_object *changes)
{
  json_object_object_foreach (changes, key, val)
    {
      (void) val;
      if (strcmp (key, "valid_to") != 0)
        return FALSE;
    }
  return TRUE;
}

char *
kh_criteria_set_used_message (json_object *criteria_set)
{
  return g_strdup_printf (_("The criteria set “%s” has been used by evaluations, which must keep "
                            "the criteria they were judged by: save the changes as a new version."),
                          str (criteria_set, "name") ? str (criteria_set, "name") : "");
}

/* The criteria set that applies ----------------------------------------------------------- */

/* The subject group or level a registration's set is chosen by: its own subject group, or for
 * a community the level of the unit it is (a village or residential group under Decision 448;
 * a commune, district or province under Circular 20/2023). Returns NULL for none. */
char *
kh_registration_group (KhStore     *store,
                       json_object *registration)
{
  const char *group = str (registration, "subject_group");
  const char *subject;
  sqlite3_stmt *stmt;
  char *level = NULL;

  if (group != NULL && *group != '\0')
    return g_strdup (group);
  if (g_strcmp0 (str (registration, "model"), "community") != 0
      || (subject = str (registration, "subject_id")) == NULL)
    return NULL;
  stmt = kh_store_prepare (store, "SELECT kind FROM org_unit WHERE id = ?", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, subject, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      const char *kind = (const char *) sqlite3_column_text (stmt, 0);

      if (strcmp (kind, "ward") == 0 || strcmp (kind, "special_zone") == 0)
        kind = "commune";
      level = g_strdup (kind);
    }
  sqlite3_reset (stmt);
  return level;
}

/* The units from @org_unit_id up, nearest first. A replica holds only its area, so the chain
 * ends with the first parent it does not hold: for a commune's officer, the province. */
static GPtrArray *
place_chain (KhStore    *store,
             const char *org_unit_id)
{
  GPtrArray *chain = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = g_strdup (org_unit_id);

  while (cursor != NULL && chain->len < 16)
    {
      sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT parent_id FROM org_unit WHERE id = ?", NULL);

      g_ptr_array_add (chain, g_strdup (cursor));
      g_clear_pointer (&cursor, g_free);
      if (stmt == NULL)
        break;
      sqlite3_bind_text (stmt, 1, chain->pdata[chain->len - 1], -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_reset (stmt);
    }
  return chain;
}

/* The criteria set for @model in force during @year for a subject in @org_unit_id of @group
 * (NULL: none): the set made for the unit itself, else for the nearest unit above it (its
 * commune's, its province's), else the one for everywhere; among those for one place, one made
 * for the group before one for all, then the most recent. */
json_object *
kh_criteria_set_for (KhStore     *store,
                     const char  *model,
                     int          year,
                     const char  *org_unit_id,
                     const char  *group,
                     GError     **error)
{
  const KhEntity *entity = kh_entity_lookup ("criteria_set");
  g_autofree char *columns = kh_store_select_columns (entity);
  g_autofree char *sql = NULL;
  g_autofree char *from = g_strdup_printf ("%04d-12-31", year);
  g_autofree char *to = g_strdup_printf ("%04d-01-01", year);
  g_autofree char *folded = group != NULL ? kh_fold (group) : NULL;
  g_autoptr(GPtrArray) chain = NULL;
  json_object *best = NULL;
  guint best_rank = G_MAXUINT;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (model != NULL, NULL);

  chain = org_unit_id != NULL ? place_chain (store, org_unit_id) : g_ptr_array_new_with_free_func (g_free);
  /* Few sets exist for one model and year; they are ranked here rather than in SQL. Ordered so
   * that the first of a rank is the one to keep. */
  sql = g_strdup_printf ("SELECT %s FROM criteria_set WHERE deleted = 0 AND model = ? "
                         "AND coalesce(valid_from, '0000-00-00') <= ? "
                         "AND coalesce(valid_to, '9999-12-31') >= ? "
                         "AND (subject_group IS NULL OR subject_group = '' OR kh_fold(subject_group) = ?) "
                         "ORDER BY valid_from DESC, rid DESC", columns);
  stmt = kh_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, model, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, to, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, folded != NULL ? folded : "", -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *set = kh_store_row_to_json (entity, stmt, 0);
      const char *unit = str (set, "org_unit_id");
      const char *set_group = str (set, "subject_group");
      guint place = chain->len;
      guint rank;

      if (unit != NULL)
        {
          for (place = 0; place < chain->len; place++)
            if (strcmp (chain->pdata[place], unit) == 0)
              break;
          if (place == chain->len)
            {
              json_object_put (set);
              continue;
            }
        }
      rank = place * 2 + (set_group != NULL && *set_group != '\0' ? 0 : 1);
      if (rank < best_rank)
        {
          json_object_put (best);
          best = set;
          best_rank = rank;
        }
      else
        json_object_put (set);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      json_object_put (best);
      kh_sqlite_set_error (error, kh_store_get_db (store), "criteria");
      return NULL;
    }
  if (best == NULL)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                 _("No criteria set for this learning model is in force in %d. Enter the criteria "
                   "set that applies (Criteria sets) before evaluating."), year);
  return best;
}

json_object *
kh_criteria_set_for_registration (KhStore      *store,
                                  json_object  *registration,
                                  GError      **error)
{
  g_autofree char *group = kh_registration_group (store, registration);
  json_object *year;

  json_object_object_get_ex (registration, "year", &year);
  return kh_criteria_set_for (store, str (registration, "model"), json_object_get_int (year),
                              str (registration, "org_unit_id"), group, error);
}

/* Versions --------------------------------------------------------------------------------- */

gboolean
kh_criteria_set_is_used (KhStore     *store,
                         const char  *criteria_set_id,
                         GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT 1 FROM evaluation WHERE criteria_set_id = ? "
                                         "AND deleted = 0 LIMIT 1", error);
  gboolean used;

  if (stmt == NULL)
    return TRUE;
  sqlite3_bind_text (stmt, 1, criteria_set_id, -1, SQLITE_TRANSIENT);
  used = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return used;
}

static gboolean
add_criteria (KhStore      *store,
              const char   *set_id,
              json_object  *criteria,
              GError      **error)
{
  for (size_t i = 0; i < json_object_array_length (criteria); i++)
    {
      json_object *c = json_object_array_get_idx (criteria, i);
      json_object *values = json_object_new_object ();
      g_autofree char *id = NULL;

      json_object_object_foreach (c, key, val)
        if (strcmp (key, "id") != 0 && strcmp (key, "criteria_set_id") != 0 && kh_entity_get_field (kh_entity_lookup ("criterion"), key) != NULL)
          json_object_object_add (values, key, val != NULL ? json_object_get (val) : NULL);
      json_object_object_add (values, "criteria_set_id", json_object_new_string (set_id));
      if (!has (values, "position"))
        json_object_object_add (values, "position", json_object_new_int ((int) i + 1));
      id = kh_store_create (store, "criterion", values, error);
      json_object_put (values);
      if (id == NULL)
        return FALSE;
    }
  return TRUE;
}

/* Makes a new version of the set @criteria_set_id: a copy with @set_changes and, if @criteria is
 * not NULL, those criteria (else the old set's), in force from the new version's start (today
 * if not given); the old set is closed the day before. Returns the new set's id. */
char *
kh_criteria_set_new_version (KhStore      *store,
                             const char   *criteria_set_id,
                             json_object  *set_changes,
                             json_object  *criteria,
                             GError      **error)
{
  const KhEntity *entity = kh_entity_lookup ("criteria_set");
  json_object *old = NULL;
  json_object *values = NULL;
  json_object *old_criteria = NULL;
  g_autofree char *id = NULL;
  const char *from;
  gboolean ok;

  old = kh_store_get (store, "criteria_set", criteria_set_id, error);
  if (old == NULL)
    return NULL;
  values = json_object_new_object ();
  for (guint i = 0; i < entity->n_fields; i++)
    {
      json_object *v = NULL;

      if (set_changes != NULL && json_object_object_get_ex (set_changes, entity->fields[i].name, &v))
        ;
      else
        json_object_object_get_ex (old, entity->fields[i].name, &v);
      if (v != NULL)
        json_object_object_add (values, entity->fields[i].name, json_object_get (v));
    }
  json_object_object_add (values, "previous_id", json_object_new_string (criteria_set_id));
  from = str (values, "valid_from");
  if (from == NULL || g_strcmp0 (from, str (old, "valid_from")) <= 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

      json_object_object_add (values, "valid_from", json_object_new_string (today));
    }
  if (criteria == NULL)
    criteria = old_criteria = kh_criteria_list (store, criteria_set_id, error);

  ok = criteria != NULL && kh_store_begin (store, error);
  if (ok)
    {
      g_autoptr(GDate) day = g_date_new ();
      char before[16];
      json_object *close = json_object_new_object ();

      g_date_set_parse (day, str (values, "valid_from"));
      if (g_date_valid (day))
        {
          g_date_subtract_days (day, 1);
          g_snprintf (before, sizeof before, "%04d-%02d-%02d", g_date_get_year (day), g_date_get_month (day),
                      g_date_get_day (day));
          /* An old set that ended earlier keeps its own end. */
          if (str (old, "valid_to") == NULL || strcmp (str (old, "valid_to"), before) > 0)
            json_object_object_add (close, "valid_to", json_object_new_string (before));
        }
      ok = kh_store_update (store, "criteria_set", criteria_set_id, close, error)
           && (id = kh_store_create (store, "criteria_set", values, error)) != NULL
           && add_criteria (store, id, criteria, error);
      json_object_put (close);
      if (ok)
        ok = kh_store_commit (store, error);
      else
        kh_store_rollback (store);
    }
  if (!ok)
    g_clear_pointer (&id, g_free);
  json_object_put (old);
  json_object_put (values);
  json_object_put (old_criteria);
  return g_steal_pointer (&id);
}

/* The criteria editor's save: a new set (@criteria_set_id NULL), a set no evaluation has used
 * changed in place (its criteria replaced by @criteria), or a new version of a used one.
 * Returns the id of the set saved. */
char *
kh_criteria_set_save (KhStore      *store,
                      const char   *criteria_set_id,
                      json_object  *set_values,
                      json_object  *criteria,
                      GError      **error)
{
  json_object *old_criteria;
  char *id = NULL;
  gboolean ok;

  if (criteria_set_id != NULL && kh_criteria_set_is_used (store, criteria_set_id, NULL))
    return kh_criteria_set_new_version (store, criteria_set_id, set_values, criteria, error);
  if (!kh_store_begin (store, error))
    return NULL;
  if (criteria_set_id == NULL)
    {
      id = kh_store_create (store, "criteria_set", set_values, error);
      ok = id != NULL;
    }
  else
    {
      id = g_strdup (criteria_set_id);
      ok = kh_store_update (store, "criteria_set", id, set_values, error);
      old_criteria = ok ? kh_criteria_list (store, id, error) : NULL;
      ok = old_criteria != NULL;
      for (size_t i = 0; ok && i < json_object_array_length (old_criteria); i++)
        ok = kh_store_delete (store, "criterion", str (json_object_array_get_idx (old_criteria, i), "id"), error);
      json_object_put (old_criteria);
    }
  ok = ok && add_criteria (store, id, criteria, error);
  if (ok)
    ok = kh_store_commit (store, error);
  else
    kh_store_rollback (store);
  if (!ok)
    g_clear_pointer (&id, g_free);
  return id;
}

/* The built-in sets -------------------------------------------------------------------------- */

typedef struct
{
  const char *code;
  const char *title;
  int max_points;
} Builtin_criterion;

typedef struct
{
  const char *model;
  const char *name;
  const char *basis;
  const char *group;
  const char *method;
  const char *level_rule;
  const char *valid_from;
  const char *valid_to;
  int pass_min_total, pass_min_item, level1, level2, level3;
  Builtin_criterion criteria[5];
} Builtin;

/* The sets as far as DOMAIN.md knows them; where it does not say (the points of Decision 448's
 * last two criteria and of Decision 324's three competencies, the pass mark of Decision 448,
 * Circular 24's level 3), the figure here is a starting point an administrator corrects in the
 * criteria editor, and Circular 24's level 3 is left unset. Not translated: a set's name and
 * criteria are the documents' own words.
 *
 * Circular 20/2023 ranks a commune, district or province as a learning community at level 1, 2
 * or 3, but what each level needs is not known here: its sets (one per level of community, the
 * group kh_registration_group() gives) have no criteria of their own but the level the
 * assessment reached, entered as it is and held to 0–3 (0: not achieved), so that the figures
 * count the levels without the app inventing criteria or points. */
static const Builtin builtins[] = {
  { "family", "Gia đình học tập", "Quyết định 448/QĐ-KHVN", NULL, "points", NULL, "2015-01-01", NULL,
    80, 0, 0, 0, 0,
    { { "1", "Việc học tập của trẻ em trong gia đình", 30 }, { "2", "Việc học tập của người lớn trong gia đình", 30 },
      { "3", "Điều kiện học tập của gia đình", 20 }, { "4", "Hiệu quả học tập", 20 } } },
  { "clan", "Dòng họ học tập", "Quyết định 448/QĐ-KHVN", NULL, "points", NULL, "2015-01-01", NULL,
    80, 0, 0, 0, 0,
    { { "1", "Việc học tập của trẻ em trong dòng họ", 30 }, { "2", "Việc học tập của người lớn trong dòng họ", 30 },
      { "3", "Điều kiện học tập của dòng họ", 20 }, { "4", "Hiệu quả học tập", 20 } } },
  { "community", "Cộng đồng học tập cấp thôn, tổ dân phố", "Quyết định 448/QĐ-KHVN", "village", "points", NULL,
    "2015-01-01", NULL, 80, 0, 0, 0, 0,
    { { "1", "Việc học tập của trẻ em trong cộng đồng", 30 }, { "2", "Việc học tập của người lớn trong cộng đồng", 30 },
      { "3", "Điều kiện học tập của cộng đồng", 20 }, { "4", "Hiệu quả học tập", 20 } } },
  { "citizen", "Công dân học tập", "Quyết định 324/QĐ-KHVN", NULL, "points", NULL, "2021-01-01", "2030-12-31",
    80, 5, 0, 0, 0,
    { { "1", "Năng lực tự học, học tập suốt đời", 40 }, { "2", "Năng lực sử dụng công cụ, phương tiện", 30 },
      { "3", "Năng lực quan hệ xã hội", 30 } } },
  { "unit", "Đơn vị học tập", "Thông tư 22/2020/TT-BGDĐT", NULL, "levels", "bands", "2020-01-01", "2023-12-31",
    0, 0, 50, 70, 85,
    { { "1", "Tiêu chí về xây dựng đơn vị học tập", 100 } } },
  { "unit", "Đơn vị học tập", "Thông tư 24/2023/TT-BGDĐT", NULL, "levels", "citizen_share", "2024-01-01", NULL,
    0, 0, 90, 95, -1, { { NULL, NULL, 0 } } },
#define CIRCULAR_20(group, name) \
  { "community", name, "Thông tư 20/2023/TT-BGDĐT", group, "levels", "total", "2024-01-01", NULL, \
    0, 0, 1, 2, 3, { { "level", "Mức độ đạt được theo kết quả đánh giá (1, 2 hoặc 3; 0: chưa đạt)", 3 } } }
  CIRCULAR_20 ("commune", "Cộng đồng học tập cấp xã"),
  CIRCULAR_20 ("district", "Cộng đồng học tập cấp huyện"),
  CIRCULAR_20 ("province", "Cộng đồng học tập cấp tỉnh"),
#undef CIRCULAR_20
};

/* Adds the built-in sets the store lacks (by model, legal basis and subject group); *@n_made
 * says how many. */
gboolean
kh_criteria_install_builtin (KhStore  *store,
                             guint    *n_made,
                             GError  **error)
{
  sqlite3_stmt *stmt;
  gboolean ok;
  guint made = 0;

  if (!kh_store_begin (store, error))
    return FALSE;
  ok = TRUE;
  for (guint i = 0; ok && i < G_N_ELEMENTS (builtins); i++)
    {
      const Builtin *b = &builtins[i];
      json_object *values;
      g_autofree char *id = NULL;
      gboolean present;
      int max = 0;

      stmt = kh_store_prepare (store, "SELECT 1 FROM criteria_set WHERE deleted = 0 AND model = ? "
                               "AND legal_basis = ? AND coalesce(subject_group, '') = ?", error);
      if (stmt == NULL)
        {
          ok = FALSE;
          break;
        }
      sqlite3_bind_text (stmt, 1, b->model, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, b->basis, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, b->group != NULL ? b->group : "", -1, SQLITE_STATIC);
      present = sqlite3_step (stmt) == SQLITE_ROW;
      sqlite3_reset (stmt);
      if (present)
        continue;

      for (guint c = 0; c < G_N_ELEMENTS (b->criteria) && b->criteria[c].code != NULL; c++)
        max += b->criteria[c].max_points;
      values = json_object_new_object ();
      json_object_object_add (values, "name", json_object_new_string (b->name));
      json_object_object_add (values, "model", json_object_new_string (b->model));
      json_object_object_add (values, "legal_basis", json_object_new_string (b->basis));
      json_object_object_add (values, "method", json_object_new_string (b->method));
      json_object_object_add (values, "valid_from", json_object_new_string (b->valid_from));
      if (b->valid_to != NULL)
        json_object_object_add (values, "valid_to", json_object_new_string (b->valid_to));
      if (b->group != NULL)
        json_object_object_add (values, "subject_group", json_object_new_string (b->group));
      if (b->level_rule != NULL)
        json_object_object_add (values, "level_rule", json_object_new_string (b->level_rule));
      json_object_object_add (values, "max_total", json_object_new_int (b->level_rule != NULL
                                                                        && strcmp (b->level_rule, "citizen_share") == 0
                                                                        ? 100 : max));
      if (strcmp (b->method, "points") == 0)
        json_object_object_add (values, "pass_min_total", json_object_new_int (b->pass_min_total));
      if (b->pass_min_item > 0)
        json_object_object_add (values, "pass_min_item", json_object_new_int (b->pass_min_item));
      if (b->level1 > 0)
        json_object_object_add (values, "level1_min", json_object_new_int (b->level1));
      if (b->level2 > 0)
        json_object_object_add (values, "level2_min", json_object_new_int (b->level2));
      if (b->level3 > 0)
        json_object_object_add (values, "level3_min", json_object_new_int (b->level3));
      id = kh_store_create (store, "criteria_set", values, error);
      json_object_put (values);
      ok = id != NULL;
      for (guint c = 0; ok && c < G_N_ELEMENTS (b->criteria) && b->criteria[c].code != NULL; c++)
        {
          json_object *cv = json_object_new_object ();
          g_autofree char *cid = NULL;

          json_object_object_add (cv, "criteria_set_id", json_object_new_string (id));
          json_object_object_add (cv, "code", json_object_new_string (b->criteria[c].code));
          json_object_object_add (cv, "title", json_object_new_string (b->criteria[c].title));
          json_object_object_add (cv, "max_points", json_object_new_int (b->criteria[c].max_points));
          json_object_object_add (cv, "position", json_object_new_int ((int) c + 1));
          cid = kh_store_create (store, "criterion", cv, error);
          json_object_put (cv);
          ok = cid != NULL;
        }
      made++;
    }
  if (ok)
    ok = kh_store_commit (store, error);
  else
    kh_store_rollback (store);
  if (n_made != NULL)
    *n_made = ok ? made : 0;
  return ok;
}

/* Circular 24/2023: the share of a unit's members who are learning citizens ---------------- */

/* The unit's members (the people recorded in it) and those among them whose learning-citizen
 * registration for @year has passed its evaluation or been recognized. */
gboolean
kh_unit_citizen_share (KhStore     *store,
                       const char  *org_unit_id,
                       int          year,
                       gint64      *members,
                       gint64      *citizens,
                       GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "SELECT (SELECT count(*) FROM person WHERE org_unit_id = ?1 AND deleted = 0),"
    "  (SELECT count(DISTINCT r.subject_id) FROM registration r JOIN person p ON p.id = r.subject_id"
    "   WHERE p.org_unit_id = ?1 AND p.deleted = 0 AND r.model = 'citizen' AND r.year = ?2"
    "   AND r.deleted = 0 AND (r.state = 'passed' OR r.state = 'recognized'))", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, org_unit_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, year);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "share");
      sqlite3_reset (stmt);
      return FALSE;
    }
  *members = sqlite3_column_int64 (stmt, 0);
  *citizens = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  return TRUE;
}

/* Recognitions ------------------------------------------------------------------------------ */

/* The registrations of @model (NULL: any) and @year in @org_unit_id or under it (NULL:
 * anywhere here) that passed and are not yet recognized, by name. */
json_object *
kh_registrations_to_recognize (KhStore     *store,
                               const char  *model,
                               int          year,
                               const char  *org_unit_id,
                               GError     **error)
{
  const KhEntity *entity = kh_entity_lookup ("registration");
  g_autofree char *columns = kh_store_select_columns (entity);
  g_autofree char *sql = g_strdup_printf (
    "WITH RECURSIVE area (id) AS (SELECT ?3 UNION SELECT u.id FROM org_unit u JOIN area ON u.parent_id = area.id) "
    "SELECT %s FROM registration WHERE deleted = 0 AND (?1 IS NULL OR model = ?1) AND year = ?2 "
    "AND state = 'passed' AND (?3 IS NULL OR org_unit_id IN area) ORDER BY kh_fold(subject_name), rid", columns);
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  json_object *list;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, model, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, year);
  sqlite3_bind_text (stmt, 3, org_unit_id, -1, SQLITE_TRANSIENT);
  list = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_object_array_add (list, kh_store_row_to_json (entity, stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "recognize");
      json_object_put (list);
      return NULL;
    }
  return list;
}

/* Recognizes every registration of @registration_ids by the one @decision, in one transaction:
 * all or none. Returns how many (0 with @error set on a refusal). */
guint
kh_recognize (KhStore             *store,
              const char * const  *registration_ids,
              const KhDecision    *decision,
              GError             **error)
{
  guint n = 0;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (store), 0);
  g_return_val_if_fail (registration_ids != NULL && decision != NULL, 0);

  if (registration_ids[0] == NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("Choose the registrations the decision recognizes."));
      return 0;
    }
  if (!kh_store_begin (store, error))
    return 0;
  ok = TRUE;
  for (guint i = 0; ok && registration_ids[i] != NULL; i++)
    {
      json_object *reg = kh_store_get (store, "registration", registration_ids[i], error);
      json_object *values;
      g_autofree char *id = NULL;

      if (reg == NULL)
        {
          ok = FALSE;
          break;
        }
      values = json_object_new_object ();
      json_object_object_add (values, "registration_id", json_object_new_string (registration_ids[i]));
      json_object_object_add (values, "org_unit_id", json_object_get (json_object_object_get (reg, "org_unit_id")));
      if (decision->decision_number != NULL)
        json_object_object_add (values, "decision_number", json_object_new_string (decision->decision_number));
      if (decision->decision_date != NULL)
        json_object_object_add (values, "decision_date", json_object_new_string (decision->decision_date));
      if (decision->issuing_level != NULL)
        json_object_object_add (values, "issuing_level", json_object_new_string (decision->issuing_level));
      json_object_object_add (values, "title",
                              json_object_new_string (decision->title != NULL ? decision->title
                                                      : kh_model_label (str (reg, "model"))));
      if (decision->reason != NULL && *decision->reason != '\0')
        json_object_object_add (values, "reason", json_object_new_string (decision->reason));
      id = kh_store_create (store, "recognition", values, error);
      if (id == NULL)
        {
          /* Which one: a list of many is refused as a whole. */
          g_prefix_error (error, "%s: ", str (reg, "subject_name"));
          ok = FALSE;
        }
      else
        n++;
      json_object_put (values);
      json_object_put (reg);
    }
  if (ok)
    ok = kh_store_commit (store, error);
  else
    kh_store_rollback (store);
  return ok ? n : 0;
}

/* The store's hooks ------------------------------------------------------------------------- */

static json_object *
load (KhStore    *store,
      const char *entity,
      const char *id)
{
  json_object *record;
  json_object *deleted;

  if (id == NULL)
    return NULL;
  record = kh_store_get (store, entity, id, NULL);
  if (record != NULL && json_object_object_get_ex (record, "deleted", &deleted) && json_object_get_boolean (deleted))
    g_clear_pointer (&record, json_object_put);
  return record;
}

/* A criteria set and its criteria, as the last evaluation written through this store read them:
 * a demo or an import writes thousands by one set. Kept while no set or criterion was written
 * here (kh_models_generation) and no other connection committed (PRAGMA data_version: a pull
 * writes from the engine's connection). */
typedef struct
{
  char        *id;
  json_object *set;
  json_object *criteria;
  gint64       data_version;
  guint        generation;
} SetCache;

static guint kh_models_generation;

static void
set_cache_free (SetCache *c)
{
  g_free (c->id);
  json_object_put (c->set);
  json_object_put (c->criteria);
  g_free (c);
}

static gint64
data_version (KhStore *store)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "PRAGMA data_version", NULL);
  gint64 v = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return v;
}

/* The live set @id and its criteria (new references), or FALSE if there is no such set. The
 * cache holds every set read since the last change (a demo cycles through five). */
static gboolean
set_and_criteria (KhStore      *store,
                  const char   *id,
                  json_object **set,
                  json_object **criteria)
{
  GHashTable *cache = g_object_get_data (G_OBJECT (store), "kh-models-set-cache");
  gint64 version = data_version (store);
  guint generation = g_atomic_int_get (&kh_models_generation);
  SetCache *c;

  *set = *criteria = NULL;
  if (id == NULL)
    return FALSE;
  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) set_cache_free);
      g_object_set_data_full (G_OBJECT (store), "kh-models-set-cache", cache, (GDestroyNotify) g_hash_table_unref);
    }
  c = g_hash_table_lookup (cache, id);
  if (c != NULL && version >= 0 && c->data_version == version && c->generation == generation)
    {
      *set = json_object_get (c->set);
      *criteria = json_object_get (c->criteria);
      return TRUE;
    }
  if (c != NULL && (c->data_version != version || c->generation != generation))
    g_hash_table_remove_all (cache);
  *set = load (store, "criteria_set", id);
  if (*set == NULL)
    return FALSE;
  *criteria = kh_criteria_list (store, id, NULL);
  if (*criteria == NULL)
    {
      g_clear_pointer (set, json_object_put);
      return FALSE;
    }
  c = g_new0 (SetCache, 1);
  c->id = g_strdup (id);
  c->set = json_object_get (*set);
  c->criteria = json_object_get (*criteria);
  c->data_version = version;
  c->generation = generation;
  g_hash_table_replace (cache, c->id, c);
  return TRUE;
}

/* Fills in what an evaluation's set computes and the writer left out: the total and the result
 * (from the scores), and for a set by the share of learning citizens, the share's numbers from
 * the records. @current is the record before (NULL: new), @values what is written; only
 * @values changes. */
void
_kh_models_complete (KhStore         *store,
                     const KhEntity  *entity,
                     json_object     *current,
                     json_object     *values)
{
  json_object *record;
  json_object *set;
  json_object *criteria;
  const char *result = NULL;
  int total = 0;

  if (strcmp (entity->name, "evaluation") != 0)
    return;
  if (current == NULL && !has (values, "stage"))
    json_object_object_add (values, "stage", json_object_new_string ("self_assessment"));
  if (current != NULL && !names (values, "scores") && !names (values, "criteria_set_id"))
    return;
  /* Nothing left out: the check judges what was given. */
  if (current == NULL && has (values, "scores") && has (values, "total") && has (values, "result"))
    return;
  record = json_object_new_object ();
  if (current != NULL)
    {
      json_object_object_foreach (current, ck, cv)
        json_object_object_add (record, ck, cv != NULL ? json_object_get (cv) : NULL);
    }
  {
    json_object_object_foreach (values, vk, vv)
      json_object_object_add (record, vk, vv != NULL ? json_object_get (vv) : NULL);
  }
  if (!set_and_criteria (store, str (record, "criteria_set_id"), &set, &criteria))
    {
      json_object_put (record);
      return;
    }
  if (g_strcmp0 (str (set, "level_rule"), "citizen_share") == 0 && !has (values, "scores")
      && current == NULL)
    {
      json_object *reg = load (store, "registration", str (record, "registration_id"));
      gint64 members = 0, citizens = 0;

      if (reg != NULL && str (reg, "subject_id") != NULL
          && kh_unit_citizen_share (store, str (reg, "subject_id"), json_object_get_int (json_object_object_get (reg, "year")),
                                    &members, &citizens, NULL))
        {
          json_object *scores = json_object_new_object ();

          json_object_object_add (scores, "members", json_object_new_int64 (members));
          json_object_object_add (scores, "learning_citizens", json_object_new_int64 (citizens));
          json_object_object_add (values, "scores", json_object_get (scores));
          json_object_object_add (record, "scores", scores);
        }
      json_object_put (reg);
    }
  {
    json_object *scores = json_object_object_get (record, "scores");
    json_object *empty = json_object_new_object ();

    /* Computed from the scores as they are, even out of bounds: the check then says what is
     * wrong with them, rather than that the result is missing. */
    if (scores == NULL || !json_object_is_type (scores, json_type_object))
      scores = empty;
    result = kh_evaluate_result (set, criteria, scores, &total);
    if (!has (values, "total"))
      json_object_object_add (values, "total", json_object_new_int (CLAMP (total, 0, 1000)));
    if (!has (values, "result"))
      json_object_object_add (values, "result", json_object_new_string (result));
    json_object_put (empty);
  }
  json_object_put (criteria);
  json_object_put (set);
  json_object_put (record);
}

static gboolean
check_evaluation (KhStore      *store,
                  json_object  *record,
                  json_object  *changed,
                  GError      **error)
{
  json_object *set;
  json_object *criteria;
  gboolean ok;

  if (changed != NULL && !names (changed, "scores") && !names (changed, "total") && !names (changed, "result")
      && !names (changed, "criteria_set_id"))
    return TRUE;
  if (str (record, "criteria_set_id") == NULL)
    {
      /* A result copied from a paper record stands alone; points need the set they are
       * judged by. */
      json_object *scores = json_object_object_get (record, "scores");

      if ((scores == NULL || (json_object_is_type (scores, json_type_object)
                              && json_object_object_length (scores) == 0))
          && !has (record, "total"))
        return TRUE;
      kh_data_error_set_invalid (error, "criteria_set_id", "%s",
                                 _("Criteria set: an evaluation with points names the criteria set "
                                   "they were given by."));
      return FALSE;
    }
  if (!set_and_criteria (store, str (record, "criteria_set_id"), &set, &criteria))
    return TRUE; /* the reference check has said why */
  ok = kh_evaluation_judge (set, criteria, record, NULL, NULL, error);
  if (ok && g_strcmp0 (str (set, "level_rule"), "citizen_share") == 0)
    {
      json_object *reg = load (store, "registration", str (record, "registration_id"));
      json_object *scores = json_object_object_get (record, "scores");
      gint64 members = 0, citizens = 0;

      /* The share comes from the records, not from what is typed: where this store holds the
       * unit's people, the numbers must be theirs. */
      if (reg != NULL && kh_unit_citizen_share (store, str (reg, "subject_id"),
                                                json_object_get_int (json_object_object_get (reg, "year")),
                                                &members, &citizens, NULL)
          && members > 0
          && (json_object_get_int64 (json_object_object_get (scores, "members")) != members
              || json_object_get_int64 (json_object_object_get (scores, "learning_citizens")) != citizens))
        {
          kh_data_error_set_invalid (error, "scores", _("Scores per criterion: the records show %lld "
                                                        "learning citizens among %lld members; the share is "
                                                        "counted, not typed."),
                                     (long long) citizens, (long long) members);
          ok = FALSE;
        }
      json_object_put (reg);
    }
  json_object_put (criteria);
  json_object_put (set);
  return ok;
}

/* The evaluation a recognition or a registration's state goes by: the latest review by the
 * level above if there is one, else the latest self-assessment. */
static gboolean
decisive_evaluation (KhStore     *store,
                     const char  *registration_id,
                     char       **result,
                     int         *total,
                     gboolean    *found,
                     GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT result, total FROM evaluation "
                                         "WHERE registration_id = ? AND deleted = 0 "
                                         "ORDER BY coalesce(stage, 'self_assessment') = 'review' DESC, "
                                         "evaluated_on DESC, rid DESC LIMIT 1", error);

  *found = FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, registration_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *found = TRUE;
      *result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      *total = sqlite3_column_type (stmt, 1) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 1);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
check_recognition (KhStore      *store,
                   json_object  *record,
                   json_object  *changed,
                   GError      **error)
{
  g_autofree char *result = NULL;
  const char *reason = str (record, "reason");
  const char *registration = str (record, "registration_id");
  gboolean found;
  int total;

  if (!kh_issuing_level_validate (str (record, "issuing_level"), str (record, "decision_date"), error))
    return FALSE;
  if (changed != NULL && !has (changed, "registration_id") && !has (changed, "reason"))
    return TRUE;
  if (reason != NULL && *reason != '\0')
    return TRUE;
  if (!decisive_evaluation (store, registration, &result, &total, &found, error))
    return FALSE;
  if (!found || !kh_result_passed (result))
    {
      kh_data_error_set_invalid (error, "registration_id", "%s",
                                 found ? _("Registration: its evaluation did not pass; a recognition "
                                           "without a passed evaluation needs a reason.")
                                       : _("Registration: it has no evaluation yet; a recognition "
                                           "without a passed evaluation needs a reason."));
      return FALSE;
    }
  if (changed == NULL || has (changed, "registration_id"))
    {
      sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT decision_number FROM recognition "
                                             "WHERE registration_id = ? AND deleted = 0 LIMIT 1", error);
      g_autofree char *other = NULL;

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, registration, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        other = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_reset (stmt);
      if (other != NULL)
        {
          kh_data_error_set_invalid (error, "registration_id", _("Registration: it is already recognized "
                                                                 "by decision %s."), other);
          return FALSE;
        }
    }
  return TRUE;
}

/* Refusals of a write the models' rules forbid. @record is the record after the write, @changed
 * what changes (NULL: a new record). */
gboolean
_kh_models_check_write (KhStore         *store,
                        const KhEntity  *entity,
                        const char      *id,
                        json_object     *record,
                        json_object     *changed,
                        GError         **error)
{
  const char *name = entity->name;

  if (strcmp (name, "evaluation") == 0)
    return check_evaluation (store, record, changed, error);
  if (strcmp (name, "recognition") == 0)
    return check_recognition (store, record, changed, error);
  if (strcmp (name, "criteria_set") == 0 && changed != NULL && !kh_criteria_set_change_allowed (changed)
      && kh_criteria_set_is_used (store, id, NULL))
    {
      g_autofree char *message = kh_criteria_set_used_message (record);

      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, message);
      return FALSE;
    }
  if (strcmp (name, "criterion") == 0 && str (record, "criteria_set_id") != NULL
      && kh_criteria_set_is_used (store, str (record, "criteria_set_id"), NULL))
    {
      json_object *set = load (store, "criteria_set", str (record, "criteria_set_id"));
      g_autofree char *message = kh_criteria_set_used_message (set);

      json_object_put (set);
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, message);
      return FALSE;
    }
  return TRUE;
}

/* Keeps the registration's state after an evaluation or a recognition of it is written
 * (created, changed, deleted or restored), in the same transaction. */
gboolean
_kh_models_after_write (KhStore         *store,
                        const KhEntity  *entity,
                        json_object     *record,
                        GError         **error)
{
  const char *registration_id;
  json_object *reg;
  json_object *changes;
  g_autofree char *result = NULL;
  gboolean found = FALSE;
  gboolean recognized;
  int total = -1;
  const char *state;
  gboolean ok;
  sqlite3_stmt *stmt;

  if (strcmp (entity->name, "criteria_set") == 0 || strcmp (entity->name, "criterion") == 0)
    g_atomic_int_inc (&kh_models_generation);
  if (strcmp (entity->name, "evaluation") != 0 && strcmp (entity->name, "recognition") != 0)
    return TRUE;
  registration_id = str (record, "registration_id");
  reg = load (store, "registration", registration_id);
  if (reg == NULL)
    return TRUE;
  if (!decisive_evaluation (store, registration_id, &result, &total, &found, error))
    {
      json_object_put (reg);
      return FALSE;
    }
  stmt = kh_store_prepare (store, "SELECT 1 FROM recognition WHERE registration_id = ? AND deleted = 0 LIMIT 1", error);
  if (stmt == NULL)
    {
      json_object_put (reg);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, registration_id, -1, SQLITE_TRANSIENT);
  recognized = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);

  if (recognized)
    state = "recognized";
  else if (g_strcmp0 (str (reg, "status"), "withdrawn") == 0)
    state = "withdrawn";
  else
    state = kh_registration_state_of (found ? result : NULL);
  changes = json_object_new_object ();
  json_object_object_add (changes, "state", json_object_new_string (state));
  json_object_object_add (changes, "result", found && result != NULL ? json_object_new_string (result) : NULL);
  json_object_object_add (changes, "total", found && total >= 0 ? json_object_new_int (total) : NULL);
  if (found && g_strcmp0 (str (reg, "status"), "registered") == 0)
    json_object_object_add (changes, "status", json_object_new_string ("evaluated"));
  ok = kh_store_update (store, "registration", registration_id, changes, error);
  json_object_put (changes);
  json_object_put (reg);
  return ok;
}
