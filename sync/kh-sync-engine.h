/* kh-sync-engine.h: the client sync engine
 *
 * The window makes one engine for its database, binds "interval" (seconds), "edit-delay" and
 * "sync-on-metered" to GSettings, sets "automatic", and connects KhStore::changed to
 * kh_sync_engine_local_changed(). "state", "progress" and "error-message" are notified on the
 * main context; "finished" is emitted when a sync the engine started ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KH_TYPE_SYNC_ENGINE (kh_sync_engine_get_type ())

G_DECLARE_FINAL_TYPE (KhSyncEngine, kh_sync_engine, KH, SYNC_ENGINE, GObject)

typedef enum
{
  KH_SYNC_STATE_IDLE,        /* nothing running; the last sync (if any) succeeded */
  KH_SYNC_STATE_SYNCING,
  KH_SYNC_STATE_OFFLINE,     /* no network, or the server could not be reached */
  KH_SYNC_STATE_FAILED,      /* the last sync failed; see error-message */
  KH_SYNC_STATE_SIGNED_OUT,  /* no server or no token yet */
} KhSyncState;

typedef enum
{
  KH_SYNC_FLAGS_NONE   = 0,
  KH_SYNC_FLAGS_VERIFY = 1 << 0, /* compare counts and checksums with the server, and repair */
  KH_SYNC_FLAGS_NO_VERIFY = 1 << 1, /* skip the check that follows a sync that moved records */
  KH_SYNC_FLAGS_NO_FILES = 1 << 2, /* records only: no attached file is sent or fetched */
} KhSyncFlags;

typedef struct
{
  guint64  pulled;          /* records received */
  guint64  applied;         /* records written as the server has them */
  guint64  merged;          /* records merged with local changes */
  guint64  conflicts;       /* conflicts raised during this sync */
  guint64  removed;         /* records that left the replica */
  guint64  pushed;          /* mutations the server applied */
  guint64  rejected;        /* mutations the server refused */
  guint64  repaired;        /* records found different by the integrity check */
  gboolean verified;        /* counts and checksums were compared and agree */
  guint64  requests;
  guint64  retries;
  guint64  bytes_sent;
  guint64  bytes_received;
  gint64   pending;         /* outbox entries still waiting after the sync */
  gint64   open_conflicts;  /* conflicts waiting for a person */
  double   seconds;
  guint64  files_uploaded;  /* attached files the server now has from this replica */
  guint64  files_downloaded;
  guint64  files_refused;   /* files the server would not take (see files_message) */
  guint64  file_bytes_sent; /* of files, on the wire, pieces cut short included */
  guint64  file_bytes_received;
  char     files_message[256]; /* the server's words for the last file it refused */
} KhSyncReport;

KhSyncEngine *kh_sync_engine_new           (const char     *database);

gboolean      kh_sync_engine_login         (KhSyncEngine   *self,
                                            const char     *server_url,
                                            const char     *username,
                                            const char     *password,
                                            GCancellable   *cancellable,
                                            GError        **error);
gboolean      kh_sync_engine_logout        (KhSyncEngine   *self,
                                            GError        **error);

/* Asks the server to erase a person (PROTOCOL.md §4); the next sync takes the erasure in. */
gboolean      kh_sync_engine_erase         (KhSyncEngine   *self,
                                            const char     *entity,
                                            const char     *id,
                                            const char     *reason,
                                            GCancellable   *cancellable,
                                            GError        **error);

/* A record's history as the server keeps it (GET /v1/history), also kept in the replica for
 * kh_store_history(); the "history" array, or NULL. */
json_object  *kh_sync_engine_history       (KhSyncEngine   *self,
                                            const char     *entity,
                                            const char     *id,
                                            GCancellable   *cancellable,
                                            GError        **error);
/* The changes made in the account's area (GET /v1/activity), every page: from day @from to day
 * @to, by @user, of @entity (each NULL: any); an array of the server's rows, or NULL. */
json_object  *kh_sync_engine_activity      (KhSyncEngine   *self,
                                            const char     *from,
                                            const char     *to,
                                            const char     *user,
                                            const char     *entity,
                                            GCancellable   *cancellable,
                                            GError        **error);

gboolean      kh_sync_engine_run           (KhSyncEngine   *self,
                                            KhSyncFlags     flags,
                                            KhSyncReport   *report,
                                            GCancellable   *cancellable,
                                            GError        **error);
void          kh_sync_engine_sync_async    (KhSyncEngine        *self,
                                            KhSyncFlags          flags,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean      kh_sync_engine_sync_finish   (KhSyncEngine   *self,
                                            GAsyncResult   *result,
                                            KhSyncReport   *report,
                                            GError        **error);

void          kh_sync_engine_request_sync  (KhSyncEngine   *self);
void          kh_sync_engine_local_changed (KhSyncEngine   *self);
void          kh_sync_engine_cancel        (KhSyncEngine   *self);

KhSyncState   kh_sync_engine_get_state     (KhSyncEngine   *self);
double        kh_sync_engine_get_progress  (KhSyncEngine   *self);
const char   *kh_sync_engine_get_error_message (KhSyncEngine *self);
gboolean      kh_sync_engine_get_automatic (KhSyncEngine   *self);
void          kh_sync_engine_set_automatic (KhSyncEngine   *self,
                                            gboolean        automatic);
guint         kh_sync_engine_get_interval  (KhSyncEngine   *self);
void          kh_sync_engine_set_interval  (KhSyncEngine   *self,
                                            guint           seconds);
/* Whether the network is paid by the megabyte (GNetworkMonitor, or KHUYENHOC_METERED): files
 * then wait unless asked for even there, and the window makes photos smaller. */
gboolean      kh_sync_network_metered      (void);

G_END_DECLS
