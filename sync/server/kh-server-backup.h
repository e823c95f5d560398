/* kh-server-backup.h: a consistent copy of a SQLite server database, and putting one back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The path of a sqlite: URL, or NULL (and @error says so) for another backend. */
const char *kh_server_backup_sqlite_path (const char  *url,
                                          GError     **error);

/* Copies the database of @url (sqlite: only) to @file with SQLite's online backup: one
 * consistent snapshot, taken while the server goes on serving. @file appears only once it is
 * complete and checked, with mode 0600 (it holds the accounts' password hashes). */
gboolean    kh_server_backup             (const char  *url,
                                          const char  *file,
                                          GError     **error);

/* Puts the backup @file back as the database of @url (sqlite: only) and bumps the epoch past
 * both the backup's and the database's (PROTOCOL.md §7), so every client re-pulls; the new
 * epoch in @epoch. Refuses a file that is not a sound backup of this same server. */
gboolean    kh_server_restore            (const char  *url,
                                          const char  *file,
                                          gint64      *epoch,
                                          GError     **error);

G_END_DECLS
