/* kh-sync-history.c: a record's history and an area's activity, from the server
 *
 * GET /v1/history and GET /v1/activity (PROTOCOL.md). A record's history is kept in the
 * replica (kh-store-history.c), so it reads the same offline afterwards; the activity is a
 * supervisor's report, read when asked.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-replica.h"
#include "kh-store-history.h"
#include "kh-sync-engine-private.h"

/* The signed-in account's HTTP client, or NULL with an error. @asked: a person waits for the
 * answer, so an unreachable server is said after a second try, not after the sync's backoff
 * of half a minute. */
static KhHttp *
signed_in_http (KhSyncEngine  *self,
                KhStore       *store,
                gboolean       asked,
                GError       **error)
{
  g_autofree char *url = kh_replica_get_state (store, KH_SYNC_SERVER_URL);
  g_autofree char *username = kh_replica_get_state (store, KH_SYNC_USERNAME);
  g_autofree char *token = url ? kh_credentials_lookup (self->database, url, username) : NULL;
  KhSyncConfig *config;
  KhHttp *http;

  if (url == NULL || token == NULL)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Sign in to a server first (khuyenhoc-cli login --server URL --user NAME)."));
      return NULL;
    }
  config = kh_sync_config_new (self);
  if (asked)
    config->http.max_attempts = MIN (config->http.max_attempts, 2);
  http = kh_http_new (url, &config->http);
  kh_sync_config_free (config);
  kh_http_set_token (http, token);
  memset (token, 0, strlen (token));
  return http;
}

json_object *
kh_sync_engine_history (KhSyncEngine  *self,
                        const char    *entity,
                        const char    *id,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(json_object) answer = NULL;
  g_autofree char *e = NULL;
  g_autofree char *i = NULL;
  g_autofree char *path = NULL;
  json_object *history = NULL;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), NULL);

  store = kh_store_open (self->database, error);
  if (store == NULL || (http = signed_in_http (self, store, FALSE, error)) == NULL)
    return NULL;
  e = g_uri_escape_string (entity, NULL, FALSE);
  i = g_uri_escape_string (id, NULL, FALSE);
  path = g_strdup_printf ("/v1/history?entity=%s&id=%s", e, i);
  answer = kh_http_request (http, "GET", path, NULL, cancellable, error);
  if (answer == NULL)
    return NULL;
  if (!json_object_object_get_ex (answer, "history", &history) || !json_object_is_type (history, json_type_array))
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                           _("The server's answer with the history is not valid."));
      return NULL;
    }
  if (!kh_store_keep_server_history (store, entity, id, history, error))
    return NULL;
  return json_object_get (history);
}

json_object *
kh_sync_engine_activity (KhSyncEngine  *self,
                         const char    *from,
                         const char    *to,
                         const char    *user,
                         const char    *entity,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(json_object) all = json_object_new_array ();
  const char *names[] = { "from", "to", "user", "entity" };
  const char *values[] = { from, to, user, entity };
  g_autoptr(GString) query = g_string_new (NULL);
  gint64 after = 0;
  const gint64 limit = 1000;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), NULL);

  store = kh_store_open (self->database, error);
  if (store == NULL || (http = signed_in_http (self, store, TRUE, error)) == NULL)
    return NULL;
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    if (values[k] != NULL && *values[k] != '\0')
      {
        g_autofree char *v = g_uri_escape_string (values[k], NULL, FALSE);

        g_string_append_printf (query, "&%s=%s", names[k], v);
      }
  while (TRUE)
    {
      g_autofree char *path = g_strdup_printf ("/v1/activity?limit=%" G_GINT64_FORMAT "&after=%"
                                               G_GINT64_FORMAT "%s", limit, after, query->str);
      g_autoptr(json_object) answer = kh_http_request (http, "GET", path, NULL, cancellable, error);
      json_object *rows = NULL;
      size_t n;

      if (answer == NULL)
        return NULL;
      if (!json_object_object_get_ex (answer, "activity", &rows) || !json_object_is_type (rows, json_type_array))
        {
          g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                               _("The server's answer with the activity is not valid."));
          return NULL;
        }
      n = json_object_array_length (rows);
      for (size_t k = 0; k < n; k++)
        json_object_array_add (all, json_object_get (json_object_array_get_idx (rows, k)));
      if ((gint64) n < limit)
        break;
      after = json_object_get_int64 (json_object_object_get (json_object_array_get_idx (rows, n - 1), "version"));
    }
  return g_steal_pointer (&all);
}
