/* kh-auto-backup.h: the replica's daily backup, while the app runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks every ten minutes whether a backup of the replica at
 * @replica_path is due (kh_store_backup_auto()), and makes it on a worker thread. Returns the
 * source to remove when the app ends. */
guint kh_auto_backup_start (const char *replica_path);

G_END_DECLS
