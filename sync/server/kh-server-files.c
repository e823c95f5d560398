/* kh-server-files.c: attached files on the server
 *
 * A file is stored once per SHA-256, whoever sends it. It is taken only for an attachment
 * record the sender may write in (records go first: the record names the hash and the size),
 * in pieces appended in order, so a cut upload goes on from the bytes the server has; the
 * hash is checked before the file is kept. The table `files` notes what was accepted, which the
 * integrity check holds the store to. sync/PROTOCOL.md, "Attachments", has the requests.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kh-attach.h"
#include "kh-server-core-private.h"
#include "kh-server-files.h"

/* The folder ---------------------------------------------------------------------------------- */

typedef struct
{
  KhFileStore  parent;
  char        *dir;
  GMutex       lock;    /* appends to one upload come in order, from whichever replica */
} Folder;

static char *
folder_path (Folder     *f,
             const char *sha256,
             const char *suffix)
{
  g_autofree char *name = g_strconcat (sha256, suffix, NULL);

  return g_build_filename (f->dir, name, NULL);
}

static gboolean
folder_has (KhFileStore *self,
            const char  *sha256,
            gint64      *size)
{
  g_autofree char *path = folder_path ((Folder *) self, sha256, "");
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return FALSE;
  if (size != NULL)
    *size = st.st_size;
  return TRUE;
}

static gint64
folder_partial (KhFileStore *self,
                const char  *sha256)
{
  g_autofree char *path = folder_path ((Folder *) self, sha256, ".part");
  GStatBuf st;

  return g_stat (path, &st) == 0 ? st.st_size : 0;
}

static gboolean
set_errno_error (GError     **error,
                 const char  *path)
{
  int e = errno;

  g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE, "%s: %s", path, g_strerror (e));
  return FALSE;
}

static gboolean
folder_append (KhFileStore   *self,
               const char    *sha256,
               gint64         offset,
               const guint8  *data,
               gsize          len,
               GError       **error)
{
  Folder *f = (Folder *) self;
  g_autofree char *path = folder_path (f, sha256, ".part");
  gboolean ok = TRUE;
  FILE *fp;

  g_mutex_lock (&f->lock);
  if (folder_partial (self, sha256) != offset)
    {
      g_mutex_unlock (&f->lock);
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID, "offset moved");
      return FALSE;
    }
  fp = g_fopen (path, "ab");
  if (fp == NULL)
    ok = set_errno_error (error, path);
  else
    {
      if (fwrite (data, 1, len, fp) != len || fflush (fp) != 0)
        ok = set_errno_error (error, path);
      if (fclose (fp) != 0 && ok)
        ok = set_errno_error (error, path);
    }
  g_mutex_unlock (&f->lock);
  return ok;
}

static char *
digest_path (const char  *path,
             GError     **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (65536);
  FILE *fp = g_fopen (path, "rb");
  size_t n;

  if (fp == NULL)
    {
      set_errno_error (error, path);
      return NULL;
    }
  while ((n = fread (buf, 1, 65536, fp)) > 0)
    g_checksum_update (sum, buf, n);
  fclose (fp);
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
folder_finish (KhFileStore  *self,
               const char   *sha256,
               GError      **error)
{
  Folder *f = (Folder *) self;
  g_autofree char *part = folder_path (f, sha256, ".part");
  g_autofree char *dest = folder_path (f, sha256, "");
  g_autofree char *got = NULL;
  gboolean ok;

  g_mutex_lock (&f->lock);
  got = digest_path (part, error);
  if (got == NULL)
    ok = FALSE;
  else if (strcmp (got, sha256) != 0)
    {
      g_unlink (part);
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID, "hash");
      ok = FALSE;
    }
  else
    ok = g_rename (part, dest) == 0 || set_errno_error (error, dest);
  g_mutex_unlock (&f->lock);
  return ok;
}

static GBytes *
folder_read (KhFileStore  *self,
             const char   *sha256,
             gint64        offset,
             gsize         len,
             GError      **error)
{
  g_autofree char *path = folder_path ((Folder *) self, sha256, "");
  g_autofree guint8 *buf = g_malloc (len > 0 ? len : 1);
  FILE *fp = g_fopen (path, "rb");
  size_t n;

  if (fp == NULL)
    {
      set_errno_error (error, path);
      return NULL;
    }
  if (fseeko (fp, offset, SEEK_SET) != 0)
    {
      set_errno_error (error, path);
      fclose (fp);
      return NULL;
    }
  n = fread (buf, 1, len, fp);
  fclose (fp);
  return g_bytes_new_take (g_steal_pointer (&buf), n);
}

static char *
folder_digest (KhFileStore  *self,
               const char   *sha256,
               GError      **error)
{
  g_autofree char *path = folder_path ((Folder *) self, sha256, "");

  return digest_path (path, error);
}

static gboolean
folder_remove (KhFileStore  *self,
               const char   *sha256,
               GError      **error)
{
  Folder *f = (Folder *) self;
  g_autofree char *path = folder_path (f, sha256, "");
  g_autofree char *part = folder_path (f, sha256, ".part");

  g_mutex_lock (&f->lock);
  g_unlink (part);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_mutex_unlock (&f->lock);
      return set_errno_error (error, path);
    }
  g_mutex_unlock (&f->lock);
  return TRUE;
}

static gboolean
is_hash (const char *h)
{
  return strlen (h) == 64 && strspn (h, "0123456789abcdef") == 64;
}

static gboolean
folder_foreach (KhFileStore      *self,
                KhFileStoreFunc   func,
                gpointer          user_data,
                GError          **error)
{
  Folder *f = (Folder *) self;
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gint64 size = 0;

      if (is_hash (name) && folder_has (self, name, &size) && !func (name, size, user_data))
        break;
    }
  return TRUE;
}

static void
folder_free (KhFileStore *self)
{
  Folder *f = (Folder *) self;

  g_mutex_clear (&f->lock);
  g_free (f->dir);
  g_free (f);
}

static const KhFileStoreVTable folder_vtable = {
  .has = folder_has,
  .partial = folder_partial,
  .append = folder_append,
  .finish = folder_finish,
  .read = folder_read,
  .digest = folder_digest,
  .remove = folder_remove,
  .foreach = folder_foreach,
  .free = folder_free,
};

KhFileStore *
kh_file_store_new_folder (const char  *dir,
                          GError     **error)
{
  Folder *f;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_errno_error (error, dir);
      return NULL;
    }
  f = g_new0 (Folder, 1);
  f->parent.vtable = &folder_vtable;
  f->dir = g_strdup (dir);
  g_mutex_init (&f->lock);
  return &f->parent;
}

void
kh_file_store_free (KhFileStore *store)
{
  if (store != NULL)
    store->vtable->free (store);
}

char *
kh_file_store_default_dir (const char *url)
{
  if (url == NULL || !g_str_has_prefix (url, "sqlite:"))
    return NULL;
  return g_strconcat (url + strlen ("sqlite:"), "-files", NULL);
}

void
kh_server_set_file_store (KhServer    *self,
                          KhFileStore *store)
{
  g_clear_pointer (&self->files, kh_file_store_free);
  self->files = store;
}

void
kh_server_set_max_file_size (KhServer *self,
                             gint64    max_size)
{
  self->max_file_size = max_size > 0 ? max_size : KH_ATTACH_DEFAULT_MAX_SIZE;
}

/* The requests -------------------------------------------------------------------------------- */

/* The attachment @attachment_id as far as @user may know it: live, in their area, naming
 * @sha256; its size in *@size. The same words whether it does not exist or is out of reach. */
static gboolean
check_attachment (KhServer            *self,
                  KhServerBackend     *b,
                  const KhServerUser  *user,
                  const char          *attachment_id,
                  const char          *sha256,
                  gboolean             write,
                  gboolean             limit,
                  gint64              *size,
                  GError             **error)
{
  g_autoptr(KhServerStored) s = NULL;
  gboolean inside = FALSE;
  json_object *v;

  if (self->files == NULL)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND,
                           _("This server keeps no attached files."));
      return FALSE;
    }
  if (attachment_id == NULL || sha256 == NULL || !is_hash (sha256) || strlen (attachment_id) > 64)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                           _("A file is asked for by its SHA-256 and the attachment that names it."));
      return FALSE;
    }
  if (write && g_strcmp0 (user->role, "viewer") == 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN,
                           _("This account may read, not write."));
      return FALSE;
    }
  if (!kh_server_backend_begin (b, KH_TX_READ, error)
      || !_kh_server_load_stored (b, "attachment", attachment_id, &s, error))
    return FALSE;
  if (s != NULL && !s->deleted && s->scope_unit != NULL
      && !_kh_server_user_in_scope (b, user, s->scope_unit, &inside, error))
    return FALSE;
  kh_server_backend_rollback (b);
  if (s == NULL || s->deleted || !inside
      || g_strcmp0 (_kh_server_string_member (s->data, "sha256"), sha256) != 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_OUT_OF_SCOPE,
                           _("There is no attachment with that id and that file in your area."));
      return FALSE;
    }
  *size = json_object_object_get_ex (s->data, "size", &v) ? json_object_get_int64 (v) : 0;
  if (limit && *size > self->max_file_size)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                   _("The file is %.1f MB; the limit for one file is %.1f MB."),
                   *size / 1048576.0, self->max_file_size / 1048576.0);
      return FALSE;
    }
  return TRUE;
}

static void
fill_state (KhServer    *self,
            const char  *sha256,
            KhFileState *state)
{
  state->max_size = self->max_file_size;
  state->complete = self->files->vtable->has (self->files, sha256, NULL);
  state->offset = state->complete ? 0 : self->files->vtable->partial (self->files, sha256);
}

gboolean
kh_server_file_status (KhServer            *self,
                       const KhServerUser  *user,
                       const char          *attachment_id,
                       const char          *sha256,
                       KhFileState         *state,
                       GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  gint64 size;

  if (!check_attachment (self, l->b, user, attachment_id, sha256, FALSE, TRUE, &size, error))
    return FALSE;
  fill_state (self, sha256, state);
  return TRUE;
}

/* Takes @len bytes of the file at @offset. A piece the server has already (its answer lost)
 * or one that does not start where the upload stands is not written: the answer says where
 * it stands, and the client goes on from there. */
gboolean
kh_server_file_put (KhServer            *self,
                    const KhServerUser  *user,
                    const char          *attachment_id,
                    const char          *sha256,
                    gint64               offset,
                    const guint8        *data,
                    gsize                len,
                    KhFileState         *state,
                    GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *now = NULL;
  gint64 size;

  if (!check_attachment (self, l->b, user, attachment_id, sha256, TRUE, TRUE, &size, error))
    return FALSE;
  fill_state (self, sha256, state);
  if (state->complete || offset != state->offset || len == 0)
    return TRUE;
  if (offset + (gint64) len > size)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                           _("The file sent is longer than its attachment says."));
      return FALSE;
    }
  if (!self->files->vtable->append (self->files, sha256, offset, data, len, &local_error))
    {
      if (g_error_matches (local_error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID))
        {
          /* Another replica's piece came first: where it stands now is the answer. */
          fill_state (self, sha256, state);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  state->offset = offset + (gint64) len;
  if (state->offset < size)
    return TRUE;

  if (!self->files->vtable->finish (self->files, sha256, &local_error))
    {
      if (g_error_matches (local_error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID))
        {
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                               _("The file sent does not have the SHA-256 its attachment names; "
                                 "the server dropped it."));
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  now = _kh_server_now_iso ();
  {
    KhSqlParam p[3] = { KH_SQL_P_TEXT (sha256), KH_SQL_P_INT (size), KH_SQL_P_TEXT (now) };

    if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
        || !kh_server_backend_exec (l->b, "INSERT INTO files (sha256, size, stored_at) VALUES (?, ?, ?) "
                                    "ON CONFLICT (sha256) DO NOTHING", p, 3, NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return FALSE;
  }
  state->complete = TRUE;
  state->offset = 0;
  return TRUE;
}

GBytes *
kh_server_file_get (KhServer            *self,
                    const KhServerUser  *user,
                    const char          *attachment_id,
                    const char          *sha256,
                    gint64               offset,
                    gsize                len,
                    GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  gint64 size;
  gint64 stored = 0;

  if (!check_attachment (self, l->b, user, attachment_id, sha256, FALSE, FALSE, &size, error))
    return NULL;
  if (!self->files->vtable->has (self->files, sha256, &stored))
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND,
                           _("The server does not have this file yet: the replica that attached it has not sent it."));
      return NULL;
    }
  if (offset < 0 || offset > stored)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID, _("The offset is beyond the file."));
      return NULL;
    }
  return self->files->vtable->read (self->files, sha256, offset, len, error);
}

/* Collection and the check -------------------------------------------------------------------- */

typedef struct
{
  GHashTable *keep;    /* sha256 → (gpointer) 1 */
  GPtrArray  *rows;    /* attachment rows: deleted, updated_at, data */
  const char *cutoff;
} Referenced;

static gboolean
attachment_row_cb (const char * const *v,
                   int                 n,
                   gpointer            data)
{
  Referenced *r = data;

  g_ptr_array_add (r->rows, g_strdupv ((char **) (const char * const []) { v[0], v[1], v[2], NULL }));
  return TRUE;
}

/* The hashes a live attachment names, or one deleted (or whose record was) within the window. */
static gboolean
referenced_hashes (KhServerBackend  *b,
                   const char       *cutoff,
                   gboolean          live_only,
                   GHashTable       *keep,
                   GError          **error)
{
  Referenced r = { keep, g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev), cutoff };
  gboolean ok = kh_server_backend_exec (b, "SELECT deleted, updated_at, data FROM records WHERE entity = 'attachment'",
                                        NULL, 0, attachment_row_cb, &r, NULL, error);

  for (guint i = 0; ok && i < r.rows->len; i++)
    {
      char **row = r.rows->pdata[i];
      g_autoptr(json_object) data = json_tokener_parse (row[2]);
      const char *hash = _kh_server_string_member (data, "sha256");
      const char *owner = _kh_server_string_member (data, "owner_id");
      gboolean deleted = g_ascii_strtoll (row[0], NULL, 10) != 0;
      g_autofree char *owner_deleted = NULL;
      g_autofree char *owner_at = NULL;
      gboolean owner_found = FALSE;

      if (hash == NULL || (deleted && (live_only || g_strcmp0 (row[1], cutoff) <= 0)))
        continue;
      if (owner != NULL)
        {
          KhSqlParam p[1] = { KH_SQL_P_TEXT (owner) };

          if (!kh_server_backend_query_text (b, "SELECT deleted FROM records WHERE id = ?", p, 1, &owner_deleted,
                                             error)
              || !kh_server_backend_query_text (b, "SELECT updated_at FROM records WHERE id = ?", p, 1, &owner_at,
                                                error))
            {
              ok = FALSE;
              break;
            }
          owner_found = owner_deleted != NULL;
        }
      if (!owner_found)
        continue;
      if (g_ascii_strtoll (owner_deleted, NULL, 10) != 0 && (live_only || g_strcmp0 (owner_at, cutoff) <= 0))
        continue;
      g_hash_table_add (keep, g_strdup (hash));
    }
  g_ptr_array_unref (r.rows);
  return ok;
}

typedef struct
{
  GHashTable *keep;
  GPtrArray  *drop;
} Sweep;

static gboolean
sweep_cb (const char *sha256,
          gint64      size,
          gpointer    data)
{
  Sweep *s = data;

  if (!g_hash_table_contains (s->keep, sha256))
    g_ptr_array_add (s->drop, g_strdup (sha256));
  return TRUE;
}

gboolean
kh_server_collect_files (KhServer  *self,
                         gint64    *removed,
                         GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_days (now, -self->tombstone_days);
  g_autofree char *cutoff = g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr(GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) drop = g_ptr_array_new_with_free_func (g_free);
  Sweep s = { keep, drop };

  *removed = 0;
  if (self->files == NULL)
    return TRUE;
  /* Under the write lock: a push cannot name a file between the look and the removal. */
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || !referenced_hashes (l->b, cutoff, FALSE, keep, error)
      || !self->files->vtable->foreach (self->files, sweep_cb, &s, error))
    return FALSE;
  for (guint i = 0; i < drop->len; i++)
    {
      KhSqlParam p[1] = { KH_SQL_P_TEXT (drop->pdata[i]) };

      if (!self->files->vtable->remove (self->files, drop->pdata[i], error)
          || !kh_server_backend_exec (l->b, "DELETE FROM files WHERE sha256 = ?", p, 1, NULL, NULL, NULL, error))
        return FALSE;
      (*removed)++;
    }
  return kh_server_backend_commit (l->b, error);
}

void
kh_file_check_clear (KhFileCheck *check)
{
  g_clear_pointer (&check->missing, g_ptr_array_unref);
  g_clear_pointer (&check->damaged, g_ptr_array_unref);
}

typedef struct
{
  KhServer    *server;
  KhFileCheck *check;
  GHashTable  *stored;
} Count;

static gboolean
count_cb (const char *sha256,
          gint64      size,
          gpointer    data)
{
  Count *c = data;
  g_autofree char *digest = c->server->files->vtable->digest (c->server->files, sha256, NULL);

  c->check->files++;
  c->check->bytes += size;
  g_hash_table_add (c->stored, g_strdup (sha256));
  if (g_strcmp0 (digest, sha256) != 0)
    g_ptr_array_add (c->check->damaged, g_strdup (sha256));
  return TRUE;
}

static gboolean
accepted_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  g_hash_table_add (data, g_strdup (v[0]));
  return TRUE;
}

/* The files against what was accepted and what the live attachments name: how many, whether
 * each still has its hash, which are gone. */
gboolean
kh_server_check_files (KhServer     *self,
                       KhFileCheck  *check,
                       GError      **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GHashTable) named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) accepted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Count c = { self, check, stored };
  GHashTableIter it;
  gpointer key;

  memset (check, 0, sizeof *check);
  check->missing = g_ptr_array_new_with_free_func (g_free);
  check->damaged = g_ptr_array_new_with_free_func (g_free);
  if (self->files == NULL)
    return TRUE;
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error)
      || !referenced_hashes (l->b, "", TRUE, named, error)
      || !kh_server_backend_exec (l->b, "SELECT sha256 FROM files", NULL, 0, accepted_cb, accepted, NULL, error)
      || !self->files->vtable->foreach (self->files, count_cb, &c, error))
    return FALSE;
  kh_server_backend_rollback (l->b);
  check->expected = g_hash_table_size (named);
  g_hash_table_iter_init (&it, named);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (stored, key))
      {
        if (g_hash_table_contains (accepted, key))
          g_ptr_array_add (check->missing, g_strdup (key));
        else
          check->waiting++;
      }
  return TRUE;
}
