/* kh-sync-engine.c: the client sync engine, and the scheduler that starts its syncs
 *
 * A sync runs on a worker thread (g_task_run_in_thread) with its own connection to the
 * database (kept open between syncs) and its own connections to the server, so the window
 * never waits and the connections are kept alive. It pulls the change feed
 * (kh-sync-pull.c), then pushes the outbox (kh-sync-push.c), then, when something changed or
 * when asked, compares counts and checksums with the server and repairs what differs
 * (kh-sync-verify.c); kh-sync-run.c holds the steps together. State and progress are
 * properties notified on the main context the engine was made in.
 *
 * A replica is bound to the server that first answered it (its server_id): another server is
 * refused (kh-sync-run.c, kh-sync-login.c).
 *
 * Triggers, when "automatic" is on: at start, when the network comes back, a few seconds after
 * a local edit, and every "interval" seconds; on a metered network only when
 * "sync-on-metered" is set. A sync asked for while one runs runs again right after it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "kh-codec.h"
#include "kh-sync-engine-private.h"

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

/* The object ---------------------------------------------------------------------------------- */

KhSyncConfig *
kh_sync_config_new (KhSyncEngine *self)
{
  KhSyncConfig *c = g_new0 (KhSyncConfig, 1);

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

void
kh_sync_config_free (gpointer data)
{
  KhSyncConfig *c = data;

  g_free (c->database);
  g_free (c->ca_file);
  g_free (c);
}

void
kh_sync_engine_set_state (KhSyncEngine *self,
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

/* Runs @func in the engine's main context, from any thread. Not g_main_context_invoke(): from a
 * worker thread that pushed no context of its own, the global default counts as the worker's
 * thread-default, and when the main thread is not iterating at that moment the function ran
 * right there in the worker, where the window's handlers then used the window's store at the
 * same time as the main thread. */
void
_kh_sync_engine_in_context (KhSyncEngine   *self,
                            GSourceFunc     func,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, self->context);
  g_source_unref (source);
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
  _kh_sync_engine_in_context (self, progress_update_cb, u, progress_update_free);
}

typedef struct
{
  KhSyncConfig       *config;
  KhSyncFlags   flags;
  KhSyncReport  report;
} TaskData;

static void
task_data_free (gpointer data)
{
  TaskData *td = data;

  kh_sync_config_free (td->config);
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

  if (kh_sync_run (td->config, td->flags, &td->report, thread_progress, source, cancellable, &error))
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
  td->config = kh_sync_config_new (self);
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
  KhSyncConfig *config;
  KhSyncReport local_report;
  gboolean ok;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);

  config = kh_sync_config_new (self);
  ok = kh_sync_run (config, flags, report ? report : &local_report, NULL, NULL, cancellable, error);
  kh_sync_config_free (config);
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
  kh_sync_engine_set_state (self, KH_SYNC_STATE_SYNCING, NULL);
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
    kh_sync_engine_set_state (self, KH_SYNC_STATE_IDLE, NULL);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    kh_sync_engine_set_state (self, KH_SYNC_STATE_IDLE, NULL);
  else if (g_error_matches (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
    kh_sync_engine_set_state (self, KH_SYNC_STATE_SIGNED_OUT, error->message);
  else if (error->domain == G_IO_ERROR)
    kh_sync_engine_set_state (self, KH_SYNC_STATE_OFFLINE, error->message);
  else
    kh_sync_engine_set_state (self, KH_SYNC_STATE_FAILED, error->message);
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
      kh_sync_engine_set_state (self, KH_SYNC_STATE_OFFLINE, NULL);
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

static gboolean
local_changed_cb (gpointer data)
{
  KhSyncEngine *self = data;

  if (!self->automatic)
    return G_SOURCE_REMOVE;
  g_clear_handle_id (&self->edit_id, g_source_remove);
  self->edit_id = g_timeout_add_seconds (MAX (self->edit_delay, 1), edit_timeout_cb, self);
  return G_SOURCE_REMOVE;
}

/* A store may be written from a worker (a record's history fetched, an attachment's file
 * stored): the timer is then set again in the main context, which owns it. From a worker, the
 * timer's id could be removed while its callback ran there. */
void
kh_sync_engine_local_changed (KhSyncEngine *self)
{
  g_return_if_fail (KH_IS_SYNC_ENGINE (self));

  if (g_thread_self () == self->thread)
    local_changed_cb (self);
  else
    _kh_sync_engine_in_context (self, local_changed_cb, g_object_ref (self), g_object_unref);
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
  self->thread = g_thread_self ();
  self->backoff_max = 60.0;
  g_mutex_init (&self->slot.lock);
}

KhSyncEngine *
kh_sync_engine_new (const char *database)
{
  g_return_val_if_fail (database != NULL, NULL);
  return g_object_new (KH_TYPE_SYNC_ENGINE, "database", database, NULL);
}

