/* kh-sync-pull.c: the pull, with its prefetching thread
 *
 * The change feed is pulled page by page, each page applied with its cursor in one
 * transaction, while a second connection fetches the next page. A new epoch (the server
 * restored from a backup) or a cursor the server can no longer honour makes the server answer
 * with a reset, and the replica re-pulls and reconciles without dropping unsent changes
 * (sync/replica/kh-replica-apply.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>
#include <time.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

/* A page of the change feed as it arrived: the answer, its header read and its records
 * checked against the registry (kh_replica_page_read()). Reading, checking and freeing
 * happen on the pull's fetching thread (Fetcher), off the thread that writes: a page of
 * thousands of records is a tree of hundreds of thousands of small objects, and taking it
 * apart costs as much as parsing it. Freed on the thread that made it, its memory serves the
 * next page at once; freed on another, every piece is handed back to the first thread's
 * arena under a lock that the parsing takes too. */
typedef struct
{
  json_object   *answer;        /* the page without its records */
  json_object   *removed;       /* in answer, or NULL */
  KhReplicaPage *checked;       /* the records read and checked, or NULL */
  KhChangesPage *page;          /* the header, without the records; NULL when the answer is not a page */
  GError        *page_error;    /* why it is not */
  GError        *check_error;   /* why its records are not valid, or NULL */
} Page;

static void
page_free (gpointer data)
{
  Page *p = data;

  if (p == NULL)
    return;
  g_clear_pointer (&p->checked, kh_replica_page_free);
  json_object_put (p->answer);
  g_clear_pointer (&p->page, kh_changes_page_free);
  g_clear_error (&p->page_error);
  g_clear_error (&p->check_error);
  g_free (p);
}

/* Reads the text of an answer to /v1/changes: the records by kh_replica_page_read(), the rest
 * (the header, the removed records) as any other answer. NULL when the text is not JSON. */
static gpointer
page_from_text (const char  *text,
                gsize        len,
                gpointer     user_data,
                GError     **error)
{
  g_autofree char *rest = NULL;
  Page *p = g_new0 (Page, 1);

  p->checked = kh_replica_page_read (text, len, &rest, &p->check_error, error);
  if (p->checked == NULL)
    {
      page_free (p);
      return NULL;
    }
  p->answer = kh_codec_parse (rest, strlen (rest), KH_CODEC_MAX_DEPTH, error);
  if (p->answer == NULL)
    {
      page_free (p);
      return NULL;
    }
  p->page = kh_changes_page_header_from_json (p->answer, &p->page_error);
  if (p->page != NULL)
    {
      json_object_object_get_ex (p->answer, "removed", &p->removed);
      if (p->check_error == NULL)
        kh_replica_page_set_removed (p->checked, p->removed, &p->check_error);
      kh_replica_page_set_scope (p->checked, p->page->scope_unit_id);
    }
  return p;
}

static Page *
read_page (KhHttp        *http,
           const char    *path,
           GCancellable  *cancellable,
           GError       **error)
{
  return kh_http_request_read (http, "GET", path, NULL, page_from_text, NULL, cancellable, error);
}

/* The next page is asked for on a second connection while the current one is applied, so
 * the server's work and the replica's overlap. Its answer is used only if the page before it
 * was applied; otherwise it is dropped and asked for again. */
typedef struct
{
  char     *path;
  Page     *page;
  gboolean  done;
} Prefetch;

/* The pull's one fetching thread: it fetches the next page and frees the pages written, in the
 * order they are given to it. */
typedef struct
{
  GThreadPool  *thread;
  KhHttp       *http;
  GCancellable *cancellable;
  GMutex        lock;
  GCond         cond;
  gint64        cpu_us;   /* the CPU time its jobs took, for the debug log */
} Fetcher;

/* The CPU time the calling thread has taken, in microseconds. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

typedef struct
{
  Prefetch *fetch;  /* a page to fetch, or */
  Page     *free;   /* one to free */
} FetcherJob;

static void
fetcher_run (gpointer data,
             gpointer user_data)
{
  FetcherJob *job = data;
  Fetcher *f = user_data;
  gint64 cpu = thread_cpu_us ();

  if (job->fetch != NULL)
    {
      Page *page = read_page (f->http, job->fetch->path, f->cancellable, NULL);

      g_mutex_lock (&f->lock);
      job->fetch->page = page;
      job->fetch->done = TRUE;
      g_cond_broadcast (&f->cond);
      g_mutex_unlock (&f->lock);
    }
  page_free (job->free);
  g_free (job);
  g_mutex_lock (&f->lock);
  f->cpu_us += thread_cpu_us () - cpu;
  g_mutex_unlock (&f->lock);
}

static void
fetcher_init (Fetcher      *f,
              KhHttp       *http,
              GCancellable *cancellable)
{
  f->http = http;
  f->cancellable = cancellable;
  g_mutex_init (&f->lock);
  g_cond_init (&f->cond);
  f->thread = g_thread_pool_new (fetcher_run, f, 1, TRUE, NULL);
}

static void
fetcher_clear (Fetcher *f)
{
  if (f->thread != NULL)
    g_thread_pool_free (f->thread, FALSE, TRUE);
  f->thread = NULL;
  g_mutex_clear (&f->lock);
  g_cond_clear (&f->cond);
}

static void
fetcher_push (Fetcher    *f,
              FetcherJob *job)
{
  if (f == NULL || f->thread == NULL || !g_thread_pool_push (f->thread, job, NULL))
    {
      page_free (job->free);
      if (job->fetch != NULL)
        job->fetch->done = TRUE;
      g_free (job);
    }
}

/* Frees @p on the fetching thread, or here when there is none. */
static void
page_dispose (Fetcher *f,
              Page    *p)
{
  FetcherJob *job;

  if (p == NULL)
    return;
  job = g_new0 (FetcherJob, 1);
  job->free = p;
  fetcher_push (f, job);
}

static Prefetch *
prefetch_start (Fetcher    *f,
                const char *path)
{
  Prefetch *p = g_new0 (Prefetch, 1);
  FetcherJob *job = g_new0 (FetcherJob, 1);

  p->path = g_strdup (path);
  job->fetch = p;
  fetcher_push (f, job);
  return p;
}

/* Waits for it; returns its page if it is for @path and arrived, or NULL (the page is then
 * disposed of). */
static Page *
prefetch_finish (Fetcher    *f,
                 Prefetch   *p,
                 const char *path)
{
  Page *page;

  if (p == NULL)
    return NULL;
  g_mutex_lock (&f->lock);
  while (!p->done)
    g_cond_wait (&f->cond, &f->lock);
  g_mutex_unlock (&f->lock);
  page = g_steal_pointer (&p->page);
  if (page != NULL && g_strcmp0 (p->path, path) != 0)
    page_dispose (f, g_steal_pointer (&page));
  g_free (p->path);
  g_free (p);
  return page;
}

/* A first pull, and every page after one that said more is waiting, takes the largest pages:
 * fewer round trips and fewer commits. A routine poll asks for page-size. */
static int
page_limit (KhSyncRun  *run,
            const char *cursor,
            gboolean    more)
{
  return more || cursor == NULL || cursor[0] == '\0' ? KH_PAGE_MAX : run->page_size;
}

static char *
changes_path (KhSyncRun  *run,
              const char *cursor,
              int         limit)
{
  g_autofree char *escaped = kh_http_escape (run->http, cursor ? cursor : "");

  return g_strdup_printf ("/v1/changes?limit=%d&cursor=%s", limit, escaped);
}

static gboolean
pull_pages (KhSyncRun  *run,
            GError    **error)
{
  guint pages = 0;
  Prefetch *prefetch = NULL;
  gboolean more = FALSE;
  Fetcher fetcher = { 0 };
  gboolean ok = FALSE;
  gint64 cpu = thread_cpu_us ();

  fetcher_init (&fetcher, run->prefetch_http, run->cancellable);

  for (;;)
    {
      g_autofree char *cursor = kh_replica_get_state (run->store, KH_SYNC_CURSOR);
      g_autofree char *path = NULL;
      KhChangesPage *header;
      Page *page;
      int limit = page_limit (run, cursor, more);
      gint64 t0 = g_get_monotonic_time ();
      gint64 t1;
      guint n_records;

      /* Every way out of this loop but the last page applied is a failure: a page that did
       * not arrive must not leave the success of the one before it behind. */
      ok = FALSE;
      path = changes_path (run, cursor, limit);
      page = prefetch_finish (&fetcher, g_steal_pointer (&prefetch), path);
      if (page == NULL)
        page = read_page (run->http, path, run->cancellable, error);
      if (page == NULL)
        break;
      t1 = g_get_monotonic_time ();
      header = page->page;
      if (header == NULL)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                       _("The server sent a page of changes that is not valid (%s); nothing was changed."),
                       page->page_error->message);
          page_dispose (&fetcher, page);
          break;
        }
      n_records = kh_replica_page_get_n_records (page->checked);
      if (n_records > (guint) limit)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("The server sent more records than were asked for; nothing was changed."));
          page_dispose (&fetcher, page);
          break;
        }
      if (header->has_more && n_records == 0 && header->removed->len == 0
          && g_strcmp0 (header->cursor, cursor) == 0 && !header->reset)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("The server says more changes are waiting but sends none; nothing was changed."));
          page_dispose (&fetcher, page);
          break;
        }
      if (!kh_sync_run_check_server (run, header->server_id, header->epoch, error))
        {
          page_dispose (&fetcher, page);
          break;
        }
      if (header->has_more)
        {
          g_autofree char *next = changes_path (run, header->cursor, page_limit (run, header->cursor, TRUE));

          prefetch = prefetch_start (&fetcher, next);
        }
      if (page->check_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&page->check_error));
          ok = FALSE;
        }
      else
        ok = kh_replica_apply_checked_page (run->store, page->checked, header->cursor,
                                            header->reset, header->has_more, &run->stats, error);
      ok = ok && kh_sync_run_set_epoch (run, header->epoch, error);
      more = header->has_more;
      page_dispose (&fetcher, page);
      if (!ok)
        break;
      g_debug ("page of %u records: waited %.1f ms for it, applied in %.1f ms", n_records,
               (t1 - t0) / 1000.0, (g_get_monotonic_time () - t1) / 1000.0);
      pages++;
      kh_sync_run_report_progress (run, more ? 0.5 * (1.0 - 1.0 / (pages + 1)) : 0.5);
      if (!more)
        break;
    }
  page_dispose (&fetcher, prefetch_finish (&fetcher, g_steal_pointer (&prefetch), NULL));
  fetcher_clear (&fetcher);
  if (pages > 1)
    g_debug ("%u pages: %.1f s of CPU time writing, %.1f s fetching, reading and freeing", pages,
             (thread_cpu_us () - cpu) / 1e6, fetcher.cpu_us / 1e6);
  return ok;
}

/* A first pull (or a re-pull from the start) writes the whole area: the replica sets its
 * secondary indexes and search index aside until the pull ends, and builds them once then
 * (kh_store_defer_upkeep()). A first pull cut short goes on the same way the next time; the
 * replica is whole again at the end of every pull, finished or not, so what is between two
 * syncs is always indexed. */
gboolean
kh_sync_pull (KhSyncRun  *run,
              GError    **error)
{
  g_autofree char *cursor = kh_replica_get_state (run->store, KH_SYNC_CURSOR);
  g_autofree char *first = kh_replica_get_state (run->store, KH_SYNC_FIRST_PULL);
  g_autoptr(GError) restore_error = NULL;
  g_autoptr(GError) settle_error = NULL;
  gboolean bulk = cursor == NULL || cursor[0] == '\0' || g_strcmp0 (first, "1") == 0;
  gboolean ok;
  gint64 t0;

  if (bulk)
    {
      if (!kh_store_begin (run->store, error))
        return FALSE;
      if (!kh_replica_set_state (run->store, KH_SYNC_FIRST_PULL, "1", error)
          || !kh_store_defer_upkeep (run->store, error))
        {
          kh_store_rollback (run->store);
          return FALSE;
        }
      if (!kh_store_commit (run->store, error))
        return FALSE;
    }
  /* Every page can be fetched again: its commit need not wait for the disk, nor need the
   * restore's below. A power cut before the other thread's checkpoint takes them there only
   * takes the replica back to an earlier page, whole (SQLite's log keeps every commit whole),
   * and the next sync restores the upkeep and goes on from there. What a person types is
   * written on another connection, which keeps waiting for the disk (and takes everything
   * committed before it there). Every record is checked against the registry before it is
   * written (kh_replica_page_read()), so the tables' CHECK constraints, which say the same
   * again, are left out meanwhile. */
  if (bulk)
    {
      kh_store_checkpoint_aside (run->store, TRUE);
      kh_store_set_durable (run->store, FALSE, NULL);
      kh_store_set_checked (run->store, FALSE, NULL);
    }
  ok = pull_pages (run, error);
  if (!bulk)
    return ok;
  if (!kh_store_set_checked (run->store, TRUE, &settle_error))
    {
      /* Closed at the end of this sync instead of kept: the next one opens another. */
      g_warning ("Could not set the replica's connection back: %s", settle_error->message);
      g_clear_error (&settle_error);
      run->unsettled = TRUE;
    }

  /* Not cancellable: a few seconds of local work, and the replica must not stay without. */
  t0 = g_get_monotonic_time ();
  if (kh_store_begin (run->store, &restore_error))
    {
      /* Restoring first: it must come before other writes in its transaction. */
      if (!kh_store_restore_upkeep (run->store, &restore_error)
          || (ok && !kh_replica_set_state (run->store, KH_SYNC_FIRST_PULL, NULL, &restore_error)))
        kh_store_rollback (run->store);
      else
        kh_store_commit (run->store, &restore_error);
    }
  g_debug ("indexes and search index made again in %.1f ms", (g_get_monotonic_time () - t0) / 1000.0);
  /* Only now: what the restore wrote is copied back into the database on the other thread. */
  kh_store_checkpoint_aside (run->store, FALSE);
  if (!kh_store_set_durable (run->store, TRUE, &settle_error))
    {
      g_warning ("Could not set the replica's connection back: %s", settle_error->message);
      run->unsettled = TRUE;
    }
  if (restore_error != NULL)
    {
      if (!ok)
        {
          g_warning ("Could not index the records pulled so far: %s", restore_error->message);
          return FALSE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&restore_error),
                                  _("Could not index the records pulled: "));
      return FALSE;
    }
  return ok;
}
