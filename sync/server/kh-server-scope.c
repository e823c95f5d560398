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

/* Whether @unit is in the area of @root (AREA): its subtree, or that of a unit that preceded
 * one in it. Asked the other way round, whether @root is among the units whose area holds
 * @unit (HOLDERS): a walk up from @unit through its few ancestors and successors, where AREA
 * would walk down the whole of @root's area, every unit of a province, for each unit a push
 * names. */
gboolean
_kh_server_in_area (KhServerBackend *b,
                    const char      *root,
                    const char      *unit,
                    gboolean        *result,
                    GError         **error)
{
  KhSqlParam p[3] = { KH_SQL_P_TEXT (root), KH_SQL_P_TEXT (unit), KH_SQL_P_TEXT (unit) };
  gint64 one;

  *result = FALSE;
  if (unit == NULL || root == NULL)
    return TRUE;
  return kh_server_backend_query_int (b, "SELECT 1 WHERE CAST(? AS TEXT) IN " HOLDERS,
                                      p, 3, &one, result, error);
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
  return _kh_server_in_area (b, user->scope_unit_id, unit, result, error);
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

/* Everyone whose area holds @a or @b before or after this change re-pulls (reset); their
 * generation ends at @until, just before the change. */
static gboolean
bump_scopes (KhServerBackend  *b,
             gint64            until,
             const char       *a,
             const char       *c,
             GError          **error)
{
  KhSqlParam g[2] = { KH_SQL_P_TEXT (a ? a : ""), KH_SQL_P_TEXT (c ? c : "") };
  KhSqlParam e[3] = { KH_SQL_P_INT (until), g[0], g[1] };

  return kh_server_backend_exec (b, "UPDATE scope_history SET until_version = ? WHERE until_version IS NULL "
                                 "AND EXISTS (SELECT 1 FROM users u WHERE u.id = scope_history.user_id "
                                 "AND u.scope_gen = scope_history.gen AND u.scope_unit_id IN " HOLDERS ")",
                                 e, 3, NULL, NULL, NULL, error)
         && kh_server_backend_exec (b, "UPDATE users SET scope_gen = scope_gen + 1 WHERE scope_unit_id IN "
                                    HOLDERS, g, 2, NULL, NULL, NULL, error)
         && kh_server_backend_exec (b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) "
                                    "SELECT id, scope_gen, scope_unit_id FROM users u WHERE NOT EXISTS "
                                    "(SELECT 1 FROM scope_history h WHERE h.user_id = u.id AND h.gen = u.scope_gen)",
                                    NULL, 0, NULL, NULL, NULL, error);
}

/* A succession's write: the links the areas follow (AREA) change, so every account whose area
 * holds its successor, before or after, pulls its area again from the start and gets its
 * predecessors' records (a reset, as a move of a unit or a change of scope does). */
gboolean
_kh_server_update_succession (KhServerBackend      *b,
                              const char           *id,
                              const KhServerStored *old,
                              const KhServerStored *now,
                              GError              **error)
{
  const char *pred = _kh_server_string_member (now->data, "predecessor_id");
  const char *succ = _kh_server_string_member (now->data, "successor_id");
  const char *old_pred = old != NULL ? _kh_server_string_member (old->data, "predecessor_id") : NULL;
  const char *old_succ = old != NULL ? _kh_server_string_member (old->data, "successor_id") : NULL;
  gboolean was = old != NULL && !old->deleted && old_pred != NULL && old_succ != NULL;
  gboolean is = !now->deleted && pred != NULL && succ != NULL;
  KhSqlParam u[4] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (pred), KH_SQL_P_TEXT (succ), KH_SQL_P_INT (is ? 0 : 1) };

  if (!was && !is)
    return TRUE;
  if (was && is && g_strcmp0 (old_pred, pred) == 0 && g_strcmp0 (old_succ, succ) == 0)
    return TRUE;
  /* Holders before the change, then the link, then holders after it (a new link makes no
   * new holder of its successor, but a removed one may leave fewer). */
  return bump_scopes (b, now->version - 1, was ? old_succ : NULL, is ? succ : NULL, error)
         && kh_server_backend_exec (b, "INSERT INTO unit_succession (id, predecessor_id, successor_id, deleted) "
                                    "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                    "predecessor_id = excluded.predecessor_id, "
                                    "successor_id = excluded.successor_id, deleted = excluded.deleted",
                                    u, 4, NULL, NULL, NULL, error);
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
      KhSqlParam d[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (id) };
      KhSqlParam a[2] = { KH_SQL_P_TEXT (new_parent), KH_SQL_P_TEXT (id) };

      /* Everyone whose area held the unit before or holds it now re-pulls (reset); their
       * generation ends just before this move. */
      return bump_scopes (b, now->version - 1, old_parent, new_parent, error)
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
