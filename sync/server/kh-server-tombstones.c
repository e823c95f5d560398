/* kh-server-tombstones.c: deleted records, forgotten after the tombstone window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-server-core-private.h"

gboolean
kh_server_purge_tombstones (KhServer  *self,
                            gint64    *purged,
                            GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_days (now, -self->tombstone_days);
  g_autofree char *cutoff = g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
  KhSqlParam c[1] = { KH_SQL_P_TEXT (cutoff) };
  gint64 max = 0;
  gboolean found;
  KhServerMeta meta;

  *purged = 0;
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error) || !_kh_server_load_meta (l->b, &meta, error))
    return FALSE;
  g_free (meta.server_id);
  /* The answers kept for pushes sent again go with the same window: a client resends within
   * its sync, or after days offline, not after months. One away longer re-pulls anyway, and a
   * change sent again finds its values already there, which counts as done. */
  if (!kh_server_backend_exec (l->b, "DELETE FROM mutations WHERE applied_at <= ?", c, 1, NULL, NULL, NULL, error))
    return FALSE;
  if (!kh_server_backend_query_int (l->b, "SELECT MAX(version) FROM records WHERE deleted = 1 AND updated_at <= ?",
                                    c, 1, &max, &found, error))
    return FALSE;
  if (!found)
    return kh_server_backend_commit (l->b, error);
  {
    KhSqlParam d[2] = { KH_SQL_P_INT (max), KH_SQL_P_TEXT (cutoff) };
    KhSqlParam m[1] = { KH_SQL_P_INT (max) };
    g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (max, meta.purged_through));
    KhSqlParam t[1] = { KH_SQL_P_TEXT (text) };

    return kh_server_backend_exec (l->b, "DELETE FROM records WHERE deleted = 1 AND version <= ? AND updated_at <= ?",
                                   d, 2, NULL, NULL, purged, error)
           && kh_server_backend_exec (l->b, "DELETE FROM moves WHERE version <= ?", m, 1, NULL, NULL, NULL, error)
           && kh_server_backend_exec (l->b, "UPDATE meta SET value = ? WHERE key = 'purged_through'",
                                      t, 1, NULL, NULL, NULL, error)
           && kh_server_backend_commit (l->b, error);
  }
}
