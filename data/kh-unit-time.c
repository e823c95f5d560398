/* kh-unit-time.c: records in time: a record's date against its unit's life
 *
 * A record dated in a year or on a day when its unit did not exist (a 2023 registration in a
 * commune made on 01/07/2025, a donation in a ward after it merged) would be counted for a unit
 * that was not there; the store and the server refuse it, naming the unit of that time, which
 * they find through the units' successions. The store and the server each ask their own
 * tables; what a date is and the words of the refusal are here, the same for both.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-store-sql.h"
#include "kh-unit-time.h"

/* The field that dates each kind of record: the year of a registration or of a population
 * figure, the day of an evaluation, a recognition, a donation or a payment. */
static const struct
{
  const char *entity;
  const char *field;
} dated[] = {
  { "registration", "year" },
  { "population", "year" },
  { "evaluation", "evaluated_on" },
  { "recognition", "decision_date" },
  { "donation", "donated_on" },
  { "disbursement", "paid_on" },
};

static gboolean
touches (json_object *changes,
         const char  *name)
{
  return changes == NULL || json_object_object_get_ex (changes, name, NULL);
}

gboolean
kh_unit_time_span (const KhEntity  *entity,
                   json_object     *record,
                   json_object     *changes,
                   char           **from,
                   char           **to,
                   const char     **field)
{
  json_object *v;

  *from = *to = NULL;
  *field = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (dated); i++)
    {
      const KhField *f;

      if (strcmp (dated[i].entity, entity->name) != 0)
        continue;
      if (!touches (changes, dated[i].field) && !touches (changes, "org_unit_id"))
        return FALSE;
      if ((f = kh_entity_get_field (entity, dated[i].field)) == NULL
          || !json_object_object_get_ex (record, dated[i].field, &v) || v == NULL)
        return FALSE;
      if (f->type == KH_FIELD_YEAR)
        {
          gint64 year = json_object_get_int64 (v);

          if (year <= 0)
            return FALSE;
          *from = g_strdup_printf ("%04" G_GINT64_FORMAT "-01-01", year);
          *to = g_strdup_printf ("%04" G_GINT64_FORMAT "-12-31", year);
        }
      else
        {
          const char *day = json_object_get_string (v);

          if (day == NULL || strlen (day) < 10)
            return FALSE;
          *from = g_strndup (day, 10);
          *to = g_strndup (day, 10);
        }
      *field = dated[i].field;
      return TRUE;
    }
  return FALSE;
}

gboolean
kh_unit_time_covers (const char *valid_from,
                     const char *valid_to,
                     const char *from,
                     const char *to)
{
  return (valid_from == NULL || *valid_from == '\0' || strcmp (valid_from, to) <= 0)
         && (valid_to == NULL || *valid_to == '\0' || strcmp (valid_to, from) >= 0);
}

/* "15/03/2024" from "2024-03-15". */
static char *
day_text (const char *iso)
{
  if (iso == NULL || strlen (iso) < 10)
    return g_strdup (iso != NULL ? iso : "");
  return g_strdup_printf ("%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

char *
kh_unit_time_refusal (const KhEntity  *entity,
                      const char      *field,
                      const char      *from,
                      const char      *to,
                      const char      *name,
                      const char      *valid_from,
                      const char      *valid_to,
                      const char      *then)
{
  const KhField *f = kh_entity_get_field (entity, field);
  const KhField *unit = kh_entity_get_field (entity, "org_unit_id");
  gboolean year = f != NULL && f->type == KH_FIELD_YEAR;
  g_autofree char *when = year ? g_strndup (from, 4) : day_text (from);
  gboolean before = valid_from != NULL && *valid_from != '\0' && strcmp (to, valid_from) < 0;
  g_autofree char *edge = day_text (before ? valid_from : valid_to);
  const char *label = unit != NULL ? _(unit->label) : _("Unit");

  if (before)
    {
      if (then != NULL)
        /* TRANSLATORS: "Unit: Xã Một did not exist yet in 2023 (it began on 01/07/2025); the
         * unit then was Xã Cũ Một." */
        return g_strdup_printf (_("%s: %s did not exist yet in %s (it began on %s); the unit then was %s."),
                                label, name, when, edge, then);
      return g_strdup_printf (_("%s: %s did not exist yet in %s (it began on %s); record it in the "
                                "unit of that time."), label, name, when, edge);
    }
  if (then != NULL)
    return g_strdup_printf (_("%s: %s no longer existed in %s (its last day was %s); its successor is %s."),
                            label, name, when, edge, then);
  return g_strdup_printf (_("%s: %s no longer existed in %s (its last day was %s); record it in the "
                            "unit of that time."), label, name, when, edge);
}

/* The names of the units valid in [@from, @to] reached from @unit through the successions,
 * backwards (its predecessors, theirs…) or forwards, joined by ", "; NULL when none. */
static char *
store_units_then (KhStore     *store,
                  const char  *unit,
                  gboolean     backwards,
                  const char  *from,
                  const char  *to,
                  GError     **error)
{
  const char *sql = backwards
    ? "WITH RECURSIVE n (u) AS (SELECT predecessor_id FROM unit_succession WHERE successor_id = ?1 "
      "AND deleted = 0 UNION SELECT s.predecessor_id FROM unit_succession s JOIN n ON s.successor_id = n.u "
      "WHERE s.deleted = 0) "
      "SELECT o.name, o.valid_from, o.valid_to FROM n JOIN org_unit o ON o.id = n.u WHERE o.deleted = 0 "
      "ORDER BY o.name"
    : "WITH RECURSIVE n (u) AS (SELECT successor_id FROM unit_succession WHERE predecessor_id = ?1 "
      "AND deleted = 0 UNION SELECT s.successor_id FROM unit_succession s JOIN n ON s.predecessor_id = n.u "
      "WHERE s.deleted = 0) "
      "SELECT o.name, o.valid_from, o.valid_to FROM n JOIN org_unit o ON o.id = n.u WHERE o.deleted = 0 "
      "ORDER BY o.name";
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  GString *names = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    if (kh_unit_time_covers ((const char *) sqlite3_column_text (stmt, 1),
                             (const char *) sqlite3_column_text (stmt, 2), from, to))
      {
        if (names == NULL)
          names = g_string_new (NULL);
        else
          g_string_append (names, ", ");
        g_string_append (names, (const char *) sqlite3_column_text (stmt, 0));
      }
  sqlite3_reset (stmt);
  return names != NULL ? g_string_free (names, FALSE) : NULL;
}

gboolean
kh_unit_time_check_store (KhStore         *store,
                          const KhEntity  *entity,
                          json_object     *record,
                          json_object     *changes,
                          GError         **error)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autofree char *name = NULL;
  g_autofree char *valid_from = NULL;
  g_autofree char *valid_to = NULL;
  g_autofree char *then = NULL;
  g_autofree char *message = NULL;
  const char *field;
  const char *unit;
  json_object *v;
  sqlite3_stmt *stmt;
  gboolean found;

  if (!kh_unit_time_span (entity, record, changes, &from, &to, &field)
      || !json_object_object_get_ex (record, "org_unit_id", &v) || v == NULL
      || (unit = json_object_get_string (v)) == NULL)
    return TRUE;
  stmt = kh_store_prepare (store, "SELECT name, valid_from, valid_to FROM org_unit WHERE id = ? AND deleted = 0",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      valid_from = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      valid_to = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
    }
  sqlite3_reset (stmt);
  if (!found || kh_unit_time_covers (valid_from, valid_to, from, to))
    return TRUE;
  then = store_units_then (store, unit, valid_from != NULL && *valid_from != '\0' && strcmp (to, valid_from) < 0,
                           from, to, error);
  message = kh_unit_time_refusal (entity, field, from, to, name, valid_from, valid_to, then);
  kh_data_error_set_invalid (error, field, "%s", message);
  return FALSE;
}

/* Imports of past years ------------------------------------------------------------------- */

typedef struct
{
  char *id;
  int   n;
} Pick;

static void
pick_from (KhStore     *store,
           const char  *sql,
           const char  *unit,
           const char  *from,
           const char  *to,
           Pick        *pick)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, NULL);

  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    if (kh_unit_time_covers ((const char *) sqlite3_column_text (stmt, 1),
                             (const char *) sqlite3_column_text (stmt, 2), from, to)
        && g_strcmp0 (pick->id, (const char *) sqlite3_column_text (stmt, 0)) != 0)
      {
        if (pick->n++ == 0)
          pick->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      }
  sqlite3_reset (stmt);
}

gboolean
kh_unit_time_unit_then (KhStore         *store,
                        const KhEntity  *entity,
                        json_object     *record)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  const char *field;
  const char *unit;
  json_object *v;
  sqlite3_stmt *stmt;
  gboolean covered = TRUE;
  Pick pick = { NULL, 0 };

  if (!kh_unit_time_span (entity, record, NULL, &from, &to, &field)
      || !json_object_object_get_ex (record, "org_unit_id", &v) || v == NULL
      || (unit = json_object_get_string (v)) == NULL
      || (stmt = kh_store_prepare (store, "SELECT valid_from, valid_to FROM org_unit WHERE id = ? AND deleted = 0",
                                   NULL)) == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    covered = kh_unit_time_covers ((const char *) sqlite3_column_text (stmt, 0),
                                   (const char *) sqlite3_column_text (stmt, 1), from, to);
  sqlite3_reset (stmt);
  if (covered)
    return FALSE;
  /* Another unit with the same code that was there then (a code used again), else the unit of
   * that time through the successions, backwards and forwards: taken only when it is one. */
  pick_from (store, "SELECT o.id, o.valid_from, o.valid_to FROM org_unit o JOIN org_unit u ON u.code = o.code "
                    "WHERE u.id = ?1 AND o.id <> u.id AND o.deleted = 0", unit, from, to, &pick);
  if (pick.n == 0)
    pick_from (store, "WITH RECURSIVE n (u) AS (SELECT ?1 UNION SELECT s.predecessor_id FROM unit_succession s "
                      "JOIN n ON s.successor_id = n.u WHERE s.deleted = 0 UNION SELECT s.successor_id "
                      "FROM unit_succession s JOIN n ON s.predecessor_id = n.u WHERE s.deleted = 0) "
                      "SELECT o.id, o.valid_from, o.valid_to FROM n JOIN org_unit o ON o.id = n.u "
                      "WHERE o.deleted = 0 AND o.id <> ?1", unit, from, to, &pick);
  if (pick.n == 1)
    json_object_object_add (record, "org_unit_id", json_object_new_string (pick.id));
  g_free (pick.id);
  return pick.n == 1;
}
