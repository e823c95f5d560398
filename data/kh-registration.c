/* kh-registration.c: one registration of a subject for a model and a year
 *
 * A learning citizen, family, clan or unit registered twice for one model and year would be
 * counted twice in the figures and evaluated twice. The store refuses the second (here); the
 * server refuses the second of two replicas that both registered it offline, naming the first
 * (sync/server/kh-server-twice.c, code `already_registered`). A withdrawn registration does
 * not count: a subject may register again after withdrawing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-registration.h"
#include "kh-store-sql.h"

static gboolean
touches (json_object *changes,
         const char  *name)
{
  return changes == NULL || json_object_object_get_ex (changes, name, NULL);
}

static const char *
member (json_object *record,
        const char  *name)
{
  json_object *v;

  if (json_object_object_get_ex (record, name, &v) && v != NULL)
    return json_object_get_string (v);
  return NULL;
}

gboolean
kh_registration_check_once (KhStore         *store,
                            const KhEntity  *entity,
                            const char      *id,
                            json_object     *record,
                            json_object     *changes,
                            GError         **error)
{
  const char *subject = member (record, "subject_id");
  const char *model = member (record, "model");
  const char *status = member (record, "status");
  json_object *year;
  sqlite3_stmt *stmt;
  gboolean twice;
  g_autofree char *by = NULL;
  g_autofree char *on = NULL;

  if (strcmp (entity->name, "registration") != 0 || subject == NULL || model == NULL
      || g_strcmp0 (status, "withdrawn") == 0
      || !json_object_object_get_ex (record, "year", &year) || year == NULL
      || (!touches (changes, "subject_id") && !touches (changes, "model") && !touches (changes, "year")
          && !touches (changes, "status")))
    return TRUE;
  stmt = kh_store_prepare (store, "SELECT updated_by, created_at FROM registration WHERE subject_id = ? "
                                  "AND model = ? AND year = ? AND deleted = 0 AND status <> 'withdrawn' "
                                  "AND id <> ? LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, model, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, json_object_get_int64 (year));
  sqlite3_bind_text (stmt, 4, id != NULL ? id : "", -1, SQLITE_TRANSIENT);
  twice = sqlite3_step (stmt) == SQLITE_ROW;
  if (twice)
    {
      const char *at = (const char *) sqlite3_column_text (stmt, 1);

      by = g_strdup (sqlite3_column_type (stmt, 0) != SQLITE_NULL
                     ? (const char *) sqlite3_column_text (stmt, 0) : _("this device"));
      on = at != NULL && strlen (at) >= 10 ? g_strdup_printf ("%.2s/%.2s/%.4s", at + 8, at + 5, at) : g_strdup ("");
    }
  sqlite3_reset (stmt);
  if (!twice)
    return TRUE;
  {
    const KhField *f = kh_entity_get_field (entity, "model");

    kh_data_error_set_invalid (error, "subject_id",
                               _("Registered subject: %s is already registered for “%s” in %d "
                                 "(by %s on %s); open that registration instead."),
                               member (record, "subject_name") ? member (record, "subject_name") : subject,
                               kh_field_enum_label (f, model), (int) json_object_get_int64 (year), by, on);
  }
  return FALSE;
}
