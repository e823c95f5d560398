/* kh-sync-login.c: signing in to a server and out of it
 *
 * Signing in stores the token with the credentials and binds a new replica to the server;
 * a replica bound to another server is refused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"
#include "kh-workflow.h"

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
  KhSyncConfig *config;
  json_object *body;
  json_object *answer;
  gboolean ok;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (server_url != NULL && username != NULL && password != NULL, FALSE);

  store = kh_store_open (self->database, error);
  if (store == NULL)
    return FALSE;
  config = kh_sync_config_new (self);
  http = kh_http_new (server_url, &config->http);
  kh_sync_config_free (config);

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
    return kh_sync_fail_wrong_server (error, bound, response->server_id);

  if (!kh_credentials_store (self->database, server_url, username, response->token, error))
    return FALSE;
  memset (response->token, 0, strlen (response->token));

  epoch = g_strdup_printf ("%" G_GINT64_FORMAT, response->epoch);
  /* An older server sends no permissions: the role's, as that server had no others. */
  if (response->permissions == NULL)
    response->permissions = kh_permits_to_string (kh_permits_for_role (response->role));
  if (!kh_store_begin (store, error))
    return FALSE;
  ok = kh_replica_set_state (store, KH_SYNC_SERVER_URL, server_url, error)
       && kh_replica_set_state (store, KH_SYNC_USERNAME, username, error)
       && kh_replica_set_state (store, KH_SYNC_SCOPE_UNIT, response->scope_unit_id, error)
       && kh_replica_set_state (store, KH_SYNC_PERMISSIONS, response->permissions, error)
       && (bound != NULL || (kh_replica_set_state (store, KH_SYNC_SERVER_ID, response->server_id, error)
                             && kh_replica_set_state (store, KH_SYNC_EPOCH, epoch, error)));
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  kh_sync_engine_set_state (self, KH_SYNC_STATE_IDLE, NULL);
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
  kh_sync_engine_set_state (self, KH_SYNC_STATE_SIGNED_OUT, NULL);
  /* The binding to the server and the unsent changes stay: signing in again goes on from here. */
  return TRUE;
}
