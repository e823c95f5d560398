/* kh-store-backup.h: copies of the replica kept beside it, and putting one back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store.h"

G_BEGIN_DECLS

/* How many automatic backups are kept, and how old the newest may be before another is made. */
#define KH_STORE_BACKUPS_KEPT   7
#define KH_STORE_BACKUP_HOURS   24

/* Copies the replica at @replica_path into the new file @dest (mode 0600) with SQLite's online
 * backup API: one consistent moment, while the window and the sync engine go on writing. The
 * one place a copy of the replica is made, opened as the store opens the replica. */
gboolean   kh_store_backup_file     (const char  *replica_path,
                                     const char  *dest,
                                     GError     **error);

/* The folder of the automatic backups: "<replica>-backups", beside the replica. */
char      *kh_store_backup_dir      (const char  *replica_path);

/* The backups in that folder, newest first (full paths). */
GPtrArray *kh_store_backup_list     (const char  *replica_path);

/* When the backup @path was made (from its name), or NULL. */
GDateTime *kh_store_backup_time     (const char  *path);

/* Makes a backup when the newest is older than KH_STORE_BACKUP_HOURS at @now (or there is
 * none; @force: in any case), named after @now, and removes all but the newest @keep. Its path
 * in @made (NULL when none was due). Safe on any thread: it opens its own connection. */
gboolean   kh_store_backup_auto     (const char  *replica_path,
                                     GDateTime   *now,
                                     gboolean     force,
                                     guint        keep,
                                     char       **made,
                                     GError     **error);

/* Puts the backup @path back as @store's replica, in one transaction (the engine's connection
 * waits for it like for any writer). Refuses a damaged file or a backup of another replica.
 * Changes made since the backup that were sent come back with the next sync; those not sent
 * are gone, which is what the person asked for. */
gboolean   kh_store_restore_backup  (KhStore     *store,
                                     const char  *path,
                                     GError     **error);

G_END_DECLS
