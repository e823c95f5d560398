/* kh-crypt-key.c: a replica's key, wrapped with a passphrase, and the sealing of a plain replica
 *
 * A replica's key is 32 random bytes. Where the desktop keyring answers, the sync library keeps
 * it there, next to the sign-in token (sync/kh-replica-key.c). Where none does (a server, the CLI
 * in a script, the tests), it is kept beside the database in "<database>.key", wrapped: a key
 * is drawn from the passphrase with Argon2id (crypto_pwhash, a random salt, the cost stored in
 * the file) and seals the replica's key with XChaCha20-Poly1305. The file, 0600, holds
 *
 *   "KHKEY1\n\0" | opslimit (8, little endian) | memlimit (8) | salt (16) | nonce (24)
 *   | the sealed key (32 + 16)
 *
 * and everything before the sealed key is its associated data. A wrong passphrase does not open
 * it, and says so; nothing is changed.
 *
 * A plain replica (made before sealing, or by a build without it) is sealed in place, in steps
 * that a kill at any point leaves safe: the plain database is copied, pages sealed, into
 * "<database>-encrypting" with VACUUM INTO (a consistent snapshot, its WAL included), that file
 * is flushed to disk, and rename() puts it in the database's place at once. Killed before the
 * rename, the plain database is untouched and the next open starts again; after it, the sealed
 * one is complete.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "kh-attach.h"
#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-sqlite.h"

#define MAGIC       "KHKEY1\n"
#define MAGIC_BYTES 8
#define SALT_BYTES  crypto_pwhash_SALTBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_BYTES    (MAGIC_BYTES + 8 + 8 + SALT_BYTES + NONCE_BYTES)
#define FILE_BYTES  (AD_BYTES + KH_CRYPT_KEY_BYTES + TAG_BYTES)

G_STATIC_ASSERT (SALT_BYTES == 16);

static void (*convert_hook) (int stage);

KhCryptFileState
kh_crypt_file_state (const char *db_path)
{
  static const char header[16] = "SQLite format 3";
  guint8 head[16];
  sqlite3_int64 size = 0;

  /* Read through SQLite's VFS, which may hold the file open and locked in this process. */
  if (!kh_crypt_vfs_peek (db_path, head, sizeof head, &size) || size == 0)
    return KH_CRYPT_FILE_NONE;
  if (size >= (sqlite3_int64) sizeof head && memcmp (head, header, sizeof head) == 0)
    return KH_CRYPT_FILE_PLAIN;
  /* A sealed database is whole pages of noise; anything else is some other file. */
  if (size > 0 && size % 4096 == 0)
    return KH_CRYPT_FILE_SEALED;
  return KH_CRYPT_FILE_OTHER;
}

char *
kh_crypt_key_file (const char *db_path)
{
  return g_strconcat (db_path, ".key", NULL);
}

void
kh_crypt_key_generate (guint8 *key)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be set up");
  randombytes_buf (key, KH_CRYPT_KEY_BYTES);
}

static void
put64 (unsigned char *p,
       guint64        v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char) (v >> (8 * i));
}

static guint64
get64 (const unsigned char *p)
{
  guint64 v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

/* The key that wraps: Argon2id of @passphrase with the file's salt and cost. */
static gboolean
wrapping_key (unsigned char       *out,
              const char          *passphrase,
              const unsigned char *salt,
              guint64              opslimit,
              guint64              memlimit)
{
  return crypto_pwhash (out, KH_CRYPT_KEY_BYTES, passphrase, strlen (passphrase), salt,
                        opslimit, (size_t) memlimit, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

static void
set_file_error (GError     **error,
                const char  *path,
                int          saved)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
               _("Could not save the key of the database in “%s”: %s"), path,
               g_strerror (saved));
}

/* Writes @key, wrapped with @passphrase, to the database's key file, atomically (a new file,
 * flushed, renamed over the old one). */
gboolean
kh_crypt_key_file_write (const char    *db_path,
                         const guint8  *key,
                         const char    *passphrase,
                         GError       **error)
{
  g_autofree char *path = kh_crypt_key_file (db_path);
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  unsigned char data[FILE_BYTES];
  unsigned char wrap[KH_CRYPT_KEY_BYTES];
  guint64 opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  guint64 memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  unsigned char *p = data;
  int fd;

  /* The test suites start thousands of processes on replicas whose passphrase is public: they
   * ask for the cheapest wrapping Argon2id allows (the cost is stored in the file). */
  if (g_strcmp0 (g_getenv ("KHUYENHOC_TEST_CHEAP_KEY_FILE"), "1") == 0)
    {
      opslimit = crypto_pwhash_OPSLIMIT_MIN;
      memlimit = crypto_pwhash_MEMLIMIT_MIN;
    }

  if (sodium_init () < 0)
    g_error ("libsodium could not be set up");
  memset (data, 0, sizeof data);
  memcpy (p, MAGIC, MAGIC_BYTES);
  p += MAGIC_BYTES;
  put64 (p, opslimit);
  p += 8;
  put64 (p, memlimit);
  p += 8;
  randombytes_buf (p, SALT_BYTES + NONCE_BYTES);
  if (!wrapping_key (wrap, passphrase, data + MAGIC_BYTES + 16, opslimit, memlimit))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("There is not enough memory to protect the key with the passphrase."));
      return FALSE;
    }
  crypto_aead_xchacha20poly1305_ietf_encrypt (data + AD_BYTES, NULL, key, KH_CRYPT_KEY_BYTES,
                                              data, AD_BYTES, NULL,
                                              data + AD_BYTES - NONCE_BYTES, wrap);
  sodium_memzero (wrap, sizeof wrap);

  g_unlink (tmp);
  fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_file_error (error, path, errno);
      return FALSE;
    }
  if (write (fd, data, sizeof data) != (ssize_t) sizeof data || fsync (fd) != 0)
    {
      int saved = errno;

      close (fd);
      g_unlink (tmp);
      set_file_error (error, path, saved);
      return FALSE;
    }
  close (fd);
  if (g_rename (tmp, path) != 0)
    {
      int saved = errno;

      g_unlink (tmp);
      set_file_error (error, path, saved);
      return FALSE;
    }
  return TRUE;
}

/* Reads the database's key from its key file with @passphrase into @key. */
gboolean
kh_crypt_key_file_read (const char    *db_path,
                        const char    *passphrase,
                        guint8        *key,
                        GError       **error)
{
  g_autofree char *path = kh_crypt_key_file (db_path);
  g_autofree char *contents = NULL;
  const unsigned char *data;
  unsigned char wrap[KH_CRYPT_KEY_BYTES];
  gsize len = 0;
  guint64 opslimit, memlimit;
  gboolean ok;

  if (sodium_init () < 0)
    g_error ("libsodium could not be set up");
  if (!g_file_get_contents (path, &contents, &len, NULL) || len != FILE_BYTES
      || memcmp (contents, MAGIC, MAGIC_BYTES) != 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                   _("The key file “%s” cannot be read: it is missing or damaged."), path);
      return FALSE;
    }
  data = (const unsigned char *) contents;
  opslimit = get64 (data + MAGIC_BYTES);
  memlimit = get64 (data + MAGIC_BYTES + 8);
  if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE
      || memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE
      || !wrapping_key (wrap, passphrase, data + MAGIC_BYTES + 16, opslimit, memlimit))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                   _("The key file “%s” cannot be read: it is missing or damaged."), path);
      return FALSE;
    }
  ok = crypto_aead_xchacha20poly1305_ietf_decrypt (key, NULL, NULL, data + AD_BYTES,
                                                   KH_CRYPT_KEY_BYTES + TAG_BYTES, data, AD_BYTES,
                                                   data + AD_BYTES - NONCE_BYTES, wrap) == 0;
  sodium_memzero (wrap, sizeof wrap);
  if (!ok)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                 _("The passphrase is wrong: it does not open the key of the database “%s”. "
                   "Nothing was changed."), db_path);
  return ok;
}

void
kh_crypt_set_lost_key_error (GError     **error,
                             const char  *db_path)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
               _("The database “%s” is encrypted and its key is lost: it is neither in the "
                 "keyring nor in a key file beside the database, and nothing else can open it. "
                 "Move the file aside and sync again: the records are pulled from the server "
                 "again, but changes not yet sent from this computer are lost."), db_path);
}

/* Finds the database's key with @passphrase, or makes one for a new or plain database, and
 * gives it to the sealing VFS. A file that is no database is left alone (TRUE, no key). */
gboolean
kh_crypt_unlock_passphrase (const char  *db_path,
                            const char  *passphrase,
                            GError     **error)
{
  g_autofree char *path = kh_crypt_key_file (db_path);
  guint8 key[KH_CRYPT_KEY_BYTES];

  if (kh_crypt_file_state (db_path) == KH_CRYPT_FILE_OTHER)
    return TRUE;  /* not a database: opening it says so, and no key is made for it */
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!kh_crypt_key_file_read (db_path, passphrase, key, error))
        return FALSE;
    }
  else if (kh_crypt_file_state (db_path) == KH_CRYPT_FILE_SEALED)
    {
      kh_crypt_set_lost_key_error (error, db_path);
      return FALSE;
    }
  else
    {
      kh_crypt_key_generate (key);
      if (!kh_crypt_key_file_write (db_path, key, passphrase, error))
        {
          sodium_memzero (key, sizeof key);
          return FALSE;
        }
    }
  kh_crypt_vfs_set_key (db_path, key);
  sodium_memzero (key, sizeof key);
  return TRUE;
}

/* For tests: called at each step of a conversion, to kill the process there. */
void
kh_crypt_set_convert_hook (void (*hook) (int stage))
{
  convert_hook = hook;
}

static void
stage (int n)
{
  if (convert_hook != NULL)
    convert_hook (n);
}

/* "file:" URI of @path, for VACUUM INTO to write through the sealing VFS. */
static char *
sealed_uri (const char *path)
{
  GString *uri = g_string_new ("file:");

  for (const char *p = path; *p != '\0'; p++)
    if (*p == '%' || *p == '?' || *p == '#')
      g_string_append_printf (uri, "%%%02X", (unsigned char) *p);
    else
      g_string_append_c (uri, *p);
  g_string_append (uri, "?vfs=" KH_CRYPT_VFS_NAME);
  return g_string_free (uri, FALSE);
}

static gboolean
fsync_path (const char *path,
            gboolean    dir)
{
  int fd = g_open (path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC, 0);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = fsync (fd) == 0;
  close (fd);
  return ok;
}

/* Seals the plain database @db_path in place with the key given for it. */
gboolean
kh_crypt_convert (const char  *db_path,
                  GError     **error)
{
  g_autofree char *tmp = g_strconcat (db_path, "-encrypting", NULL);
  g_autofree char *tmp_journal = g_strconcat (tmp, "-journal", NULL);
  g_autofree char *uri = sealed_uri (tmp);
  g_autofree char *dir = g_path_get_dirname (db_path);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int reserve = 40, rc;

  g_return_val_if_fail (kh_crypt_vfs_has_key (db_path), FALSE);

  stage (0);
  /* What a killed conversion left is made again. */
  g_unlink (tmp);
  g_unlink (tmp_journal);
  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
    goto failed;
  sqlite3_busy_timeout (db, 10000);
  if (!kh_sqlite_register_functions (db, NULL))
    goto failed;
  /* The copy's pages keep room for their seal; the copy is what the database is, WAL and all. */
  if (sqlite3_file_control (db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK
      || sqlite3_prepare_v2 (db, "VACUUM INTO ?", -1, &stmt, NULL) != SQLITE_OK)
    goto failed;
  stage (1);
  sqlite3_bind_text (stmt, 1, uri, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (rc != SQLITE_DONE)
    goto failed;
  stage (2);
  /* Its WAL emptied into it, the plain database is closed, and SQLite removes the WAL. */
  if (!kh_sqlite_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL))
    goto failed;
  sqlite3_close (db);
  db = NULL;
  stage (3);
  if (!fsync_path (tmp, FALSE))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Could not encrypt the database “%s”: %s"), db_path, g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  stage (4);
  if (g_rename (tmp, db_path) != 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Could not encrypt the database “%s”: %s"), db_path, g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  stage (5);
  fsync_path (dir, TRUE);
  stage (6);
  /* The attached files beside it, with the same key. */
  return kh_attach_seal_files (db_path, error);

failed:
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
               _("Could not encrypt the database “%s”: %s"), db_path,
               db != NULL ? sqlite3_errmsg (db) : g_strerror (ENOMEM));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_unlink (tmp);
  g_unlink (tmp_journal);
  return FALSE;
}
