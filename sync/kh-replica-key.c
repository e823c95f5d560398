/* kh-replica-key.c: finding, or making, the key that seals a replica
 *
 * The key of a replica (data/kh-crypt-key.c) lives in the desktop keyring, next to the sign-in
 * token, when a keyring answers (the same test as the token's: a session bus, and
 * KHUYENHOC_TOKEN_STORE not "file"). Otherwise it is wrapped with a passphrase in a key file
 * beside the replica, and the caller asks a person for the passphrase: the CLI on its terminal
 * or from a file, the window in a dialog. Here, nothing asks: the caller is told what is
 * needed and calls again with it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <sodium.h>
#include <string.h>

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-replica-key.h"

#ifdef HAVE_LIBSECRET
static const SecretSchema *
key_schema (void)
{
  static const SecretSchema schema = {
    "vn.khuyenhoc.KhuyenHoc.ReplicaKey", SECRET_SCHEMA_NONE,
    {
      { "database", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

static gboolean
use_keyring (void)
{
  return g_strcmp0 (g_getenv ("KHUYENHOC_TOKEN_STORE"), "file") != 0
         && g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL;
}

/* The key from the keyring into @key; FALSE if it has none (or does not answer). */
static gboolean
keyring_lookup (const char *db_path,
                guint8     *key)
{
  g_autoptr(GError) error = NULL;
  char *secret;
  gsize len = 0;
  guchar *raw;
  gboolean ok;

  if (!use_keyring ())
    return FALSE;
  secret = secret_password_lookup_sync (key_schema (), NULL, &error, "database", db_path, NULL);
  if (secret == NULL)
    return FALSE;
  raw = g_base64_decode (secret, &len);
  secret_password_free (secret);
  ok = len == KH_CRYPT_KEY_BYTES;
  if (ok)
    memcpy (key, raw, KH_CRYPT_KEY_BYTES);
  sodium_memzero (raw, len);
  g_free (raw);
  return ok;
}

static gboolean
keyring_store (const char   *db_path,
               const guint8 *key)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = g_strdup_printf ("Khuyến Học: %s", db_path);
  char *text;
  gboolean ok;

  if (!use_keyring ())
    return FALSE;
  text = g_base64_encode (key, KH_CRYPT_KEY_BYTES);
  ok = secret_password_store_sync (key_schema (), SECRET_COLLECTION_DEFAULT, label, text, NULL,
                                   &error, "database", db_path, NULL);
  sodium_memzero (text, strlen (text));
  g_free (text);
  if (!ok)
    g_debug ("no keyring (%s); the key goes to a file", error->message);
  return ok;
}
#endif

/* Gives the store the key of replica @db_path: from the keyring, from its key file with
 * @passphrase, or a new one for a new or plain replica (kept in the keyring, or in a key file
 * with @passphrase). TRUE and *@need KH_REPLICA_KEY_OPEN once the key is given; TRUE and
 * another *@need when a passphrase is missing; FALSE with @error when the passphrase is wrong
 * or the key is lost. */
gboolean
kh_replica_key_unlock (const char        *db_path,
                       const char        *passphrase,
                       KhReplicaKeyNeed  *need,
                       GError           **error)
{
  g_autofree char *key_file = kh_crypt_key_file (db_path);
  KhCryptFileState state = kh_crypt_file_state (db_path);

  g_return_val_if_fail (db_path != NULL && need != NULL, FALSE);

  *need = KH_REPLICA_KEY_OPEN;
  /* A file that is no database is left for the store to refuse, without a key made for it. */
  if (kh_crypt_vfs_has_key (db_path) || state == KH_CRYPT_FILE_OTHER)
    return TRUE;
#ifdef HAVE_LIBSECRET
  {
    guint8 key[KH_CRYPT_KEY_BYTES];

    if (keyring_lookup (db_path, key))
      {
        kh_crypt_vfs_set_key (db_path, key);
        sodium_memzero (key, sizeof key);
        return TRUE;
      }
  }
#endif
  if (g_file_test (key_file, G_FILE_TEST_EXISTS))
    {
      if (passphrase == NULL)
        {
          *need = KH_REPLICA_KEY_NEED_PASSPHRASE;
          return TRUE;
        }
      return kh_crypt_unlock_passphrase (db_path, passphrase, error);
    }
  if (state == KH_CRYPT_FILE_SEALED)
    {
      kh_crypt_set_lost_key_error (error, db_path);
      return FALSE;
    }
#ifdef HAVE_LIBSECRET
  {
    guint8 key[KH_CRYPT_KEY_BYTES];
    gboolean stored;

    kh_crypt_key_generate (key);
    stored = keyring_store (db_path, key);
    if (stored)
      kh_crypt_vfs_set_key (db_path, key);
    sodium_memzero (key, sizeof key);
    if (stored)
      return TRUE;
  }
#endif
  if (passphrase == NULL)
    {
      *need = KH_REPLICA_KEY_NEW_PASSPHRASE;
      return TRUE;
    }
  return kh_crypt_unlock_passphrase (db_path, passphrase, error);
}
