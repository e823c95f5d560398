/* kh-sync-run.c: one sync, from the worker's connection to its report
 *
 * A sync takes the worker's connection to the database (kept between syncs), opens two
 * connections to the server with the stored token, pulls (kh-sync-pull.c), pushes
 * (kh-sync-push.c), verifies when asked or when something moved (kh-sync-verify.c), and fills
 * the report. The steps share a KhSyncRun, which also binds the replica to the server that
 * first answered it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-memory.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

#define RELEASE_AFTER   5000  /* records pulled and pushed from which a sync gives memory back */

static KhStore *
slot_take (KhSyncStoreSlot  *slot,
           const char       *database,
           GError          **error)
{
  KhStore *store;

  g_mutex_lock (&slot->lock);
  store = g_steal_pointer (&slot->store);
  g_mutex_unlock (&slot->lock);
  return store != NULL ? store : kh_store_open_for_sync (database, error);
}

static void
slot_give_back (KhSyncStoreSlot *slot,
                KhStore         *store)
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

gboolean
kh_sync_run (const KhSyncConfig  *config,
             KhSyncFlags          flags,
             KhSyncReport        *report,
             KhSyncProgressFunc   progress,
             gpointer             progress_data,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autoptr(KhStore) store = NULL;
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;
  g_autofree char *token = NULL;
  g_autofree char *epoch = NULL;
  g_autofree char *now = NULL;
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(KhHttp) files_http = NULL;
  gint64 start = g_get_monotonic_time ();
  KhSyncRun run = { 0 };
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
  files_http = kh_http_new (url, &config->http);
  kh_http_set_token (files_http, token);
  memset (token, 0, strlen (token));
  run.bound_id = kh_replica_get_state (store, KH_SYNC_SERVER_ID);
  epoch = kh_replica_get_state (store, KH_SYNC_EPOCH);
  run.epoch = epoch ? g_ascii_strtoll (epoch, NULL, 10) : 0;
  run.progress = progress;
  run.progress_data = progress_data;
  run.cancellable = cancellable;
  run.page_size = config->page_size;

  ok = kh_sync_pull (&run, error) && kh_sync_erasures (&run, error) && kh_sync_push (&run, error);
  if (ok && ((flags & KH_SYNC_FLAGS_VERIFY)
             || (!(flags & KH_SYNC_FLAGS_NO_VERIFY) && (run.stats.pushed > 0 || run.stats.pulled > 0))))
    ok = kh_sync_verify (&run, report, error);
  /* The local files the records just pulled, dropped or deleted no longer need, and any left
   * by a killed process; a failure here loses nothing and is tried again next time. */
  if (ok)
    {
      g_autoptr(GError) collect_error = NULL;

      if (!kh_attach_collect (store, NULL, NULL, &collect_error))
        g_debug ("attached files not collected: %s", collect_error->message);
    }
  /* Files after the records, always: a slow upload never holds a record back. */
  if (ok && !(flags & KH_SYNC_FLAGS_NO_FILES))
    ok = kh_sync_files (&run, files_http, report, error);
  if (ok)
    {
      dt = g_date_time_new_now_utc ();
      now = g_date_time_format_iso8601 (dt);
      kh_replica_set_state (store, KH_SYNC_LAST_SYNC, now, NULL);
      kh_sync_run_report_progress (&run, 1.0);
    }

  report->pulled = run.stats.pulled;
  report->applied = run.stats.applied;
  report->merged = run.stats.merged;
  report->conflicts = run.stats.conflicts;
  report->removed = run.stats.removed;
  report->pushed = run.stats.pushed;
  report->rejected = run.stats.rejected;
  report->requests = kh_http_get_counters (run.http)->requests + kh_http_get_counters (run.prefetch_http)->requests
                     + kh_http_get_counters (files_http)->requests;
  report->retries = kh_http_get_counters (run.http)->retries + kh_http_get_counters (run.prefetch_http)->retries;
  report->bytes_sent = kh_http_get_counters (run.http)->bytes_sent + kh_http_get_counters (run.prefetch_http)->bytes_sent;
  report->bytes_received = kh_http_get_counters (run.http)->bytes_received
                           + kh_http_get_counters (run.prefetch_http)->bytes_received;
  report->pending = kh_store_count_pending (store);
  report->open_conflicts = kh_replica_count_conflicts (store);
  /* The server refused the token (expired, revoked, account disabled): the officer must sign
   * in again, and should hear that nothing typed is lost meanwhile. */
  if (!ok && error != NULL && g_error_matches (*error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
    {
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, report->pending);
      g_autofree char *advice = report->pending > 0
        ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                        "Sign in again to go on syncing; the %s change not yet sent "
                                        "stays on this computer until then.",
                                        "Sign in again to go on syncing; the %s changes not yet sent "
                                        "stay on this computer until then.", (gulong) report->pending), count)
        : g_strdup (_("Sign in again to go on syncing."));
      g_autofree char *message = g_strdup_printf ("%s %s", (*error)->message, advice);

      g_free ((*error)->message);
      (*error)->message = g_steal_pointer (&message);
    }
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
