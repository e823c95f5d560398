/* kh-store-private.h: what the journal, the replica and tests may reach inside the store, and
 * what the files of the store share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

sqlite3       *kh_store_get_db         (KhStore        *self);
sqlite3_stmt  *kh_store_prepare        (KhStore        *self,
                                        const char     *sql,
                                        GError        **error);
/* kh_store_prepare() for SQL text that lives as long as the program (built once), looked up by
 * its address rather than hashed: for long multi-row statements. The bindings of the last use
 * are not cleared: the caller binds every parameter. */
sqlite3_stmt *kh_store_prepare_static (KhStore     *self,
                                       const char  *sql,
                                       GError     **error);
json_object   *kh_store_row_to_json    (const KhEntity *entity,
                                        sqlite3_stmt   *stmt,
                                        int             first_field_column);
void           kh_store_bind_value     (sqlite3_stmt   *stmt,
                                        int             index,
                                        const KhField  *field,
                                        json_object    *value);
char          *kh_store_value_to_text  (json_object    *value);
char          *kh_store_now            (void);
char          *kh_store_select_columns (const KhEntity *entity);
void           kh_store_emit_changed   (KhStore        *self,
                                        const char     *entity,
                                        const char     *id);

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
gboolean        _kh_store_step_done           (KhStore       *self,
                                               sqlite3_stmt  *stmt,
                                               const char    *what,
                                               GError       **error);
char           *_kh_store_insert_sql          (const KhEntity *entity);

G_END_DECLS
