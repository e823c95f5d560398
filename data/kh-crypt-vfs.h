/* kh-crypt-vfs.h: an SQLite VFS that seals every page of a replica with its key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define KH_CRYPT_VFS_NAME  "kh-crypt"
#define KH_CRYPT_KEY_BYTES 32
/* SQLite's page cache of a sealed replica's connection, KiB: a page that misses it is opened
 * again (a few µs), where a plain replica's is a copy from the system's cache. 64 MiB keeps
 * the window's lists as fast as 128 did and the window within its 200 MB at 1,000,000 records
 * (bench-window); the connections of jobs on worker threads keep the plain cache
 * (kh_store_open_for_job()). */
#define KH_CRYPT_CACHE_KIB 65536
/* … and of the sync engine's, while it syncs: a first pull reads its indexes' pages again and
 * again as it inserts (the engine empties its cache after each sync). */
#define KH_CRYPT_SYNC_CACHE_KIB 131072

/* Why a page could not be read: what the person is told. */
typedef enum
{
  KH_CRYPT_FAILURE_NONE,
  KH_CRYPT_FAILURE_WRONG_KEY, /* the first page does not open with the key */
  KH_CRYPT_FAILURE_TAMPERED,  /* another page does not: altered or damaged */
} KhCryptFailure;

gboolean        kh_crypt_vfs_register     (void);
void            kh_crypt_vfs_set_key      (const char    *db_path,
                                           const guint8  *key);
void            kh_crypt_vfs_forget_key   (const char    *db_path);
gboolean        kh_crypt_vfs_has_key      (const char    *db_path);
gboolean        kh_crypt_vfs_get_key      (const char    *db_path,
                                           guint8        *key);
KhCryptFailure  kh_crypt_vfs_take_failure (const char    *db_path);
gboolean        kh_crypt_vfs_peek         (const char    *path,
                                           guint8        *buf,
                                           int            len,
                                           sqlite3_int64 *size);
gboolean        kh_crypt_vfs_check_key    (const char    *db_path,
                                           const guint8  *key);
gboolean        kh_crypt_vfs_is_sealed    (sqlite3       *db);
int             kh_crypt_vfs_prepare      (sqlite3       *db,
                                           const char    *schema);
void            kh_crypt_vfs_counts       (guint64       *sealed,
                                           guint64       *opened);

G_END_DECLS
