/* kh-engine-client.c: the sync engine (sync/kh-sync-engine.h) behind the window's seam
 *
 * Implements KhSyncClient over KhSyncEngine: "Sync now" and "Sign in" go to the engine (sign-in
 * blocks on the network, so it runs on a worker thread), the engine's state becomes the
 * window's (Sync now too goes through the engine's scheduler, so a person sees each sync), a
 * local edit tells the engine (which syncs a few seconds later when automatic), and
 * the preferences (interval, metered networks) are passed on as they change. The time of the
 * last successful sync is kept in the store's meta table, so the header shows it after a
 * restart too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-engine-client.h"
#include "kh-replica.h"
#include "kh-sync-engine.h"
#include "kh-workflow.h"

#define LAST_SYNC_KEY "desktop_last_sync"

struct _KhEngineClient
{
  GObject       parent_instance;

  KhStore      *store;
  KhSyncEngine *engine;
  GSettings    *settings;
  GDateTime    *last_sync;
  KhSyncState   engine_state;
  gboolean      signed_in;
  gulong        changed_id;
  GQueue        waiting;      /* the GTasks of Sync now, until the engine's next "finished" */
};

static void sync_client_iface_init (KhSyncClientInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhEngineClient, kh_engine_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KH_TYPE_SYNC_CLIENT, sync_client_iface_init))

enum {
  PROP_0,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_LAST_SYNC,
  PROP_MESSAGE,
  N_PROPS
};

/* The engine is idle before its first sync whether or not it has an account: a replica with no
 * server or no token is "signed out" to a person. */
static void
update_signed_in (KhEngineClient *self)
{
  g_autofree char *url = kh_replica_get_state (self->store, KH_SYNC_SERVER_URL);
  g_autofree char *user = kh_replica_get_state (self->store, KH_SYNC_USERNAME);
  g_autofree char *token = url ? kh_credentials_lookup (kh_store_get_path (self->store), url, user) : NULL;

  self->signed_in = token != NULL;
  if (token != NULL)
    memset (token, 0, strlen (token));
  /* A replica bound to an account writes as that account, signed in or not: the history then
   * names the person, not the computer's login, and the window offers the steps it may take. */
  if (user != NULL)
    {
      g_autofree char *permits = kh_replica_get_state (self->store, KH_SYNC_PERMISSIONS);
      int parsed = kh_permits_parse (permits);

      kh_store_set_actor (self->store, user);
      /* Bound before permissions were sent: an officer's, until the next sign-in. */
      kh_store_set_permits (self->store, permits == NULL ? KH_PERMIT_SUBMIT
                                         : parsed >= 0 ? (guint) parsed : 0);
    }
}

/* The error a failed sync reports, from the engine's state and message. */
static GError *
engine_error (KhEngineClient *self,
              const char     *message)
{
  const char *text = message != NULL ? message : _("The sync failed.");

  switch (kh_sync_engine_get_state (self->engine))
    {
    case KH_SYNC_STATE_OFFLINE:
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, text);
    case KH_SYNC_STATE_SIGNED_OUT:
      return g_error_new_literal (KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED, text);
    case KH_SYNC_STATE_IDLE:
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, text);
    case KH_SYNC_STATE_SYNCING:
    case KH_SYNC_STATE_FAILED:
    default:
      return g_error_new_literal (KH_SYNC_ERROR, KH_SYNC_ERROR_INTERNAL, text);
    }
}

static KhSyncClientState
client_state (KhEngineClient *self)
{
  switch (kh_sync_engine_get_state (self->engine))
    {
    case KH_SYNC_STATE_IDLE:
      return self->signed_in ? KH_SYNC_CLIENT_STATE_IDLE : KH_SYNC_CLIENT_STATE_SIGNED_OUT;
    case KH_SYNC_STATE_SYNCING:
      return KH_SYNC_CLIENT_STATE_SYNCING;
    case KH_SYNC_STATE_OFFLINE:
      return KH_SYNC_CLIENT_STATE_OFFLINE;
    case KH_SYNC_STATE_FAILED:
      return KH_SYNC_CLIENT_STATE_ERROR;
    case KH_SYNC_STATE_SIGNED_OUT:
    default:
      return KH_SYNC_CLIENT_STATE_SIGNED_OUT;
    }
}

static void
engine_notify_cb (KhEngineClient *self,
                  GParamSpec     *pspec,
                  KhSyncEngine   *engine)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "state"))
    {
      KhSyncState state = kh_sync_engine_get_state (engine);

      if (state == KH_SYNC_STATE_SIGNED_OUT || state == KH_SYNC_STATE_IDLE)
        update_signed_in (self);

      self->engine_state = state;
      g_object_notify (G_OBJECT (self), "state");
    }
  else if (g_str_equal (name, "progress"))
    g_object_notify (G_OBJECT (self), "progress");
  else if (g_str_equal (name, "error-message"))
    g_object_notify (G_OBJECT (self), "message");
}

/* Every sync that ends well, asked for or automatic, however short, is the last sync: the
 * engine says so once per sync, where a state that went to syncing and back within one
 * main-loop turn could not. */
static void
engine_finished_cb (KhEngineClient *self,
                    gboolean        ok,
                    const char     *message,
                    KhSyncEngine   *engine)
{
  GTask *task;

  if (ok)
    {
      g_autofree char *iso = NULL;

      g_clear_pointer (&self->last_sync, g_date_time_unref);
      self->last_sync = g_date_time_new_now_utc ();
      iso = g_date_time_format_iso8601 (self->last_sync);
      kh_store_set_meta (self->store, LAST_SYNC_KEY, iso, NULL);
      g_object_notify (G_OBJECT (self), "last-sync");
    }
  /* The syncs asked for with Sync now end with this one. */
  while ((task = g_queue_pop_head (&self->waiting)) != NULL)
    {
      if (ok)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, engine_error (self, message));
      g_object_unref (task);
    }
}

static void
store_changed_cb (KhEngineClient *self,
                  const char     *entity)
{
  if (g_strcmp0 (entity, "conflict") != 0)
    kh_sync_engine_local_changed (self->engine);
}

static void
apply_settings (KhEngineClient *self)
{
  guint minutes;

  if (self->settings == NULL)
    return;
  minutes = g_settings_get_uint (self->settings, "sync-interval");
  kh_sync_engine_set_interval (self->engine, MAX (minutes, 1) * 60);
  kh_sync_engine_set_automatic (self->engine, minutes > 0);
  g_object_set (self->engine, "sync-on-metered",
                g_settings_get_boolean (self->settings, "sync-on-metered"), NULL);
}

/* KhSyncClient --------------------------------------------------------------------------------- */

/* Sync now goes through the engine's scheduler like an automatic sync, so the engine's state
 * (syncing, then synced, offline or failed) is what the window shows, and the sync ends with
 * the engine's "finished". */
static void
kh_engine_client_sync_async (KhSyncClient        *client,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  KhEngineClient *self = KH_ENGINE_CLIENT (client);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, kh_engine_client_sync_async);
  g_queue_push_tail (&self->waiting, task);
  kh_sync_engine_request_sync (self->engine);
}

static gboolean
kh_engine_client_sync_finish (KhSyncClient  *client,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  char *server;
  char *user;
  char *password;
} SignIn;

static void
sign_in_free (gpointer data)
{
  SignIn *s = data;

  g_free (s->server);
  g_free (s->user);
  if (s->password != NULL)
    memset (s->password, 0, strlen (s->password));
  g_free (s->password);
  g_free (s);
}

static void
sign_in_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  KhEngineClient *self = source;
  SignIn *s = data;
  GError *error = NULL;

  if (kh_sync_engine_login (self->engine, s->server, s->user, s->password, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
kh_engine_client_sign_in_async (KhSyncClient        *client,
                                const char          *server_url,
                                const char          *user,
                                const char          *password,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (client, cancellable, callback, user_data);
  SignIn *s = g_new0 (SignIn, 1);

  s->server = g_strdup (server_url);
  s->user = g_strdup (user);
  s->password = g_strdup (password);
  g_task_set_source_tag (task, kh_engine_client_sign_in_async);
  g_task_set_task_data (task, s, sign_in_free);
  g_task_run_in_thread (task, sign_in_thread);
}

static gboolean
kh_engine_client_sign_in_finish (KhSyncClient  *client,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  KhEngineClient *self = KH_ENGINE_CLIENT (client);
  gboolean ok = g_task_propagate_boolean (G_TASK (result), error);

  /* Signed in: bring the replica up to date at once. */
  update_signed_in (self);
  g_object_notify (G_OBJECT (self), "state");
  if (ok)
    kh_sync_engine_request_sync (self->engine);
  return ok;
}

static gboolean
kh_engine_client_sign_out (KhSyncClient  *client,
                           GError       **error)
{
  KhEngineClient *self = KH_ENGINE_CLIENT (client);
  gboolean ok = kh_sync_engine_logout (self->engine, error);

  update_signed_in (self);
  g_object_notify (G_OBJECT (self), "state");
  return ok;
}

typedef struct
{
  char *entity;
  char *id;
  char *reason;
} Erase;

static void
erase_free (gpointer data)
{
  Erase *e = data;

  g_free (e->entity);
  g_free (e->id);
  g_free (e->reason);
  g_free (e);
}

static void
erase_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  KhEngineClient *self = source;
  Erase *e = data;
  GError *error = NULL;

  if (kh_sync_engine_erase (self->engine, e->entity, e->id, e->reason, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
kh_engine_client_erase_async (KhSyncClient        *client,
                              const char          *entity,
                              const char          *id,
                              const char          *reason,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (client, cancellable, callback, user_data);
  Erase *e = g_new0 (Erase, 1);

  e->entity = g_strdup (entity);
  e->id = g_strdup (id);
  e->reason = g_strdup (reason);
  g_task_set_source_tag (task, kh_engine_client_erase_async);
  g_task_set_task_data (task, e, erase_free);
  g_task_run_in_thread (task, erase_thread);
}

static gboolean
kh_engine_client_erase_finish (KhSyncClient  *client,
                               GAsyncResult  *result,
                               GError       **error)
{
  gboolean ok = g_task_propagate_boolean (G_TASK (result), error);

  /* Erased on the server: take the erasure in here at once. */
  if (ok)
    kh_sync_engine_request_sync (KH_ENGINE_CLIENT (client)->engine);
  return ok;
}

static void
history_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  KhEngineClient *self = source;
  Erase *e = data;
  GError *error = NULL;
  json_object *history = kh_sync_engine_history (self->engine, e->entity, e->id, cancellable, &error);

  if (history != NULL)
    {
      json_object_put (history);
      g_task_return_boolean (task, TRUE);
    }
  else
    g_task_return_error (task, error);
}

/* The record's history is asked of the server on the engine's side, and kept in the replica. */
static void
kh_engine_client_history_async (KhSyncClient        *client,
                                const char          *entity,
                                const char          *id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (client, cancellable, callback, user_data);
  Erase *e = g_new0 (Erase, 1);

  e->entity = g_strdup (entity);
  e->id = g_strdup (id);
  g_task_set_source_tag (task, kh_engine_client_history_async);
  g_task_set_task_data (task, e, erase_free);
  g_task_run_in_thread (task, history_thread);
}

static gboolean
kh_engine_client_history_finish (KhSyncClient  *client,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  char *from;
  char *to;
} Period;

static void
period_free (gpointer data)
{
  Period *p = data;

  g_free (p->from);
  g_free (p->to);
  g_free (p);
}

static void
activity_thread (GTask        *task,
                 gpointer      source,
                 gpointer      data,
                 GCancellable *cancellable)
{
  KhEngineClient *self = source;
  Period *p = data;
  GError *error = NULL;
  json_object *rows = kh_sync_engine_activity (self->engine, p->from, p->to, NULL, NULL, cancellable, &error);

  if (rows != NULL)
    g_task_return_pointer (task, rows, (GDestroyNotify) json_object_put);
  else
    g_task_return_error (task, error);
}

/* A supervisor's report is read from the server when asked, on a worker: the window goes on. */
static void
kh_engine_client_activity_async (KhSyncClient        *client,
                                 const char          *from,
                                 const char          *to,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (client, cancellable, callback, user_data);
  Period *p = g_new0 (Period, 1);

  p->from = g_strdup (from);
  p->to = g_strdup (to);
  g_task_set_source_tag (task, kh_engine_client_activity_async);
  g_task_set_task_data (task, p, period_free);
  g_task_run_in_thread (task, activity_thread);
}

static json_object *
kh_engine_client_activity_finish (KhSyncClient  *client,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
sync_client_iface_init (KhSyncClientInterface *iface)
{
  iface->sync_async = kh_engine_client_sync_async;
  iface->sync_finish = kh_engine_client_sync_finish;
  iface->sign_in_async = kh_engine_client_sign_in_async;
  iface->sign_in_finish = kh_engine_client_sign_in_finish;
  iface->sign_out = kh_engine_client_sign_out;
  iface->erase_async = kh_engine_client_erase_async;
  iface->erase_finish = kh_engine_client_erase_finish;
  iface->history_async = kh_engine_client_history_async;
  iface->history_finish = kh_engine_client_history_finish;
  iface->activity_async = kh_engine_client_activity_async;
  iface->activity_finish = kh_engine_client_activity_finish;
}

/* Object --------------------------------------------------------------------------------------- */

static void
kh_engine_client_dispose (GObject *object)
{
  KhEngineClient *self = (KhEngineClient *) object;

  if (self->engine != NULL)
    kh_sync_engine_cancel (self->engine);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  {
    GTask *task;

    while ((task = g_queue_pop_head (&self->waiting)) != NULL)
      {
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", _("The window closed."));
        g_object_unref (task);
      }
  }
  g_clear_object (&self->engine);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_engine_client_parent_class)->dispose (object);
}

static void
kh_engine_client_finalize (GObject *object)
{
  KhEngineClient *self = (KhEngineClient *) object;

  g_clear_pointer (&self->last_sync, g_date_time_unref);

  G_OBJECT_CLASS (kh_engine_client_parent_class)->finalize (object);
}

static void
kh_engine_client_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KhEngineClient *self = KH_ENGINE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, client_state (self));
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, kh_sync_engine_get_progress (self->engine));
      break;
    case PROP_LAST_SYNC:
      g_value_set_boxed (value, self->last_sync);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, kh_sync_engine_get_error_message (self->engine));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_engine_client_class_init (KhEngineClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kh_engine_client_dispose;
  object_class->finalize = kh_engine_client_finalize;
  object_class->get_property = kh_engine_client_get_property;

  g_object_class_override_property (object_class, PROP_STATE, "state");
  g_object_class_override_property (object_class, PROP_PROGRESS, "progress");
  g_object_class_override_property (object_class, PROP_LAST_SYNC, "last-sync");
  g_object_class_override_property (object_class, PROP_MESSAGE, "message");
}

static void
kh_engine_client_init (KhEngineClient *self)
{
}

KhEngineClient *
kh_engine_client_new (KhStore   *store,
                      GSettings *settings)
{
  KhEngineClient *self;
  g_autofree char *last = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_ENGINE_CLIENT, NULL);
  self->store = g_object_ref (store);
  self->settings = settings ? g_object_ref (settings) : NULL;
  self->engine = kh_sync_engine_new (kh_store_get_path (store));
  self->engine_state = kh_sync_engine_get_state (self->engine);
  update_signed_in (self);
  last = kh_store_get_meta (store, LAST_SYNC_KEY);
  if (last != NULL)
    self->last_sync = g_date_time_new_from_iso8601 (last, NULL);

  g_signal_connect_object (self->engine, "notify", G_CALLBACK (engine_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "finished", G_CALLBACK (engine_finished_cb), self, G_CONNECT_SWAPPED);
  self->changed_id = g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb),
                                              self, G_CONNECT_SWAPPED);
  if (settings != NULL)
    g_signal_connect_object (settings, "changed", G_CALLBACK (apply_settings), self, G_CONNECT_SWAPPED);
  apply_settings (self);
  return self;
}
