/* kh-crypt-key.h: a replica's key, wrapped with a passphrase, and the sealing of a plain replica
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KH_CRYPT_FILE_NONE,   /* no database yet, or an empty file */
  KH_CRYPT_FILE_PLAIN,  /* an SQLite file in the clear */
  KH_CRYPT_FILE_SEALED, /* whole pages that are not SQLite's: sealed ones */
  KH_CRYPT_FILE_OTHER,  /* not a database at all */
} KhCryptFileState;

KhCryptFileState kh_crypt_file_state         (const char    *db_path);
char            *kh_crypt_key_file           (const char    *db_path);
void             kh_crypt_key_generate       (guint8        *key);
gboolean         kh_crypt_key_file_write     (const char    *db_path,
                                              const guint8  *key,
                                              const char    *passphrase,
                                              GError       **error);
gboolean         kh_crypt_key_file_read      (const char    *db_path,
                                              const char    *passphrase,
                                              guint8        *key,
                                              GError       **error);
gboolean         kh_crypt_unlock_passphrase  (const char    *db_path,
                                              const char    *passphrase,
                                              GError       **error);
void             kh_crypt_set_lost_key_error (GError       **error,
                                              const char    *db_path);
gboolean         kh_crypt_convert            (const char    *db_path,
                                              GError       **error);
void             kh_crypt_set_convert_hook   (void         (*hook) (int stage));

G_END_DECLS
