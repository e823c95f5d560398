/* kh-store.h: the local SQLite replica
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-c/json.h>

#include "kh-types.h"

G_BEGIN_DECLS

#define KH_TYPE_STORE (kh_store_get_type ())

G_DECLARE_FINAL_TYPE (KhStore, kh_store, KH, STORE, GObject)

/* What kh_store_list() and kh_store_count() select. Zero-initialize and set what you need. */
typedef struct
{
  json_object *where;           /* field name → value, all must be equal; NULL for all */
  const char  *order_by;        /* a field name, or NULL for creation order */
  gboolean     descending;
  gboolean     include_deleted; /* tombstones too */
  gint64       offset;
  gint64       limit;           /* 0: no limit */
} KhQuery;

KhStore     *kh_store_open            (const char     *path,
                                       GError        **error);
KhStore     *kh_store_open_for_job    (const char     *path,
                                       GError        **error);
KhStore     *kh_store_open_for_sync   (const char     *path,
                                       GError        **error);
const char  *kh_store_get_path        (KhStore        *self);
void         kh_store_set_actor       (KhStore        *self,
                                       const char     *actor);
const char  *kh_store_get_actor       (KhStore        *self);
const char  *kh_store_get_replica_id  (KhStore        *self);

gboolean     kh_store_begin           (KhStore        *self,
                                       GError        **error);
gboolean     kh_store_commit          (KhStore        *self,
                                       GError        **error);
void         kh_store_rollback        (KhStore        *self);
gboolean     kh_store_release_memory  (KhStore        *self);
void         kh_store_checkpoint_aside (KhStore       *self,
                                        gboolean       aside);
gboolean     kh_store_set_durable     (KhStore        *self,
                                       gboolean        durable,
                                       GError        **error);
gboolean     kh_store_set_checked     (KhStore        *self,
                                       gboolean        checked,
                                       GError        **error);
gboolean     kh_store_defer_upkeep    (KhStore        *self,
                                       GError        **error);
gboolean     kh_store_restore_upkeep  (KhStore        *self,
                                       GError        **error);

char        *kh_store_create          (KhStore        *self,
                                       const char     *entity,
                                       json_object    *values,
                                       GError        **error);
gboolean     kh_store_update          (KhStore        *self,
                                       const char     *entity,
                                       const char     *id,
                                       json_object    *changes,
                                       GError        **error);
gboolean     kh_store_delete          (KhStore        *self,
                                       const char     *entity,
                                       const char     *id,
                                       GError        **error);
gboolean     kh_store_restore         (KhStore        *self,
                                       const char     *entity,
                                       const char     *id,
                                       GError        **error);

json_object *kh_store_get             (KhStore        *self,
                                       const char     *entity,
                                       const char     *id,
                                       GError        **error);
json_object *kh_store_list            (KhStore        *self,
                                       const char     *entity,
                                       const KhQuery  *query,
                                       GError        **error);
gint64       kh_store_count           (KhStore        *self,
                                       const char     *entity,
                                       const KhQuery  *query,
                                       GError        **error);
json_object *kh_store_search          (KhStore        *self,
                                       const char     *text,
                                       const char     *entity,
                                       int             limit,
                                       GError        **error);
json_object *kh_store_history         (KhStore        *self,
                                       const char     *entity,
                                       const char     *id,
                                       GError        **error);
gint64       kh_store_count_pending   (KhStore        *self);
json_object *kh_store_list_outbox     (KhStore        *self,
                                       GError        **error);
char        *kh_store_get_meta        (KhStore        *self,
                                       const char     *key);
gboolean     kh_store_set_meta        (KhStore        *self,
                                       const char     *key,
                                       const char     *value,
                                       GError        **error);

G_END_DECLS
