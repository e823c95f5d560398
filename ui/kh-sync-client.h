/* kh-sync-client.h: the seam between the window and a sync engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

G_BEGIN_DECLS

typedef enum
{
  KH_SYNC_CLIENT_STATE_UNAVAILABLE,   /* no sync engine in this build, or none wired to the window */
  KH_SYNC_CLIENT_STATE_SIGNED_OUT,    /* an engine, but no account yet */
  KH_SYNC_CLIENT_STATE_IDLE,          /* signed in, the last sync succeeded */
  KH_SYNC_CLIENT_STATE_SYNCING,
  KH_SYNC_CLIENT_STATE_OFFLINE,       /* the server cannot be reached */
  KH_SYNC_CLIENT_STATE_ERROR,         /* the last sync failed for another reason; see "message" */
} KhSyncClientState;

#define KH_TYPE_SYNC_CLIENT_STATE (kh_sync_client_state_get_type ())
GType kh_sync_client_state_get_type (void);

#define KH_TYPE_SYNC_CLIENT (kh_sync_client_get_type ())

G_DECLARE_INTERFACE (KhSyncClient, kh_sync_client, KH, SYNC_CLIENT, GObject)

/* What the window needs from a sync engine. An implementation has the properties "state"
 * (KhSyncClientState), "progress" (double, 0–1 while syncing), "last-sync" (GDateTime of the last
 * successful sync, or NULL) and "message" (the last problem, in words a person can act on), and
 * notifies them on change, from the main thread. */
struct _KhSyncClientInterface
{
  GTypeInterface parent_iface;

  void     (*sync_async)      (KhSyncClient         *self,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean (*sync_finish)     (KhSyncClient         *self,
                               GAsyncResult         *result,
                               GError              **error);
  void     (*sign_in_async)   (KhSyncClient         *self,
                               const char           *server_url,
                               const char           *user,
                               const char           *password,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean (*sign_in_finish)  (KhSyncClient         *self,
                               GAsyncResult         *result,
                               GError              **error);
  gboolean (*sign_out)        (KhSyncClient         *self,
                               GError              **error);
  /* Optional: erasing a person on the server (PROTOCOL.md §11). */
  void     (*erase_async)     (KhSyncClient         *self,
                               const char           *entity,
                               const char           *id,
                               const char           *reason,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean (*erase_finish)    (KhSyncClient         *self,
                               GAsyncResult         *result,
                               GError              **error);
  /* Optional: a record's history from the server, kept in the store (kh-store-history.h). */
  void     (*history_async)   (KhSyncClient         *self,
                               const char           *entity,
                               const char           *id,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean (*history_finish)  (KhSyncClient         *self,
                               GAsyncResult         *result,
                               GError              **error);
  /* Optional: the changes made in the account's area from day @from to day @to (YYYY-MM-DD,
   * either NULL), as the server answers GET /v1/activity; finish returns the rows (a json
   * array, owned by the caller). */
  void     (*activity_async)  (KhSyncClient         *self,
                               const char           *from,
                               const char           *to,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  json_object *(*activity_finish) (KhSyncClient     *self,
                               GAsyncResult         *result,
                               GError              **error);
};

void     kh_sync_client_sync_async     (KhSyncClient         *self,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean kh_sync_client_sync_finish    (KhSyncClient         *self,
                                        GAsyncResult         *result,
                                        GError              **error);
void     kh_sync_client_sign_in_async  (KhSyncClient         *self,
                                        const char           *server_url,
                                        const char           *user,
                                        const char           *password,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean kh_sync_client_sign_in_finish (KhSyncClient         *self,
                                        GAsyncResult         *result,
                                        GError              **error);
gboolean kh_sync_client_sign_out       (KhSyncClient         *self,
                                        GError              **error);
void     kh_sync_client_erase_async    (KhSyncClient         *self,
                                        const char           *entity,
                                        const char           *id,
                                        const char           *reason,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean kh_sync_client_erase_finish   (KhSyncClient         *self,
                                        GAsyncResult         *result,
                                        GError              **error);
void     kh_sync_client_history_async  (KhSyncClient         *self,
                                        const char           *entity,
                                        const char           *id,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean kh_sync_client_history_finish (KhSyncClient         *self,
                                        GAsyncResult         *result,
                                        GError              **error);
void     kh_sync_client_activity_async (KhSyncClient         *self,
                                        const char           *from,
                                        const char           *to,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
json_object *kh_sync_client_activity_finish (KhSyncClient    *self,
                                        GAsyncResult         *result,
                                        GError              **error);

/* Keeps @when (a client's "last-sync", followed by a widget) in *@slot: whether it changed. */
gboolean kh_sync_time_replace (GDateTime **slot,
                               GDateTime  *when);

G_END_DECLS
