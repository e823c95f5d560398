/* kh-server-meta.c: the server's identity, epoch and version counter
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-core-private.h"

static gboolean
meta_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  KhServerMeta *m = data;

  if (g_strcmp0 (v[0], "server_id") == 0)
    m->server_id = g_strdup (v[1]);
  else if (g_strcmp0 (v[0], "epoch") == 0)
    m->epoch = g_ascii_strtoll (v[1], NULL, 10);
  else if (g_strcmp0 (v[0], "purged_through") == 0)
    m->purged_through = g_ascii_strtoll (v[1], NULL, 10);
  else if (g_strcmp0 (v[0], "") == 0)
    m->version = g_ascii_strtoll (v[1], NULL, 10);
  return TRUE;
}

gboolean
_kh_server_load_meta (KhServerBackend *b,
                      KhServerMeta    *m,
                      GError         **error)
{
  GError *local = NULL;

  memset (m, 0, sizeof *m);
  /* One round trip for the meta values and the counter (under the key ""). */
  if (!kh_server_backend_exec (b, "SELECT key, value FROM meta UNION ALL "
                               "SELECT '', CAST(version AS TEXT) FROM counter WHERE id = 1",
                               NULL, 0, meta_row_cb, m, NULL, &local))
    {
      kh_server_backend_rollback (b);
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED,
                   _("The server database is not set up (run “khuyenhoc-server init”): %s"),
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  if (m->server_id == NULL)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED,
                           _("The server database is not set up: run “khuyenhoc-server init”."));
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_server_get_identity (KhServer  *self,
                        char     **server_id,
                        gint64    *epoch,
                        GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  KhServerMeta m;

  if (!_kh_server_load_meta (l->b, &m, error))
    return FALSE;
  *server_id = m.server_id;
  *epoch = m.epoch;
  return TRUE;
}

gboolean
kh_server_check_ready (KhServer  *self,
                       GError   **error)
{
  g_autofree char *id = NULL;
  gint64 epoch;

  return kh_server_get_identity (self, &id, &epoch, error);
}

gboolean
kh_server_epoch_bump (KhServer  *self,
                      gint64    *epoch,
                      GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  KhServerMeta m;
  g_autofree char *text = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error) || !_kh_server_load_meta (l->b, &m, error))
    return FALSE;
  g_free (m.server_id);
  text = g_strdup_printf ("%" G_GINT64_FORMAT, m.epoch + 1);
  p[0] = KH_SQL_P_TEXT (text);
  if (!kh_server_backend_exec (l->b, "UPDATE meta SET value = ? WHERE key = 'epoch'", p, 1,
                               NULL, NULL, NULL, error)
      || !kh_server_backend_commit (l->b, error))
    return FALSE;
  *epoch = m.epoch + 1;
  return TRUE;
}
