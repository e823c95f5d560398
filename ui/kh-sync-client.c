/* kh-sync-client.c: the seam between the window and a sync engine
 *
 * The window shows sync state and offers "Sign in" and "Sync now" through this interface only,
 * so the engine (sync/, built separately) is wired in by implementing it, with no change to
 * the pages. With no implementation set, the window says plainly that this build cannot sync.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-sync-client.h"

G_DEFINE_ENUM_TYPE (KhSyncClientState, kh_sync_client_state,
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_UNAVAILABLE, "unavailable"),
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_SIGNED_OUT, "signed-out"),
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_SYNCING, "syncing"),
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_OFFLINE, "offline"),
  G_DEFINE_ENUM_VALUE (KH_SYNC_CLIENT_STATE_ERROR, "error"))

G_DEFINE_INTERFACE (KhSyncClient, kh_sync_client, G_TYPE_OBJECT)

static void
kh_sync_client_default_init (KhSyncClientInterface *iface)
{
  g_object_interface_install_property (iface,
    g_param_spec_enum ("state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_SIGNED_OUT,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_boxed ("last-sync", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

void
kh_sync_client_sync_async (KhSyncClient        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (KH_IS_SYNC_CLIENT (self));
  KH_SYNC_CLIENT_GET_IFACE (self)->sync_async (self, cancellable, callback, user_data);
}

gboolean
kh_sync_client_sync_finish (KhSyncClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), FALSE);
  return KH_SYNC_CLIENT_GET_IFACE (self)->sync_finish (self, result, error);
}

void
kh_sync_client_sign_in_async (KhSyncClient        *self,
                              const char          *server_url,
                              const char          *user,
                              const char          *password,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (KH_IS_SYNC_CLIENT (self));
  KH_SYNC_CLIENT_GET_IFACE (self)->sign_in_async (self, server_url, user, password,
                                                  cancellable, callback, user_data);
}

gboolean
kh_sync_client_sign_in_finish (KhSyncClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), FALSE);
  return KH_SYNC_CLIENT_GET_IFACE (self)->sign_in_finish (self, result, error);
}

gboolean
kh_sync_client_sign_out (KhSyncClient  *self,
                         GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), FALSE);
  return KH_SYNC_CLIENT_GET_IFACE (self)->sign_out (self, error);
}

void
kh_sync_client_erase_async (KhSyncClient        *self,
                            const char          *entity,
                            const char          *id,
                            const char          *reason,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  KhSyncClientInterface *iface;

  g_return_if_fail (KH_IS_SYNC_CLIENT (self));
  iface = KH_SYNC_CLIENT_GET_IFACE (self);
  if (iface->erase_async == NULL)
    {
      g_task_report_new_error (self, callback, user_data, kh_sync_client_erase_async, G_IO_ERROR,
                               G_IO_ERROR_NOT_SUPPORTED, "%s", _("This build cannot reach a server."));
      return;
    }
  iface->erase_async (self, entity, id, reason, cancellable, callback, user_data);
}

gboolean
kh_sync_client_erase_finish (KhSyncClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), FALSE);
  if (g_async_result_is_tagged (result, kh_sync_client_erase_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return KH_SYNC_CLIENT_GET_IFACE (self)->erase_finish (self, result, error);
}

void
kh_sync_client_history_async (KhSyncClient        *self,
                              const char          *entity,
                              const char          *id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  KhSyncClientInterface *iface;

  g_return_if_fail (KH_IS_SYNC_CLIENT (self));
  iface = KH_SYNC_CLIENT_GET_IFACE (self);
  if (iface->history_async == NULL)
    {
      g_task_report_new_error (self, callback, user_data, kh_sync_client_history_async, G_IO_ERROR,
                               G_IO_ERROR_NOT_SUPPORTED, "%s", _("This build cannot reach a server."));
      return;
    }
  iface->history_async (self, entity, id, cancellable, callback, user_data);
}

gboolean
kh_sync_client_history_finish (KhSyncClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), FALSE);
  if (g_async_result_is_tagged (result, kh_sync_client_history_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return KH_SYNC_CLIENT_GET_IFACE (self)->history_finish (self, result, error);
}

void
kh_sync_client_activity_async (KhSyncClient        *self,
                               const char          *from,
                               const char          *to,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  KhSyncClientInterface *iface;

  g_return_if_fail (KH_IS_SYNC_CLIENT (self));
  iface = KH_SYNC_CLIENT_GET_IFACE (self);
  if (iface->activity_async == NULL)
    {
      g_task_report_new_error (self, callback, user_data, kh_sync_client_activity_async, G_IO_ERROR,
                               G_IO_ERROR_NOT_SUPPORTED, "%s", _("This build cannot reach a server."));
      return;
    }
  iface->activity_async (self, from, to, cancellable, callback, user_data);
}

json_object *
kh_sync_client_activity_finish (KhSyncClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (KH_IS_SYNC_CLIENT (self), NULL);
  if (g_async_result_is_tagged (result, kh_sync_client_activity_async))
    return g_task_propagate_pointer (G_TASK (result), error);
  return KH_SYNC_CLIENT_GET_IFACE (self)->activity_finish (self, result, error);
}

gboolean
kh_sync_time_replace (GDateTime **slot,
                      GDateTime  *when)
{
  g_return_val_if_fail (slot != NULL, FALSE);

  if (*slot == when || (*slot != NULL && when != NULL && g_date_time_equal (*slot, when)))
    return FALSE;
  g_clear_pointer (slot, g_date_time_unref);
  *slot = when != NULL ? g_date_time_ref (when) : NULL;
  return TRUE;
}
