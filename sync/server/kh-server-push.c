/* kh-server-push.c: a batch of mutations applied in one transaction (PROTOCOL.md, push)
 *
 * Every record the batch names is loaded first and every write is made at the end, with
 * multi-row statements, so the write lock is held for a few round trips, not two per mutation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-server-core-private.h"
#include "kh-server-metrics.h"
#include "kh-validate.h"
#include "kh-wire.h"
#include "kh-workflow.h"

typedef struct
{
  KhServerBackend    *b;
  const KhServerUser *user;
  const char         *actor;
  char               *now;
  gint64              version;   /* the counter, advanced in memory, written before commit */
  GHashTable         *seen;      /* mutation id → first version: those applied before */
  GHashTable         *in_scope;  /* org unit id → 1 (in the user's scope) or 2 (not) */
  GHashTable         *records;   /* "entity/id" → KhServerStored (version -1: not on the server) */
  GPtrArray          *dirty;     /* "entity/id" written in this batch, once each, in order */
  GHashTable         *dirty_set;
  GPtrArray          *log;       /* LogRow: applied mutations to record */
  GHashTable         *owners;    /* record id → its entity, for the ids the batch names */
  KhServerRefs       *refs;      /* the records the batch's references name */
  KhServerLedger     *ledger;    /* the funds' money, for the overdraft check */
  GHashTable         *criteria;  /* criteria set id → its criteria, while no criterion is written */
  GHashTable         *locks;     /* award list id → 1 (locked) or 2 (not), loaded for the batch;
                                  * 3: made locked by this batch, which may add its entries */
} Push;

typedef struct
{
  char       *mutation_id;
  char       *entity;
  char       *id;
  gint64      version;
  const char *op;        /* what the history shows: create, update, delete, restore; "same" */
  char       *changes;   /* {"field": [old, new], …} (kh-server-history.c) */
} LogRow;

static void
log_row_free (LogRow *row)
{
  g_free (row->mutation_id);
  g_free (row->entity);
  g_free (row->id);
  g_free (row->changes);
  g_free (row);
}

/* Rows a multi-row statement writes. A batch is cut into the largest of these that fit, so a
 * connection prepares nine statements per table at most, whatever the sizes of the batches
 * (each size is a statement of its own, kept prepared for the life of the connection), and a
 * batch takes few round trips under the write lock: a full batch of 500 is one statement, 5 is
 * one, and no batch under 1,000 takes more than nine. At 10 values a row the largest binds
 * 5,000 values, within SQLite's 32,766 and PostgreSQL's 65,535. */
static const guint chunk_sizes[] = { 500, 200, 100, 50, 20, 10, 5, 2, 1 };

static guint
chunk_rows (const guint *sizes,
            guint        remaining)
{
  guint k = 0;

  while (sizes[k] > remaining)
    k++;
  return sizes[k];
}

/* "INSERT INTO table (cols) VALUES (?, …), (?, …) …" for @rows rows of @cols values. */
static char *
multi_insert_sql (const char *head,
                  int         rows,
                  int         cols,
                  const char *tail)
{
  GString *q = g_string_new (head);

  for (int r = 0; r < rows; r++)
    {
      g_string_append (q, r ? ", (?" : " VALUES (?");
      for (int c = 1; c < cols; c++)
        g_string_append (q, ", ?");
      g_string_append_c (q, ')');
    }
  g_string_append (q, tail);
  return g_string_free (q, FALSE);
}

/* Writes the batch's records and its mutation log with multi-row statements: the write lock
 * is held for a few round trips instead of two per mutation. Every read in the batch goes
 * through push->records and push->seen, so deferring the writes to here changes nothing. */
static gboolean
flush_writes (Push    *push,
              GError **error)
{
  for (guint i = 0, step; i < push->dirty->len; i += step)
    {
      int n = (int) (step = chunk_rows (chunk_sizes, push->dirty->len - i));
      g_autofree char *sql = multi_insert_sql (
        "INSERT INTO records (entity, id, version, deleted, scope_unit, data, field_versions, "
        "updated_by, updated_at, created_at)", n, 10,
        " ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, "
        "scope_unit = excluded.scope_unit, data = excluded.data, field_versions = excluded.field_versions, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at");
      g_autofree KhSqlParam *p = g_new (KhSqlParam, n * 10);
      g_auto(GStrv) parts = g_new0 (char *, n * 2 + 1);
      g_autoptr(GString) text = g_string_sized_new (512 * (gsize) n);
      g_autofree gsize *offsets = g_new (gsize, n * 2);

      for (int r = 0; r < n; r++)
        {
          const char *key = push->dirty->pdata[i + r];
          const KhServerStored *st = g_hash_table_lookup (push->records, key);
          const char *slash = strchr (key, '/');
          KhSqlParam *q = &p[r * 10];

          parts[r * 2] = g_strndup (key, (gsize) (slash - key));
          parts[r * 2 + 1] = g_strdup (slash + 1);
          q[0] = KH_SQL_P_TEXT (parts[r * 2]);
          q[1] = KH_SQL_P_TEXT (parts[r * 2 + 1]);
          q[2] = KH_SQL_P_INT (st->version);
          q[3] = KH_SQL_P_INT (st->deleted ? 1 : 0);
          q[4] = KH_SQL_P_TEXT (st->scope_unit);
          /* The texts go into one buffer, NUL-separated, that may move while it grows:
           * their places are kept as offsets and made pointers once it is complete. */
          offsets[r * 2] = text->len;
          kh_wire_write_json (text, st->data);
          g_string_append_c (text, '\0');
          offsets[r * 2 + 1] = text->len;
          kh_wire_write_json (text, st->fv);
          g_string_append_c (text, '\0');
          q[7] = KH_SQL_P_TEXT (st->updated_by);
          q[8] = KH_SQL_P_TEXT (st->updated_at);
          q[9] = KH_SQL_P_TEXT (st->created_at);
        }
      for (int r = 0; r < n; r++)
        {
          p[r * 10 + 5] = KH_SQL_P_TEXT (text->str + offsets[r * 2]);
          p[r * 10 + 6] = KH_SQL_P_TEXT (text->str + offsets[r * 2 + 1]);
        }
      if (!kh_server_backend_exec (push->b, sql, p, (guint) n * 10, NULL, NULL, NULL, error))
        return FALSE;
    }
  for (guint i = 0, step; i < push->log->len; i += step)
    {
      int n = (int) (step = chunk_rows (chunk_sizes, push->log->len - i));
      g_autofree char *sql = multi_insert_sql ("INSERT INTO mutations (mutation_id, user_id, entity, "
                                               "record_id, version, applied_at, device, op, changes)",
                                               n, 9, "");
      g_autofree KhSqlParam *p = g_new (KhSqlParam, n * 9);

      for (int r = 0; r < n; r++)
        {
          LogRow *row = push->log->pdata[i + r];
          KhSqlParam *q = &p[r * 9];

          q[0] = KH_SQL_P_TEXT (row->mutation_id);
          q[1] = KH_SQL_P_TEXT (push->user->id ? push->user->id : push->actor);
          q[2] = KH_SQL_P_TEXT (row->entity);
          q[3] = KH_SQL_P_TEXT (row->id);
          q[4] = KH_SQL_P_INT (row->version);
          q[5] = KH_SQL_P_TEXT (push->now);
          q[6] = KH_SQL_P_TEXT (push->user->device);
          q[7] = KH_SQL_P_TEXT (row->op);
          q[8] = KH_SQL_P_TEXT (row->changes);
        }
      if (!kh_server_backend_exec (push->b, sql, p, (guint) n * 9, NULL, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
preload_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  Push *push = data;
  KhServerStored *s = NULL;

  _kh_server_stored_row_cb (v + 2, n - 2, &s);
  g_hash_table_insert (push->records, g_strconcat (v[0], "/", v[1], NULL), s);
  g_hash_table_insert (push->owners, g_strdup (v[1]), g_strdup (v[0]));
  return TRUE;
}

/* "HEAD (?, ?, …)" with @n placeholders, for the batch lookups by key below. The few sizes in
 * IN_SIZES keep the number of prepared statements small: a push of 5 mutations binds 16 values,
 * one of 500 binds 500 in one round trip (the write lock is held for fewer of them). */
static const guint in_sizes[] = { 16, 128, 512 };

typedef enum
{
  IN_RECORDS,
  IN_SEEN,
  IN_N_HEADS,
} InHead;

static const char *
in_list_sql (InHead  head,
             guint   remaining,
             guint  *size)
{
  static const char *heads[IN_N_HEADS] = {
    "SELECT entity, id, version, deleted, scope_unit, data, field_versions, "
    "updated_by, updated_at, created_at FROM records WHERE id IN (?",
    "SELECT mutation_id, version FROM mutations WHERE mutation_id IN (?",
  };
  static char *sql[IN_N_HEADS][G_N_ELEMENTS (in_sizes)];
  static gsize once = 0;
  guint k = 0;

  if (g_once_init_enter (&once))
    {
      for (guint h = 0; h < IN_N_HEADS; h++)
        for (guint z = 0; z < G_N_ELEMENTS (in_sizes); z++)
          {
            GString *q = g_string_new (heads[h]);

            for (guint i = 1; i < in_sizes[z]; i++)
              g_string_append (q, ", ?");
            g_string_append_c (q, ')');
            sql[h][z] = g_string_free (q, FALSE);
          }
      g_once_init_leave (&once, 1);
    }
  while (k + 1 < G_N_ELEMENTS (in_sizes) && in_sizes[k] < remaining)
    k++;
  *size = in_sizes[k];
  return sql[head][k];
}

/* Runs the lookup @head for one key of each mutation (the record id, or the mutation id), a
 * few hundred keys a query; the keys left over are bound as NULL, which matches nothing. */
static gboolean
lookup_by_keys (Push                *push,
                const KhPushRequest *request,
                InHead               head,
                KhSqlRowFunc         row_func,
                gpointer             user_data,
                GError             **error)
{
  guint len = request->mutations->len;

  for (guint i = 0; i < len;)
    {
      guint size;
      const char *sql = in_list_sql (head, len - i, &size);
      g_autofree KhSqlParam *p = g_new (KhSqlParam, size);

      for (guint k = 0; k < size; k++)
        {
          KhMutation *m = i + k < len ? request->mutations->pdata[i + k] : NULL;

          p[k] = KH_SQL_P_TEXT (m == NULL ? NULL : head == IN_SEEN ? m->mutation_id : m->id);
        }
      if (!kh_server_backend_exec (push->b, sql, p, size, row_func, user_data, NULL, error))
        return FALSE;
      i += size;
    }
  return TRUE;
}

/* Loads every record the request names, so the write lock is held for few round trips. */
static gboolean
preload_records (Push                *push,
                 const KhPushRequest *request,
                 GError             **error)
{
  for (guint i = 0; i < request->mutations->len; i++)
    {
      KhMutation *m = request->mutations->pdata[i];
      KhServerStored *missing = g_new0 (KhServerStored, 1);

      missing->version = -1;
      g_hash_table_insert (push->records, g_strconcat (m->entity, "/", m->id, NULL), missing);
    }
  return lookup_by_keys (push, request, IN_RECORDS, preload_row_cb, push, error);
}

static gboolean
push_load (Push            *push,
           const char      *entity,
           const char      *id,
           KhServerStored **out,
           GError         **error)
{
  g_autofree char *key = g_strconcat (entity, "/", id, NULL);
  KhServerStored *s = g_hash_table_lookup (push->records, key);

  *out = NULL;
  if (s == NULL)
    return _kh_server_load_stored (push->b, entity, id, out, error);
  if (s->version >= 0)
    *out = _kh_server_stored_copy (s);
  return TRUE;
}

/* user_in_scope, remembered for the batch (forgotten whenever the org tree changes). */
static gboolean
push_in_scope (Push        *push,
               const char  *unit,
               gboolean    *result,
               GError     **error)
{
  gpointer known;

  if (unit == NULL)
    {
      *result = FALSE;
      return TRUE;
    }
  known = g_hash_table_lookup (push->in_scope, unit);
  if (known != NULL)
    {
      *result = GPOINTER_TO_INT (known) == 1;
      return TRUE;
    }
  if (!_kh_server_user_in_scope (push->b, push->user, unit, result, error))
    return FALSE;
  g_hash_table_insert (push->in_scope, g_strdup (unit), GINT_TO_POINTER (*result ? 1 : 2));
  return TRUE;
}

static gboolean
push_in_scope_cb (gpointer     data,
                  const char  *unit,
                  gboolean    *result,
                  GError     **error)
{
  return push_in_scope (data, unit, result, error);
}

static gboolean
seen_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  gint64 *version = g_new (gint64, 1);

  *version = g_ascii_strtoll (v[1], NULL, 10);
  g_hash_table_insert (data, g_strdup (v[0]), version);
  return TRUE;
}

/* Which of the request's mutation ids were applied before. */
static gboolean
load_seen (Push                *push,
           const KhPushRequest *request,
           GError             **error)
{
  return lookup_by_keys (push, request, IN_SEEN, seen_row_cb, push->seen, error);
}

static KhMutationResult *
result_new (const KhMutation *m,
            KhResultStatus    status)
{
  KhMutationResult *r = kh_mutation_result_new ();

  r->mutation_id = g_strdup (m->mutation_id);
  r->status = status;
  return r;
}

static KhMutationResult *
rejected (const KhMutation *m,
          KhSyncError       code,
          const char       *message)
{
  KhMutationResult *r = result_new (m, KH_RESULT_REJECTED);

  r->code = g_strdup (kh_sync_error_to_code (code));
  r->message = g_strdup (message);
  return r;
}

static KhMutationResult *
rejected_field (const KhMutation *m,
                KhSyncError       code,
                char             *message,
                const char       *field)
{
  KhMutationResult *r = rejected (m, code, message);

  r->field = g_strdup (field);
  g_free (message);
  return r;
}

static KhMutationResult *
conflict (const KhMutation     *m,
          const KhServerStored *s,
          GPtrArray            *fields)
{
  KhMutationResult *r = result_new (m, KH_RESULT_CONFLICT);

  r->version = s->version;
  r->record = _kh_server_stored_to_record (m->entity, m->id, s);
  r->conflicting_fields = fields != NULL ? g_ptr_array_ref (fields)
                                         : g_ptr_array_new_with_free_func (g_free);
  return r;
}

static gint64
field_version (json_object *fv,
               const char  *name)
{
  json_object *v;

  if (json_object_object_get_ex (fv, name, &v) && json_object_is_type (v, json_type_int))
    return json_object_get_int64 (v);
  return 0;
}

/* The org unit that decides who sees a record with @data: NULL for shared entities. */
static const char *
place_of (const KhEntity *entity,
          const char     *id,
          json_object    *data)
{
  if (entity->scope_field == NULL)
    return NULL;
  if (strcmp (entity->scope_field, "id") == 0)
    return id;
  /* A link of units is its successor's; an abolition, which has none, its predecessor's: so a
   * link reaches only the areas that hold both its ends (AREA). */
  if (strcmp (entity->name, "unit_succession") == 0 && _kh_server_string_member (data, entity->scope_field) == NULL)
    return _kh_server_string_member (data, "predecessor_id");
  return _kh_server_string_member (data, entity->scope_field);
}

/* Logs @m as applied at @version; @op and @changes (taken) are its history, NULL when it
 * changed nothing. */
static gboolean
log_mutation_with (Push              *push,
                   const KhMutation  *m,
                   gint64             version,
                   const char        *op,
                   char              *changes,
                   GError           **error)
{
  gint64 *first = g_new (gint64, 1);
  LogRow *row = g_new0 (LogRow, 1);

  *first = version;
  g_hash_table_insert (push->seen, g_strdup (m->mutation_id), first);
  row->mutation_id = g_strdup (m->mutation_id);
  row->entity = g_strdup (m->entity);
  row->id = g_strdup (m->id);
  row->version = version;
  row->op = op != NULL ? op : "same";
  row->changes = changes;
  g_ptr_array_add (push->log, row);
  return TRUE;
}

static gboolean
log_mutation (Push              *push,
              const KhMutation  *m,
              gint64             version,
              GError           **error)
{
  return log_mutation_with (push, m, version, NULL, NULL, error);
}

/* Each field's old and new value, {"name": [old, new], …}, written straight as text: the history
 * of a batch costs one string per mutation, not a json-c object per field. */
static char *
history_changes (json_object *old,
                 json_object *now)
{
  GString *text = g_string_sized_new (256);

  g_string_append_c (text, '{');
  json_object_object_foreach (now, key, val)
    {
      json_object *was = NULL;

      if (old != NULL && json_object_object_get_ex (old, key, &was) && json_object_equal (was, val))
        continue;
      if (text->len > 1)
        g_string_append_c (text, ',');
      kh_wire_write_string (text, key, -1);
      g_string_append (text, ":[");
      kh_wire_write_json (text, was);
      g_string_append_c (text, ',');
      kh_wire_write_json (text, val);
      g_string_append_c (text, ']');
    }
  if (old != NULL)
    {
      json_object_object_foreach (old, okey, oval)
        {
          if (json_object_object_get_ex (now, okey, NULL))
            continue;
          if (text->len > 1)
            g_string_append_c (text, ',');
          kh_wire_write_string (text, okey, -1);
          g_string_append (text, ":[");
          kh_wire_write_json (text, oval);
          g_string_append (text, ",null]");
        }
    }
  g_string_append_c (text, '}');
  return g_string_free (text, FALSE);
}

static KhMutationResult *
applied_with (Push              *push,
              const KhMutation  *m,
              gint64             version,
              const char        *op,
              char              *changes,
              GError           **error)
{
  KhMutationResult *r;

  if (!log_mutation_with (push, m, version, op, changes, error))
    return NULL;
  r = result_new (m, KH_RESULT_APPLIED);
  r->version = version;
  return r;
}

static KhMutationResult *
applied (Push              *push,
         const KhMutation  *m,
         gint64             version,
         GError           **error)
{
  KhMutationResult *r;

  if (!log_mutation (push, m, version, error))
    return NULL;
  r = result_new (m, KH_RESULT_APPLIED);
  r->version = version;
  return r;
}

/* Checks that @user may put a record of @entity with @data at its place. For org units the
 * place of a unit is decided by its parent: it must be in scope, must not be the unit itself or
 * below it, and a root (no parent) may only be made by a user whose scope is a root. */
static gboolean
check_new_place (Push                 *push,
                 const KhEntity       *entity,
                 const KhMutation     *m,
                 const KhServerStored *old,
                 json_object          *data,
                 KhMutationResult    **result,
                 GError              **error)
{
  gboolean ok = TRUE;

  if (strcmp (entity->name, "org_unit") == 0)
    {
      const char *parent = _kh_server_string_member (data, "parent_id");
      const char *old_parent = old != NULL ? _kh_server_string_member (old->data, "parent_id") : NULL;

      if (old != NULL && g_strcmp0 (parent, old_parent) == 0)
        return TRUE;
      if (parent != NULL)
        {
          gboolean cycle = FALSE;

          if (old != NULL && !_kh_server_in_subtree (push->b, m->id, parent, &cycle, error))
            return FALSE;
          if (cycle || strcmp (parent, m->id) == 0)
            {
              *result = rejected (m, KH_SYNC_ERROR_INVALID,
                                  _("A unit cannot be placed under itself or one of its own units."));
              return TRUE;
            }
          if (!push_in_scope (push, parent, &ok, error))
            return FALSE;
        }
      else if (push->user->scope_unit_id != NULL)
        {
          gboolean has_parent;

          if (!_kh_server_unit_has_parent (push->b, push->user->scope_unit_id, &has_parent, error))
            return FALSE;
          ok = !has_parent;
        }
    }
  else
    {
      const char *place = place_of (entity, m->id, data);

      if (place != NULL && !push_in_scope (push, place, &ok, error))
        return FALSE;
    }
  if (!ok)
    *result = rejected (m, KH_SYNC_ERROR_OUT_OF_SCOPE,
                        _("The record would belong to a unit outside your area."));
  return TRUE;
}

/* The checks of what a record names: an org unit's code and kind (kh-server-units.c), and
 * every reference it sets (kh-server-refs.c). @old is the record before, NULL if new; @changes
 * what the mutation changes (NULL: everything, a new record). */
static gboolean
check_names (Push                 *push,
             const KhEntity       *entity,
             const KhMutation     *m,
             const KhServerStored *old,
             json_object          *data,
             json_object          *changes,
             KhMutationResult    **result,
             GError              **error)
{
  char *reason = NULL;
  const char *field = NULL;
  KhSyncError code = KH_SYNC_ERROR_INVALID;

  if (strcmp (entity->name, "org_unit") == 0
      && !_kh_server_check_unit (push->b, push->user, m->id, old != NULL ? old->data : NULL, data,
                                 &reason, &field, &code, error))
    return FALSE;
  /* The server's own writes (org import, demo) are a whole list, sent entity by entity, not
   * in the order its references need; they come from an administrator's command. */
  if (reason == NULL && push->user->id != NULL
      && !_kh_server_refs_check (push->refs, entity, data, changes, place_of (entity, m->id, data),
                                 push_in_scope_cb, push, &reason, &field, &code, error))
    return FALSE;
  if (reason == NULL && !_kh_server_check_time (push->b, push->refs, entity, data, changes, &reason, &field, error))
    return FALSE;
  if (reason == NULL && strcmp (entity->name, "registration") == 0)
    {
      char *other[3] = { NULL, NULL, NULL };

      if (!_kh_server_check_twice (push->b, entity, m->id, data, changes, &reason, &field, other, error))
        return FALSE;
      if (reason != NULL)
        {
          *result = rejected_field (m, KH_SYNC_ERROR_ALREADY_REGISTERED, reason, field);
          (*result)->registered_id = other[0];
          (*result)->registered_by = other[1];
          (*result)->registered_at = other[2];
          return TRUE;
        }
    }
  if (reason != NULL)
    *result = rejected_field (m, code, reason, field);
  return TRUE;
}

static gboolean
check_fields_known (const KhEntity    *entity,
                    const KhMutation  *m,
                    KhMutationResult **result)
{
  json_object_object_foreach (m->fields, key, val)
    {
      const KhField *f = kh_entity_get_field (entity, key);
      g_autoptr(GError) local = NULL;

      if (f == NULL)
        {
          g_autofree char *msg = g_strdup_printf (_("“%s” is not a field of %s."), key, _(entity->label));

          *result = rejected (m, KH_SYNC_ERROR_INVALID, msg);
          return FALSE;
        }
      if (val != NULL && (!kh_field_validate (f, val, &local) || !kh_field_validate_plain (f, val, &local)))
        {
          *result = rejected_field (m, KH_SYNC_ERROR_INVALID, g_strdup (local->message), key);
          return FALSE;
        }
    }
  return TRUE;
}

/* Writes @s (the record after the mutation) with a new version, and what goes with it. */
static KhMutationResult *
write_record (Push                 *push,
              const KhEntity       *entity,
              const KhMutation     *m,
              const KhServerStored *old,
              KhServerStored       *s,
              GError              **error)
{
  gint64 version = ++push->version;
  const char *place = place_of (entity, m->id, s->data);

  s->version = version;
  g_free (s->scope_unit);
  s->scope_unit = g_strdup (place);
  g_free (s->updated_by);
  s->updated_by = g_strdup (push->actor);
  g_free (s->updated_at);
  s->updated_at = g_strdup (push->now);
  if (s->created_at == NULL)
    s->created_at = g_strdup (push->now);

  {
    g_autofree char *key = g_strconcat (m->entity, "/", m->id, NULL);

    g_hash_table_replace (push->records, g_strdup (key), _kh_server_stored_copy (s));
    g_hash_table_replace (push->owners, g_strdup (m->id), g_strdup (m->entity));
    if (!g_hash_table_contains (push->dirty_set, key))
      {
        char *copy = g_strdup (key);

        g_hash_table_add (push->dirty_set, copy);
        g_ptr_array_add (push->dirty, copy);
      }
  }
  _kh_server_refs_note (push->refs, m->entity, m->id, s->deleted, place);
  _kh_server_ledger_note (push->ledger, m->entity, m->id, old, s);
  if (strcmp (entity->name, "criterion") == 0)
    g_hash_table_remove_all (push->criteria);
  if (strcmp (entity->name, "org_unit") == 0)
    {
      /* The tree changes: what was (not) in scope may not be any more. */
      g_hash_table_remove_all (push->in_scope);
      _kh_server_refs_forget_areas (push->refs);
      if (!_kh_server_update_org_tree (push->b, m->id, old, s, error))
        return NULL;
    }
  else if (strcmp (entity->name, "registration") == 0)
    {
      if (!_kh_server_note_registration (push->b, m->id, s, error))
        return NULL;
    }
  else if (strcmp (entity->name, "unit_succession") == 0)
    {
      /* The areas change with the links. */
      g_hash_table_remove_all (push->in_scope);
      _kh_server_refs_forget_areas (push->refs);
      if (!_kh_server_update_succession (push->b, m->id, old, s, error))
        return NULL;
    }
  if (old != NULL && old->scope_unit != NULL && g_strcmp0 (old->scope_unit, s->scope_unit) != 0
      && strcmp (entity->name, "org_unit") != 0)
    {
      KhSqlParam p[4] = { KH_SQL_P_INT (version), KH_SQL_P_TEXT (m->entity), KH_SQL_P_TEXT (m->id),
                          KH_SQL_P_TEXT (old->scope_unit) };

      if (!kh_server_backend_exec (push->b, "INSERT INTO moves (version, entity, id, old_unit) VALUES (?, ?, ?, ?)",
                                   p, 4, NULL, NULL, NULL, error))
        return NULL;
    }
  {
    const char *op = old == NULL ? "create" : s->deleted ? "delete" : old->deleted ? "restore" : "update";

    return applied_with (push, m, version, op,
                         s->deleted ? NULL : history_changes (old != NULL ? old->data : NULL, s->data),
                         error);
  }
}

/* Whether the award list @id is locked, as this batch leaves it so far. */
static gboolean
list_locked (Push        *push,
             const char  *id,
             gboolean    *locked,
             GError     **error)
{
  g_autofree char *key = g_strconcat ("award_list/", id, NULL);
  KhServerStored *s = g_hash_table_lookup (push->records, key);
  gpointer known = g_hash_table_lookup (push->locks, id);

  /* A list this batch made already approved or paid (a past year's, entered whole by an
   * account that may take every step) takes its entries in the same batch. */
  if (GPOINTER_TO_INT (known) == 3)
    {
      *locked = FALSE;
      return TRUE;
    }
  if (s != NULL && s->version >= 0)
    {
      *locked = !s->deleted && kh_workflow_is_locked ("award_list", s->data);
      return TRUE;
    }
  if (known == NULL)
    {
      g_autoptr(KhServerStored) loaded = NULL;

      if (!_kh_server_load_stored (push->b, "award_list", id, &loaded, error))
        return FALSE;
      known = GINT_TO_POINTER (loaded != NULL && !loaded->deleted
                               && kh_workflow_is_locked ("award_list", loaded->data) ? 1 : 2);
      g_hash_table_insert (push->locks, g_strdup (id), known);
    }
  *locked = GPOINTER_TO_INT (known) == 1;
  return TRUE;
}

/* The approval steps and locks (kh-workflow.c): a step needs the account's permission, a
 * locked record or a locked list's entry refuses changes. The server's own writes (import,
 * demo) are an administrator's, and pass. */
static gboolean
check_workflow (Push              *push,
                const KhEntity    *entity,
                const KhMutation  *m,
                json_object       *old_data,
                json_object       *data,
                gboolean           deleting,
                json_object       *changes,
                KhMutationResult **result,
                GError           **error)
{
  const char *field = NULL;
  const char *owner = kh_workflow_owner (entity->name, &field);
  gboolean locked = FALSE;
  g_autofree char *reason = NULL;
  KhWorkflowVerdict verdict;

  *result = NULL;
  if (push->user->id == NULL || (owner == NULL && kh_workflow_state_field (entity->name) == NULL))
    return TRUE;
  if (owner != NULL)
    {
      const char *ids[2] = { _kh_server_string_member (old_data, field),
                             _kh_server_string_member (data, field) };

      for (guint i = 0; i < 2 && !locked; i++)
        if (ids[i] != NULL && !list_locked (push, ids[i], &locked, error))
          return FALSE;
    }
  verdict = kh_workflow_judge (entity->name, old_data, data, deleting, changes, locked,
                               push->user->permits, &reason);
  if (verdict == KH_WORKFLOW_OK && old_data == NULL && strcmp (entity->name, "award_list") == 0
      && kh_workflow_is_locked ("award_list", data))
    g_hash_table_insert (push->locks, g_strdup (m->id), GINT_TO_POINTER (3));
  if (verdict != KH_WORKFLOW_OK)
    *result = rejected (m, verdict == KH_WORKFLOW_LOCKED ? KH_SYNC_ERROR_LOCKED
                           : verdict == KH_WORKFLOW_FORBIDDEN ? KH_SYNC_ERROR_FORBIDDEN
                           : KH_SYNC_ERROR_INVALID, reason);
  return TRUE;
}

/* A payment must not overdraw its fund (kh-server-ledger.c): judged when it is made, restored,
 * or changes its money (amount, fund, day, earmark). */
static gboolean
check_ledger (Push                 *push,
              const KhEntity       *entity,
              const KhMutation     *m,
              const KhServerStored *old,
              json_object          *data,
              json_object         *changes,
              gboolean             restoring,
              KhMutationResult   **result,
              GError             **error)
{
  static const char * const money[] = { "amount", "fund_id", "paid_on", "earmark" };
  g_autoptr(KhServerStored) fund = NULL;
  g_autofree char *refusal = NULL;
  const char *fund_id = _kh_server_string_member (data, "fund_id");
  gboolean judged = changes == NULL || restoring;

  *result = NULL;
  if (strcmp (entity->name, "disbursement") != 0 || fund_id == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (money) && !judged; i++)
    judged = json_object_object_get_ex (changes, money[i], NULL);
  if (!judged)
    return TRUE;
  /* The fund is read once per batch: a batch of payments names the same few funds. */
  {
    g_autofree char *key = g_strconcat ("fund/", fund_id, NULL);

    if (!g_hash_table_contains (push->records, key))
      {
        KhServerStored *stored = NULL;

        if (!_kh_server_load_stored (push->b, "fund", fund_id, &stored, error))
          return FALSE;
        if (stored == NULL)
          {
            stored = g_new0 (KhServerStored, 1);
            stored->version = -1;
          }
        g_hash_table_insert (push->records, g_steal_pointer (&key), stored);
      }
  }
  if (!push_load (push, "fund", fund_id, &fund, error))
    return FALSE;
  if (!_kh_server_ledger_check (push->ledger, fund != NULL ? fund->data : NULL, m->id, old, data, &refusal, error))
    return FALSE;
  if (refusal != NULL)
    *result = rejected_field (m, KH_SYNC_ERROR_OVERDRAWN, g_steal_pointer (&refusal), "amount");
  return TRUE;
}

/* The learning models' rules (kh-server-models.c): an evaluation judged by its set, a
 * recognition's evaluation and level, a set in use never changed. */
static gboolean
check_model (Push                *push,
             const KhEntity      *entity,
             const KhMutation    *m,
             json_object         *data,
             json_object         *old_data,
             json_object         *changes,
             KhMutationResult   **result,
             GError             **error)
{
  char *refusal = NULL;
  const char *field = NULL;

  *result = NULL;
  if (!_kh_server_check_model (push->b, push->records, push->dirty, push->criteria, entity, m->id, data,
                               old_data, changes, &refusal, &field, error))
    return FALSE;
  if (refusal != NULL)
    *result = rejected_field (m, KH_SYNC_ERROR_INVALID, refusal, field);
  return TRUE;
}

/* A minor's award entry is approved only with a consent that counts (kh-server-privacy.c). */
static gboolean
check_consent (Push                *push,
               const KhEntity      *entity,
               const KhMutation    *m,
               json_object         *data,
               json_object         *old_data,
               KhMutationResult   **result,
               GError             **error)
{
  g_autofree char *refusal = NULL;

  *result = NULL;
  if (strcmp (entity->name, "award_entry") != 0)
    return TRUE;
  if (!_kh_server_check_award_consent (push->b, push->records, push->dirty, data, old_data, &refusal, error))
    return FALSE;
  if (refusal != NULL)
    *result = rejected (m, KH_SYNC_ERROR_INVALID, refusal);
  return TRUE;
}

static KhMutationResult *
apply_create (Push             *push,
              const KhEntity   *entity,
              const KhMutation *m,
              KhServerStored   *old,
              GError          **error)
{
  g_autoptr(KhServerStored) s = NULL;
  g_autoptr(GError) local = NULL;
  KhMutationResult *result = NULL;

  if (old != NULL)
    {
      g_autoptr(GPtrArray) differ = g_ptr_array_new_with_free_func (g_free);
      gboolean same = !old->deleted;

      json_object_object_foreach (m->fields, key, val)
        {
          json_object *cur = NULL;

          json_object_object_get_ex (old->data, key, &cur);
          if (!json_object_equal (cur, val))
            g_ptr_array_add (differ, g_strdup (key));
        }
      json_object_object_foreach (old->data, okey, oval)
        {
          (void) oval;
          if (!json_object_object_get_ex (m->fields, okey, NULL))
            g_ptr_array_add (differ, g_strdup (okey));
        }
      if (same && differ->len == 0)
        {
          if (!log_mutation (push, m, old->version, error))
            return NULL;
          result = result_new (m, KH_RESULT_DUPLICATE);
          result->version = old->version;
          return result;
        }
      return conflict (m, old, differ);
    }

  if (!kh_entity_validate (entity, m->fields, TRUE, &local))
    return rejected_field (m, KH_SYNC_ERROR_INVALID, g_strdup (local->message), kh_data_error_get_field (local));
  if (!check_workflow (push, entity, m, NULL, m->fields, FALSE, m->fields, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_consent (push, entity, m, m->fields, NULL, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_model (push, entity, m, m->fields, NULL, NULL, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_new_place (push, entity, m, NULL, m->fields, &result, error))
    return NULL;
  if (result == NULL && !check_names (push, entity, m, NULL, m->fields, NULL, &result, error))
    return NULL;
  if (result == NULL && !check_ledger (push, entity, m, NULL, m->fields, NULL, FALSE, &result, error))
    return NULL;
  if (result != NULL)
    return result;

  s = g_new0 (KhServerStored, 1);
  s->data = json_object_get (m->fields);
  s->fv = json_object_new_object ();
  json_object_object_foreach (m->fields, key, val)
    {
      (void) val;
      json_object_object_add (s->fv, key, json_object_new_int64 (push->version + 1));
    }
  return write_record (push, entity, m, NULL, s, error);
}

/* update, and restore (@restoring: the record is deleted and comes back). */
static KhMutationResult *
apply_update (Push             *push,
              const KhEntity   *entity,
              const KhMutation *m,
              KhServerStored   *old,
              gboolean          restoring,
              GError          **error)
{
  g_autoptr(GPtrArray) conflicting = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(json_object) changes = json_object_new_object ();
  g_autoptr(KhServerStored) s = NULL;
  g_autoptr(GError) local = NULL;
  KhMutationResult *result = NULL;

  if (old->deleted && !restoring)
    return conflict (m, old, NULL);
  if (m->base_version > old->version)
    return conflict (m, old, NULL);

  json_object_object_foreach (m->fields, key, val)
    {
      json_object *cur = NULL;

      json_object_object_get_ex (old->data, key, &cur);
      if (json_object_equal (cur, val))
        continue;
      if (field_version (old->fv, key) > m->base_version)
        g_ptr_array_add (conflicting, g_strdup (key));
      else
        json_object_object_add (changes, key, val != NULL ? json_object_get (val) : NULL);
    }
  if (conflicting->len > 0)
    return conflict (m, old, conflicting);
  if (json_object_object_length (changes) == 0 && !restoring)
    return applied (push, m, old->version, error);

  s = g_new0 (KhServerStored, 1);
  s->data = json_object_new_object ();
  json_object_object_foreach (old->data, okey, oval)
    json_object_object_add (s->data, okey, json_object_get (oval));
  json_object_deep_copy (old->fv, &s->fv, NULL);
  json_object_object_foreach (changes, ckey, cval)
    {
      if (cval == NULL)
        json_object_object_del (s->data, ckey);
      else
        json_object_object_add (s->data, ckey, json_object_get (cval));
      json_object_object_add (s->fv, ckey, json_object_new_int64 (push->version + 1));
    }
  s->created_at = g_strdup (old->created_at);
  s->deleted = FALSE;

  if (!kh_entity_validate (entity, s->data, TRUE, &local))
    return rejected_field (m, KH_SYNC_ERROR_INVALID, g_strdup (local->message), kh_data_error_get_field (local));
  if (!check_workflow (push, entity, m, old->data, s->data, restoring, changes, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_consent (push, entity, m, s->data, old->data, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_model (push, entity, m, s->data, old->data, changes, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  if (!check_new_place (push, entity, m, old, s->data, &result, error))
    return NULL;
  if (result == NULL && !check_names (push, entity, m, old, s->data, changes, &result, error))
    return NULL;
  if (result == NULL && !check_ledger (push, entity, m, old, s->data, changes, restoring, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  return write_record (push, entity, m, old, s, error);
}

static KhMutationResult *
apply_delete (Push              *push,
              const KhEntity    *entity,
              const KhMutation  *m,
              KhServerStored    *old,
              GError           **error)
{
  g_autoptr(KhServerStored) s = NULL;

  if (old->deleted)
    return applied (push, m, old->version, error);
  if (m->base_version > old->version)
    return conflict (m, old, NULL);
  if (old->version > m->base_version)
    {
      g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);

      json_object_object_foreach (old->fv, key, val)
        if (json_object_get_int64 (val) > m->base_version)
          g_ptr_array_add (changed, g_strdup (key));
      return conflict (m, old, changed);
    }
  {
    KhMutationResult *result = NULL;

    if (!check_workflow (push, entity, m, old->data, NULL, TRUE, NULL, &result, error))
      return NULL;
    if (result != NULL)
      return result;
  }
  s = g_new0 (KhServerStored, 1);
  s->data = json_object_get (old->data);
  s->fv = json_object_get (old->fv);
  s->deleted = TRUE;
  s->created_at = g_strdup (old->created_at);
  return write_record (push, entity, m, old, s, error);
}

static KhMutationResult *
apply_one (Push              *push,
           const KhMutation  *m,
           GError           **error)
{
  const KhEntity *entity = kh_entity_lookup (m->entity);
  g_autoptr(KhServerStored) old = NULL;
  KhMutationResult *result = NULL;
  gint64 *first_version = g_hash_table_lookup (push->seen, m->mutation_id);

  if (first_version != NULL)
    {
      result = result_new (m, KH_RESULT_DUPLICATE);
      result->version = *first_version;
      return result;
    }

  if (entity == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("“%s” is not a kind of record this server keeps."), m->entity);

      return rejected (m, KH_SYNC_ERROR_INVALID, msg);
    }
  if (g_strcmp0 (push->user->role, "viewer") == 0)
    return rejected (m, KH_SYNC_ERROR_FORBIDDEN, _("A viewer account cannot change records."));
  if (entity->scope_field == NULL && g_strcmp0 (push->user->role, "admin") != 0)
    return rejected (m, KH_SYNC_ERROR_FORBIDDEN,
                     _("Only an administrator can change shared reference data."));
  /* A link widens the areas that hold its successor to its predecessor's records. */
  if (strcmp (entity->name, "unit_succession") == 0 && g_strcmp0 (push->user->role, "admin") != 0)
    return rejected (m, KH_SYNC_ERROR_FORBIDDEN,
                     _("Only an administrator can record how units succeeded each other."));
  if (!check_fields_known (entity, m, &result))
    return result;

  if (!push_load (push, m->entity, m->id, &old, error))
    return NULL;
  if (old == NULL)
    {
      const char *owner = g_hash_table_lookup (push->owners, m->id);

      if (owner != NULL && strcmp (owner, m->entity) != 0)
        return rejected (m, KH_SYNC_ERROR_INVALID,
                         _("This id already belongs to a record of another kind."));
    }
  if (old != NULL && old->scope_unit != NULL)
    {
      gboolean ok;

      if (!push_in_scope (push, old->scope_unit, &ok, error))
        return NULL;
      if (!ok)
        return rejected (m, KH_SYNC_ERROR_OUT_OF_SCOPE,
                         _("The record belongs to a unit outside your area."));
    }

  switch (m->op)
    {
    case KH_OP_CREATE:
      return apply_create (push, entity, m, old, error);

    case KH_OP_UPDATE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      return apply_update (push, entity, m, old, FALSE, error);

    case KH_OP_DELETE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      return apply_delete (push, entity, m, old, error);

    case KH_OP_RESTORE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      if (!old->deleted)
        return apply_update (push, entity, m, old, FALSE, error);
      if (old->version != m->base_version)
        return conflict (m, old, NULL);
      return apply_update (push, entity, m, old, TRUE, error);

    default:
      g_assert_not_reached ();
    }
}

static KhPushResponse *
push_run (KhServer            *self,
          const KhServerUser  *user,
          const char          *actor,
          const KhPushRequest *request,
          GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhPushResponse) response = kh_push_response_new ();
  g_autofree char *now = _kh_server_now_iso ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) in_scope = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) _kh_server_stored_free);
  g_autoptr(GPtrArray) dirty = g_ptr_array_new ();
  g_autoptr(GHashTable) dirty_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func ((GDestroyNotify) log_row_free);
  g_autoptr(GHashTable) owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(KhServerRefs) refs = _kh_server_refs_new (l->b);
  g_autoptr(KhServerLedger) ledger = _kh_server_ledger_new (l->b);
  g_autoptr(GHashTable) criteria = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) json_object_put);
  g_autoptr(GHashTable) locks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Push push = { l->b, user, actor, now, 0, seen, in_scope, records, dirty, dirty_set, log, owners, refs,
                ledger, criteria, locks };
  KhServerMeta meta;

  /* The actor becomes every record's updated_by, which clients print: an account named with
   * control characters before they were refused writes nothing. */
  if (actor == NULL || !kh_text_is_plain (actor, FALSE))
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN,
                           _("This account's name holds control characters: an administrator "
                             "must make it a new account before it can change records."));
      return NULL;
    }
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error))
    return NULL;
  if (!_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  response->server_id = meta.server_id;
  response->epoch = meta.epoch;
  if (request->has_epoch && request->epoch != meta.epoch)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_EPOCH_CHANGED,
                   _("The server was restored from a backup (epoch %lld, not %lld): "
                     "pull everything again before pushing."), (long long) meta.epoch, (long long) request->epoch);
      return NULL;
    }
  push.version = meta.version;
  if (!load_seen (&push, request, error) || !preload_records (&push, request, error)
      || !_kh_server_refs_preload (refs, request, error))
    return NULL;

  for (guint i = 0; i < request->mutations->len; i++)
    {
      KhMutation *m = request->mutations->pdata[i];
      KhMutationResult *r = apply_one (&push, m, error);

      if (r == NULL)
        return NULL;
      if (r->status == KH_RESULT_REJECTED && m->op == KH_OP_CREATE)
        _kh_server_refs_refused (refs, m->id);
      g_ptr_array_add (response->results, r);
    }

  {
    KhSqlParam p[1] = { KH_SQL_P_INT (push.version) };

    gboolean erased = FALSE;

    /* A consent withdrawn in this batch starts the erasure of its person, in the same
     * transaction; the counter then covers the erasure's versions too. */
    if (!flush_writes (&push, error)
        || !_kh_server_ledger_flush (ledger, error)
        || !_kh_server_erase_withdrawn (l->b, actor, push.records, push.dirty, &push.version, &erased, error))
      return NULL;
    p[0] = KH_SQL_P_INT (push.version);
    if (!kh_server_backend_exec (l->b, "UPDATE counter SET version = ? WHERE id = 1", p, 1,
                                 NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return NULL;
    if (erased)
      _kh_server_erase_scrub (l->b);
  }
  return g_steal_pointer (&response);
}

KhPushResponse *
kh_server_push (KhServer            *self,
                const KhServerUser  *user,
                const KhPushRequest *request,
                GError             **error)
{
  KhPushResponse *response;

  g_return_val_if_fail (user != NULL && user->scope_unit_id != NULL, NULL);
  response = push_run (self, user, user->username, request, error);
  if (response != NULL)
    kh_server_metrics_push (response);
  return response;
}

KhPushResponse *
kh_server_apply_as_system (KhServer            *self,
                           const char          *actor,
                           const KhPushRequest *request,
                           GError             **error)
{
  KhServerUser system = { NULL, (char *) actor, (char *) "admin", NULL, NULL, 0, FALSE, KH_PERMIT_ALL, NULL };

  return push_run (self, &system, actor, request, error);
}
