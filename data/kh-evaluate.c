/* kh-evaluate.c: evaluating a registration against the criteria set in force
 *
 * Criteria change with the period, the level and the province (DOMAIN.md), so they are data: a
 * criteria set with its method (points, levels or a checklist) and its pass rule, and its
 * criteria. The total and the result are computed here from that data, never typed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-evaluate.h"
#include "kh-models.h"
#include "kh-schema.h"
#include "kh-store-sql.h"

/* The criteria set for @model in force during @year for a registration in @org_unit_id: the
 * unit's own, else the nearest unit's above it (its province's), else the national one
 * (kh_criteria_set_for(), which also matches a subject group or level). */
json_object *
kh_criteria_set_in_force (KhStore     *store,
                          const char  *model,
                          int          year,
                          const char  *org_unit_id,
                          GError     **error)
{
  return kh_criteria_set_for (store, model, year, org_unit_id, NULL, error);
}

json_object *
kh_criteria_list (KhStore     *store,
                  const char  *criteria_set_id,
                  GError     **error)
{
  KhQuery query = { 0 };
  json_object *result;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (criteria_set_id != NULL, NULL);

  query.where = json_object_new_object ();
  json_object_object_add (query.where, "criteria_set_id", json_object_new_string (criteria_set_id));
  query.order_by = "position";
  result = kh_store_list (store, "criterion", &query, error);
  json_object_put (query.where);
  return result;
}

static gint64
get_int (json_object *obj,
         const char  *key,
         gint64       fallback)
{
  json_object *v;

  if (obj == NULL || !json_object_object_get_ex (obj, key, &v) || v == NULL)
    return fallback;
  return json_object_get_int64 (v);
}

/* The result value (an evaluation's "result" enum) for @scores, an object from each criterion's
 * code to its points (1 or 0 for a checklist); the total goes to @total.
 *
 * - points: achieved when the total reaches pass_min_total and every criterion reaches
 *   pass_min_item and its own min_points;
 * - levels: the highest level whose minimum the total reaches, else not achieved; with the
 *   level rule "bands" the three levels are average, fair and good (Circular 22/2020), with
 *   "citizen_share" the total is the share in percent of the unit's members who are learning
 *   citizens, from @scores' "members" and "learning_citizens" (Circular 24/2023);
 * - checklist: achieved when every criterion is met (or, if pass_min_total is set, that many). */
const char *
kh_evaluate_result (json_object *criteria_set,
                    json_object *criteria,
                    json_object *scores,
                    int         *total)
{
  const char *method;
  const char *rule;
  gboolean every_item = TRUE;
  gint64 sum = 0;
  size_t n;

  g_return_val_if_fail (criteria_set != NULL, NULL);
  g_return_val_if_fail (criteria != NULL, NULL);

  method = json_object_get_string (json_object_object_get (criteria_set, "method"));
  rule = json_object_get_string (json_object_object_get (criteria_set, "level_rule"));
  n = json_object_array_length (criteria);
  if (g_strcmp0 (rule, "citizen_share") == 0)
    {
      gint64 members = get_int (scores, "members", 0);

      /* Rounded down: 94.9 % is not 95 %. */
      sum = members > 0 ? get_int (scores, "learning_citizens", 0) * 100 / members : 0;
      n = 0;
    }
  for (size_t i = 0; i < n; i++)
    {
      json_object *criterion = json_object_array_get_idx (criteria, i);
      const char *code = json_object_get_string (json_object_object_get (criterion, "code"));
      gint64 points = get_int (scores, code, 0);

      sum += points;
      if (g_strcmp0 (method, "checklist") == 0)
        every_item = every_item && points > 0;
      else if (points < get_int (criteria_set, "pass_min_item", 0)
               || points < get_int (criterion, "min_points", 0))
        every_item = FALSE;
    }
  if (total != NULL)
    *total = (int) sum;

  if (g_strcmp0 (method, "levels") == 0)
    {
      gboolean bands = g_strcmp0 (rule, "bands") == 0;

      if (get_int (criteria_set, "level3_min", G_MAXINT64) <= sum)
        return bands ? "good" : "level3";
      if (get_int (criteria_set, "level2_min", G_MAXINT64) <= sum)
        return bands ? "fair" : "level2";
      if (get_int (criteria_set, "level1_min", G_MAXINT64) <= sum)
        return bands ? "average" : "level1";
      return "not_achieved";
    }
  if (g_strcmp0 (method, "checklist") == 0)
    {
      gint64 min = get_int (criteria_set, "pass_min_total", -1);

      return (min >= 0 ? sum >= min : every_item) ? "pass" : "fail";
    }
  return sum >= get_int (criteria_set, "pass_min_total", 0) && every_item ? "pass" : "fail";
}

/* Saves a self-assessment of the registration @registration_id; the store checks it against
 * its set and moves the registration's state in the same transaction. Returns its id. */
char *
kh_evaluate_save (KhStore      *store,
                  const char   *registration_id,
                  json_object  *criteria_set,
                  json_object  *criteria,
                  json_object  *scores,
                  const char   *evaluator,
                  const char   *evaluated_on,
                  GError      **error)
{
  json_object *registration;
  json_object *values;
  g_autofree char *id = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (registration_id != NULL, NULL);

  registration = kh_store_get (store, "registration", registration_id, error);
  if (registration == NULL)
    return NULL;
  values = json_object_new_object ();
  json_object_object_add (values, "registration_id", json_object_new_string (registration_id));
  json_object_object_add (values, "org_unit_id",
                          json_object_get (json_object_object_get (registration, "org_unit_id")));
  json_object_object_add (values, "criteria_set_id",
                          json_object_get (json_object_object_get (criteria_set, "id")));
  /* The total and the result are the store's to compute from the set (kh-models.c); for a set
   * by the share of learning citizens, so are the scores. */
  if (scores != NULL)
    json_object_object_add (values, "scores", json_object_get (scores));
  if (evaluator != NULL && *evaluator != '\0')
    json_object_object_add (values, "evaluator", json_object_new_string (evaluator));
  if (evaluated_on != NULL)
    json_object_object_add (values, "evaluated_on", json_object_new_string (evaluated_on));
  json_object_object_add (values, "stage", json_object_new_string ("self_assessment"));
  /* The registration's state follows in the same transaction (kh-models.c). */
  id = kh_store_create (store, "evaluation", values, error);
  json_object_put (values);
  json_object_put (registration);
  return g_steal_pointer (&id);
}

/* The registration of @subject_id for @model and @year, made now if there is none yet: the
 * first step of a self-assessment. Returns its id. */
char *
kh_registration_ensure (KhStore     *store,
                        const char  *model,
                        int          year,
                        const char  *subject_kind,
                        const char  *subject_id,
                        const char  *subject_name,
                        const char  *org_unit_id,
                        GError     **error)
{
  KhQuery query = { 0 };
  json_object *found;
  json_object *values;
  char *id = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (model != NULL && subject_id != NULL && org_unit_id != NULL, NULL);

  query.where = json_object_new_object ();
  json_object_object_add (query.where, "model", json_object_new_string (model));
  json_object_object_add (query.where, "year", json_object_new_int (year));
  json_object_object_add (query.where, "subject_id", json_object_new_string (subject_id));
  query.limit = 1;
  found = kh_store_list (store, "registration", &query, error);
  json_object_put (query.where);
  if (found == NULL)
    return NULL;
  if (json_object_array_length (found) > 0)
    id = g_strdup (json_object_get_string (json_object_object_get (json_object_array_get_idx (found, 0), "id")));
  json_object_put (found);
  if (id != NULL)
    return id;

  values = json_object_new_object ();
  json_object_object_add (values, "model", json_object_new_string (model));
  json_object_object_add (values, "year", json_object_new_int (year));
  json_object_object_add (values, "org_unit_id", json_object_new_string (org_unit_id));
  json_object_object_add (values, "subject_kind", json_object_new_string (subject_kind));
  json_object_object_add (values, "subject_id", json_object_new_string (subject_id));
  json_object_object_add (values, "subject_name",
                          json_object_new_string (subject_name ? subject_name : subject_id));
  json_object_object_add (values, "status", json_object_new_string ("registered"));
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

    json_object_object_add (values, "registered_on", json_object_new_string (today));
  }
  id = kh_store_create (store, "registration", values, error);
  json_object_put (values);
  return id;
}
