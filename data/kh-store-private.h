/* kh-store-private.h: what the files of the store (kh-store*.c) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store-sql.h"

G_BEGIN_DECLS

/* For the files of the store itself (kh-store*.c) ------------------------------------------- */

struct _KhStore
{
  GObject     parent_instance;

  sqlite3    *db;
  char       *path;
  char       *actor;
  char       *replica_id;
  GHashTable *statements;   /* SQL text → sqlite3_stmt, prepared once */
  GHashTable *by_address;   /* address of a lasting SQL text → sqlite3_stmt */
  GHashTable *entity_sql;   /* "insert:" / "load:" / "exists:" + entity name → SQL text, built once */
  int         depth;        /* nesting of kh_store_begin() and internal writes */
  gboolean    failed;       /* a nested write failed inside an explicit transaction */
  GPtrArray  *pending;      /* entity, id, entity, id…: "changed" held back until COMMIT */
  GPtrArray  *searchable;   /* the entities with a search index, in the order of search_check */
  char       *search_check; /* one row: whether each of them has records queued for indexing */
  GPtrArray  *search_flush; /* per searchable entity, its NULL-terminated flush statements */
  struct _Checkpointer *checkpointer; /* while a bulk write checkpoints on another thread */
  struct _Checkpointer *retiring;     /* one told to stop, finishing its last checkpoint */
  guint       permits;      /* KhPermit: the approval steps this store's writer may take */
  gboolean    job;          /* kh_store_open_for_job(): gives its memory back when closed */
};

/* SQL built from the registry for one entity, built once per store: the write path runs it
 * for every record, so it should not be rebuilt (nor its text hashed again) each time. The
 * key is the entity's address plus a small kind number, which stays within the entity. */
typedef enum
{
  ENTITY_SQL_INSERT,
  ENTITY_SQL_LOAD,
  ENTITY_SQL_EXISTS,
} EntitySqlKind;

const char     *_kh_store_entity_sql          (KhStore        *self,
                                               const KhEntity *entity,
                                               EntitySqlKind   kind);
const KhEntity *_kh_store_lookup_entity       (const char  *name,
                                               GError     **error);
gboolean        _kh_store_values_equal        (json_object *a,
                                               json_object *b);
json_object    *_kh_store_record_fields       (const KhEntity *entity,
                                               json_object    *record);
gboolean        _kh_store_write_begin         (KhStore  *self,
                                               GError  **error);
gboolean        _kh_store_write_end           (KhStore  *self,
                                               gboolean  ok,
                                               GError  **error);
void            _kh_store_checkpointer_join   (KhStore *self);
void            _kh_store_checkpointer_stop   (KhStore *self);
void            _kh_store_checkpointer_commit (KhStore *self);
json_object    *_kh_store_load_record         (KhStore         *self,
                                               const KhEntity  *entity,
                                               const char      *id,
                                               GError         **error);
/* kh-store-workflow.c: the permissions of the account the replica is bound to, read on open;
 * a write of a locked record, or a step the writer may not take, refused. */
void            _kh_store_workflow_load       (KhStore         *self);
gboolean        _kh_store_workflow_check      (KhStore         *self,
                                               const KhEntity  *entity,
                                               json_object     *old,
                                               json_object     *data,
                                               gboolean         deleting,
                                               json_object     *changes,
                                               GError         **error);

G_END_DECLS
