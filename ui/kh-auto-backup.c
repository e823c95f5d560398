/* kh-auto-backup.c: the replica's daily backup, while the app runs
 *
 * An officer's laptop is often off or asleep, so the check runs every ten minutes and a backup is made
 * when the newest is a day old, not at a fixed time of day.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>

#include "kh-auto-backup.h"
#include "kh-store-backup.h"

static gint running;

static void
backup_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *made = NULL;

  if (!kh_store_backup_auto (data, now, FALSE, KH_STORE_BACKUPS_KEPT, &made, &error))
    g_warning ("The daily backup of %s failed: %s", (const char *) data, error->message);
  else if (made != NULL)
    g_debug ("backed up the replica to %s", made);
  g_atomic_int_set (&running, 0);
  g_task_return_boolean (task, TRUE);
}

static gboolean
check_cb (gpointer data)
{
  g_autoptr(GTask) task = NULL;

  /* One at a time: a slow disk must not pile them up. */
  if (!g_atomic_int_compare_and_exchange (&running, 0, 1))
    return G_SOURCE_CONTINUE;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, g_strdup (data), g_free);
  g_task_run_in_thread (task, backup_thread);
  return G_SOURCE_CONTINUE;
}

guint
kh_auto_backup_start (const char *replica_path)
{
  /* Listing the backups' folder is all a check costs when none is due. */
  return g_timeout_add_seconds_full (G_PRIORITY_LOW, 600, check_cb, g_strdup (replica_path), g_free);
}
