/* kh-sync-engine.c: the client sync engine
 *
 * A sync runs on a worker thread (g_task_run_in_thread) with its own connection to the
 * database (kept open between syncs) and one CURL handle, so the window never waits and the connection is kept alive. It
 * pulls the change feed page by page (each page applied with its cursor in one transaction),
 * then pushes the outbox in batches of at most 500 (each batch marked as sent before it goes, so
 * a retry reuses its mutation ids), then, when something changed or when asked, compares
 * counts and checksums with the server and repairs what differs. State and progress are
 * properties notified on the main context the engine was made in.
 *
 * A replica is bound to the server that first answered it (its server_id): another server is
 * refused. A new epoch (the server restored from a backup) or a cursor the server can no longer
 * honour makes the server answer with a reset, and the replica re-pulls and reconciles without
 * dropping unsent changes (kh-replica.c).
 *
 * Triggers, when "automatic" is on: at start, when the network comes back, a few seconds after
 * a local edit, and every "interval" seconds; on a metered network only when
 * "sync-on-metered" is set. A sync asked for while one runs runs again right after it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>
#include <time.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-http-private.h"
#include "kh-memory.h"
#include "kh-replica.h"
#include "kh-store.h"
#include "kh-sync-engine.h"

#define MAX_SENDS       3     /* times one outbox entry is sent in one sync */
#define RELEASE_AFTER   5000  /* records pulled and pushed from which a sync gives memory back */

/* The worker's connection, kept between syncs: opening a replica reads its whole schema (some
 * three hundred tables, indexes and triggers), about 3 ms, which was most of a sync with
 * nothing to do. A sync takes it, or opens one if it is not there, and gives it back when it
 * ends with no transaction open; its page cache is let go then. */
typedef struct
{
  GMutex   lock;
  KhStore *store;
} StoreSlot;

typedef struct
{
  char          *database;
  KhHttpOptions  http;
  char          *ca_file;
  int            page_size;
  StoreSlot     *slot;       /* the engine's, which outlives every sync it runs */
} Config;

static KhStore *
slot_take (StoreSlot   *slot,
           const char  *database,
           GError     **error)
{
  KhStore *store;

  g_mutex_lock (&slot->lock);
  store = g_steal_pointer (&slot->store);
  g_mutex_unlock (&slot->lock);
  return store != NULL ? store : kh_store_open (database, error);
}

static void
slot_give_back (StoreSlot *slot,
                KhStore   *store)
{
  if (kh_store_release_memory (store))
    {
      g_mutex_lock (&slot->lock);
      if (slot->store == NULL)
        slot->store = g_steal_pointer (&store);
      g_mutex_unlock (&slot->lock);
    }
  g_clear_object (&store);
}

struct _KhSyncEngine
{
  GObject          parent_instance;

  char            *database;
  char            *ca_file;
  int              connect_timeout;
  int              low_speed_time;
  int              max_attempts;
  double           backoff_base;
  double           backoff_max;
  guint64          max_body;
  int              page_size;
  guint            interval;
  guint            edit_delay;
  gboolean         automatic;
  gboolean         sync_on_metered;

  KhSyncState      state;
  double           progress;
  char            *error_message;

  GMainContext    *context;
  GCancellable    *cancellable;   /* the running sync's */
  gboolean         running;
  gboolean         again;
  guint            periodic_id;
  guint            edit_id;
  gulong           network_id;
  gboolean         was_available;
  StoreSlot        slot;
};

G_DEFINE_FINAL_TYPE (KhSyncEngine, kh_sync_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DATABASE,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_ERROR_MESSAGE,
  PROP_AUTOMATIC,
  PROP_INTERVAL,
  PROP_EDIT_DELAY,
  PROP_SYNC_ON_METERED,
  PROP_CA_FILE,
  PROP_CONNECT_TIMEOUT,
  PROP_LOW_SPEED_TIME,
  PROP_MAX_ATTEMPTS,
  PROP_BACKOFF_BASE,
  PROP_MAX_BODY,
  PROP_PAGE_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Errors ------------------------------------------------------------------------------------- */

static gboolean
fail_wrong_server (GError     **error,
                   const char  *bound,
                   const char  *seen)
{
  g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN,
               _("This replica belongs to another server (%s, not %s). Use a new database to work "
                 "with this server; nothing was mixed."), bound, seen);
  return FALSE;
}

/* The worker ---------------------------------------------------------------------------------- */

typedef void (*ProgressFunc) (gpointer data,
                              double   progress);

typedef struct
{
  KhStore        *store;
  KhHttp         *http;
  KhHttp         *prefetch_http; /* a second connection: the next page arrives while one is applied */
  KhReplicaStats  stats;
  char           *bound_id;
  gint64          epoch;
  ProgressFunc    progress;
  gpointer        progress_data;
  GCancellable   *cancellable;
  int             page_size;
  gboolean        unsettled;     /* the store's connection could not be set back: not kept */
} Run;

static void
report_progress (Run    *run,
                 double  value)
{
  if (run->progress != NULL)
    run->progress (run->progress_data, CLAMP (value, 0.0, 1.0));
}

static gboolean
check_server (Run         *run,
              const char  *server_id,
              gint64       epoch,
              GError     **error)
{
  if (run->bound_id == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, epoch);

      if (!kh_replica_set_state (run->store, KH_SYNC_SERVER_ID, server_id, error)
          || !kh_replica_set_state (run->store, KH_SYNC_EPOCH, text, error))
        return FALSE;
      run->bound_id = g_strdup (server_id);
      run->epoch = epoch;
      return TRUE;
    }
  if (g_strcmp0 (run->bound_id, server_id) != 0)
    return fail_wrong_server (error, run->bound_id, server_id);
  return TRUE;
}

static gboolean
set_epoch (Run     *run,
           gint64   epoch,
           GError **error)
{
  g_autofree char *text = NULL;

  if (epoch == run->epoch)
    return TRUE;
  text = g_strdup_printf ("%" G_GINT64_FORMAT, epoch);
  run->epoch = epoch;
  return kh_replica_set_state (run->store, KH_SYNC_EPOCH, text, error);
}

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
prefetch_finish (Fetcher     *f,
                 Prefetch    *p,
                 const char  *path)
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
page_limit (Run        *run,
            const char *cursor,
            gboolean    more)
{
  return more || cursor == NULL || cursor[0] == '\0' ? KH_PAGE_MAX : run->page_size;
}

static char *
changes_path (Run        *run,
              const char *cursor,
              int         limit)
{
  g_autofree char *escaped = kh_http_escape (run->http, cursor ? cursor : "");

  return g_strdup_printf ("/v1/changes?limit=%d&cursor=%s", limit, escaped);
}

static gboolean
pull_pages (Run     *run,
            GError **error)
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
      if (!check_server (run, header->server_id, header->epoch, error))
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
      ok = ok && set_epoch (run, header->epoch, error);
      more = header->has_more;
      page_dispose (&fetcher, page);
      if (!ok)
        break;
      g_debug ("page of %u records: waited %.1f ms for it, applied in %.1f ms", n_records,
               (t1 - t0) / 1000.0, (g_get_monotonic_time () - t1) / 1000.0);
      pages++;
      report_progress (run, more ? 0.5 * (1.0 - 1.0 / (pages + 1)) : 0.5);
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
static gboolean
pull_all (Run     *run,
          GError **error)
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

/* A push batch on its way, on the second connection: while the server works on it, the
 * replica applies the answer to the batch before and takes the next one. */
typedef struct
{
  KhHttp       *http;
  json_object  *body;
  GCancellable *cancellable;
  json_object  *answer;
  GError       *error;
  GThread      *thread;
} Post;

static gpointer
post_thread (gpointer data)
{
  Post *p = data;

  p->answer = kh_http_request (p->http, "POST", "/v1/push", p->body, p->cancellable, &p->error);
  return NULL;
}

static Post *
post_start (Run         *run,
            json_object *batch)
{
  Post *p = g_new0 (Post, 1);

  p->http = run->prefetch_http;
  p->cancellable = run->cancellable;
  p->body = json_object_new_object ();
  json_object_object_add (p->body, "client_id", json_object_new_string (kh_store_get_replica_id (run->store)));
  if (run->bound_id != NULL)
    json_object_object_add (p->body, "epoch", json_object_new_int64 (run->epoch));
  json_object_object_add (p->body, "mutations", json_object_get (kh_replica_batch_mutations (batch)));
  p->thread = g_thread_new ("kh-sync-push", post_thread, p);
  return p;
}

/* Waits for the answer; NULL with @error set when there is none. */
static json_object *
post_finish (Post    *p,
             GError **error)
{
  json_object *answer;

  g_thread_join (p->thread);
  json_object_put (p->body);
  answer = p->answer;
  if (answer == NULL)
    {
      if (error != NULL)
        *error = g_steal_pointer (&p->error);
    }
  g_clear_error (&p->error);
  g_free (p);
  return answer;
}

/* The records of @batch, as kh_replica_record_key()s. */
static void
batch_records (json_object *batch,
               GHashTable  *records)
{
  json_object *mutations = kh_replica_batch_mutations (batch);

  g_hash_table_remove_all (records);
  for (size_t i = 0; i < json_object_array_length (mutations); i++)
    {
      json_object *m = json_object_array_get_idx (mutations, i);
      json_object *entity = NULL;
      json_object *id = NULL;

      json_object_object_get_ex (m, "entity", &entity);
      json_object_object_get_ex (m, "id", &id);
      g_hash_table_add (records, kh_replica_record_key (json_object_get_string (entity), json_object_get_string (id)));
    }
}

/* Sends the outbox in batches, one on its way while the answer to the one before is applied
 * and the next is taken (without the records of the one on its way, whose answer decides
 * what their next entries are based on). */
static gboolean
push_all (Run     *run,
          GError **error)
{
  g_autoptr(GHashTable) sends = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) skip = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean repulled = FALSE;
  gint64 total = kh_store_count_pending (run->store);
  guint64 done = 0;
  Post *post = NULL;
  json_object *flying = NULL;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(KhPushResponse) response = NULL;
      json_object *next = kh_replica_take_batch_busy (run->store, KH_PUSH_MAX_MUTATIONS, skip, busy, error);
      json_object *answer;
      json_object *results = NULL;
      size_t n_next;
      size_t n;
      gboolean ok;

      if (next == NULL)
        {
          if (post != NULL)
            json_object_put (post_finish (post, NULL));
          json_object_put (flying);
          return FALSE;
        }
      n_next = json_object_array_length (kh_replica_batch_mutations (next));
      if (post == NULL)
        {
          if (n_next == 0)
            {
              json_object_put (next);
              return TRUE;
            }
          post = post_start (run, next);
          flying = next;
          batch_records (flying, busy);
          continue;
        }

      /* The batch on its way: its answer. */
      answer = post_finish (g_steal_pointer (&post), &local_error);
      n = json_object_array_length (kh_replica_batch_mutations (flying));
      if (answer == NULL)
        {
          json_object_put (next);
          g_clear_pointer (&flying, json_object_put);
          g_hash_table_remove_all (busy);
          if (g_error_matches (local_error, KH_SYNC_ERROR, KH_SYNC_ERROR_EPOCH_CHANGED) && !repulled)
            {
              /* The server was restored: re-pull and reconcile before pushing again. */
              repulled = TRUE;
              if (!pull_all (run, error))
                return FALSE;
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      response = kh_push_response_from_json (answer, &local_error);
      if (response == NULL)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                       _("The server's answer to a push is not valid (%s); the changes will be sent again."),
                       local_error->message);
          json_object_put (answer);
          json_object_put (flying);
          json_object_put (next);
          return FALSE;
        }
      if (!check_server (run, response->server_id, response->epoch, error))
        {
          json_object_put (answer);
          json_object_put (flying);
          json_object_put (next);
          return FALSE;
        }
      json_object_object_get_ex (answer, "results", &results);

      /* The next batch goes while this answer is applied. */
      {
        json_object *batch = flying;

        flying = NULL;
        g_hash_table_remove_all (busy);
        if (n_next > 0)
          {
            post = post_start (run, next);
            flying = next;
            batch_records (flying, busy);
          }
        else
          json_object_put (next);

        ok = kh_replica_apply_results (run->store, batch, results, &run->stats, error);
        if (ok)
          {
            json_object *seqs = NULL;

            json_object_object_get_ex (batch, "seqs", &seqs);
            for (size_t i = 0; i < n; i++)
              {
                gint64 seq = json_object_get_int64 (json_object_array_get_idx (seqs, i));
                guint count = GPOINTER_TO_UINT (g_hash_table_lookup (sends, &seq)) + 1;

                g_hash_table_insert (sends, g_memdup2 (&seq, sizeof seq), GUINT_TO_POINTER (count));
                if (count >= MAX_SENDS)
                  g_hash_table_add (skip, g_memdup2 (&seq, sizeof seq));
              }
          }
        json_object_put (answer);
        json_object_put (batch);
      }
      if (!ok)
        {
          if (post != NULL)
            json_object_put (post_finish (g_steal_pointer (&post), NULL));
          json_object_put (flying);
          return FALSE;
        }
      done += n;
      report_progress (run, 0.5 + 0.4 * MIN (1.0, (double) done / MAX (total, 1)));
    }
}

static KhIntegrityIds *
fetch_ids (Run         *run,
           const char  *entity,
           const char  *after,
           GError     **error)
{
  g_autofree char *e = kh_http_escape (run->http, entity);
  g_autofree char *a = kh_http_escape (run->http, after ? after : "");
  g_autofree char *path = after ? g_strdup_printf ("/v1/integrity/ids?entity=%s&limit=5000&after=%s", e, a)
                                : g_strdup_printf ("/v1/integrity/ids?entity=%s&limit=5000", e);
  g_autoptr(GError) local_error = NULL;
  json_object *answer = kh_http_request (run->http, "GET", path, NULL, run->cancellable, error);
  KhIntegrityIds *ids;

  if (answer == NULL)
    return NULL;
  ids = kh_integrity_ids_from_json (answer, &local_error);
  json_object_put (answer);
  if (ids == NULL)
    g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                 _("The server's list of ids is not valid (%s)."), local_error->message);
  return ids;
}

/* Compares one entity id by id. Records the server has in another version (or that are missing
 * here) count as needing a repair; records here the server does not have are dropped. */
static gboolean
compare_entity (Run         *run,
                const char  *entity,
                guint64     *differ,
                GError     **error)
{
  json_object *local = kh_replica_ids (run->store, entity, error);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *after = NULL;
  gboolean more = TRUE;
  guint forgotten;

  if (local == NULL)
    return FALSE;
  while (more)
    {
      g_autoptr(KhIntegrityIds) ids = fetch_ids (run, entity, after, error);

      if (ids == NULL)
        {
          json_object_put (local);
          return FALSE;
        }
      for (guint i = 0; i < ids->ids->len; i++)
        {
          KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);
          json_object *mine = NULL;

          if (!json_object_object_get_ex (local, iv->id, &mine)
              || json_object_get_int64 (mine) != iv->version)
            {
              if (!kh_replica_has_local_changes (run->store, entity, iv->id))
                (*differ)++;
            }
          json_object_object_del (local, iv->id);
        }
      more = ids->has_more && ids->ids->len > 0;
      if (ids->ids->len > 0)
        {
          g_free (after);
          after = g_strdup (g_array_index (ids->ids, KhIdVersion, ids->ids->len - 1).id);
        }
    }
  {
    json_object_object_foreach (local, key, val)
      {
        (void) val;
        g_ptr_array_add (gone, g_strdup (key));
      }
  }
  json_object_put (local);
  forgotten = gone->len > 0 ? kh_replica_forget (run->store, entity, gone, error) : 0;
  if (gone->len > 0 && forgotten == 0 && error != NULL && *error != NULL)
    return FALSE;
  run->stats.removed += forgotten;
  *differ += forgotten;
  return TRUE;
}

static gboolean
verify (Run          *run,
        KhSyncReport *report,
        GError      **error)
{
  g_autoptr(KhIntegrity) server = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  json_object *answer;
  json_object *local;
  guint64 differ = 0;
  guint64 refetch = 0;
  gboolean equal = TRUE;
  GHashTableIter iter;
  gpointer key;

  answer = kh_http_request (run->http, "GET", "/v1/integrity", NULL, run->cancellable, error);
  if (answer == NULL)
    return FALSE;
  server = kh_integrity_from_json (answer, &local_error);
  json_object_put (answer);
  if (server == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's integrity summary is not valid (%s)."), local_error->message);
      return FALSE;
    }
  if (!check_server (run, server->server_id, server->epoch, error))
    return FALSE;
  local = kh_replica_integrity (run->store, error);
  if (local == NULL)
    return FALSE;

  for (guint i = 0; i < server->entities->len; i++)
    g_hash_table_add (names, ((KhIntegrityEntry *) server->entities->pdata[i])->entity);
  {
    json_object_object_foreach (local, lkey, lval)
      {
        (void) lval;
        g_hash_table_add (names, lkey);
      }
  }

  g_hash_table_iter_init (&iter, names);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *entity = key;
      const KhIntegrityEntry *se = kh_integrity_lookup (server, entity);
      json_object *le = NULL;
      gint64 lcount = 0;
      const char *lsum = "0000000000000000";
      g_autofree char *ssum = se ? kh_codec_checksum_to_string (se->checksum) : g_strdup ("0000000000000000");
      guint64 before = differ;

      if (json_object_object_get_ex (local, entity, &le))
        {
          lcount = json_object_get_int64 (json_object_object_get (le, "count"));
          lsum = json_object_get_string (json_object_object_get (le, "checksum"));
        }
      if ((se ? se->count : 0) == lcount && strcmp (ssum, lsum) == 0)
        continue;
      equal = FALSE;
      if (kh_entity_lookup (entity) == NULL)
        continue;
      if (!compare_entity (run, entity, &differ, error))
        {
          json_object_put (local);
          return FALSE;
        }
      g_debug ("integrity: %s differs in %" G_GUINT64_FORMAT " records", entity, differ - before);
    }
  json_object_put (local);

  /* What differs and is not simply gone has to be fetched again: the change feed is the only
   * way the protocol gives records, so the replica re-pulls, and writes only what differs. */
  refetch = differ - run->stats.removed;
  if (refetch > 0)
    {
      if (!kh_replica_start_repull (run->store, error) || !pull_all (run, error))
        return FALSE;
    }
  report->repaired = differ;
  report->verified = equal || differ > 0;
  return TRUE;
}

static gboolean
run_sync (const Config  *config,
          KhSyncFlags    flags,
          KhSyncReport  *report,
          ProgressFunc   progress,
          gpointer       progress_data,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;
  g_autofree char *token = NULL;
  g_autofree char *epoch = NULL;
  g_autofree char *now = NULL;
  g_autoptr(GDateTime) dt = NULL;
  gint64 start = g_get_monotonic_time ();
  Run run = { 0 };
  gboolean ok;

  memset (report, 0, sizeof *report);
  store = slot_take (config->slot, config->database, error);
  if (store == NULL)
    return FALSE;
  url = kh_replica_get_state (store, KH_SYNC_SERVER_URL);
  username = kh_replica_get_state (store, KH_SYNC_USERNAME);
  token = url ? kh_credentials_lookup (config->database, url, username) : NULL;
  if (url == NULL || token == NULL)
    {
      /* A first pull that was cut short and never goes on: the replica is made whole. */
      if (!kh_store_restore_upkeep (store, error))
        return FALSE;
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Sign in to a server first (khuyenhoc-cli login --server URL --user NAME)."));
      return FALSE;
    }

  run.store = store;
  run.http = kh_http_new (url, &config->http);
  kh_http_set_token (run.http, token);
  run.prefetch_http = kh_http_new (url, &config->http);
  kh_http_set_token (run.prefetch_http, token);
  memset (token, 0, strlen (token));
  run.bound_id = kh_replica_get_state (store, KH_SYNC_SERVER_ID);
  epoch = kh_replica_get_state (store, KH_SYNC_EPOCH);
  run.epoch = epoch ? g_ascii_strtoll (epoch, NULL, 10) : 0;
  run.progress = progress;
  run.progress_data = progress_data;
  run.cancellable = cancellable;
  run.page_size = config->page_size;

  ok = pull_all (&run, error) && push_all (&run, error);
  if (ok && ((flags & KH_SYNC_FLAGS_VERIFY)
             || (!(flags & KH_SYNC_FLAGS_NO_VERIFY) && (run.stats.pushed > 0 || run.stats.pulled > 0))))
    ok = verify (&run, report, error);
  if (ok)
    {
      dt = g_date_time_new_now_utc ();
      now = g_date_time_format_iso8601 (dt);
      kh_replica_set_state (store, KH_SYNC_LAST_SYNC, now, NULL);
      report_progress (&run, 1.0);
    }

  report->pulled = run.stats.pulled;
  report->applied = run.stats.applied;
  report->merged = run.stats.merged;
  report->conflicts = run.stats.conflicts;
  report->removed = run.stats.removed;
  report->pushed = run.stats.pushed;
  report->rejected = run.stats.rejected;
  report->requests = kh_http_get_counters (run.http)->requests + kh_http_get_counters (run.prefetch_http)->requests;
  report->retries = kh_http_get_counters (run.http)->retries + kh_http_get_counters (run.prefetch_http)->retries;
  report->bytes_sent = kh_http_get_counters (run.http)->bytes_sent + kh_http_get_counters (run.prefetch_http)->bytes_sent;
  report->bytes_received = kh_http_get_counters (run.http)->bytes_received
                           + kh_http_get_counters (run.prefetch_http)->bytes_received;
  report->pending = kh_store_count_pending (store);
  report->open_conflicts = kh_replica_count_conflicts (store);
  report->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  kh_http_free (run.http);
  kh_http_free (run.prefetch_http);
  g_free (run.bound_id);
  if (run.unsettled)
    g_clear_object (&store);
  else
    slot_give_back (config->slot, g_steal_pointer (&store));
  /* What a large sync freed is kept until now (kh-memory.c), then given back. */
  if (report->pulled + report->pushed >= RELEASE_AFTER)
    kh_memory_release ();
  return ok;
}

/* The object ---------------------------------------------------------------------------------- */

static Config *
config_new (KhSyncEngine *self)
{
  Config *c = g_new0 (Config, 1);

  c->database = g_strdup (self->database);
  c->ca_file = g_strdup (self->ca_file);
  c->http.connect_timeout = self->connect_timeout;
  c->http.low_speed_time = self->low_speed_time;
  c->http.max_attempts = self->max_attempts;
  c->http.backoff_base = self->backoff_base;
  c->http.backoff_max = self->backoff_max;
  c->http.max_body = self->max_body;
  c->page_size = self->page_size;
  c->http.ca_file = c->ca_file;
  c->slot = &self->slot;
  return c;
}

static void
config_free (gpointer data)
{
  Config *c = data;

  g_free (c->database);
  g_free (c->ca_file);
  g_free (c);
}

static void
set_state (KhSyncEngine *self,
           KhSyncState   state,
           const char   *message)
{
  if (g_strcmp0 (self->error_message, message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

typedef struct
{
  GWeakRef  engine;
  double    progress;
} ProgressUpdate;

static gboolean
progress_update_cb (gpointer data)
{
  ProgressUpdate *u = data;
  g_autoptr(KhSyncEngine) self = g_weak_ref_get (&u->engine);

  if (self != NULL && self->progress != u->progress)
    {
      self->progress = u->progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
  return G_SOURCE_REMOVE;
}

static void
progress_update_free (gpointer data)
{
  ProgressUpdate *u = data;

  g_weak_ref_clear (&u->engine);
  g_free (u);
}

static void
thread_progress (gpointer data,
                 double   progress)
{
  KhSyncEngine *self = data;
  ProgressUpdate *u = g_new0 (ProgressUpdate, 1);

  g_weak_ref_init (&u->engine, self);
  u->progress = progress;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, progress_update_cb, u,
                              progress_update_free);
}

typedef struct
{
  Config       *config;
  KhSyncFlags   flags;
  KhSyncReport  report;
} TaskData;

static void
task_data_free (gpointer data)
{
  TaskData *td = data;

  config_free (td->config);
  g_free (td);
}

static void
sync_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  TaskData *td = data;
  GError *error = NULL;

  if (run_sync (td->config, td->flags, &td->report, thread_progress, source, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kh_sync_engine_sync_async (KhSyncEngine        *self,
                           KhSyncFlags          flags,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  TaskData *td;

  g_return_if_fail (KH_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kh_sync_engine_sync_async);
  g_task_set_return_on_cancel (task, FALSE);
  td = g_new0 (TaskData, 1);
  td->config = config_new (self);
  td->flags = flags;
  g_task_set_task_data (task, td, task_data_free);
  g_task_run_in_thread (task, sync_thread);
}

gboolean
kh_sync_engine_sync_finish (KhSyncEngine  *self,
                            GAsyncResult  *result,
                            KhSyncReport  *report,
                            GError       **error)
{
  TaskData *td;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  td = g_task_get_task_data (G_TASK (result));
  if (report != NULL)
    *report = td->report;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Runs a sync in the calling thread (the CLI, tests). */
gboolean
kh_sync_engine_run (KhSyncEngine  *self,
                    KhSyncFlags    flags,
                    KhSyncReport  *report,
                    GCancellable  *cancellable,
                    GError       **error)
{
  Config *config;
  KhSyncReport local_report;
  gboolean ok;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);

  config = config_new (self);
  ok = run_sync (config, flags, report ? report : &local_report, NULL, NULL, cancellable, error);
  config_free (config);
  return ok;
}

static void auto_sync_done_cb (GObject      *source,
                               GAsyncResult *result,
                               gpointer      user_data);

static void
start_sync (KhSyncEngine *self)
{
  if (self->running)
    {
      self->again = TRUE;
      return;
    }
  self->running = TRUE;
  self->again = FALSE;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_state (self, KH_SYNC_STATE_SYNCING, NULL);
  kh_sync_engine_sync_async (self, KH_SYNC_FLAGS_NONE, self->cancellable, auto_sync_done_cb,
                             g_object_ref (self));
}

static void
auto_sync_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KhSyncEngine) self = user_data;
  g_autoptr(GError) error = NULL;
  KhSyncReport report;
  gboolean ok = kh_sync_engine_sync_finish (self, result, &report, &error);

  self->running = FALSE;
  if (ok)
    set_state (self, KH_SYNC_STATE_IDLE, NULL);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_state (self, KH_SYNC_STATE_IDLE, NULL);
  else if (g_error_matches (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
    set_state (self, KH_SYNC_STATE_SIGNED_OUT, error->message);
  else if (error->domain == G_IO_ERROR)
    set_state (self, KH_SYNC_STATE_OFFLINE, error->message);
  else
    set_state (self, KH_SYNC_STATE_FAILED, error->message);
  g_signal_emit (self, signals[FINISHED], 0, ok, ok ? NULL : error->message);
  if (self->again && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    start_sync (self);
}

void
kh_sync_engine_request_sync (KhSyncEngine *self)
{
  g_return_if_fail (KH_IS_SYNC_ENGINE (self));
  start_sync (self);
}

/* An automatic trigger: not when the network is down, nor on a metered one unless allowed. */
static void
maybe_sync (KhSyncEngine *self)
{
  GNetworkMonitor *monitor = g_network_monitor_get_default ();

  if (!g_network_monitor_get_network_available (monitor))
    {
      set_state (self, KH_SYNC_STATE_OFFLINE, NULL);
      return;
    }
  if (g_network_monitor_get_network_metered (monitor) && !self->sync_on_metered)
    {
      g_debug ("metered network: waiting for a sync on demand");
      return;
    }
  start_sync (self);
}

static gboolean
edit_timeout_cb (gpointer data)
{
  KhSyncEngine *self = data;

  self->edit_id = 0;
  maybe_sync (self);
  return G_SOURCE_REMOVE;
}

void
kh_sync_engine_local_changed (KhSyncEngine *self)
{
  g_return_if_fail (KH_IS_SYNC_ENGINE (self));

  if (!self->automatic)
    return;
  g_clear_handle_id (&self->edit_id, g_source_remove);
  self->edit_id = g_timeout_add_seconds (MAX (self->edit_delay, 1), edit_timeout_cb, self);
}

void
kh_sync_engine_cancel (KhSyncEngine *self)
{
  g_return_if_fail (KH_IS_SYNC_ENGINE (self));
  self->again = FALSE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static gboolean
periodic_cb (gpointer data)
{
  maybe_sync (data);
  return G_SOURCE_CONTINUE;
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  KhSyncEngine *self = user_data;

  if (available && !self->was_available)
    maybe_sync (self);
  self->was_available = available;
}

static void
restart_periodic (KhSyncEngine *self)
{
  g_clear_handle_id (&self->periodic_id, g_source_remove);
  if (self->automatic && self->interval > 0)
    self->periodic_id = g_timeout_add_seconds (self->interval, periodic_cb, self);
}

void
kh_sync_engine_set_automatic (KhSyncEngine *self,
                              gboolean      automatic)
{
  GNetworkMonitor *monitor;

  g_return_if_fail (KH_IS_SYNC_ENGINE (self));

  automatic = !!automatic;
  if (self->automatic == automatic)
    return;
  self->automatic = automatic;
  monitor = g_network_monitor_get_default ();
  if (automatic)
    {
      self->was_available = g_network_monitor_get_network_available (monitor);
      self->network_id = g_signal_connect_object (monitor, "network-changed",
                                                  G_CALLBACK (network_changed_cb), self, 0);
      maybe_sync (self);
    }
  else
    {
      g_clear_signal_handler (&self->network_id, monitor);
      g_clear_handle_id (&self->edit_id, g_source_remove);
    }
  restart_periodic (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTOMATIC]);
}

gboolean
kh_sync_engine_get_automatic (KhSyncEngine *self)
{
  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);
  return self->automatic;
}

guint
kh_sync_engine_get_interval (KhSyncEngine *self)
{
  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), 0);
  return self->interval;
}

void
kh_sync_engine_set_interval (KhSyncEngine *self,
                             guint         seconds)
{
  g_return_if_fail (KH_IS_SYNC_ENGINE (self));
  if (self->interval == seconds)
    return;
  self->interval = seconds;
  restart_periodic (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
}

KhSyncState
kh_sync_engine_get_state (KhSyncEngine *self)
{
  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), KH_SYNC_STATE_IDLE);
  return self->state;
}

double
kh_sync_engine_get_progress (KhSyncEngine *self)
{
  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), 0);
  return self->progress;
}

const char *
kh_sync_engine_get_error_message (KhSyncEngine *self)
{
  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), NULL);
  return self->error_message;
}

/* Login and logout ---------------------------------------------------------------------------- */

gboolean
kh_sync_engine_login (KhSyncEngine  *self,
                      const char    *server_url,
                      const char    *username,
                      const char    *password,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(KhLoginResponse) response = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *bound = NULL;
  g_autofree char *epoch = NULL;
  Config *config;
  json_object *body;
  json_object *answer;
  gboolean ok;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (server_url != NULL && username != NULL && password != NULL, FALSE);

  store = kh_store_open (self->database, error);
  if (store == NULL)
    return FALSE;
  config = config_new (self);
  http = kh_http_new (server_url, &config->http);
  config_free (config);

  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string (username));
  json_object_object_add (body, "password", json_object_new_string (password));
  answer = kh_http_request (http, "POST", "/v1/login", body, cancellable, error);
  json_object_put (body);
  if (answer == NULL)
    return FALSE;
  response = kh_login_response_from_json (answer, &local_error);
  json_object_put (answer);
  if (response == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's answer to the sign-in is not valid (%s)."), local_error->message);
      return FALSE;
    }

  bound = kh_replica_get_state (store, KH_SYNC_SERVER_ID);
  if (bound != NULL && strcmp (bound, response->server_id) != 0)
    return fail_wrong_server (error, bound, response->server_id);

  if (!kh_credentials_store (self->database, server_url, username, response->token, error))
    return FALSE;
  memset (response->token, 0, strlen (response->token));

  epoch = g_strdup_printf ("%" G_GINT64_FORMAT, response->epoch);
  if (!kh_store_begin (store, error))
    return FALSE;
  ok = kh_replica_set_state (store, KH_SYNC_SERVER_URL, server_url, error)
       && kh_replica_set_state (store, KH_SYNC_USERNAME, username, error)
       && (bound != NULL || (kh_replica_set_state (store, KH_SYNC_SERVER_ID, response->server_id, error)
                             && kh_replica_set_state (store, KH_SYNC_EPOCH, epoch, error)));
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  set_state (self, KH_SYNC_STATE_IDLE, NULL);
  return TRUE;
}

gboolean
kh_sync_engine_logout (KhSyncEngine  *self,
                       GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);

  store = kh_store_open (self->database, error);
  if (store == NULL)
    return FALSE;
  url = kh_replica_get_state (store, KH_SYNC_SERVER_URL);
  username = kh_replica_get_state (store, KH_SYNC_USERNAME);
  kh_credentials_clear (self->database, url, username);
  set_state (self, KH_SYNC_STATE_SIGNED_OUT, NULL);
  /* The binding to the server and the unsent changes stay: signing in again goes on from here. */
  return TRUE;
}

/* GObject ------------------------------------------------------------------------------------- */

static void
kh_sync_engine_dispose (GObject *object)
{
  KhSyncEngine *self = (KhSyncEngine *) object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->periodic_id, g_source_remove);
  g_clear_handle_id (&self->edit_id, g_source_remove);
  if (self->network_id != 0)
    g_clear_signal_handler (&self->network_id, g_network_monitor_get_default ());

  G_OBJECT_CLASS (kh_sync_engine_parent_class)->dispose (object);
}

static void
kh_sync_engine_finalize (GObject *object)
{
  KhSyncEngine *self = (KhSyncEngine *) object;

  g_free (self->database);
  g_free (self->ca_file);
  g_free (self->error_message);
  g_main_context_unref (self->context);
  g_clear_object (&self->slot.store);
  g_mutex_clear (&self->slot.lock);

  G_OBJECT_CLASS (kh_sync_engine_parent_class)->finalize (object);
}

static void
kh_sync_engine_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KhSyncEngine *self = KH_SYNC_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATABASE:
      g_value_set_string (value, self->database);
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_AUTOMATIC:
      g_value_set_boolean (value, self->automatic);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_EDIT_DELAY:
      g_value_set_uint (value, self->edit_delay);
      break;
    case PROP_SYNC_ON_METERED:
      g_value_set_boolean (value, self->sync_on_metered);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_int (value, self->connect_timeout);
      break;
    case PROP_LOW_SPEED_TIME:
      g_value_set_int (value, self->low_speed_time);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_int (value, self->max_attempts);
      break;
    case PROP_BACKOFF_BASE:
      g_value_set_double (value, self->backoff_base);
      break;
    case PROP_MAX_BODY:
      g_value_set_uint64 (value, self->max_body);
      break;
    case PROP_PAGE_SIZE:
      g_value_set_int (value, self->page_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_sync_engine_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KhSyncEngine *self = KH_SYNC_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATABASE:
      self->database = g_value_dup_string (value);
      break;
    case PROP_AUTOMATIC:
      kh_sync_engine_set_automatic (self, g_value_get_boolean (value));
      break;
    case PROP_INTERVAL:
      kh_sync_engine_set_interval (self, g_value_get_uint (value));
      break;
    case PROP_EDIT_DELAY:
      if (self->edit_delay != g_value_get_uint (value))
        {
          self->edit_delay = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SYNC_ON_METERED:
      if (self->sync_on_metered != g_value_get_boolean (value))
        {
          self->sync_on_metered = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_CA_FILE:
      if (g_strcmp0 (self->ca_file, g_value_get_string (value)) != 0)
        {
          g_free (self->ca_file);
          self->ca_file = g_value_dup_string (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_int (value);
      break;
    case PROP_LOW_SPEED_TIME:
      self->low_speed_time = g_value_get_int (value);
      break;
    case PROP_MAX_ATTEMPTS:
      self->max_attempts = g_value_get_int (value);
      break;
    case PROP_BACKOFF_BASE:
      self->backoff_base = g_value_get_double (value);
      break;
    case PROP_MAX_BODY:
      self->max_body = g_value_get_uint64 (value);
      break;
    case PROP_PAGE_SIZE:
      self->page_size = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_sync_engine_class_init (KhSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kh_sync_engine_dispose;
  object_class->finalize = kh_sync_engine_finalize;
  object_class->get_property = kh_sync_engine_get_property;
  object_class->set_property = kh_sync_engine_set_property;

  properties[PROP_DATABASE] =
    g_param_spec_string ("database", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, KH_SYNC_STATE_IDLE, KH_SYNC_STATE_SIGNED_OUT,
                      KH_SYNC_STATE_IDLE, ro);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0, ro);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  properties[PROP_AUTOMATIC] =
    g_param_spec_boolean ("automatic", NULL, NULL, FALSE, rw);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 0, G_MAXUINT, 900, rw | G_PARAM_CONSTRUCT);
  properties[PROP_EDIT_DELAY] =
    g_param_spec_uint ("edit-delay", NULL, NULL, 1, 3600, 5, rw | G_PARAM_CONSTRUCT);
  properties[PROP_SYNC_ON_METERED] =
    g_param_spec_boolean ("sync-on-metered", NULL, NULL, FALSE, rw);
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL, rw);
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_int ("connect-timeout", NULL, NULL, 1, 600, 30, rw | G_PARAM_CONSTRUCT);
  properties[PROP_LOW_SPEED_TIME] =
    g_param_spec_int ("low-speed-time", NULL, NULL, 1, 3600, 60, rw | G_PARAM_CONSTRUCT);
  properties[PROP_MAX_ATTEMPTS] =
    g_param_spec_int ("max-attempts", NULL, NULL, 1, 100, 6, rw | G_PARAM_CONSTRUCT);
  properties[PROP_BACKOFF_BASE] =
    g_param_spec_double ("backoff-base", NULL, NULL, 0.0, 600.0, 1.0, rw | G_PARAM_CONSTRUCT);
  /* The largest answer accepted, decompressed: a page of 5000 records is a few megabytes. */
  properties[PROP_MAX_BODY] =
    g_param_spec_uint64 ("max-body", NULL, NULL, 1024, G_MAXUINT64, 256 * 1024 * 1024,
                         rw | G_PARAM_CONSTRUCT);
  /* Records per page of the change feed after the first pull (which takes the largest). */
  properties[PROP_PAGE_SIZE] =
    g_param_spec_int ("page-size", NULL, NULL, 1, KH_PAGE_MAX, KH_PAGE_DEFAULT, rw | G_PARAM_CONSTRUCT);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KhSyncEngine::finished:
   * @ok: whether the sync succeeded
   * @message: (nullable): why it failed, in words for the officer
   *
   * Emitted on the main context when an automatic or requested sync ends.
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
}

static void
kh_sync_engine_init (KhSyncEngine *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->backoff_max = 60.0;
  g_mutex_init (&self->slot.lock);
}

KhSyncEngine *
kh_sync_engine_new (const char *database)
{
  g_return_val_if_fail (database != NULL, NULL);
  return g_object_new (KH_TYPE_SYNC_ENGINE, "database", database, NULL);
}
