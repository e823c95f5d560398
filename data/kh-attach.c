/* kh-attach.c: attachments, the files beside the records
 *
 * An attachment is two things. The record (entity "attachment", kh-entity.c) says which record
 * a file documents, its name, type, size and SHA-256; it is written, journaled and synced like
 * any other. The bytes live apart, in a folder beside the replica ("<replica>-files"), one
 * file per SHA-256: the same photo attached twice, or to two records, is kept once. The table
 * attachment_file (schema version 14) says what this replica knows of each file: whether it
 * holds it whole, whether the server has it, whether someone asked for it.
 *
 * When the replica is sealed (kh-crypt-vfs.c), so are its files, with a subkey of the same
 * key: a file is a header (a magic and a random 16-byte nonce prefix) and blocks of
 * KH_ATTACH_BLOCK bytes, each sealed on its own with XChaCha20-Poly1305, its nonce the prefix
 * and the block's number, the number and whether it is the last block its associated data. A
 * block can be read without the ones before it (an upload resumes in the middle), a block
 * moved or a file cut short does not open. A plain replica keeps plain files.
 *
 * A download is kept as "<sha256>.part", whole blocks only, so it resumes where it stopped; the
 * hash is checked before it becomes "<sha256>".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "kh-attach.h"
#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"

#define MAGIC        "KHFILE1\n"
#define MAGIC_LEN    8
#define PREFIX_LEN   16
#define HEADER_LEN   (MAGIC_LEN + PREFIX_LEN)
#define TAG_LEN      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_BLOCK (KH_ATTACH_BLOCK + TAG_LEN)
/* The subkey of the replica's key that seals its files (kh-crypt-vfs.c uses 1 and 2). */
#define SUBKEY_FILES 3
#define MAX_SIZE_KEY "attach_max_size"

G_STATIC_ASSERT (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == PREFIX_LEN + 8);

static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'k', 'h', 'c', 'r', 'y', 'p', 't', '1' };
static gboolean heic_readable;

void
kh_attach_transfer_free (KhAttachTransfer *t)
{
  if (t == NULL)
    return;
  g_free (t->sha256);
  g_free (t->attachment_id);
  g_free (t);
}

/* Types ------------------------------------------------------------------------------------- */

/* The type of a file from its first bytes (at least 12 of them), or NULL when it is none this
 * program takes. The name says nothing: a PDF renamed .jpg is a PDF, a program renamed .pdf is
 * refused. HEIC only where the system can show it (kh_attach_set_heic_readable()). */
const char *
kh_attach_sniff (const guint8 *d,
                 gsize         len)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };

  if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    return "image/jpeg";
  if (len >= sizeof png && memcmp (d, png, sizeof png) == 0)
    return "image/png";
  if (len >= 5 && memcmp (d, "%PDF-", 5) == 0)
    return "application/pdf";
  if (len >= 12 && memcmp (d + 4, "ftyp", 4) == 0
      && (memcmp (d + 8, "heic", 4) == 0 || memcmp (d + 8, "heix", 4) == 0
          || memcmp (d + 8, "mif1", 4) == 0 || memcmp (d + 8, "msf1", 4) == 0))
    return heic_readable ? "image/heic" : NULL;
  return NULL;
}

/* Whether HEIC files are taken: the window says so when its image loaders read them. */
void
kh_attach_set_heic_readable (gboolean readable)
{
  heic_readable = readable;
}

gboolean
kh_attach_heic_readable (void)
{
  return heic_readable;
}

const char * const *
kh_attach_owner_entities (void)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup ("attachment"), "owner_entity");

  return f->enum_values;
}

gboolean
kh_attach_is_owner_entity (const char *entity)
{
  const char * const *owners = kh_attach_owner_entities ();

  return entity != NULL && g_strv_contains (owners, entity);
}

/* The folder and its files ------------------------------------------------------------------- */

char *
kh_attach_dir (KhStore *store)
{
  return g_strconcat (kh_store_get_path (store), "-files", NULL);
}

static char *
file_path (KhStore    *store,
           const char *sha256,
           const char *suffix)
{
  g_autofree char *dir = kh_attach_dir (store);
  g_autofree char *name = g_strconcat (sha256, suffix, NULL);

  return g_build_filename (dir, name, NULL);
}

static gboolean
valid_hash (const char *h)
{
  return h != NULL && strlen (h) == 64 && strspn (h, "0123456789abcdef") == 64;
}

/* The files' subkey when the replica @db_path is sealed; FALSE when it is plain. */
static gboolean
files_key_for (const char *db_path,
               guint8     *subkey)
{
  guint8 key[KH_CRYPT_KEY_BYTES];
  gboolean sealed = kh_crypt_vfs_get_key (db_path, key);

  if (sealed)
    crypto_kdf_derive_from_key (subkey, KH_CRYPT_KEY_BYTES, SUBKEY_FILES, kdf_context, key);
  sodium_memzero (key, sizeof key);
  return sealed;
}

static gboolean
files_key (KhStore *store,
           guint8  *subkey)
{
  return files_key_for (kh_store_get_path (store), subkey);
}

/* Whether the file at @path is sealed: it starts with the magic, which no JPEG, PNG, PDF or
 * HEIC does. A plain file in a sealed replica is one attached before the replica was sealed
 * and not yet sealed itself (kh_attach_seal_files()). */
static gboolean
file_is_sealed (const char *path)
{
  char head[MAGIC_LEN];
  FILE *fp = g_fopen (path, "rb");
  gboolean sealed;

  if (fp == NULL)
    return FALSE;
  sealed = fread (head, 1, MAGIC_LEN, fp) == MAGIC_LEN && memcmp (head, MAGIC, MAGIC_LEN) == 0;
  fclose (fp);
  return sealed;
}

static void
block_nonce (guint8       *nonce,
             const guint8 *prefix,
             guint64       index)
{
  memcpy (nonce, prefix, PREFIX_LEN);
  for (int i = 0; i < 8; i++)
    nonce[PREFIX_LEN + i] = (guint8) (index >> (8 * i));
}

static void
block_ad (guint8   *ad,
          guint64   index,
          gboolean  last)
{
  for (int i = 0; i < 8; i++)
    ad[i] = (guint8) (index >> (8 * i));
  ad[8] = last ? 1 : 0;
}

/* A file being written: plain, or sealed block by block. */
typedef struct
{
  GOutputStream *out;
  gboolean       sealed;
  guint8         key[KH_CRYPT_KEY_BYTES];
  guint8         prefix[PREFIX_LEN];
  guint64        index;
} Writer;

static gboolean
writer_block (Writer        *w,
              const guint8  *data,
              gsize          len,
              gboolean       last,
              GError       **error)
{
  guint8 sealed[SEALED_BLOCK];
  guint8 nonce[PREFIX_LEN + 8];
  guint8 ad[9];
  unsigned long long out_len;

  if (!w->sealed)
    return g_output_stream_write_all (w->out, data, len, NULL, NULL, error);
  block_nonce (nonce, w->prefix, w->index);
  block_ad (ad, w->index, last);
  crypto_aead_xchacha20poly1305_ietf_encrypt (sealed, &out_len, data, len, ad, sizeof ad, NULL, nonce, w->key);
  w->index++;
  return g_output_stream_write_all (w->out, sealed, (gsize) out_len, NULL, NULL, error);
}

/* Reads block @index of the sealed file @in (whose plain size is @size) into @plain; returns
 * its length, or -1 with @error set when it does not open. */
static gssize
read_block (GInputStream  *in,
            GSeekable     *seek,
            const guint8  *key,
            const guint8  *prefix,
            guint64        index,
            gint64         size,
            gboolean       last,
            guint8        *plain,
            GError       **error)
{
  guint8 sealed[SEALED_BLOCK];
  guint8 nonce[PREFIX_LEN + 8];
  guint8 ad[9];
  gsize want = (gsize) MIN ((gint64) KH_ATTACH_BLOCK, size - (gint64) index * KH_ATTACH_BLOCK) + TAG_LEN;
  gsize got = 0;
  unsigned long long plain_len;

  if (!g_seekable_seek (seek, HEADER_LEN + (goffset) index * SEALED_BLOCK, G_SEEK_SET, NULL, error)
      || !g_input_stream_read_all (in, sealed, want, &got, NULL, error))
    return -1;
  block_nonce (nonce, prefix, index);
  block_ad (ad, index, last);
  if (got != want
      || crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &plain_len, NULL, sealed, got, ad, sizeof ad,
                                                     nonce, key) != 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED,
                           _("An attached file does not open with the replica's key: it was altered or damaged."));
      return -1;
    }
  return (gssize) plain_len;
}

/* The plain size of a sealed file of @file_size bytes holding whole blocks, the last one
 * possibly short. */
static gint64
sealed_plain_size (gint64 file_size)
{
  gint64 body = file_size - HEADER_LEN;
  gint64 blocks = (body + SEALED_BLOCK - 1) / SEALED_BLOCK;

  return body <= 0 ? 0 : body - blocks * TAG_LEN;
}

static gboolean
open_writer_for (Writer      *w,
                 const char  *db_path,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  memset (w, 0, sizeof *w);
  w->sealed = files_key_for (db_path, w->key);
  w->out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error));
  if (w->out == NULL)
    return FALSE;
  if (w->sealed)
    {
      randombytes_buf (w->prefix, sizeof w->prefix);
      if (!g_output_stream_write_all (w->out, MAGIC, MAGIC_LEN, NULL, NULL, error)
          || !g_output_stream_write_all (w->out, w->prefix, PREFIX_LEN, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
open_writer (Writer      *w,
             KhStore     *store,
             const char  *path,
             GError     **error)
{
  return open_writer_for (w, kh_store_get_path (store), path, error);
}

static void
close_writer (Writer *w)
{
  g_clear_object (&w->out);
  sodium_memzero (w->key, sizeof w->key);
}

static gboolean
ensure_dir (KhStore  *store,
            GError  **error)
{
  g_autofree char *dir = kh_attach_dir (store);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   _("Could not make the folder of attached files %s: %s"), dir, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* The limit ---------------------------------------------------------------------------------- */

/* The largest file the server takes, as it last said; the default before it said anything. */
gint64
kh_attach_get_max_size (KhStore *store)
{
  g_autofree char *text = kh_store_get_meta (store, MAX_SIZE_KEY);
  gint64 v = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;

  return v > 0 ? v : KH_ATTACH_DEFAULT_MAX_SIZE;
}

gboolean
kh_attach_set_max_size (KhStore  *store,
                        gint64    max_size,
                        GError  **error)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, max_size);

  return kh_store_set_meta (store, MAX_SIZE_KEY, text, error);
}

static void
set_too_large (GError **error,
               gint64   size,
               gint64   max)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
               _("The file is %.1f MB; the limit for one file is %.1f MB."),
               size / 1048576.0, max / 1048576.0);
}

/* Adding a file ------------------------------------------------------------------------------ */

static gboolean
exec_file_sql (KhStore     *store,
               const char  *sql,
               const char  *sha256,
               gint64       value,
               GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, value);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "attachment_file");
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Copies @path into the store under its SHA-256 (once, however often it is added), checking
 * its type and size on the way, and records that this replica holds it. */
static gboolean
import_file (KhStore      *store,
             const char   *path,
             char        **sha256,
             const char  **media_type,
             gint64       *size,
             GError      **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *dir = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *dest = NULL;
  g_autofree guint8 *buf = g_malloc (KH_ATTACH_BLOCK);
  gint64 max = kh_attach_get_max_size (store);
  gint64 total;
  gint64 done = 0;
  Writer w;
  gboolean ok = TRUE;

  in = g_file_read (file, NULL, error);
  if (in == NULL)
    return FALSE;
  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL)
    return FALSE;
  total = g_file_info_get_size (info);
  if (total <= 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("The file %s is empty."), path);
      return FALSE;
    }
  if (total > max)
    {
      set_too_large (error, total, max);
      return FALSE;
    }
  if (!ensure_dir (store, error))
    return FALSE;
  dir = kh_attach_dir (store);
  tmp = g_strdup_printf ("%s/tmp-%08x%08x", dir, g_random_int (), g_random_int ());
  if (!open_writer (&w, store, tmp, error))
    return FALSE;
  while (ok && done < total)
    {
      gsize got = 0;
      gsize want = (gsize) MIN ((gint64) KH_ATTACH_BLOCK, total - done);

      ok = g_input_stream_read_all (G_INPUT_STREAM (in), buf, want, &got, NULL, error);
      if (ok && got != want)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The file %s changed while it was read."), path);
          ok = FALSE;
        }
      if (ok && done == 0 && (*media_type = kh_attach_sniff (buf, got)) == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       kh_attach_heic_readable ()
                         ? _("%s is not a JPEG, PNG or HEIC image, nor a PDF document: only those can be attached.")
                         : _("%s is not a JPEG or PNG image, nor a PDF document: only those can be attached."),
                       path);
          ok = FALSE;
        }
      if (ok)
        {
          g_checksum_update (sum, buf, got);
          done += got;
          ok = writer_block (&w, buf, got, done == total, error);
        }
    }
  ok = ok && g_output_stream_close (w.out, NULL, error);
  close_writer (&w);
  if (!ok)
    {
      g_unlink (tmp);
      return FALSE;
    }
  *sha256 = g_strdup (g_checksum_get_string (sum));
  *size = total;
  dest = file_path (store, *sha256, "");
  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    g_unlink (tmp);
  else if (g_rename (tmp, dest) != 0)
    {
      int e = errno;

      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", dest, g_strerror (e));
      return FALSE;
    }
  return exec_file_sql (store,
                        "INSERT INTO attachment_file (sha256, have, size) VALUES (?1, 1, ?2) "
                        "ON CONFLICT (sha256) DO UPDATE SET have = 1",
                        *sha256, total, error);
}

/* Attaches the file at @path to the record @owner_id of @owner_entity, named @name (NULL: the
 * file's own name); returns the new attachment's id. The file is kept in the store at once; it
 * goes to the server with the next sync, after the records. */
char *
kh_attach_add (KhStore     *store,
               const char  *owner_entity,
               const char  *owner_id,
               const char  *path,
               const char  *name,
               GError     **error)
{
  json_object *owner;
  json_object *values;
  g_autofree char *sha256 = NULL;
  g_autofree char *base = NULL;
  const char *media_type = NULL;
  const char *unit;
  gint64 size = 0;
  char *id;

  if (!kh_attach_is_owner_entity (owner_entity))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("Files cannot be attached to a %s."), owner_entity);
      return NULL;
    }
  owner = kh_store_get (store, owner_entity, owner_id, error);
  if (owner == NULL)
    return NULL;

  if (!kh_store_begin (store, error))
    {
      json_object_put (owner);
      return NULL;
    }
  if (!import_file (store, path, &sha256, &media_type, &size, error))
    {
      kh_store_rollback (store);
      json_object_put (owner);
      return NULL;
    }
  base = name != NULL ? g_strdup (name) : g_path_get_basename (path);
  if (g_utf8_strlen (base, -1) > 255)
    *g_utf8_offset_to_pointer (base, 255) = '\0';
  unit = json_object_get_string (json_object_object_get (owner, "org_unit_id"));
  values = json_object_new_object ();
  json_object_object_add (values, "owner_entity", json_object_new_string (owner_entity));
  json_object_object_add (values, "owner_id", json_object_new_string (owner_id));
  json_object_object_add (values, "org_unit_id", unit != NULL ? json_object_new_string (unit) : NULL);
  json_object_object_add (values, "name", json_object_new_string (base));
  json_object_object_add (values, "media_type", json_object_new_string (media_type));
  json_object_object_add (values, "size", json_object_new_int64 (size));
  json_object_object_add (values, "sha256", json_object_new_string (sha256));
  json_object_put (owner);
  id = kh_store_create (store, "attachment", values, error);
  json_object_put (values);
  if (id == NULL)
    {
      kh_store_rollback (store);
      return NULL;
    }
  if (!kh_store_commit (store, error))
    g_clear_pointer (&id, g_free);
  return id;
}

/* Reading ------------------------------------------------------------------------------------ */

gboolean
kh_attach_has_file (KhStore    *store,
                    const char *sha256)
{
  g_autofree char *path = NULL;

  if (!valid_hash (sha256))
    return FALSE;
  path = file_path (store, sha256, "");
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* An open file of the store, plain or sealed, with its plain size. */
typedef struct
{
  GFileInputStream *in;
  gboolean          sealed;
  guint8            key[KH_CRYPT_KEY_BYTES];
  guint8            prefix[PREFIX_LEN];
  gint64            size;
  gboolean          whole;   /* FALSE for a download under way: no block is the last */
} Reader;

static gboolean
open_reader (Reader      *r,
             KhStore     *store,
             const char  *path,
             gboolean     whole,
             GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInfo) info = NULL;
  guint8 header[HEADER_LEN];
  gsize got = 0;

  memset (r, 0, sizeof *r);
  r->whole = whole;
  r->sealed = file_is_sealed (path);
  if (r->sealed && !files_key (store, r->key))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                           _("An attached file is encrypted and the replica's key is not given."));
      return FALSE;
    }
  r->in = g_file_read (file, NULL, error);
  if (r->in == NULL)
    return FALSE;
  info = g_file_input_stream_query_info (r->in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL)
    return FALSE;
  r->size = g_file_info_get_size (info);
  if (!r->sealed)
    return TRUE;
  if (!g_input_stream_read_all (G_INPUT_STREAM (r->in), header, HEADER_LEN, &got, NULL, error))
    return FALSE;
  if (got != HEADER_LEN || memcmp (header, MAGIC, MAGIC_LEN) != 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED,
                           _("An attached file does not open with the replica's key: it was altered or damaged."));
      return FALSE;
    }
  memcpy (r->prefix, header + MAGIC_LEN, PREFIX_LEN);
  r->size = sealed_plain_size (r->size);
  return TRUE;
}

static void
close_reader (Reader *r)
{
  g_clear_object (&r->in);
  sodium_memzero (r->key, sizeof r->key);
}

/* Up to @length plain bytes from @offset into @out. */
static gboolean
reader_read (Reader      *r,
             gint64       offset,
             gsize        length,
             GByteArray  *out,
             GError     **error)
{
  gint64 end = MIN (r->size, offset + (gint64) length);

  if (!r->sealed)
    {
      gsize start = out->len;
      gsize got = 0;

      if (end <= offset)
        return TRUE;
      g_byte_array_set_size (out, start + (guint) (end - offset));
      if (!g_seekable_seek (G_SEEKABLE (r->in), offset, G_SEEK_SET, NULL, error)
          || !g_input_stream_read_all (G_INPUT_STREAM (r->in), out->data + start, (gsize) (end - offset), &got,
                                       NULL, error))
        return FALSE;
      g_byte_array_set_size (out, start + (guint) got);
      return TRUE;
    }
  while (offset < end)
    {
      guint8 plain[KH_ATTACH_BLOCK];
      guint64 index = (guint64) (offset / KH_ATTACH_BLOCK);
      gint64 last_index = (r->size + KH_ATTACH_BLOCK - 1) / KH_ATTACH_BLOCK - 1;
      gssize n = read_block (G_INPUT_STREAM (r->in), G_SEEKABLE (r->in), r->key, r->prefix, index, r->size,
                             r->whole && (gint64) index == last_index, plain, error);
      gint64 skip = offset - (gint64) index * KH_ATTACH_BLOCK;
      gint64 take;

      if (n < 0)
        return FALSE;
      take = MIN ((gint64) n - skip, end - offset);
      g_byte_array_append (out, plain + skip, (guint) take);
      offset += take;
    }
  return TRUE;
}

/* @length plain bytes of the file @sha256 from @offset (fewer at its end). */
GBytes *
kh_attach_read (KhStore     *store,
                const char  *sha256,
                gint64       offset,
                gsize        length,
                GError     **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  Reader r;
  gboolean ok;

  if (!valid_hash (sha256))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("That is not a SHA-256."));
      return NULL;
    }
  path = file_path (store, sha256, "");
  ok = open_reader (&r, store, path, TRUE, error) && reader_read (&r, offset, length, out, error);
  close_reader (&r);
  return ok ? g_byte_array_free_to_bytes (g_steal_pointer (&out)) : NULL;
}

/* Writes the plain file @sha256 to @dest (to be opened by another application, which cannot
 * read the sealed store). */
gboolean
kh_attach_export (KhStore     *store,
                  const char  *sha256,
                  const char  *dest,
                  GError     **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (dest);
  g_autoptr(GFileOutputStream) out = NULL;
  Reader r;
  gboolean ok;

  if (!valid_hash (sha256))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("That is not a SHA-256."));
      return FALSE;
    }
  path = file_path (store, sha256, "");
  ok = open_reader (&r, store, path, TRUE, error);
  if (ok)
    ok = (out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error)) != NULL;
  for (gint64 at = 0; ok && at < r.size; at += KH_ATTACH_BLOCK)
    {
      g_autoptr(GByteArray) buf = g_byte_array_new ();

      ok = reader_read (&r, at, KH_ATTACH_BLOCK, buf, error)
           && g_output_stream_write_all (G_OUTPUT_STREAM (out), buf->data, buf->len, NULL, NULL, error);
    }
  ok = ok && g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
  close_reader (&r);
  return ok;
}

/* Downloads ---------------------------------------------------------------------------------- */

/* The plain bytes of @sha256 already downloaded, whole blocks only; 0 when none. */
gint64
kh_attach_partial_size (KhStore    *store,
                        const char *sha256)
{
  g_autofree char *path = NULL;
  GStatBuf st;
  guint8 key[KH_CRYPT_KEY_BYTES];
  gboolean sealed;

  if (!valid_hash (sha256))
    return 0;
  path = file_path (store, sha256, ".part");
  if (g_stat (path, &st) != 0)
    return 0;
  /* A download begun before the replica was sealed starts again, sealed. */
  sealed = files_key (store, key);
  sodium_memzero (key, sizeof key);
  if (st.st_size > 0 && sealed != file_is_sealed (path))
    {
      g_unlink (path);
      return 0;
    }
  if (sealed)
    return st.st_size < HEADER_LEN ? 0 : (st.st_size - HEADER_LEN) / SEALED_BLOCK * KH_ATTACH_BLOCK;
  return st.st_size / KH_ATTACH_BLOCK * KH_ATTACH_BLOCK;
}

/* The SHA-256 of the plain content of @r. */
static char *
reader_hash (Reader  *r,
             GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  for (gint64 at = 0; at < r->size; at += KH_ATTACH_BLOCK)
    {
      g_autoptr(GByteArray) buf = g_byte_array_new ();

      if (!reader_read (r, at, KH_ATTACH_BLOCK, buf, error))
        return NULL;
      g_checksum_update (sum, buf->data, buf->len);
    }
  return g_strdup (g_checksum_get_string (sum));
}

/* Adds @bytes, the plain bytes of @sha256 from @offset, to its download; @offset must be
 * kh_attach_partial_size(), and @bytes whole blocks unless they end the file of @total bytes.
 * When they do, the file's hash is checked and it joins the store (*@complete). */
gboolean
kh_attach_append_partial (KhStore     *store,
                          const char  *sha256,
                          gint64       offset,
                          GBytes      *bytes,
                          gint64       total,
                          gboolean    *complete,
                          GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *got_hash = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileIOStream) io = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gint64 have = kh_attach_partial_size (store, sha256);
  gboolean last = offset + (gint64) len == total;
  Writer w;
  Reader r;
  gboolean ok = TRUE;

  *complete = FALSE;
  if (!valid_hash (sha256) || offset != have || offset + (gint64) len > total
      || (!last && len % KH_ATTACH_BLOCK != 0))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A piece of a downloaded file does not fit where it was to go."));
      return FALSE;
    }
  if (!ensure_dir (store, error))
    return FALSE;
  path = file_path (store, sha256, ".part");
  file = g_file_new_for_path (path);
  memset (&w, 0, sizeof w);
  w.sealed = files_key (store, w.key);
  if (have == 0)
    {
      if (!open_writer (&w, store, path, error))
        {
          close_writer (&w);
          return FALSE;
        }
    }
  else
    {
      guint8 header[HEADER_LEN];
      gsize n = 0;
      goffset keep = w.sealed ? HEADER_LEN + have / KH_ATTACH_BLOCK * SEALED_BLOCK : have;

      io = g_file_open_readwrite (file, NULL, error);
      if (io == NULL)
        {
          close_writer (&w);
          return FALSE;
        }
      /* Drops a block cut short by a crash, then writes on after the whole ones. */
      ok = g_seekable_truncate (G_SEEKABLE (io), keep, NULL, error);
      if (ok && w.sealed)
        {
          ok = g_seekable_seek (G_SEEKABLE (io), 0, G_SEEK_SET, NULL, error)
               && g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (io)), header, HEADER_LEN,
                                           &n, NULL, error);
          memcpy (w.prefix, header + MAGIC_LEN, PREFIX_LEN);
          w.index = (guint64) (have / KH_ATTACH_BLOCK);
        }
      ok = ok && g_seekable_seek (G_SEEKABLE (io), keep, G_SEEK_SET, NULL, error);
      w.out = g_object_ref (g_io_stream_get_output_stream (G_IO_STREAM (io)));
    }
  for (gsize at = 0; ok && at < len; at += KH_ATTACH_BLOCK)
    {
      gsize n = MIN ((gsize) KH_ATTACH_BLOCK, len - at);

      ok = writer_block (&w, data + at, n, last && at + n == len, error);
    }
  ok = ok && g_output_stream_flush (w.out, NULL, error);
  if (io == NULL)
    ok = g_output_stream_close (w.out, NULL, ok ? error : NULL) && ok;
  close_writer (&w);
  if (io != NULL)
    ok = g_io_stream_close (G_IO_STREAM (io), NULL, ok ? error : NULL) && ok;
  if (!ok || !last)
    return ok;

  /* Whole: checked against the hash it was asked by before anything reads it. */
  ok = open_reader (&r, store, path, TRUE, error) && (got_hash = reader_hash (&r, error)) != NULL;
  close_reader (&r);
  if (!ok)
    {
      g_unlink (path);
      return FALSE;
    }
  if (strcmp (got_hash, sha256) != 0)
    {
      g_unlink (path);
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED,
                   _("The file downloaded does not have the SHA-256 it was asked by; it is fetched again."));
      return FALSE;
    }
  dest = file_path (store, sha256, "");
  if (g_rename (path, dest) != 0)
    {
      int e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", dest, g_strerror (e));
      return FALSE;
    }
  *complete = TRUE;
  return exec_file_sql (store,
                        "INSERT INTO attachment_file (sha256, have, uploaded, size) VALUES (?1, 1, 1, ?2) "
                        "ON CONFLICT (sha256) DO UPDATE SET have = 1, uploaded = 1",
                        sha256, total, error);
}

/* What moves --------------------------------------------------------------------------------- */

/* Asks for the file @sha256 (someone opened it); @on_metered: even on a metered network. */
gboolean
kh_attach_want (KhStore     *store,
                const char  *sha256,
                gboolean     on_metered,
                GError     **error)
{
  return exec_file_sql (store,
                        "INSERT INTO attachment_file (sha256, wanted, size) VALUES (?1, 1 + ?2, 0) "
                        "ON CONFLICT (sha256) DO UPDATE SET wanted = max(wanted, 1 + ?2)",
                        sha256, on_metered ? 1 : 0, error);
}

/* Keeps the files attached to @owner_id on this computer (a list marked "keep offline"). */
gboolean
kh_attach_keep_offline (KhStore     *store,
                        const char  *owner_id,
                        gboolean     keep,
                        GError     **error)
{
  return exec_file_sql (store,
                        keep ? "INSERT OR IGNORE INTO attachment_keep (owner_id) SELECT ?1 WHERE ?2 IS NOT NULL"
                             : "DELETE FROM attachment_keep WHERE owner_id = ?1 AND ?2 IS NOT NULL",
                        owner_id, 0, error);
}

/* Whether the files attached to @owner_id are kept on this computer. */
gboolean
kh_attach_is_kept_offline (KhStore    *store,
                           const char *owner_id)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT 1 FROM attachment_keep WHERE owner_id = ?1", NULL);
  gboolean kept;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, owner_id, -1, SQLITE_TRANSIENT);
  kept = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return kept;
}

/* Asks for every file that waits to be fetched, even on a metered network: the officer's
 * "Download Now" while files wait for a network that is not metered. Once: files kept offline
 * later wait again. */
gboolean
kh_attach_want_waiting (KhStore  *store,
                        GError  **error)
{
  g_autoptr(GPtrArray) waiting = kh_attach_pending_downloads (store, FALSE, error);

  if (waiting == NULL || !kh_store_begin (store, error))
    return FALSE;
  for (guint i = 0; i < waiting->len; i++)
    if (!kh_attach_want (store, ((KhAttachTransfer *) waiting->pdata[i])->sha256, TRUE, error))
      {
        kh_store_rollback (store);
        return FALSE;
      }
  return kh_store_commit (store, error);
}

gboolean
kh_attach_mark_uploaded (KhStore     *store,
                         const char  *sha256,
                         GError     **error)
{
  return exec_file_sql (store, "UPDATE attachment_file SET uploaded = 1 WHERE sha256 = ?1 AND ?2 = 0",
                        sha256, 0, error);
}

static GPtrArray *
collect (KhStore     *store,
         const char  *sql,
         gint64       arg,
         GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_attach_transfer_free);
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, arg);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KhAttachTransfer *t = g_new0 (KhAttachTransfer, 1);

      t->sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      t->attachment_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      t->size = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (out, t);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "attachment_file");
      return NULL;
    }
  for (guint i = 0; i < out->len; i++)
    {
      KhAttachTransfer *t = out->pdata[i];

      t->done = kh_attach_partial_size (store, t->sha256);
    }
  return g_steal_pointer (&out);
}

/* The files this replica holds and the server does not yet, each with an attachment record
 * the server knows (version > 0: records go first, and the server checks the file against
 * one). */
GPtrArray *
kh_attach_pending_uploads (KhStore  *store,
                           GError  **error)
{
  return collect (store,
                  "SELECT f.sha256, min(a.id), f.size FROM attachment_file f "
                  "JOIN attachment a ON a.sha256 = f.sha256 AND a.deleted = 0 AND a.version > 0 "
                  "WHERE f.have = 1 AND f.uploaded = 0 AND ?1 = ?1 GROUP BY f.sha256 ORDER BY f.size",
                  0, error);
}

/* The files to fetch: asked for, or attached to a record kept offline; on a @metered network
 * only those asked for even there. */
GPtrArray *
kh_attach_pending_downloads (KhStore   *store,
                             gboolean   metered,
                             GError   **error)
{
  return collect (store,
                  "SELECT a.sha256, min(a.id), max(a.size) FROM attachment a "
                  "LEFT JOIN attachment_file f ON f.sha256 = a.sha256 "
                  "WHERE a.deleted = 0 AND a.version > 0 AND coalesce(f.have, 0) = 0 "
                  "AND (coalesce(f.wanted, 0) > ?1 "
                  "     OR (?1 = 0 AND a.owner_id IN (SELECT owner_id FROM attachment_keep))) "
                  "GROUP BY a.sha256 ORDER BY max(a.size)",
                  metered ? 1 : 0, error);
}

/* What waits, for the Sync page; FALSE when it cannot be read. */
gboolean
kh_attach_count_waiting (KhStore *store,
                         gint64  *uploads,
                         gint64  *upload_bytes,
                         gint64  *downloads,
                         gint64  *download_bytes)
{
  /* Files whose record has not gone yet wait too: they go right after it. */
  g_autoptr(GPtrArray) up = collect (store,
                                     "SELECT f.sha256, min(a.id), f.size FROM attachment_file f "
                                     "JOIN attachment a ON a.sha256 = f.sha256 AND a.deleted = 0 "
                                     "WHERE f.have = 1 AND f.uploaded = 0 AND ?1 = ?1 GROUP BY f.sha256",
                                     0, NULL);
  g_autoptr(GPtrArray) down = kh_attach_pending_downloads (store, FALSE, NULL);

  *uploads = *upload_bytes = *downloads = *download_bytes = 0;
  if (up == NULL || down == NULL)
    return FALSE;
  for (guint i = 0; i < up->len; i++)
    *upload_bytes += ((KhAttachTransfer *) up->pdata[i])->size;
  for (guint i = 0; i < down->len; i++)
    *download_bytes += ((KhAttachTransfer *) down->pdata[i])->size;
  *uploads = up->len;
  *downloads = down->len;
  return TRUE;
}

/* The live attachments of @owner_id (NULL: every one), each record with "here" (the file is on
 * this computer) and "on_server" (the server has it, as far as this replica knows). */
json_object *
kh_attach_list (KhStore     *store,
                const char  *owner_id,
                GError     **error)
{
  const KhEntity *entity = kh_entity_lookup ("attachment");
  g_autofree char *columns = kh_store_select_columns (entity);
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce((SELECT f.have FROM attachment_file f WHERE f.sha256 = attachment.sha256), 0), "
                                          "coalesce((SELECT f.uploaded FROM attachment_file f WHERE f.sha256 = attachment.sha256), 0), %s "
                                          "FROM attachment WHERE deleted = 0 AND (?1 IS NULL OR owner_id = ?1) "
                                          "ORDER BY owner_id, name", columns);
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  json_object *list;
  int rc;

  if (stmt == NULL)
    return NULL;
  list = json_object_new_array ();
  sqlite3_bind_text (stmt, 1, owner_id, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *record = kh_store_row_to_json (entity, stmt, 2);

      json_object_object_add (record, "here", json_object_new_boolean (sqlite3_column_int (stmt, 0) == 1));
      json_object_object_add (record, "on_server",
                              json_object_new_boolean (sqlite3_column_int (stmt, 1) == 1));
      json_object_array_add (list, record);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "attachment");
      json_object_put (list);
      return NULL;
    }
  return list;
}

/* Asks for every file attached to @owner_id. */
gboolean
kh_attach_want_owner (KhStore     *store,
                      const char  *owner_id,
                      gboolean     on_metered,
                      GError     **error)
{
  return exec_file_sql (store,
                        "INSERT INTO attachment_file (sha256, wanted, size) "
                        "SELECT DISTINCT sha256, 1 + ?2, 0 FROM attachment "
                        "WHERE deleted = 0 AND (?1 IS NULL OR owner_id = ?1) AND true "
                        "ON CONFLICT (sha256) DO UPDATE SET wanted = max(wanted, excluded.wanted)",
                        owner_id, on_metered ? 1 : 0, error);
}

/* Seals the plain files of the replica @db_path, whose key was just given (the replica was
 * sealed in place, kh_crypt_convert()): each is written sealed beside itself, then put in its
 * place. A file cut short by a crash here is still read, as it is plain. */
gboolean
kh_attach_seal_files (const char  *db_path,
                      GError     **error)
{
  g_autofree char *dir_path = g_strconcat (db_path, "-files", NULL);
  g_autoptr(GDir) dir = NULL;
  guint8 probe[KH_CRYPT_KEY_BYTES];
  const char *name;
  gboolean sealed = files_key_for (db_path, probe);

  sodium_memzero (probe, sizeof probe);
  if (!sealed || !g_file_test (dir_path, G_FILE_TEST_IS_DIR))
    return TRUE;
  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *tmp = NULL;
      g_autofree char *data = NULL;
      gsize len = 0;
      gboolean ok;
      Writer w;

      if (!valid_hash (name) || file_is_sealed (path))
        {
          /* A download under way, plain, starts again sealed (kh_attach_partial_size()). */
          if (g_str_has_suffix (name, ".part") && !file_is_sealed (path))
            g_unlink (path);
          continue;
        }
      if (!g_file_get_contents (path, &data, &len, error))
        return FALSE;
      tmp = g_strconcat (path, ".sealing", NULL);
      ok = open_writer_for (&w, db_path, tmp, error);
      for (gsize at = 0; ok && at < len; at += KH_ATTACH_BLOCK)
        {
          gsize n = MIN ((gsize) KH_ATTACH_BLOCK, len - at);

          ok = writer_block (&w, (const guint8 *) data + at, n, at + n == len, error);
        }
      ok = ok && g_output_stream_close (w.out, NULL, error);
      close_writer (&w);
      if (ok && g_rename (tmp, path) != 0)
        {
          int e = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
          ok = FALSE;
        }
      if (!ok)
        {
          g_unlink (tmp);
          return FALSE;
        }
    }
  return TRUE;
}
