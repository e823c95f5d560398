/* kh-replica-private.h: what the files of the replica share
 *
 * The replica is one unit split by concept (state, page, write, apply, merge, push, conflicts,
 * integrity) around this header; nothing outside sync/replica/ includes it.
 *
 * The rules the replica keeps (DESIGN.md §4, sync/PROTOCOL.md):
 *
 * - A page of the change feed is applied in one transaction together with its cursor, so a pull
 *   cut anywhere resumes without loss or double application.
 * - A record without unsent local changes takes the server's state. A record with local changes
 *   (outbox entries, pending or rejected) is merged three ways: the base is the last server state
 *   the replica acknowledged (table `base`, captured just before the first local change), the
 *   local state is what the officer sees, the remote state is the incoming record. A field
 *   changed on one side only takes that side; a field changed on both sides to different values
 *   keeps the local value on screen and becomes a row in `conflict` holding base, local and
 *   remote values with who changed it and when. A delete against an edit, either way round, is
 *   a conflict on the pseudo-field "deleted". The officer never sees their own change reverted.
 * - The outbox is sent in batches of at most one entry per record (a later entry for the same
 *   record waits until the first is answered). Sending marks the entry as attempted first, so
 *   a local edit made while the request is in flight gets an entry of its own instead of being
 *   folded into one the server may already have applied. A retry reuses the mutation id.
 * - Fields with an open conflict are held back from push until a person resolves them.
 * - An outbox entry holds exactly the local changes not yet on the server: when the server
 *   takes an entry that held fields back, only the fields it sent are done with; the others
 *   stay in the entry, under a new mutation id, and a merge keeps their local values. A
 *   conflict's "mine" is the record's value as it is now, and a resolution sends the record as
 *   it is now.
 * - A record deleted on both sides is simply deleted: the edits still waiting for it go. A
 *   change the server would answer with the same conflict again is kept as refused, with a
 *   reason, instead of being sent at every sync.
 * - A record that leaves the area with unsent changes (named in `removed`, or not brought by a
 *   reset re-pull) stays, its changes as they were: the server refuses them and the person sees
 *   why. When the server resets the feed (the area or its history changed), changes refused as
 *   outside the area are sent again; a change refused for another reason stays refused until
 *   the person acts. Given up, such a record leaves. One the server answers it does not have
 *   at all (lost in a restore) is sent again as a new record.
 * - A person's change counts by its net effect against the merge base (kh_journal_settle_net()):
 *   a field set back to the base's value, a delete and a restore, is no change.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>
#include <string.h>

#include "kh-entity.h"
#include "kh-replica.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-validate.h"

G_BEGIN_DECLS

typedef struct
{
  gint64  seq;
  char   *mutation_id;
  char   *op;
  char  **fields;
  gint64  base_version;
  int     attempts;
  char   *state;
  json_object *sent;
} Entry;

typedef struct
{
  const KhEntity *entity;
  const char     *id;
  gint64          version;
  gboolean        deleted;
  json_object    *fields;         /* field → value; or NULL with values */
  const KhValue  *values;         /* one per field of the entity, when read without json-c */
  const char     *updated_by;
  const char     *updated_at;
  int             id_len;         /* the lengths of id, updated_by and updated_at, for binding */
  int             by_len;
  int             at_len;
} Remote;

/* The members of a RECORD, in the order the server writes them. */
enum { M_ENTITY, M_ID, M_VERSION, M_DELETED, M_FIELDS, M_UPDATED_BY, M_UPDATED_AT, N_MEMBERS };

struct _KhReplicaPage
{
  json_object  *records;   /* a reference, for a page made from the list; or NULL */
  json_object  *removed;   /* a reference, or NULL */
  json_object **members;   /* for a page read from its text, the members of the records read
                            * with json-c (N_MEMBERS each); owned */
  guint         n_members; /* records in members */
  GPtrArray    *blocks;    /* the memory of the records read without json-c */
  GPtrArray    *objects;   /* their JSON fields' values */
  Remote       *remotes;   /* one per record, pointing into records, members or blocks */
  guint8       *repeated;  /* per record: an earlier record of the page has its id */
  GHashTable   *id_lists;  /* entity → the JSON list (GString) of its ids, each once */
  guint         n_records;
  char         *scope_unit_id; /* the scope unit the page names, or NULL */
};

/* SQL per entity, built once: a pull runs the same statements for every record, and building
 * the text each time cost more than running it. */
typedef struct
{
  char *select;   /* the record by id, columns as kh_store_row_to_json() reads them */
  char *insert;
  char *update;
  char *version;  /* raises the version after an acknowledgement */
  char *insert_many; /* the insert for insert_rows records in one statement */
  guint insert_rows;
} EntitySql;

/* Rows per multi-row INSERT: one statement for many rows saves each row a statement's fixed
 * cost (for one, the lists of a CHECK (x IN (...)) are built again at every statement). Kept
 * under SQLite's oldest limit of 999 bound values. */
#define KH_INSERT_ROWS_MAX 64
#define KH_VARIABLES_MAX 999
#define KH_AUDIT_COLUMNS 8

/* Small helpers, inline: the apply path calls them for every record and field. */

static inline gboolean
json_equal (json_object *a,
            json_object *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (json_object_get_type (a) != json_object_get_type (b))
    {
      /* Integers may arrive as doubles from a loose encoder; compare them by value. */
      if ((json_object_is_type (a, json_type_int) || json_object_is_type (a, json_type_double))
          && (json_object_is_type (b, json_type_int) || json_object_is_type (b, json_type_double)))
        return json_object_get_double (a) == json_object_get_double (b);
      return FALSE;
    }
  if (json_object_is_type (a, json_type_string))
    return strcmp (json_object_get_string (a), json_object_get_string (b)) == 0;
  if (json_object_is_type (a, json_type_int))
    return json_object_get_int64 (a) == json_object_get_int64 (b);
  if (json_object_is_type (a, json_type_boolean))
    return json_object_get_boolean (a) == json_object_get_boolean (b);
  return json_object_equal (a, b) != 0;
}

static inline json_object *
get_member (json_object *obj,
            const char  *name)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v))
    return NULL;
  return v;
}

static inline const char *
get_str (json_object *obj,
         const char  *name)
{
  json_object *v = get_member (obj, name);

  return v != NULL && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

/* kh-replica-state.c */
void         _kh_replica_stats_add        (KhReplicaStats       *to,
                                           const KhReplicaStats *from);
char        *_kh_replica_value_text       (json_object *v);
json_object *_kh_replica_parse_value_text (const char *text);
gboolean     _kh_replica_check_tree       (KhStore        *store,
                                           KhReplicaPage  *page,
                                           gboolean        may_rescope,
                                           gboolean        last,
                                           GError        **error);
gboolean     _kh_replica_bad_answer       (GError     **error,
                                           const char  *what);
char        *_kh_replica_record_key       (const char *entity,
                                           const char *id);
void         _kh_replica_entry_free       (gpointer data);
Entry       *_kh_replica_entry_from_row   (sqlite3_stmt *stmt);
json_object *_kh_replica_names_to_json    (GPtrArray *names);
GPtrArray   *_kh_replica_load_entries     (KhStore     *store,
                                           const char  *entity,
                                           const char  *id,
                                           GError     **error);
gboolean     _kh_replica_delete_entry     (KhStore  *store,
                                           gint64    seq,
                                           GError  **error);
gboolean     _kh_replica_delete_entries   (KhStore     *store,
                                           const char  *entity,
                                           const char  *id,
                                           GError     **error);
gboolean     _kh_replica_rebase_entries   (KhStore     *store,
                                           const char  *entity,
                                           const char  *id,
                                           gint64       version,
                                           GError     **error);

/* kh-replica-conflicts.c */
GHashTable *_kh_replica_open_conflict_fields (KhStore    *store,
                                              const char *entity,
                                              const char *id);
gboolean    _kh_replica_close_conflict       (KhStore     *store,
                                              const char  *entity,
                                              const char  *id,
                                              const char  *field,
                                              GError     **error);
gboolean    _kh_replica_raise_conflict       (KhStore      *store,
                                              const char   *entity,
                                              const char   *id,
                                              const char   *field,
                                              const char   *base_value,
                                              const char   *local_value,
                                              const char   *remote_value,
                                              gint64        remote_version,
                                              const char   *remote_by,
                                              const char   *remote_at,
                                              const char   *local_at,
                                              GError      **error);

/* kh-replica-write.c */
const EntitySql *_kh_replica_entity_sql  (const KhEntity *entity);
void             _kh_replica_bind_fields (sqlite3_stmt   *stmt,
                                          int             col,
                                          const KhEntity *entity,
                                          json_object    *fields);
void             _kh_replica_bind_values (sqlite3_stmt   *stmt,
                                          int             col,
                                          const KhEntity *entity,
                                          const KhValue  *values);
gboolean         _kh_replica_write_state (KhStore         *store,
                                          const KhEntity  *entity,
                                          const char      *id,
                                          gboolean         insert,
                                          gint64           version,
                                          gboolean         deleted,
                                          json_object     *fields,
                                          const KhValue   *values,
                                          const char      *updated_at,
                                          const char      *updated_by,
                                          GError         **error);
json_object     *_kh_replica_load_local  (KhStore         *store,
                                          const KhEntity  *entity,
                                          const char      *id,
                                          GError         **error);
gboolean         _kh_replica_drop_record (KhStore         *store,
                                          const KhEntity  *entity,
                                          const char      *id,
                                          GError         **error);

/* kh-replica-apply.c */
/* The sync_state key that marks a record kept outside the area is this, the entity, ":" and
 * the id. */
#define KH_REPLICA_OUTSIDE_KEY "outside:"
/* KH_SYNC_RESETTING during a re-pull the replica started itself to repair (verify); "1" when
 * the server answered with a reset. */
#define KH_REPLICA_RESETTING_REPAIR "repair"
/* The sync_state key that marks a refused entry the server refused as outside the area is
 * this and the entry's seq: only such a refusal is judged again when the area or the server's
 * history changes. */
#define KH_REPLICA_SCOPE_REFUSED_KEY "refused-scope:"
gboolean _kh_replica_is_outside  (KhStore     *store,
                                  const char  *entity,
                                  const char  *id);
gboolean _kh_replica_set_outside (KhStore     *store,
                                  const char  *entity,
                                  const char  *id,
                                  gboolean     outside,
                                  GError     **error);
gboolean _kh_replica_resend_as_new (KhStore         *store,
                                    const KhEntity  *entity,
                                    const char      *id,
                                    GError         **error);

/* kh-replica-page.c */
void _kh_replica_record_get_members  (json_object *record,
                                      json_object *m[N_MEMBERS]);
void _kh_replica_remote_from_members (Remote      *r,
                                      json_object *m[N_MEMBERS]);

/* kh-replica-twice.c */
typedef enum
{
  KH_REPLICA_TWICE_NONE,      /* an ordinary refusal */
  KH_REPLICA_TWICE_CONFLICT,  /* a registration the server has from elsewhere: a conflict */
  KH_REPLICA_TWICE_REQUEUED,  /* a record naming such a registration: waiting again */
} KhReplicaTwice;

GHashTable *_kh_replica_held_registrations (KhStore          *store,
                                            GError          **error);
gboolean    _kh_replica_names_held         (const KhEntity   *entity,
                                            json_object      *local,
                                            GHashTable       *held);
gboolean    _kh_replica_twice_rejected     (KhStore          *store,
                                            json_object      *res,
                                            json_object      *m,
                                            gint64            seq,
                                            KhReplicaTwice   *outcome,
                                            GError          **error);
gboolean    _kh_replica_resolve_registered (KhStore          *store,
                                            const char       *id,
                                            KhResolveChoice   choice,
                                            GError          **error);

/* kh-replica-merge.c */
gboolean _kh_replica_merge (KhStore      *store,
                            Remote       *r,
                            json_object  *local,
                            gboolean      force,
                            guint        *n_conflicts,
                            GError      **error);

G_END_DECLS
