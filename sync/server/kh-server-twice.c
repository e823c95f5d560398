/* kh-server-twice.c: one registration of a subject for a model and a year, on the server
 *
 * Two replicas offline can both register the same subject for the same model and year, each
 * taking its own as the only one (the store refuses a second only where it sees the first,
 * data/kh-registration.c). The server takes the first and answers the second `rejected`, code
 * `already_registered`, naming who registered it first and when, in words and as the member
 * `registered` (its id, who, when): the client makes that a conflict of its own kind, which the
 * officer resolves by keeping the other or merging this one's details into it
 * (sync/replica/kh-replica-twice.c). The registrations table finds a subject's registrations
 * by an index, so the check is one lookup per registration written.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-core-private.h"

static gboolean
live (json_object *data,
      gboolean     deleted)
{
  return !deleted && g_strcmp0 (_kh_server_string_member (data, "status"), "withdrawn") != 0;
}

static gint64
year_of (json_object *data)
{
  json_object *v;

  if (data != NULL && json_object_object_get_ex (data, "year", &v) && json_object_is_type (v, json_type_int))
    return json_object_get_int64 (v);
  return 0;
}

gboolean
_kh_server_note_registration (KhServerBackend      *b,
                              const char           *id,
                              const KhServerStored *now,
                              GError              **error)
{
  const char *subject = _kh_server_string_member (now->data, "subject_id");
  const char *model = _kh_server_string_member (now->data, "model");
  KhSqlParam p[5] = {
    KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (subject ? subject : ""), KH_SQL_P_TEXT (model ? model : ""),
    KH_SQL_P_INT (year_of (now->data)), KH_SQL_P_INT (live (now->data, now->deleted) ? 1 : 0),
  };

  return kh_server_backend_exec (b, "INSERT INTO registrations (id, subject_id, model, year, live) "
                                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                 "subject_id = excluded.subject_id, model = excluded.model, "
                                 "year = excluded.year, live = excluded.live",
                                 p, 5, NULL, NULL, NULL, error);
}

static gboolean
row_cb (const char * const *v,
        int                 n,
        gpointer            data)
{
  GPtrArray *rows = data;

  g_ptr_array_add (rows, g_strdup (v[0]));
  g_ptr_array_add (rows, g_strdup (v[1]));
  g_ptr_array_add (rows, g_strdup (v[2]));
  return TRUE;
}

gboolean
_kh_server_fill_registrations (KhServerBackend  *b,
                               GError          **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);

  if (!kh_server_backend_exec (b, "SELECT id, data, CAST(deleted AS TEXT) FROM records WHERE entity = 'registration'",
                               NULL, 0, row_cb, rows, NULL, error))
    return FALSE;
  for (guint i = 0; i + 2 < rows->len; i += 3)
    {
      g_autoptr(json_object) data = json_tokener_parse (rows->pdata[i + 1]);
      KhServerStored s = { 0 };

      s.data = data;
      s.deleted = g_strcmp0 (rows->pdata[i + 2], "0") != 0;
      if (!_kh_server_note_registration (b, rows->pdata[i], &s, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
other_cb (const char * const *v,
          int                 n,
          gpointer            data)
{
  char **out = data;

  out[0] = g_strdup (v[0]);
  out[1] = g_strdup (v[1]);
  out[2] = g_strdup (v[2]);
  return FALSE;
}

gboolean
_kh_server_check_twice (KhServerBackend  *b,
                        const KhEntity   *entity,
                        const char       *id,
                        json_object      *data,
                        json_object      *changes,
                        char            **reason,
                        const char      **field,
                        char             *other[3],
                        GError          **error)
{
  const char *subject = _kh_server_string_member (data, "subject_id");
  const char *model = _kh_server_string_member (data, "model");
  gint64 year = year_of (data);
  gboolean touched = changes == NULL;

  *reason = NULL;
  for (guint i = 0; !touched && i < 4; i++)
    touched = json_object_object_get_ex (changes, (const char *[]) { "subject_id", "model", "year", "status" }[i], NULL);
  if (!touched || subject == NULL || model == NULL || year == 0 || !live (data, FALSE))
    return TRUE;
  {
    KhSqlParam p[4] = { KH_SQL_P_TEXT (subject), KH_SQL_P_TEXT (model), KH_SQL_P_INT (year), KH_SQL_P_TEXT (id) };

    if (!kh_server_backend_exec (b, "SELECT g.id, r.updated_by, r.created_at FROM registrations g "
                                 "JOIN records r ON r.entity = 'registration' AND r.id = g.id "
                                 "WHERE g.subject_id = ? AND g.model = ? AND g.year = ? AND g.live = 1 "
                                 "AND g.id <> ? ORDER BY r.version LIMIT 1",
                                 p, 4, other_cb, other, NULL, error))
      return FALSE;
  }
  if (other[0] != NULL)
    {
      const char *at = other[2];
      g_autofree char *on = at != NULL && strlen (at) >= 10
                            ? g_strdup_printf ("%.2s/%.2s/%.4s", at + 8, at + 5, at) : g_strdup ("");

      *reason = g_strdup_printf (_("Registered subject: already registered by %s on %s for this model and "
                                   "year (registration %s); keep that one and discard this one, or merge "
                                   "this one’s details into it."),
                                 other[1] != NULL ? other[1] : "—", on, other[0]);
      *field = "subject_id";
    }
  return TRUE;
}
