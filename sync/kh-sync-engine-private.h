/* kh-sync-engine-private.h: what the files of the sync engine share
 *
 * The engine is one object (kh-sync-engine.c: its properties and the scheduler that starts
 * syncs) and the steps of one sync, each in its own file: the run that holds them together
 * (kh-sync-run.c), the pull with its prefetching thread (kh-sync-pull.c), the push pipeline
 * (kh-sync-push.c), the integrity check and repair (kh-sync-verify.c), and signing in and out
 * (kh-sync-login.c). kh-sync-engine.h stays the public API.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-http-private.h"
#include "kh-replica.h"
#include "kh-store.h"
#include "kh-sync-engine.h"

G_BEGIN_DECLS

/* The worker's connection, kept between syncs: opening a replica reads its whole schema (some
 * three hundred tables, indexes and triggers), about 3 ms, which was most of a sync with
 * nothing to do. A sync takes it, or opens one if it is not there, and gives it back when it
 * ends with no transaction open; its page cache is let go then. */
typedef struct
{
  GMutex   lock;
  KhStore *store;
} KhSyncStoreSlot;

/* What a sync needs of the engine, copied when it starts so that the worker never reads the
 * object while the main thread changes it. */
typedef struct
{
  char            *database;
  KhHttpOptions    http;
  char            *ca_file;
  int              page_size;
  KhSyncStoreSlot *slot;       /* the engine's, which outlives every sync it runs */
} KhSyncConfig;

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
  GThread         *thread;        /* the one that made the engine, and iterates its context */
  GCancellable    *cancellable;   /* the running sync's */
  gboolean         running;
  gboolean         again;
  guint            periodic_id;
  guint            edit_id;
  gulong           network_id;
  gboolean         was_available;
  KhSyncStoreSlot  slot;
};

typedef void (*KhSyncProgressFunc) (gpointer data,
                                    double   progress);

/* One sync, on the worker thread. */
typedef struct
{
  KhStore            *store;
  KhHttp             *http;
  KhHttp             *prefetch_http; /* a second connection: the next page arrives while one is applied */
  KhReplicaStats      stats;
  char               *bound_id;
  gint64              epoch;
  KhSyncProgressFunc  progress;
  gpointer            progress_data;
  GCancellable       *cancellable;
  int                 page_size;
  gboolean            unsettled;     /* the store's connection could not be set back: not kept */
} KhSyncRun;

/* kh-sync-engine.c */
KhSyncConfig *kh_sync_config_new          (KhSyncEngine        *self);
void          kh_sync_config_free         (gpointer             data);
void          kh_sync_engine_set_state    (KhSyncEngine        *self,
                                           KhSyncState          state,
                                           const char          *message);

/* kh-sync-files.c */
gboolean      kh_sync_files               (KhSyncRun           *run,
                                           KhHttp              *http,
                                           KhSyncReport        *report,
                                           GError             **error);

/* kh-sync-erase.c */
gboolean      kh_sync_erasures            (KhSyncRun           *run,
                                           GError             **error);

/* kh-sync-run.c */
gboolean      kh_sync_run                 (const KhSyncConfig  *config,
                                           KhSyncFlags          flags,
                                           KhSyncReport        *report,
                                           KhSyncProgressFunc   progress,
                                           gpointer             progress_data,
                                           GCancellable        *cancellable,
                                           GError             **error);
gboolean      kh_sync_fail_wrong_server   (GError             **error,
                                           const char          *bound,
                                           const char          *seen);
void          kh_sync_run_report_progress (KhSyncRun           *run,
                                           double               value);
/* Binds the replica to the server on its first answer; refuses another server after that. */
gboolean      kh_sync_run_check_server    (KhSyncRun           *run,
                                           const char          *server_id,
                                           gint64               epoch,
                                           GError             **error);
gboolean      kh_sync_run_set_epoch       (KhSyncRun           *run,
                                           gint64               epoch,
                                           GError             **error);

/* kh-sync-pull.c */
gboolean      kh_sync_pull                (KhSyncRun           *run,
                                           GError             **error);

/* kh-sync-push.c */
gboolean      kh_sync_push                (KhSyncRun           *run,
                                           GError             **error);

/* kh-sync-verify.c */
gboolean      kh_sync_verify              (KhSyncRun           *run,
                                           KhSyncReport        *report,
                                           GError             **error);

void _kh_sync_engine_in_context (KhSyncEngine   *self,
                                 GSourceFunc     func,
                                 gpointer        data,
                                 GDestroyNotify  notify);

G_END_DECLS
