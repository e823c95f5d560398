/* kh-server-files.h: where the server keeps attached files, and what it does with them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-server-core.h"

G_BEGIN_DECLS

/* The storage of files by SHA-256, behind a table of functions: a folder of files here
 * (kh_file_store_new_folder()); an S3-compatible object store can implement the same, with a
 * multipart upload for what is under way. An upload under way is appended to in order, and
 * becomes a file only through finish(), which checks the hash. */
typedef struct _KhFileStore KhFileStore;

typedef gboolean (*KhFileStoreFunc) (const char *sha256,
                                     gint64      size,
                                     gpointer    user_data);

typedef struct
{
  /* Whether the whole file is there, and its size. */
  gboolean (*has)     (KhFileStore      *self,
                       const char       *sha256,
                       gint64           *size);
  /* The bytes of the upload under way (0: none). */
  gint64   (*partial) (KhFileStore      *self,
                       const char       *sha256);
  /* Appends @len bytes at @offset, which must be partial()'s answer. */
  gboolean (*append)  (KhFileStore      *self,
                       const char       *sha256,
                       gint64            offset,
                       const guint8     *data,
                       gsize             len,
                       GError          **error);
  /* Makes the upload the file if its SHA-256 is @sha256; else drops it, FALSE. */
  gboolean (*finish)  (KhFileStore      *self,
                       const char       *sha256,
                       GError          **error);
  GBytes  *(*read)    (KhFileStore      *self,
                       const char       *sha256,
                       gint64            offset,
                       gsize             len,
                       GError          **error);
  /* The SHA-256 of the file's content as it is now (the integrity check). */
  char    *(*digest)  (KhFileStore      *self,
                       const char       *sha256,
                       GError          **error);
  gboolean (*remove)  (KhFileStore      *self,
                       const char       *sha256,
                       GError          **error);
  /* Every whole file; uploads under way are not listed. */
  gboolean (*foreach) (KhFileStore      *self,
                       KhFileStoreFunc   func,
                       gpointer          user_data,
                       GError          **error);
  void     (*free)    (KhFileStore      *self);
} KhFileStoreVTable;

struct _KhFileStore
{
  const KhFileStoreVTable *vtable;
};

KhFileStore *kh_file_store_new_folder   (const char   *dir,
                                         GError      **error);
void         kh_file_store_free         (KhFileStore  *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhFileStore, kh_file_store_free)

/* The folder beside a SQLite database ("<database>-files"); NULL for another URL. */
char        *kh_file_store_default_dir  (const char   *url);

/* The server's files: @store is taken. Without one, the server takes no files. */
void         kh_server_set_file_store   (KhServer     *self,
                                         KhFileStore  *store);
/* The largest file the server takes, bytes (KH_ATTACH_DEFAULT_MAX_SIZE unless set). */
void         kh_server_set_max_file_size (KhServer    *self,
                                          gint64       max_size);

typedef struct
{
  gboolean complete;  /* the server has the whole file */
  gint64   offset;    /* else: the bytes it has of an upload under way */
  gint64   max_size;
} KhFileState;

gboolean     kh_server_file_status      (KhServer            *self,
                                         const KhServerUser  *user,
                                         const char          *attachment_id,
                                         const char          *sha256,
                                         KhFileState         *state,
                                         GError             **error);
gboolean     kh_server_file_put         (KhServer            *self,
                                         const KhServerUser  *user,
                                         const char          *attachment_id,
                                         const char          *sha256,
                                         gint64               offset,
                                         const guint8        *data,
                                         gsize                len,
                                         KhFileState         *state,
                                         GError             **error);
GBytes      *kh_server_file_get         (KhServer            *self,
                                         const KhServerUser  *user,
                                         const char          *attachment_id,
                                         const char          *sha256,
                                         gint64               offset,
                                         gsize                len,
                                         GError             **error);
/* Removes the files no attachment references any more: none live, none deleted within the
 * tombstone window, none whose record is. */
gboolean     kh_server_collect_files    (KhServer            *self,
                                         gint64              *removed,
                                         GError             **error);

typedef struct
{
  gint64     files;     /* files stored */
  gint64     bytes;
  gint64     expected;  /* distinct hashes that live attachments name */
  GPtrArray *missing;   /* hashes named, accepted once, and not there (char *) */
  GPtrArray *damaged;   /* hashes whose content no longer has that hash */
  gint64     waiting;   /* hashes named and never uploaded yet */
} KhFileCheck;

void         kh_file_check_clear        (KhFileCheck         *check);
gboolean     kh_server_check_files      (KhServer            *self,
                                         KhFileCheck         *check,
                                         GError             **error);

G_END_DECLS
