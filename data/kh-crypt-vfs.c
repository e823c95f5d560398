/* kh-crypt-vfs.c: an SQLite VFS that seals every page of a replica with its key
 *
 * A shim over the platform's VFS: SQLite hands it plain pages, it writes sealed ones. What it
 * writes, by the kind of file SQLite opens:
 *
 * - The database (and any database attached beside it, such as the search index's scratch
 *   file): pages of 4096 bytes, of which SQLite leaves the last 40 unused (the reserve, set with
 *   SQLITE_FCNTL_RESERVE_BYTES before the first page is written, see kh_crypt_vfs_prepare()).
 *   Each page is sealed on its own with XChaCha20-Poly1305 (libsodium's AEAD): the first 4056
 *   bytes are encrypted in place, and the reserve holds the 24-byte nonce and the 16-byte tag.
 *   The page's number is the associated data, so a page copied over another does not open. The page size is fixed: SQLite learns it from the header in page 1, which is
 *   sealed too, so the shim must know it without reading it.
 * - The WAL: a 32-byte header and, per frame, a 24-byte frame header and a page. The headers
 *   (page numbers, salts, checksums: nothing of the records) are written as they are, the page
 *   sealed as above, with the page number of its frame header. A checkpoint carries a page
 *   from the WAL into the database sealed as it is, neither opened nor sealed again (see
 *   Checkpoint below). SQLite checksums the plain page, so a torn or altered frame that does not
 *   open is given back as zeros when a whole frame is read (what recovery does): its checksum
 *   fails and SQLite drops it, as it drops a frame torn by a crash.
 * - The rollback journal and the other files SQLite opens by name (a super-journal):
 *   encrypted with XChaCha20 at the byte offset, keyed with the replica's key, with a random
 *   nonce in a 24-byte header of the file. A journal is read back after a crash, by another
 *   process, so its key must be the replica's.
 * - Temporary files (no name: sorting for CREATE INDEX, statement journals, temporary tables):
 *   the same stream, with a key and a nonce made at random when the file is opened; nobody
 *   reads them after it is closed.
 *
 * The nonces of pages are a random 16-byte prefix made once per process and a 64-bit counter:
 * never the same twice with a key, without a system call per page. Memory-mapped I/O is not
 * offered (the methods are version 2), so SQLite reads through xRead.
 *
 * Keys are found by the file's name: the key given for a database (kh_crypt_vfs_set_key())
 * also seals every file named after it ("<database>-wal", "-journal", "-search"). A file
 * without a key passes through unchanged.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kh-crypt-vfs.h"

#define PAGE        4096
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define RESERVE     (NONCE_BYTES + TAG_BYTES)
#define USABLE      (PAGE - RESERVE)
#define WAL_HDR     32
#define FRAME_HDR   24
#define FRAME       (FRAME_HDR + PAGE)
#define STREAM_HDR  crypto_stream_xchacha20_NONCEBYTES

G_STATIC_ASSERT (RESERVE == 40);
G_STATIC_ASSERT (crypto_aead_xchacha20poly1305_ietf_KEYBYTES == KH_CRYPT_KEY_BYTES);
G_STATIC_ASSERT (crypto_stream_xchacha20_KEYBYTES == KH_CRYPT_KEY_BYTES);

/* The subkeys of a replica's key, one per use. */
#define SUBKEY_PAGES  1
#define SUBKEY_STREAM 2
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'k', 'h', 'c', 'r', 'y', 'p', 't', '1' };

typedef struct
{
  unsigned char  *key;       /* sodium_malloc'd: locked in memory, guarded */
  KhCryptFailure  failure;
} KeyEntry;

typedef enum
{
  KIND_PLAIN,
  KIND_DB,
  KIND_WAL,
  KIND_STREAM,
} FileKind;

typedef struct
{
  sqlite3_file   base;
  FileKind       kind;
  char          *db_path;       /* the key's entry, for failures */
  unsigned char *keys;          /* sodium_malloc'd: page key, stream key */
  unsigned char  nonce[STREAM_HDR];
  gboolean       header;        /* the stream's nonce is in the file's first bytes */
  sqlite3_int64  frame_offset;  /* the WAL frame header written last, and its page number */
  guint32        frame_pgno;
  gboolean       nonce_set;
  sqlite3_file  *real;          /* the platform's file, right after this struct */
} CryptFile;

static sqlite3_vfs *real_vfs;
static GMutex keys_lock;
static GHashTable *keys;  /* canonical database path → KeyEntry */
static unsigned char nonce_prefix[16];
static guint64 nonce_counter;
static guint64 pages_sealed;  /* pages sealed and opened in this process, kh_crypt_vfs_counts() */
static guint64 pages_opened;

/* A checkpoint on this thread. SQLite copies each page it checkpoints from the WAL to the
 * database between SQLITE_FCNTL_CKPT_START and SQLITE_FCNTL_CKPT_DONE on the database's file:
 * it reads the page into a buffer and at once writes that buffer, without looking at it. The
 * page is carried sealed, neither opened nor sealed again: its seal's associated data is its
 * page number, the same in both files, and the copy keeps the nonce with the very plaintext it
 * sealed, so no nonce seals two texts. A page that does not open in the WAL does not open in
 * the database either: it is found out when it is read. Other threads' connections to the
 * same files go on opening what they read (this is the thread's own). */
typedef struct
{
  CryptFile     *db;              /* the database being checkpointed, or NULL */
  const void    *page;            /* the buffer a WAL page was just read into, still sealed */
  unsigned char  seal[RESERVE];   /* its nonce and tag, to know it again */
} Checkpoint;

static __thread Checkpoint checkpoint;

static void
key_entry_free (gpointer data)
{
  KeyEntry *entry = data;

  sodium_free (entry->key);
  g_free (entry);
}

/* The name SQLite will give the file: absolute, its folder's links resolved (the unix VFS
 * resolves them too). */
static char *
canonical_path (const char *path)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  g_autofree char *dir = g_path_get_dirname (abs);
  g_autofree char *base = g_path_get_basename (abs);
  char resolved[PATH_MAX];

  if (realpath (dir, resolved) != NULL)
    return g_build_filename (resolved, base, NULL);
  return g_steal_pointer (&abs);
}

/* The database whose key seals @name: @name itself, or the database it is named after
 * ("<database>-wal"). Called with keys_lock held; the returned key is the table's. */
static const char *
find_database (const char  *name,
               KeyEntry   **entry_out)
{
  GHashTableIter iter;
  gpointer path, entry;

  if (keys == NULL || name == NULL)
    return NULL;
  if (g_hash_table_lookup_extended (keys, name, &path, &entry))
    {
      *entry_out = entry;
      return path;
    }
  g_hash_table_iter_init (&iter, keys);
  while (g_hash_table_iter_next (&iter, &path, &entry))
    {
      size_t len = strlen (path);

      if (strncmp (name, path, len) == 0 && name[len] == '-')
        {
          *entry_out = entry;
          return path;
        }
    }
  return NULL;
}

static void
record_failure (CryptFile      *f,
                KhCryptFailure  failure)
{
  KeyEntry *entry;

  g_mutex_lock (&keys_lock);
  entry = keys != NULL ? g_hash_table_lookup (keys, f->db_path) : NULL;
  if (entry != NULL && entry->failure == KH_CRYPT_FAILURE_NONE)
    entry->failure = failure;
  g_mutex_unlock (&keys_lock);
}

/* Sealing ------------------------------------------------------------------------------------ */

static void
next_nonce (unsigned char *nonce)
{
  guint64 n = __atomic_fetch_add (&nonce_counter, 1, __ATOMIC_RELAXED);

  memcpy (nonce, nonce_prefix, sizeof nonce_prefix);
  for (int i = 0; i < 8; i++)
    nonce[sizeof nonce_prefix + i] = (unsigned char) (n >> (8 * i));
}

static void
pgno_ad (unsigned char *ad,
         guint32        pgno)
{
  for (int i = 0; i < 4; i++)
    ad[i] = (unsigned char) (pgno >> (8 * i));
}

/* Seals the plain page @in, page @pgno of its database, into @out. */
static void
seal_page (const unsigned char *key,
           const unsigned char *in,
           unsigned char       *out,
           guint32              pgno)
{
  unsigned char ad[4];

  __atomic_fetch_add (&pages_sealed, 1, __ATOMIC_RELAXED);
  pgno_ad (ad, pgno);
  next_nonce (out + USABLE);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached (out, out + USABLE + NONCE_BYTES, NULL,
                                                       in, USABLE, ad, sizeof ad, NULL,
                                                       out + USABLE, key);
}

/* Opens the sealed page @in into @out; FALSE if it does not open with @key. The reserve of
 * the plain page is zeros. */
static gboolean
open_page (const unsigned char *key,
           const unsigned char *in,
           unsigned char       *out,
           guint32              pgno)
{
  unsigned char ad[4];

  pgno_ad (ad, pgno);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached (out, NULL, in, USABLE,
                                                           in + USABLE + NONCE_BYTES,
                                                           ad, sizeof ad, in + USABLE, key) != 0)
    return FALSE;
  memset (out + USABLE, 0, RESERVE);
  return TRUE;
}

/* XORs @len bytes at byte @offset of the stream into place. */
static void
stream_xor (CryptFile     *f,
            unsigned char *buf,
            size_t         len,
            sqlite3_int64  offset)
{
  const unsigned char *key = f->keys + KH_CRYPT_KEY_BYTES;
  size_t skip = (size_t) (offset % 64);

  if (skip != 0 && len > 0)
    {
      unsigned char block[64] = { 0 };
      size_t n = MIN (64 - skip, len);

      memcpy (block + skip, buf, n);
      crypto_stream_xchacha20_xor_ic (block, block, 64, f->nonce, (guint64) offset / 64, key);
      memcpy (buf, block + skip, n);
      sodium_memzero (block, sizeof block);
      buf += n;
      len -= n;
      offset += n;
    }
  if (len > 0)
    crypto_stream_xchacha20_xor_ic (buf, buf, len, f->nonce, (guint64) offset / 64, key);
}

/* I/O methods ------------------------------------------------------------------------------ */

static int
crypt_close (sqlite3_file *file)
{
  CryptFile *f = (CryptFile *) file;
  int rc = f->real->pMethods != NULL ? f->real->pMethods->xClose (f->real) : SQLITE_OK;

  if (checkpoint.db == f)
    checkpoint.db = NULL;

  sodium_free (f->keys);
  f->keys = NULL;
  g_clear_pointer (&f->db_path, g_free);
  return rc;
}

static sqlite3_int64
stream_header (CryptFile *f)
{
  return f->header ? STREAM_HDR : 0;
}

/* How many bytes at @offset the file really has, of @amt asked for. */
static int
bytes_present (CryptFile     *f,
               sqlite3_int64  offset,
               int            amt)
{
  sqlite3_int64 size = 0;

  if (f->real->pMethods->xFileSize (f->real, &size) != SQLITE_OK || size <= offset)
    return 0;
  return (int) MIN ((sqlite3_int64) amt, size - offset);
}

static guint32
frame_header_pgno (const unsigned char *header)
{
  return (guint32) header[0] << 24 | (guint32) header[1] << 16 | (guint32) header[2] << 8 | header[3];
}

/* The page number in the WAL frame header before the page at @offset (read from the file). */
static int
frame_pgno (CryptFile     *f,
            sqlite3_int64  offset,
            guint32       *pgno)
{
  unsigned char header[FRAME_HDR] = { 0 };
  int rc = f->real->pMethods->xRead (f->real, header, FRAME_HDR, offset - FRAME_HDR);

  *pgno = frame_header_pgno (header);
  return rc;
}

/* Opens @in, the sealed page @pgno read at @offset, into @out (which may be @in). */
static int
open_sealed (CryptFile           *f,
             const unsigned char *in,
             unsigned char       *out,
             sqlite3_int64        offset,
             guint32              pgno,
             gboolean             torn_is_zero)
{
  __atomic_fetch_add (&pages_opened, 1, __ATOMIC_RELAXED);
  if (open_page (f->keys, in, out, pgno))
    return SQLITE_OK;
  memset (out, 0, PAGE);
  if (torn_is_zero)
    return SQLITE_OK;
  record_failure (f, offset == 0 && f->kind == KIND_DB ? KH_CRYPT_FAILURE_WRONG_KEY
                                                       : KH_CRYPT_FAILURE_TAMPERED);
  return SQLITE_IOERR_DATA;
}

/* Reads the sealed page @pgno at @offset and opens it in place, in @out. */
static int
read_page (CryptFile     *f,
           unsigned char *out,
           sqlite3_int64  offset,
           guint32        pgno,
           gboolean       torn_is_zero)
{
  int rc = f->real->pMethods->xRead (f->real, out, PAGE, offset);

  if (rc == SQLITE_IOERR_SHORT_READ)
    {
      /* Nothing there (past the end): zeros, as SQLite expects. A part of a page: torn. */
      if (bytes_present (f, offset, PAGE) == 0 || torn_is_zero)
        {
          memset (out, 0, PAGE);
          return SQLITE_IOERR_SHORT_READ;
        }
      record_failure (f, KH_CRYPT_FAILURE_TAMPERED);
      return SQLITE_IOERR_DATA;
    }
  if (rc != SQLITE_OK)
    return rc;
  return open_sealed (f, out, out, offset, pgno, torn_is_zero);
}

/* Reads the page of the WAL frame at @offset (after its header) into @out: sealed, for a
 * checkpoint on this thread to carry to the database; opened otherwise, its frame header and
 * page read at once. */
static int
read_wal_page (CryptFile     *f,
               unsigned char *out,
               sqlite3_int64  offset)
{
  unsigned char frame[FRAME];
  int rc;

  if (checkpoint.db != NULL && strcmp (checkpoint.db->db_path, f->db_path) == 0)
    {
      rc = f->real->pMethods->xRead (f->real, out, PAGE, offset);
      if (rc == SQLITE_OK)
        {
          checkpoint.page = out;
          memcpy (checkpoint.seal, out + USABLE, RESERVE);
        }
      return rc;
    }
  rc = f->real->pMethods->xRead (f->real, frame, FRAME, offset - FRAME_HDR);
  if (rc == SQLITE_OK)
    return open_sealed (f, frame + FRAME_HDR, out, offset, frame_header_pgno (frame), FALSE);
  if (rc != SQLITE_IOERR_SHORT_READ)
    return rc;
  /* A frame cut short: nothing of its page (zeros), or a part of it (torn). */
  return read_page (f, out, offset, frame_header_pgno (frame), FALSE);
}

static int
crypt_read (sqlite3_file  *file,
            void          *buf,
            int            amt,
            sqlite3_int64  offset)
{
  CryptFile *f = (CryptFile *) file;
  unsigned char *out = buf;

  switch (f->kind)
    {
    case KIND_DB:
      if (amt == PAGE && offset % PAGE == 0)
        return read_page (f, out, offset, offset / PAGE + 1, FALSE);
      if (offset % PAGE + amt <= PAGE)
        {
          /* A part of a page (SQLite reads the header's first 100 bytes, or 16 of them). */
          unsigned char page[PAGE];
          int rc = read_page (f, page, offset - offset % PAGE, offset / PAGE + 1, FALSE);

          memcpy (out, page + offset % PAGE, amt);
          return rc;
        }
      return SQLITE_IOERR_READ;

    case KIND_WAL:
      if (offset >= WAL_HDR)
        {
          sqlite3_int64 within = (offset - WAL_HDR) % FRAME;
          guint32 pgno;
          int rc;

          if (amt == PAGE && within == FRAME_HDR)
            return read_wal_page (f, out, offset);
          if (amt == FRAME && within == 0)
            {
              /* Recovery reads whole frames and checks their checksums: a frame that does
               * not open is left to fail them, as a torn one does. */
              rc = f->real->pMethods->xRead (f->real, out, FRAME_HDR, offset);
              if (rc != SQLITE_OK)
                {
                  memset (out, 0, FRAME);
                  return rc;
                }
              pgno = frame_header_pgno (out);
              return read_page (f, out + FRAME_HDR, offset + FRAME_HDR, pgno, TRUE);
            }
        }
      /* Headers are written as they are. */
      return f->real->pMethods->xRead (f->real, buf, amt, offset);

    case KIND_STREAM:
      {
        int rc = f->real->pMethods->xRead (f->real, buf, amt, offset + stream_header (f));
        int got = amt;

        if (rc == SQLITE_IOERR_SHORT_READ)
          got = bytes_present (f, offset + stream_header (f), amt);
        else if (rc != SQLITE_OK)
          return rc;
        if (got > 0 && f->nonce_set)
          stream_xor (f, out, got, offset);
        memset (out + got, 0, amt - got);
        return rc;
      }

    case KIND_PLAIN:
    default:
      return f->real->pMethods->xRead (f->real, buf, amt, offset);
    }
}

/* Gives a stream its nonce: a new one, written at the head of the file when it has one. */
static int
stream_begin (CryptFile *f)
{
  randombytes_buf (f->nonce, sizeof f->nonce);
  f->nonce_set = TRUE;
  if (f->header)
    return f->real->pMethods->xWrite (f->real, f->nonce, STREAM_HDR, 0);
  return SQLITE_OK;
}

static int
crypt_write (sqlite3_file  *file,
             const void    *buf,
             int            amt,
             sqlite3_int64  offset)
{
  CryptFile *f = (CryptFile *) file;
  unsigned char sealed[PAGE];
  guint32 pgno;

  switch (f->kind)
    {
    case KIND_DB:
      if (checkpoint.db == f && checkpoint.page == buf && amt == PAGE && offset % PAGE == 0
          && memcmp ((const unsigned char *) buf + USABLE, checkpoint.seal, RESERVE) == 0)
        {
          /* The page this checkpoint has just read from the WAL, sealed (see Checkpoint). */
          checkpoint.page = NULL;
          return f->real->pMethods->xWrite (f->real, buf, PAGE, offset);
        }
      /* A page that has no room for its seal is not written at all: never in the clear. */
      if (amt != PAGE || offset % PAGE != 0
          || (offset == 0 && ((const unsigned char *) buf)[20] < RESERVE))
        return SQLITE_IOERR_WRITE;
      pgno = offset / PAGE + 1;
      seal_page (f->keys, buf, sealed, pgno);
      return f->real->pMethods->xWrite (f->real, sealed, PAGE, offset);

    case KIND_WAL:
      if (offset == 0 && amt == WAL_HDR)
        return f->real->pMethods->xWrite (f->real, buf, amt, offset);
      if (offset >= WAL_HDR && (offset - WAL_HDR) % FRAME == 0 && amt == FRAME_HDR)
        {
          const unsigned char *h = buf;

          /* The page comes next: its number is its seal's associated data. */
          f->frame_offset = offset;
          f->frame_pgno = (guint32) h[0] << 24 | (guint32) h[1] << 16 | (guint32) h[2] << 8 | h[3];
          return f->real->pMethods->xWrite (f->real, buf, amt, offset);
        }
      if (amt == PAGE && offset >= WAL_HDR && (offset - WAL_HDR) % FRAME == FRAME_HDR)
        {
          int rc;

          /* A page written again in its frame, in the same transaction: its header is read. */
          if (f->frame_offset == offset - FRAME_HDR)
            pgno = f->frame_pgno;
          else if ((rc = frame_pgno (f, offset, &pgno)) != SQLITE_OK)
            return rc;
          seal_page (f->keys, buf, sealed, pgno);
          return f->real->pMethods->xWrite (f->real, sealed, PAGE, offset);
        }
      return SQLITE_IOERR_WRITE;

    case KIND_STREAM:
      {
        g_autofree unsigned char *copy = NULL;
        int rc;

        if (!f->nonce_set && (rc = stream_begin (f)) != SQLITE_OK)
          return rc;
        copy = g_memdup2 (buf, amt);
        stream_xor (f, copy, amt, offset);
        return f->real->pMethods->xWrite (f->real, copy, amt, offset + stream_header (f));
      }

    case KIND_PLAIN:
    default:
      return f->real->pMethods->xWrite (f->real, buf, amt, offset);
    }
}

static int
crypt_truncate (sqlite3_file  *file,
                sqlite3_int64  size)
{
  CryptFile *f = (CryptFile *) file;

  if (f->kind == KIND_STREAM && f->header)
    {
      /* Emptied, a journal starts again under a new nonce, never the old one's stream. */
      if (size == 0)
        {
          f->nonce_set = FALSE;
          return f->real->pMethods->xTruncate (f->real, 0);
        }
      return f->real->pMethods->xTruncate (f->real, size + STREAM_HDR);
    }
  return f->real->pMethods->xTruncate (f->real, size);
}

static int
crypt_sync (sqlite3_file *file,
            int           flags)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xSync (f->real, flags);
}

static int
crypt_file_size (sqlite3_file  *file,
                 sqlite3_int64 *size)
{
  CryptFile *f = (CryptFile *) file;
  int rc = f->real->pMethods->xFileSize (f->real, size);

  if (rc == SQLITE_OK && f->kind == KIND_STREAM && f->header)
    *size = MAX (0, *size - STREAM_HDR);
  return rc;
}

static int
crypt_lock (sqlite3_file *file,
            int           level)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xLock (f->real, level);
}

static int
crypt_unlock (sqlite3_file *file,
              int           level)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xUnlock (f->real, level);
}

static int
crypt_check_reserved_lock (sqlite3_file *file,
                           int          *out)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xCheckReservedLock (f->real, out);
}

static int
crypt_file_control (sqlite3_file *file,
                    int           op,
                    void         *arg)
{
  CryptFile *f = (CryptFile *) file;

  if (f->kind == KIND_DB && (op == SQLITE_FCNTL_CKPT_START || op == SQLITE_FCNTL_CKPT_DONE))
    {
      checkpoint.db = op == SQLITE_FCNTL_CKPT_START ? f : NULL;
      checkpoint.page = NULL;
    }
  /* No memory map: pages are read through xRead, to be opened. */
  if (op == SQLITE_FCNTL_MMAP_SIZE && f->kind != KIND_PLAIN)
    {
      *(sqlite3_int64 *) arg = 0;
      return SQLITE_OK;
    }
  return f->real->pMethods->xFileControl (f->real, op, arg);
}

static int
crypt_sector_size (sqlite3_file *file)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xSectorSize (f->real);
}

static int
crypt_device_characteristics (sqlite3_file *file)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xDeviceCharacteristics (f->real);
}

static int
crypt_shm_map (sqlite3_file  *file,
               int            page,
               int            size,
               int            extend,
               void volatile **out)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xShmMap (f->real, page, size, extend, out);
}

static int
crypt_shm_lock (sqlite3_file *file,
                int           offset,
                int           n,
                int           flags)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xShmLock (f->real, offset, n, flags);
}

static void
crypt_shm_barrier (sqlite3_file *file)
{
  CryptFile *f = (CryptFile *) file;

  f->real->pMethods->xShmBarrier (f->real);
}

static int
crypt_shm_unmap (sqlite3_file *file,
                 int           delete)
{
  CryptFile *f = (CryptFile *) file;

  return f->real->pMethods->xShmUnmap (f->real, delete);
}

/* Version 2: the wal-index's shared memory (page numbers and salts, nothing of the records),
 * and no xFetch, so SQLite never maps the sealed file in memory. */
static const sqlite3_io_methods crypt_methods = {
  2,
  crypt_close,
  crypt_read,
  crypt_write,
  crypt_truncate,
  crypt_sync,
  crypt_file_size,
  crypt_lock,
  crypt_unlock,
  crypt_check_reserved_lock,
  crypt_file_control,
  crypt_sector_size,
  crypt_device_characteristics,
  crypt_shm_map,
  crypt_shm_lock,
  crypt_shm_barrier,
  crypt_shm_unmap,
  NULL,
  NULL,
};

/* The VFS ---------------------------------------------------------------------------------- */

static int
crypt_open (sqlite3_vfs  *vfs,
            const char   *name,
            sqlite3_file *file,
            int           flags,
            int          *out_flags)
{
  CryptFile *f = (CryptFile *) file;
  KeyEntry *entry = NULL;
  const char *db_path;
  int rc;

  memset (f, 0, sizeof *f);
  f->real = (sqlite3_file *) (f + 1);
  rc = real_vfs->xOpen (real_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK)
    return rc;

  if (name == NULL || (flags & (SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_TEMP_DB
                                | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL
                                | SQLITE_OPEN_TRANSIENT_DB)))
    {
      /* Nobody reads a temporary file after it is closed: a key of its own. */
      f->kind = KIND_STREAM;
      f->keys = sodium_malloc (2 * KH_CRYPT_KEY_BYTES);
      if (f->keys == NULL)
        {
          f->real->pMethods->xClose (f->real);
          return SQLITE_NOMEM;
        }
      randombytes_buf (f->keys, 2 * KH_CRYPT_KEY_BYTES);
      f->base.pMethods = &crypt_methods;
      return SQLITE_OK;
    }

  g_mutex_lock (&keys_lock);
  db_path = find_database (name, &entry);
  if (db_path != NULL)
    {
      f->keys = sodium_malloc (2 * KH_CRYPT_KEY_BYTES);
      if (f->keys != NULL)
        {
          crypto_kdf_derive_from_key (f->keys, KH_CRYPT_KEY_BYTES, SUBKEY_PAGES, kdf_context,
                                      entry->key);
          crypto_kdf_derive_from_key (f->keys + KH_CRYPT_KEY_BYTES, KH_CRYPT_KEY_BYTES,
                                      SUBKEY_STREAM, kdf_context, entry->key);
        }
      f->db_path = g_strdup (db_path);
    }
  g_mutex_unlock (&keys_lock);

  if (db_path == NULL)
    f->kind = KIND_PLAIN;
  else if (f->keys == NULL)
    {
      f->real->pMethods->xClose (f->real);
      g_free (f->db_path);
      return SQLITE_NOMEM;
    }
  else if (flags & SQLITE_OPEN_MAIN_DB)
    f->kind = KIND_DB;
  else if (flags & SQLITE_OPEN_WAL)
    f->kind = KIND_WAL;
  else
    {
      /* A journal: its nonce is at its head, if it has one yet. */
      sqlite3_int64 size = 0;

      f->kind = KIND_STREAM;
      f->header = TRUE;
      f->real->pMethods->xFileSize (f->real, &size);
      if (size >= STREAM_HDR
          && f->real->pMethods->xRead (f->real, f->nonce, STREAM_HDR, 0) == SQLITE_OK)
        f->nonce_set = TRUE;
      else if (size > 0)
        f->real->pMethods->xTruncate (f->real, 0);
    }
  f->base.pMethods = &crypt_methods;
  return SQLITE_OK;
}

static int
crypt_delete (sqlite3_vfs *vfs,
              const char  *name,
              int          sync_dir)
{
  return real_vfs->xDelete (real_vfs, name, sync_dir);
}

static int
crypt_access (sqlite3_vfs *vfs,
              const char  *name,
              int          flags,
              int         *out)
{
  return real_vfs->xAccess (real_vfs, name, flags, out);
}

static int
crypt_full_pathname (sqlite3_vfs *vfs,
                     const char  *name,
                     int          n,
                     char        *out)
{
  return real_vfs->xFullPathname (real_vfs, name, n, out);
}

static void *
crypt_dl_open (sqlite3_vfs *vfs,
               const char  *name)
{
  return real_vfs->xDlOpen (real_vfs, name);
}

static void
crypt_dl_error (sqlite3_vfs *vfs,
                int          n,
                char        *out)
{
  real_vfs->xDlError (real_vfs, n, out);
}

static void (*crypt_dl_sym (sqlite3_vfs *vfs,
                            void        *handle,
                            const char  *symbol)) (void)
{
  return real_vfs->xDlSym (real_vfs, handle, symbol);
}

static void
crypt_dl_close (sqlite3_vfs *vfs,
                void        *handle)
{
  real_vfs->xDlClose (real_vfs, handle);
}

static int
crypt_randomness (sqlite3_vfs *vfs,
                  int          n,
                  char        *out)
{
  return real_vfs->xRandomness (real_vfs, n, out);
}

static int
crypt_sleep (sqlite3_vfs *vfs,
             int          us)
{
  return real_vfs->xSleep (real_vfs, us);
}

static int
crypt_current_time (sqlite3_vfs *vfs,
                    double      *out)
{
  return real_vfs->xCurrentTime (real_vfs, out);
}

static int
crypt_get_last_error (sqlite3_vfs *vfs,
                      int          n,
                      char        *out)
{
  return real_vfs->xGetLastError (real_vfs, n, out);
}

static int
crypt_current_time_int64 (sqlite3_vfs   *vfs,
                          sqlite3_int64 *out)
{
  return real_vfs->xCurrentTimeInt64 (real_vfs, out);
}

static sqlite3_vfs crypt_vfs = {
  2,
  0,
  0,
  NULL,
  KH_CRYPT_VFS_NAME,
  NULL,
  crypt_open,
  crypt_delete,
  crypt_access,
  crypt_full_pathname,
  crypt_dl_open,
  crypt_dl_error,
  crypt_dl_sym,
  crypt_dl_close,
  crypt_randomness,
  crypt_sleep,
  crypt_current_time,
  crypt_get_last_error,
  crypt_current_time_int64,
  NULL,
  NULL,
  NULL,
};

/* Registers the VFS with SQLite (not as the default); TRUE once it is. */
gboolean
kh_crypt_vfs_register (void)
{
  static gsize done;
  static gboolean ok;

  if (g_once_init_enter (&done))
    {
      if (sodium_init () >= 0 && (real_vfs = sqlite3_vfs_find (NULL)) != NULL
          && real_vfs->iVersion >= 2)
        {
          randombytes_buf (nonce_prefix, sizeof nonce_prefix);
          crypt_vfs.mxPathname = real_vfs->mxPathname;
          crypt_vfs.szOsFile = sizeof (CryptFile) + real_vfs->szOsFile;
          ok = sqlite3_vfs_register (&crypt_vfs, 0) == SQLITE_OK;
        }
      g_once_init_leave (&done, 1);
    }
  return ok;
}

/* Seals database @db_path and the files named after it with @key (KH_CRYPT_KEY_BYTES) from
 * now on in this process; connections opened with the VFS find it by the file's name. */
void
kh_crypt_vfs_set_key (const char   *db_path,
                      const guint8 *key)
{
  KeyEntry *entry;

  g_return_if_fail (db_path != NULL && key != NULL);

  if (!kh_crypt_vfs_register ())
    g_error ("libsodium or SQLite could not be set up");
  entry = g_new0 (KeyEntry, 1);
  entry->key = sodium_malloc (KH_CRYPT_KEY_BYTES);
  if (entry->key == NULL)
    g_error ("no memory for a key");
  memcpy (entry->key, key, KH_CRYPT_KEY_BYTES);
  g_mutex_lock (&keys_lock);
  if (keys == NULL)
    keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, key_entry_free);
  g_hash_table_replace (keys, canonical_path (db_path), entry);
  g_mutex_unlock (&keys_lock);
}

void
kh_crypt_vfs_forget_key (const char *db_path)
{
  g_autofree char *path = canonical_path (db_path);

  g_mutex_lock (&keys_lock);
  if (keys != NULL)
    g_hash_table_remove (keys, path);
  g_mutex_unlock (&keys_lock);
}

/* Copies the key given for @db_path itself (not for a database it is named after) into @key,
 * if there is one. */
gboolean
kh_crypt_vfs_get_key (const char *db_path,
                      guint8     *key)
{
  g_autofree char *path = canonical_path (db_path);
  KeyEntry *entry = NULL;

  g_mutex_lock (&keys_lock);
  if (keys != NULL)
    entry = g_hash_table_lookup (keys, path);
  if (entry != NULL && key != NULL)
    memcpy (key, entry->key, KH_CRYPT_KEY_BYTES);
  g_mutex_unlock (&keys_lock);
  return entry != NULL;
}

gboolean
kh_crypt_vfs_has_key (const char *db_path)
{
  return kh_crypt_vfs_get_key (db_path, NULL);
}

/* Why a page of @db_path (or a file named after it) last failed to open, and forgets it. */
KhCryptFailure
kh_crypt_vfs_take_failure (const char *db_path)
{
  g_autofree char *path = canonical_path (db_path);
  KhCryptFailure failure = KH_CRYPT_FAILURE_NONE;
  KeyEntry *entry = NULL;

  g_mutex_lock (&keys_lock);
  if (keys != NULL && find_database (path, &entry) != NULL)
    {
      failure = entry->failure;
      entry->failure = KH_CRYPT_FAILURE_NONE;
    }
  g_mutex_unlock (&keys_lock);
  return failure;
}

/* Reads up to @len bytes at the head of file @path into @buf (zeros past its end) and its
 * size, through the platform's VFS: never with a descriptor of our own, whose close() would
 * drop every POSIX lock this process holds on the file, those of SQLite's connections too
 * (the unix VFS keeps such a descriptor open until their locks are gone). FALSE if there is no
 * such file. */
gboolean
kh_crypt_vfs_peek (const char    *path,
                   guint8        *buf,
                   int            len,
                   sqlite3_int64 *size)
{
  g_autofree char *full = NULL;
  g_autofree sqlite3_file *file = NULL;
  sqlite3_filename name;
  int out = 0, rc;

  if (!kh_crypt_vfs_register ())
    return FALSE;
  full = g_malloc0 (real_vfs->mxPathname + 1);
  if (real_vfs->xFullPathname (real_vfs, path, real_vfs->mxPathname + 1, full) != SQLITE_OK)
    return FALSE;
  /* A database's name as SQLite makes it (the VFS reads parameters after it). */
  name = sqlite3_create_filename (full, "", "", 0, NULL);
  file = g_malloc0 (real_vfs->szOsFile);
  rc = real_vfs->xOpen (real_vfs, name, file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out);
  if (rc == SQLITE_OK)
    {
      memset (buf, 0, len);
      rc = file->pMethods->xRead (file, buf, len, 0);
      if (rc == SQLITE_IOERR_SHORT_READ)
        rc = SQLITE_OK;
      if (file->pMethods->xFileSize (file, size) != SQLITE_OK)
        rc = SQLITE_IOERR;
    }
  if (file->pMethods != NULL)
    file->pMethods->xClose (file);
  sqlite3_free_filename (name);
  return rc == SQLITE_OK;
}

/* Whether @key opens the first page of database @db_path, read from the file: TRUE too when
 * the file has no whole page yet. Checked before SQLite opens the database: with a wrong key,
 * SQLite would take the WAL's frames for torn ones and, closing, drop them. */
gboolean
kh_crypt_vfs_check_key (const char   *db_path,
                        const guint8 *key)
{
  unsigned char sealed[PAGE], plain[PAGE], page_key[KH_CRYPT_KEY_BYTES];
  sqlite3_int64 size = 0;
  gboolean ok;

  if (!kh_crypt_vfs_peek (db_path, sealed, PAGE, &size) || size < PAGE)
    return TRUE;
  crypto_kdf_derive_from_key (page_key, sizeof page_key, SUBKEY_PAGES, kdf_context, key);
  ok = open_page (page_key, sealed, plain, 1);
  sodium_memzero (page_key, sizeof page_key);
  sodium_memzero (plain, sizeof plain);
  return ok;
}

/* Whether @db's main database is opened through this VFS. */
gboolean
kh_crypt_vfs_is_sealed (sqlite3 *db)
{
  sqlite3_vfs *vfs = NULL;

  return sqlite3_file_control (db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK
         && vfs == &crypt_vfs;
}

/* Leaves room for the seal in every page of @db's database @schema, if it is sealed; before
 * its first page is written (a database that has pages keeps the reserve it was made with). */
int
kh_crypt_vfs_prepare (sqlite3    *db,
                      const char *schema)
{
  int reserve = RESERVE;
  sqlite3_vfs *vfs = NULL;

  if (sqlite3_file_control (db, schema, SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK
      || vfs != &crypt_vfs)
    return SQLITE_OK;
  return sqlite3_file_control (db, schema, SQLITE_FCNTL_RESERVE_BYTES, &reserve);
}

/* For tests and benchmarks: how many pages this process has sealed and opened so far (either
 * may be NULL). */
void
kh_crypt_vfs_counts (guint64 *sealed,
                     guint64 *opened)
{
  if (sealed != NULL)
    *sealed = __atomic_load_n (&pages_sealed, __ATOMIC_RELAXED);
  if (opened != NULL)
    *opened = __atomic_load_n (&pages_opened, __ATOMIC_RELAXED);
}
