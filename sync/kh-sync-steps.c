/* kh-sync-steps.c: what the steps of a sync (pull, push, verify, login) share: the check that
 * the replica talks to the server it is bound to, the server's epoch, and the progress report.
 * The steps call down into this file and one whole sync (kh-sync-run.c) calls the steps, so
 * nothing here calls back up.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

gboolean
kh_sync_fail_wrong_server (GError     **error,
                           const char  *bound,
                           const char  *seen)
{
  g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN,
               _("This replica belongs to another server (%s, not %s). Use a new database to work "
                 "with this server; nothing was mixed."), bound, seen);
  return FALSE;
}

void
kh_sync_run_report_progress (KhSyncRun *run,
                             double     value)
{
  if (run->progress != NULL)
    run->progress (run->progress_data, CLAMP (value, 0.0, 1.0));
}

gboolean
kh_sync_run_check_server (KhSyncRun   *run,
                          const char  *server_id,
                          gint64       epoch,
                          GError     **error)
{
  if (run->bound_id == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, epoch);

      if (!kh_replica_set_state (run->store, KH_SYNC_SERVER_ID, server_id, error)
          || !kh_replica_set_state (run->store, KH_SYNC_EPOCH, text, error))
        return FALSE;
      run->bound_id = g_strdup (server_id);
      run->epoch = epoch;
      return TRUE;
    }
  if (g_strcmp0 (run->bound_id, server_id) != 0)
    return kh_sync_fail_wrong_server (error, run->bound_id, server_id);
  return TRUE;
}

gboolean
kh_sync_run_set_epoch (KhSyncRun  *run,
                       gint64      epoch,
                       GError    **error)
{
  g_autofree char *text = NULL;

  if (epoch == run->epoch)
    return TRUE;
  text = g_strdup_printf ("%" G_GINT64_FORMAT, epoch);
  run->epoch = epoch;
  return kh_replica_set_state (run->store, KH_SYNC_EPOCH, text, error);
}

