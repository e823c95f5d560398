/* kh-sync-files.c: attached files, after the records
 *
 * A sync sends and fetches files only once its records are through (kh-sync-run.c): a photo
 * on a slow link never holds back a list. Each file is asked about first, so one the server
 * has (from this replica's earlier try, or from another replica) is not sent again; the rest
 * goes in pieces from where the server stands, so a cut, a kill or a reboot costs at most the
 * piece on its way. A piece is sized to take a few seconds on the link as measured. Downloads
 * are kept whole block by block (kh-attach.c) and go on from there the same way. Files are
 * fetched when someone asked for them or their record is kept offline, and on a metered
 * network only those asked for even there. sync/PROTOCOL.md, "Attachments".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-codec.h"
#include "kh-sync-engine-private.h"

#define PIECE_MIN     (16 * 1024)
#define PIECE_FIRST   (64 * 1024)
#define PIECE_MAX     (1024 * 1024)
#define PIECE_SECONDS 4.0

typedef struct
{
  KhSyncRun    *run;
  KhHttp       *http;
  KhSyncReport *report;
  gsize         piece;       /* the next piece's size, from the link's speed */
  gint64        total;       /* bytes of every file this step moves */
  gint64        done;
} Files;

/* Whether the network is metered: GNetworkMonitor's answer, or KHUYENHOC_METERED=1|0 (tests,
 * and a link the system does not know is paid by the megabyte). */
gboolean
kh_sync_network_metered (void)
{
  const char *env = g_getenv ("KHUYENHOC_METERED");

  if (env != NULL && *env != '\0')
    return strcmp (env, "0") != 0;
  return g_network_monitor_get_network_metered (g_network_monitor_get_default ());
}

static void
next_piece (Files  *f,
            gsize   sent,
            gint64  started)
{
  double seconds = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  double rate = seconds > 0.01 ? sent / seconds : PIECE_MAX;

  f->piece = (gsize) CLAMP (rate * PIECE_SECONDS, PIECE_MIN, PIECE_MAX);
}

static void
progress (Files *f)
{
  if (f->run->progress != NULL && f->total > 0)
    f->run->progress (f->run->progress_data, CLAMP ((double) f->done / f->total, 0.0, 1.0));
}

static char *
file_path (Files                  *f,
           const char             *what,
           const KhAttachTransfer *t,
           gint64                  offset,
           gsize                   length)
{
  g_autofree char *id = kh_http_escape (f->http, t->attachment_id);

  if (length > 0)
    return g_strdup_printf ("/v1/files/%s?sha256=%s&attachment=%s&offset=%" G_GINT64_FORMAT "&length=%" G_GSIZE_FORMAT,
                            what, t->sha256, id, offset, length);
  return g_strdup_printf ("/v1/files/%s?sha256=%s&attachment=%s&offset=%" G_GINT64_FORMAT,
                          what, t->sha256, id, offset);
}

static gboolean
read_state (json_object  *answer,
            gboolean     *complete,
            gint64       *offset,
            gint64       *max_size,
            GError      **error)
{
  json_object *v;

  if (answer == NULL || !json_object_is_type (answer, json_type_object)
      || !json_object_object_get_ex (answer, "complete", &v))
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The server's answer about a file could not be read."));
      return FALSE;
    }
  *complete = json_object_get_boolean (v);
  *offset = json_object_object_get_ex (answer, "offset", &v) ? json_object_get_int64 (v) : 0;
  *max_size = json_object_object_get_ex (answer, "max_size", &v) ? json_object_get_int64 (v) : 0;
  return TRUE;
}

static gpointer
read_json_answer (const char  *text,
                  gsize        len,
                  gpointer     data,
                  GError     **error)
{
  return kh_codec_parse (text, len, KH_CODEC_MAX_DEPTH, error);
}

static gpointer
read_bytes_answer (const char  *text,
                   gsize        len,
                   gpointer     data,
                   GError     **error)
{
  return g_bytes_new (text, len);
}

/* A refusal that is about the file (its hash, its size, its record), not the link: the file
 * is set aside and the sync goes on. */
static gboolean
refused (const GError *error)
{
  return error->domain == KH_SYNC_ERROR
         && (error->code == KH_SYNC_ERROR_INVALID || error->code == KH_SYNC_ERROR_TOO_LARGE
             || error->code == KH_SYNC_ERROR_OUT_OF_SCOPE || error->code == KH_SYNC_ERROR_FORBIDDEN);
}

static gboolean
upload_one (Files             *f,
            KhAttachTransfer  *t,
            GError           **error)
{
  KhStore *store = f->run->store;
  g_autofree char *path = file_path (f, "status", t, 0, 0);
  g_autoptr(json_object) answer = NULL;
  gboolean complete = FALSE;
  gint64 offset = 0;
  gint64 max_size = 0;

  answer = kh_http_request_bytes (f->http, "GET", path, NULL, read_json_answer, NULL, f->run->cancellable, error);
  if (answer == NULL || !read_state (answer, &complete, &offset, &max_size, error))
    return FALSE;
  if (max_size > 0 && max_size != kh_attach_get_max_size (store))
    kh_attach_set_max_size (store, max_size, NULL);
  while (!complete)
    {
      g_autoptr(GBytes) piece = NULL;
      g_autofree char *chunk_path = NULL;
      g_autoptr(json_object) reply = NULL;
      gint64 started = g_get_monotonic_time ();
      gint64 before = offset;

      if (offset < 0 || offset > t->size)
        {
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                               _("The server's answer about a file could not be read."));
          return FALSE;
        }
      piece = kh_attach_read (store, t->sha256, offset, f->piece, error);
      if (piece == NULL)
        return FALSE;
      chunk_path = file_path (f, "chunk", t, offset, 0);
      reply = kh_http_request_bytes (f->http, "POST", chunk_path, piece, read_json_answer, NULL,
                                     f->run->cancellable, error);
      if (reply == NULL || !read_state (reply, &complete, &offset, &max_size, error))
        return FALSE;
      f->report->file_bytes_sent += g_bytes_get_size (piece);
      next_piece (f, g_bytes_get_size (piece), started);
      f->done += complete ? t->size - before : MAX (offset - before, 0);
      progress (f);
    }
  f->report->files_uploaded++;
  return kh_attach_mark_uploaded (store, t->sha256, error);
}

static gboolean
download_one (Files             *f,
              KhAttachTransfer  *t,
              GError           **error)
{
  KhStore *store = f->run->store;
  gint64 offset = kh_attach_partial_size (store, t->sha256);
  gboolean complete = FALSE;

  f->done += offset;
  while (!complete)
    {
      gsize want = MAX ((gsize) KH_ATTACH_BLOCK, f->piece / KH_ATTACH_BLOCK * KH_ATTACH_BLOCK);
      g_autofree char *path = file_path (f, "data", t, offset, want);
      g_autoptr(GBytes) bytes = NULL;
      gint64 started = g_get_monotonic_time ();
      gsize len;

      bytes = kh_http_request_bytes (f->http, "GET", path, NULL, read_bytes_answer, NULL, f->run->cancellable, error);
      if (bytes == NULL)
        return FALSE;
      len = g_bytes_get_size (bytes);
      /* The file is smaller than its record says, or an answer cut short: not kept. */
      if (len == 0 || (len != want && offset + (gint64) len != t->size))
        {
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                               _("The server sent a piece of a file that does not fit; it is fetched again."));
          return FALSE;
        }
      if (!kh_attach_append_partial (store, t->sha256, offset, bytes, t->size, &complete, error))
        return FALSE;
      f->report->file_bytes_received += len;
      offset += (gint64) len;
      next_piece (f, len, started);
      f->done += (gint64) len;
      progress (f);
    }
  f->report->files_downloaded++;
  return TRUE;
}

static void
note_refusal (Files        *f,
              const GError *error)
{
  f->report->files_refused++;
  g_strlcpy (f->report->files_message, error->message, sizeof f->report->files_message);
}

/* Sends the files the server lacks and fetches those wanted here. */
gboolean
kh_sync_files (KhSyncRun     *run,
               KhHttp        *http,
               KhSyncReport  *report,
               GError       **error)
{
  g_autoptr(GPtrArray) up = kh_attach_pending_uploads (run->store, error);
  g_autoptr(GPtrArray) down = NULL;
  Files f = { run, http, report, PIECE_FIRST, 0, 0 };

  if (up == NULL)
    return FALSE;
  down = kh_attach_pending_downloads (run->store, kh_sync_network_metered (), error);
  if (down == NULL)
    return FALSE;
  for (guint i = 0; i < up->len; i++)
    f.total += ((KhAttachTransfer *) up->pdata[i])->size;
  for (guint i = 0; i < down->len; i++)
    f.total += ((KhAttachTransfer *) down->pdata[i])->size;

  for (guint i = 0; i < up->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (upload_one (&f, up->pdata[i], &local_error))
        continue;
      /* Its last attachment removed here meanwhile, and the file with it (kh-attach-collect.c). */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        continue;
      if (!refused (local_error))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      note_refusal (&f, local_error);
    }
  for (guint i = 0; i < down->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (download_one (&f, down->pdata[i], &local_error))
        continue;
      /* Not sent yet by the replica that attached it: the next sync tries again. */
      if (g_error_matches (local_error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND))
        continue;
      if (!refused (local_error))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      note_refusal (&f, local_error);
    }
  return TRUE;
}
