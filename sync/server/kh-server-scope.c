/* kh-server-scope.c: org units, the tree of them, and whose scope holds which
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-server-core-private.h"

gboolean
_kh_server_in_subtree (KhServerBackend *b,
                       const char      *root,
                       const char      *unit,
                       gboolean        *result,
                       GError         **error)
{
  KhSqlParam p[2] = { KH_SQL_P_TEXT (root), KH_SQL_P_TEXT (unit) };
  gint64 one;

  *result = FALSE;
  if (unit == NULL || root == NULL)
    return TRUE;
  return kh_server_backend_query_int (b, "SELECT 1 FROM org_closure WHERE ancestor = ? AND descendant = ?",
                                      p, 2, &one, result, error);
}

gboolean
_kh_server_user_in_scope (KhServerBackend    *b,
                          const KhServerUser *user,
                          const char         *unit,
                          gboolean           *result,
                          GError            **error)
{
  if (user->scope_unit_id == NULL)
    {
      *result = TRUE;
      return TRUE;
    }
  return _kh_server_in_subtree (b, user->scope_unit_id, unit, result, error);
}

gboolean
_kh_server_unit_has_parent (KhServerBackend *b,
                            const char      *unit,
                            gboolean        *result,
                            GError         **error)
{
  KhSqlParam p[1] = { KH_SQL_P_TEXT (unit) };
  g_autofree char *parent = NULL;

  if (!kh_server_backend_query_text (b, "SELECT parent_id FROM org_units WHERE id = ?", p, 1,
                                     &parent, error))
    return FALSE;
  *result = parent != NULL;
  return TRUE;
}

/* Keeps the org tree (org_units and the closure table) in step with an org unit's write. */
gboolean
_kh_server_update_org_tree (KhServerBackend      *b,
                            const char           *id,
                            const KhServerStored *old,
                            const KhServerStored *now,
                            GError              **error)
{
  const char *old_parent = old != NULL ? _kh_server_string_member (old->data, "parent_id") : NULL;
  const char *new_parent = _kh_server_string_member (now->data, "parent_id");
  const char *code = _kh_server_string_member (now->data, "code");
  KhSqlParam u[7] = {
    KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (code ? code : ""),
    KH_SQL_P_TEXT (new_parent), KH_SQL_P_TEXT (_kh_server_string_member (now->data, "valid_to")),
    KH_SQL_P_TEXT (_kh_server_string_member (now->data, "valid_from")),
    KH_SQL_P_TEXT (_kh_server_string_member (now->data, "kind")), KH_SQL_P_INT (now->deleted ? 1 : 0),
  };

  if (!kh_server_backend_exec (b, "INSERT INTO org_units (id, code, parent_id, valid_to, valid_from, kind, deleted) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT (id) DO UPDATE SET code = excluded.code, "
                               "parent_id = excluded.parent_id, valid_to = excluded.valid_to, "
                               "valid_from = excluded.valid_from, kind = excluded.kind, deleted = excluded.deleted",
                               u, 7, NULL, NULL, NULL, error))
    return FALSE;

  if (old == NULL)
    {
      KhSqlParam p[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (new_parent) };
      KhSqlParam s[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (id) };

      return kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) "
                                     "SELECT ancestor, CAST(? AS TEXT) FROM org_closure WHERE descendant = ?",
                                     p, 2, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) VALUES (?, ?) "
                                        "ON CONFLICT DO NOTHING", s, 2, NULL, NULL, NULL, error);
    }

  if (g_strcmp0 (old_parent, new_parent) != 0)
    {
      KhSqlParam g[2] = { KH_SQL_P_TEXT (old_parent ? old_parent : ""), KH_SQL_P_TEXT (new_parent ? new_parent : "") };
      KhSqlParam d[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (id) };
      KhSqlParam a[2] = { KH_SQL_P_TEXT (new_parent), KH_SQL_P_TEXT (id) };

      KhSqlParam e[3] = { KH_SQL_P_INT (now->version - 1), g[0], g[1] };

      /* Everyone whose scope held the unit before or holds it now re-pulls (reset); their
       * generation ends just before this move. */
      return kh_server_backend_exec (b, "UPDATE scope_history SET until_version = ? WHERE until_version IS NULL "
                                     "AND EXISTS (SELECT 1 FROM users u WHERE u.id = scope_history.user_id "
                                     "AND u.scope_gen = scope_history.gen AND u.scope_unit_id IN "
                                     "(SELECT ancestor FROM org_closure WHERE descendant IN (?, ?)))",
                                     e, 3, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "UPDATE users SET scope_gen = scope_gen + 1 WHERE scope_unit_id IN "
                                     "(SELECT ancestor FROM org_closure WHERE descendant IN (?, ?))",
                                     g, 2, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) "
                                        "SELECT id, scope_gen, scope_unit_id FROM users u WHERE NOT EXISTS "
                                        "(SELECT 1 FROM scope_history h WHERE h.user_id = u.id AND h.gen = u.scope_gen)",
                                        NULL, 0, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "DELETE FROM org_closure WHERE descendant IN "
                                        "(SELECT descendant FROM org_closure WHERE ancestor = ?) "
                                        "AND ancestor NOT IN (SELECT descendant FROM org_closure WHERE ancestor = ?)",
                                        d, 2, NULL, NULL, NULL, error)
             && (new_parent == NULL
                 || kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) "
                                            "SELECT a.ancestor, d.descendant FROM org_closure a, org_closure d "
                                            "WHERE a.descendant = ? AND d.ancestor = ?",
                                            a, 2, NULL, NULL, NULL, error));
    }
  return TRUE;
}
