/* kh-sync-erase.c: asking the server to erase a person, and taking erasures in
 *
 * An erasure is the server's (POST /v1/erase, PROTOCOL.md §4): it needs the server, as the
 * person's data is on every replica that pulled it and only the server reaches them all. A
 * sync then asks for the erasures since the last it took (GET /v1/erasures), right after the
 * pull and before the push, so an unsent edit of an erased record is dropped, never sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-privacy.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

/* The last erasure this replica took (its server version), and the pull cursor it had when it
 * last asked: an erasure in the replica's scope changes records, which moves the cursor, so a
 * sync whose pull left the cursor where it was has nothing to ask (an empty poll stays one
 * request). Kept apart from the pull's own state, so a sync cut between the two asks again. */
#define ERASURES_THROUGH "erasures_through"
#define ERASURES_CURSOR  "erasures_cursor"

gboolean
kh_sync_engine_erase (KhSyncEngine  *self,
                      const char    *entity,
                      const char    *id,
                      const char    *reason,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;
  g_autofree char *token = NULL;
  g_autoptr(KhHttp) http = NULL;
  g_autoptr(json_object) body = json_object_new_object ();
  g_autoptr(json_object) answer = NULL;
  KhSyncConfig *config;

  g_return_val_if_fail (KH_IS_SYNC_ENGINE (self), FALSE);

  store = kh_store_open (self->database, error);
  if (store == NULL)
    return FALSE;
  url = kh_replica_get_state (store, KH_SYNC_SERVER_URL);
  username = kh_replica_get_state (store, KH_SYNC_USERNAME);
  token = url ? kh_credentials_lookup (self->database, url, username) : NULL;
  if (url == NULL || token == NULL)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Sign in to a server first (khuyenhoc-cli login --server URL --user NAME)."));
      return FALSE;
    }
  config = kh_sync_config_new (self);
  http = kh_http_new (url, &config->http);
  kh_sync_config_free (config);
  kh_http_set_token (http, token);
  memset (token, 0, strlen (token));

  json_object_object_add (body, "entity", json_object_new_string (entity));
  json_object_object_add (body, "id", json_object_new_string (id));
  json_object_object_add (body, "reason", json_object_new_string (reason));
  answer = kh_http_request (http, "POST", "/v1/erase", body, cancellable, error);
  return answer != NULL;
}

/* Takes in the erasures made since the last: each answer's records are taken out of what the
 * replica keeps beside them, applied, and the files scrubbed, with the mark of how far it got
 * in the same step. */
gboolean
kh_sync_erasures (KhSyncRun  *run,
                  GError    **error)
{
  g_autofree char *cursor = kh_replica_get_state (run->store, KH_SYNC_CURSOR);
  g_autofree char *asked = kh_replica_get_state (run->store, ERASURES_CURSOR);
  gboolean more = TRUE;

  if (cursor == NULL || g_strcmp0 (cursor, asked) == 0)
    return TRUE;

  while (more)
    {
      g_autofree char *through = kh_replica_get_state (run->store, ERASURES_THROUGH);
      g_autofree char *path = g_strdup_printf ("/v1/erasures?after=%s", through != NULL ? through : "0");
      g_autoptr(json_object) answer = kh_http_request (run->http, "GET", path, NULL, run->cancellable, error);
      json_object *records = NULL;
      json_object *next = NULL;
      json_object *has_more = NULL;
      json_object *server_id = NULL;
      json_object *epoch = NULL;
      g_autofree char *next_text = NULL;

      if (answer == NULL)
        return FALSE;
      if (!json_object_object_get_ex (answer, "records", &records) || !json_object_is_type (records, json_type_array)
          || !json_object_object_get_ex (answer, "through", &next) || !json_object_is_type (next, json_type_int)
          || !json_object_object_get_ex (answer, "has_more", &has_more)
          || !json_object_object_get_ex (answer, "server_id", &server_id)
          || !json_object_is_type (server_id, json_type_string)
          || !json_object_object_get_ex (answer, "epoch", &epoch) || !json_object_is_type (epoch, json_type_int))
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                       _("The server's answer with the erasures is not valid."));
          return FALSE;
        }
      if (!kh_sync_run_check_server (run, json_object_get_string (server_id), json_object_get_int64 (epoch), error))
        return FALSE;
      if (json_object_array_length (records) > 0
          && (!kh_store_erase_local (run->store, records, error)
              || !kh_replica_apply_records (run->store, records, &run->stats, error)
              || !kh_store_scrub (run->store, records, error)))
        return FALSE;
      next_text = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int64 (next));
      if (g_strcmp0 (next_text, through) != 0 && !kh_replica_set_state (run->store, ERASURES_THROUGH, next_text, error))
        return FALSE;
      more = json_object_get_boolean (has_more) && g_strcmp0 (next_text, through) != 0;
    }
  return kh_replica_set_state (run->store, ERASURES_CURSOR, cursor, error);
}
