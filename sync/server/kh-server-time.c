/* kh-server-time.c: records in time, as the server judges them
 *
 * A record dated when its unit did not exist is refused, naming the unit of that time found
 * through unit_succession (the words and what a date is: data/kh-unit-time.c, which the store
 * uses too). A unit's life is asked once per batch, not per record, and forgotten when the
 * batch writes an org unit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-server-core-private.h"
#include "kh-unit-time.h"

typedef struct
{
  char *valid_from;
  char *valid_to;
  gboolean found;
} Life;

static gboolean
life_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Life *life = data;

  life->found = TRUE;
  life->valid_from = g_strdup (v[0]);
  life->valid_to = g_strdup (v[1]);
  return FALSE;
}

/* "valid_from\nvalid_to" of @unit, remembered in @lives; NULL when the server has no such unit. */
static const char *
life_of (KhServerBackend  *b,
         GHashTable       *lives,
         const char       *unit,
         GError          **error)
{
  KhSqlParam p[1] = { KH_SQL_P_TEXT (unit) };
  Life life = { NULL, NULL, FALSE };
  const char *known;

  if (g_hash_table_lookup_extended (lives, unit, NULL, (gpointer *) &known))
    return known != NULL ? known : "";
  if (!kh_server_backend_exec (b, "SELECT valid_from, valid_to FROM org_units WHERE id = ? AND deleted = 0",
                               p, 1, life_row_cb, &life, NULL, error))
    return NULL;
  g_hash_table_insert (lives, g_strdup (unit),
                       life.found ? g_strdup_printf ("%s\n%s", life.valid_from ? life.valid_from : "",
                                                     life.valid_to ? life.valid_to : "") : NULL);
  g_free (life.valid_from);
  g_free (life.valid_to);
  known = g_hash_table_lookup (lives, unit);
  return known != NULL ? known : "";
}

typedef struct
{
  const char *from;
  const char *to;
  GString    *names;
} Then;

static gboolean
then_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Then *t = data;
  g_autoptr(json_object) record = v[2] != NULL ? json_tokener_parse (v[2]) : NULL;
  const char *name = _kh_server_string_member (record, "name");

  if (!kh_unit_time_covers (v[0], v[1], t->from, t->to) || name == NULL)
    return TRUE;
  if (t->names->len > 0)
    g_string_append (t->names, ", ");
  g_string_append (t->names, name);
  return TRUE;
}

static char *
name_of (KhServerBackend  *b,
         const char       *unit,
         GError          **error)
{
  KhSqlParam p[1] = { KH_SQL_P_TEXT (unit) };
  g_autofree char *data = NULL;
  g_autoptr(json_object) record = NULL;

  if (!kh_server_backend_query_text (b, "SELECT data FROM records WHERE entity = 'org_unit' AND id = ?",
                                     p, 1, &data, error))
    return NULL;
  record = data != NULL ? json_tokener_parse (data) : NULL;
  return g_strdup (_kh_server_string_member (record, "name") ? _kh_server_string_member (record, "name") : unit);
}

gboolean
_kh_server_check_time (KhServerBackend  *b,
                       KhServerRefs     *refs,
                       const KhEntity   *entity,
                       json_object      *data,
                       json_object      *changes,
                       char            **reason,
                       const char      **field,
                       GError          **error)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_auto(GStrv) life = NULL;
  g_autofree char *name = NULL;
  const char *unit = _kh_server_string_member (data, "org_unit_id");
  const char *known;
  const char *dated;
  gboolean before;

  *reason = NULL;
  if (unit == NULL || !kh_unit_time_span (entity, data, changes, &from, &to, &dated))
    return TRUE;
  if ((known = life_of (b, _kh_server_refs_lives (refs), unit, error)) == NULL)
    return FALSE;
  if (*known == '\0')
    return TRUE;  /* no such unit: the reference check says so */
  life = g_strsplit (known, "\n", 2);
  if (kh_unit_time_covers (life[0], life[1], from, to))
    return TRUE;

  before = *life[0] != '\0' && strcmp (to, life[0]) < 0;
  {
    KhSqlParam p[1] = { KH_SQL_P_TEXT (unit) };
    Then t = { from, to, g_string_new (NULL) };
    g_autoptr(GString) names = t.names;

    if (!kh_server_backend_exec (b, before
                                 ? "WITH RECURSIVE n (u) AS (SELECT predecessor_id FROM unit_succession "
                                   "WHERE successor_id = ? AND deleted = 0 UNION SELECT s.predecessor_id "
                                   "FROM unit_succession s JOIN n ON s.successor_id = n.u WHERE s.deleted = 0) "
                                   "SELECT o.valid_from, o.valid_to, r.data FROM n JOIN org_units o ON o.id = n.u "
                                   "JOIN records r ON r.entity = 'org_unit' AND r.id = n.u WHERE o.deleted = 0 "
                                   "ORDER BY n.u"
                                 : "WITH RECURSIVE n (u) AS (SELECT successor_id FROM unit_succession "
                                   "WHERE predecessor_id = ? AND deleted = 0 UNION SELECT s.successor_id "
                                   "FROM unit_succession s JOIN n ON s.predecessor_id = n.u WHERE s.deleted = 0) "
                                   "SELECT o.valid_from, o.valid_to, r.data FROM n JOIN org_units o ON o.id = n.u "
                                   "JOIN records r ON r.entity = 'org_unit' AND r.id = n.u WHERE o.deleted = 0 "
                                   "ORDER BY n.u",
                                 p, 1, then_row_cb, &t, NULL, error)
        || (name = name_of (b, unit, error)) == NULL)
      return FALSE;
    *reason = kh_unit_time_refusal (entity, dated, from, to, name, *life[0] ? life[0] : NULL,
                                    *life[1] ? life[1] : NULL, names->len > 0 ? names->str : NULL);
    *field = dated;
  }
  return TRUE;
}
