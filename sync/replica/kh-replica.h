/* kh-replica.h: the replica, the client half of sync: applying the server's changes, three-way merges,
 * conflicts, the outbox as batches for push, and the local half of the integrity check
 *
 * Everything here works on the local store only; the network lives in the engine. Each function that
 * writes does so in one transaction, so a crash leaves the replica as it was before the call or
 * as it is after it, never half way.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The pseudo-field a conflict row uses for "deleted on one side, edited on the other". */
#define KH_CONFLICT_DELETED "deleted"
/* The pseudo-field of a conflict of its own kind: a registration made here that the server
 * refused because another one of the same subject, model and year reached it first. Its
 * "remote" is the other registration's id, "remote_by" and "remote_at" who made it and when;
 * it is resolved by keeping the other or merging into it (kh-replica-twice.c). */
#define KH_CONFLICT_REGISTERED "already_registered"

typedef struct
{
  guint64 pulled;    /* records received from the server */
  guint64 applied;   /* written as the server has them */
  guint64 merged;    /* merged three ways with unsent local changes */
  guint64 conflicts; /* conflicts raised (a field changed on both sides to different values) */
  guint64 removed;   /* dropped: left the scope, or gone from the server after a reset */
  guint64 pushed;    /* mutations the server has applied */
  guint64 rejected;  /* mutations the server refused, kept with its reason */
} KhReplicaStats;

typedef enum
{
  KH_RESOLVE_MINE,   /* keep the local value */
  KH_RESOLVE_THEIRS, /* take the server's value */
  KH_RESOLVE_VALUE,  /* a new value typed by the person */
  KH_RESOLVE_MERGE,  /* KH_CONFLICT_REGISTERED only: make this registration one with the other */
} KhResolveChoice;

/* Keys of the sync_state table. */
#define KH_SYNC_SERVER_URL "server_url"
#define KH_SYNC_SERVER_ID  "server_id"
#define KH_SYNC_EPOCH      "epoch"
#define KH_SYNC_CURSOR     "cursor"
#define KH_SYNC_USERNAME   "username"
#define KH_SYNC_RESETTING  "resetting"
#define KH_SYNC_LAST_SYNC  "last_sync"
#define KH_SYNC_SCOPE_UNIT "scope_unit_id"  /* the account's scope unit (login, reset pages) */
#define KH_SYNC_FIRST_PULL "first_pull"  /* "1" until a first pull (or re-pull) has ended */
#define KH_SYNC_PERMISSIONS "permissions" /* the account's approval steps, as the login gave them */

char        *kh_replica_get_state         (KhStore         *store,
                                           const char      *key);
gboolean     kh_replica_set_state         (KhStore         *store,
                                           const char      *key,
                                           const char      *value,
                                           GError         **error);

gboolean     kh_replica_check_record      (json_object     *record,
                                           GError         **error);

/* A page of the change feed, checked and read: what the writer needs of each record, found
 * once, where the page is fetched. It holds a reference to the lists. */
typedef struct _KhReplicaPage KhReplicaPage;

KhReplicaPage *kh_replica_page_new       (json_object     *records,
                                          json_object     *removed,
                                          GError         **error);
void           kh_replica_page_free      (KhReplicaPage   *page);
KhReplicaPage *kh_replica_page_read      (const char      *text,
                                          gsize            len,
                                          char           **rest,
                                          GError         **check_error,
                                          GError         **error);
gboolean       kh_replica_page_set_removed (KhReplicaPage  *page,
                                            json_object    *removed,
                                            GError        **error);
guint          kh_replica_page_get_n_records (KhReplicaPage *page);
void           kh_replica_page_set_scope   (KhReplicaPage  *page,
                                            const char     *scope_unit_id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhReplicaPage, kh_replica_page_free)

gboolean     kh_replica_apply_page        (KhStore         *store,
                                           json_object     *records,
                                           json_object     *removed,
                                           const char      *cursor,
                                           gboolean         reset,
                                           gboolean         has_more,
                                           KhReplicaStats  *stats,
                                           GError         **error);
gboolean     kh_replica_apply_checked_page (KhStore         *store,
                                            KhReplicaPage   *page,
                                            const char      *cursor,
                                            gboolean         reset,
                                            gboolean         has_more,
                                            KhReplicaStats  *stats,
                                            GError         **error);
gboolean     kh_replica_start_repull      (KhStore         *store,
                                           GError         **error);

json_object *kh_replica_take_batch        (KhStore         *store,
                                           guint            max,
                                           GHashTable      *skip_seqs,
                                           GError         **error);
json_object *kh_replica_take_batch_busy   (KhStore         *store,
                                           guint            max,
                                           GHashTable      *skip_seqs,
                                           GHashTable      *busy_records,
                                           GError         **error);
char        *kh_replica_record_key        (const char      *entity,
                                           const char      *id);
json_object *kh_replica_batch_mutations   (json_object     *batch);
gboolean     kh_replica_apply_results     (KhStore         *store,
                                           json_object     *batch,
                                           json_object     *results,
                                           KhReplicaStats  *stats,
                                           GError         **error);

/* An open conflict, its values decoded (NULL for none). */
typedef struct
{
  gint64       seq;
  char        *entity;
  char        *record_id;
  char        *field;        /* or KH_CONFLICT_DELETED */
  json_object *base;         /* the value both sides started from */
  json_object *local;        /* this computer's */
  json_object *remote;       /* the server's */
  gint64       remote_version;
  char        *remote_by;    /* who changed it on the server; NULL when not known */
  char        *remote_at;
  char        *local_at;
  char        *created_at;
} KhConflict;

#define KH_TYPE_CONFLICT (kh_conflict_get_type ())

GType        kh_conflict_get_type         (void) G_GNUC_CONST;
KhConflict  *kh_conflict_copy             (const KhConflict *conflict);
void         kh_conflict_free             (KhConflict       *conflict);
json_object *kh_conflict_to_json          (const KhConflict *conflict);
char        *kh_conflict_describe_registered (const KhConflict *conflict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhConflict, kh_conflict_free)

GPtrArray   *kh_replica_get_conflicts     (KhStore         *store,
                                           GError         **error);
json_object *kh_replica_list_conflicts    (KhStore         *store,
                                           GError         **error);
gint64       kh_replica_add_conflict      (KhStore          *store,
                                           const KhConflict *conflict,
                                           GError          **error);
gint64       kh_replica_count_conflicts   (KhStore         *store);
gint64       kh_replica_count_rejected    (KhStore         *store);
gboolean     kh_replica_resolve           (KhStore         *store,
                                           const char      *id,
                                           const char      *field,
                                           KhResolveChoice  choice,
                                           const char      *value,
                                           GError         **error);

gboolean     kh_replica_discard_rejected  (KhStore         *store,
                                           const char      *id,
                                           GError         **error);

json_object *kh_replica_integrity         (KhStore         *store,
                                           GError         **error);
/* A record's version and integrity checksum (kh_wire_record_checksum()). */
typedef struct
{
  gint64  version;
  guint64 checksum;
} KhReplicaSum;

GHashTable  *kh_replica_ids               (KhStore         *store,
                                           const char      *entity,
                                           GError         **error);
gboolean     kh_replica_apply_records     (KhStore         *store,
                                           json_object     *records,
                                           KhReplicaStats  *stats,
                                           GError         **error);
guint        kh_replica_forget            (KhStore         *store,
                                           const char      *entity,
                                           GPtrArray       *ids,
                                           GError         **error);
gboolean     kh_replica_has_local_changes (KhStore         *store,
                                           const char      *entity,
                                           const char      *id);

/* Whether every local change is on its way: waiting in the outbox, in an open conflict, or
 * refused and shown (kh-replica-check.c says exactly what is checked). */
gboolean     kh_replica_check             (KhStore         *store,
                                           GError         **error);

G_END_DECLS
