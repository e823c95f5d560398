/* kh-server-history.c: who changed what, when and from where (PROTOCOL.md, history, activity)
 *
 * Every accepted mutation's row in `mutations` carries its device, its operation and each
 * field's old and new value, written with the batch (kh-server-push.c). A record's history is
 * those rows in version order; a supervisor's activity is the rows of a period in their area.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-server-core-private.h"
#include "kh-wire.h"

/* Appends "name":"value" (or null), with a comma before unless first. */
static void
member (GString    *out,
        const char *name,
        const char *value,
        gboolean    first)
{
  if (!first)
    g_string_append_c (out, ',');
  kh_wire_write_string (out, name, -1);
  g_string_append_c (out, ':');
  if (value == NULL)
    g_string_append (out, "null");
  else
    kh_wire_write_string (out, value, -1);
}

/* A stored changes text, which the server wrote itself, or {} when it has none (rows of
 * mutations from before the history was kept). */
static void
changes_member (GString    *out,
                const char *changes)
{
  g_string_append (out, ",\"changes\":");
  g_string_append (out, changes != NULL && *changes == '{' ? changes : "{}");
}

static gboolean
history_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  GString *out = data;

  g_string_append (out, out->str[out->len - 1] == '[' ? "{" : ",{");
  g_string_append_printf (out, "\"version\":%s", v[0]);
  member (out, "at", v[1], FALSE);
  member (out, "user", v[2], FALSE);
  member (out, "device", v[3], FALSE);
  member (out, "op", v[4] != NULL ? v[4] : "update", FALSE);
  changes_member (out, v[5]);
  g_string_append_c (out, '}');
  return TRUE;
}

GString *
kh_server_history (KhServer            *self,
                   const KhServerUser  *user,
                   const char          *entity_name,
                   const char          *id,
                   GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerStored) stored = NULL;
  g_autoptr(GString) out = g_string_sized_new (1024);
  const KhEntity *entity = kh_entity_lookup (entity_name);
  KhSqlParam p[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (entity_name) };
  gboolean ok = TRUE;

  if (entity == NULL || id == NULL)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                           _("A history names a kind of record and its id."));
      return NULL;
    }
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error)
      || !_kh_server_load_stored (l->b, entity_name, id, &stored, error))
    return NULL;
  if (stored != NULL && stored->scope_unit != NULL
      && !_kh_server_user_in_scope (l->b, user, stored->scope_unit, &ok, error))
    return NULL;
  /* A record outside the area is answered as one the server does not have: the answer must
   * not tell that it exists. */
  if (stored == NULL || !ok)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND,
                           _("There is no such record in your area."));
      return NULL;
    }
  g_string_append (out, "{");
  member (out, "entity", entity_name, TRUE);
  member (out, "id", id, FALSE);
  g_string_append (out, ",\"history\":[");
  if (!kh_server_backend_exec (l->b, "SELECT CAST(m.version AS TEXT), m.applied_at, "
                               "COALESCE(u.username, m.user_id), m.device, m.op, m.changes "
                               "FROM mutations m LEFT JOIN users u ON u.id = m.user_id "
                               "WHERE m.record_id = ? AND m.entity = ? AND (m.op IS NULL OR m.op <> 'same') "
                               "ORDER BY m.version", p, 2, history_row_cb, out, NULL, error))
    return NULL;
  g_string_append (out, "]}");
  return g_steal_pointer (&out);
}

/* Activity ----------------------------------------------------------------------------------- */

static gboolean
activity_row_cb (const char * const *v,
                 int                 n,
                 gpointer            data)
{
  GString *out = data;
  const KhEntity *entity = kh_entity_lookup (v[5]);
  g_autoptr(json_object) record = v[7] != NULL ? json_tokener_parse (v[7]) : NULL;
  const char *title = entity != NULL && entity->title_field != NULL
                      ? _kh_server_string_member (record, entity->title_field) : NULL;
  const char *list = entity != NULL && strcmp (entity->name, "award_entry") == 0
                     ? _kh_server_string_member (record, "list_id")
                     : entity != NULL && strcmp (entity->name, "award_list") == 0 ? v[6] : NULL;

  g_string_append (out, out->str[out->len - 1] == '[' ? "{" : ",{");
  g_string_append_printf (out, "\"version\":%s", v[0]);
  member (out, "at", v[1], FALSE);
  member (out, "user", v[2], FALSE);
  member (out, "device", v[3], FALSE);
  member (out, "op", v[4] != NULL ? v[4] : "update", FALSE);
  member (out, "entity", v[5], FALSE);
  member (out, "id", v[6], FALSE);
  member (out, "title", title, FALSE);
  member (out, "list_id", list, FALSE);
  changes_member (out, v[8]);
  g_string_append_c (out, '}');
  return TRUE;
}

GString *
kh_server_activity (KhServer            *self,
                    const KhServerUser  *user,
                    const char          *from,
                    const char          *to,
                    const char          *username,
                    const char          *entity,
                    gint64               after,
                    gint64               limit,
                    GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GString) out = g_string_sized_new (4096);
  KhSqlParam p[10] = {
    KH_SQL_P_INT (after),
    KH_SQL_P_TEXT (from), KH_SQL_P_TEXT (from),
    KH_SQL_P_TEXT (to), KH_SQL_P_TEXT (to),
    KH_SQL_P_TEXT (username), KH_SQL_P_TEXT (username),
    KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (entity),
    KH_SQL_P_TEXT (user->scope_unit_id),
  };
  g_autofree char *sql = NULL;

  if (entity != NULL && kh_entity_lookup (entity) == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s” is not a kind of record this server keeps."), entity);
      return NULL;
    }
  /* A day is compared as the start of the times it holds: "to" takes the whole day. */
  sql = g_strdup_printf ("SELECT CAST(m.version AS TEXT), m.applied_at, COALESCE(u.username, m.user_id), "
                         "m.device, m.op, m.entity, m.record_id, r.data, m.changes "
                         "FROM mutations m JOIN records r ON r.id = m.record_id "
                         "LEFT JOIN users u ON u.id = m.user_id "
                         "WHERE m.version > ? AND (m.op IS NULL OR m.op <> 'same') "
                         "AND (CAST(? AS TEXT) IS NULL OR m.applied_at >= ?) "
                         "AND (CAST(? AS TEXT) IS NULL OR m.applied_at < CAST(? AS TEXT) || 'T99') "
                         "AND (CAST(? AS TEXT) IS NULL OR u.username = ?) "
                         "AND (CAST(? AS TEXT) IS NULL OR m.entity = ?) "
                         "AND (r.scope_unit IS NULL OR r.scope_unit IN "
                         "(SELECT descendant FROM org_closure WHERE ancestor = ?)%s) "
                         "ORDER BY m.version LIMIT %" G_GINT64_FORMAT,
                         user->scope_unit_id == NULL ? " OR TRUE" : "", limit > 0 ? MIN (limit, 5000) : 1000);
  /* With no scope (the server's own tools) the ancestor bound as NULL matches nothing, and
   * "OR TRUE" takes everything. */
  g_string_append (out, "{\"activity\":[");
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error)
      || !kh_server_backend_exec (l->b, sql, p, 10, activity_row_cb, out, NULL, error))
    return NULL;
  g_string_append (out, "]}");
  return g_steal_pointer (&out);
}
