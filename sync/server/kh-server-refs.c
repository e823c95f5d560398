/* kh-server-refs.c: the records a push refers to, and whether the writer may name them
 *
 * Every reference a mutation sets must name a live record of the right kind that the writer
 * may read (in their area, or shared), and a record that belongs to another (an award entry
 * to its list, a donation to its fund: KH_FIELD_FLAG_PARENT) must be in that record's area.
 * Otherwise an officer could hang an approved entry on another ward's list or point a record
 * at ids they cannot see. The records a batch refers to are looked up before it is applied,
 * with one query per few hundred ids (the batch's own writes are noted as they are made), so
 * a push of thousands of records costs a few more round trips, not one per record.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-server-core-private.h"

typedef struct
{
  char     *entity;     /* NULL: there is no such record */
  gboolean  deleted;
  char     *scope_unit;
} Known;

static void
known_free (Known *k)
{
  g_free (k->entity);
  g_free (k->scope_unit);
  g_free (k);
}

struct _KhServerRefs
{
  KhServerBackend *b;
  GHashTable      *known;  /* id → Known */
  GHashTable      *areas;  /* "owner's unit/record's unit" → 1 (inside) or 2 (not) */
  GHashTable      *later;  /* id → Known: records the batch creates, as it will */
  GHashTable      *lives;  /* org unit id → its life, for records in time (kh-server-time.c) */
};

KhServerRefs *
_kh_server_refs_new (KhServerBackend *b)
{
  KhServerRefs *refs = g_new0 (KhServerRefs, 1);

  refs->b = b;
  refs->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_free);
  refs->areas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  refs->later = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_free);
  refs->lives = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return refs;
}

void
_kh_server_refs_free (KhServerRefs *refs)
{
  if (refs == NULL)
    return;
  g_hash_table_unref (refs->known);
  g_hash_table_unref (refs->areas);
  g_hash_table_unref (refs->later);
  g_hash_table_unref (refs->lives);
  g_free (refs);
}

/* What the batch wrote to @id: later references see it as it is now. */
void
_kh_server_refs_note (KhServerRefs *refs,
                      const char   *entity,
                      const char   *id,
                      gboolean      deleted,
                      const char   *scope_unit)
{
  Known *k = g_new0 (Known, 1);

  k->entity = g_strdup (entity);
  k->deleted = deleted;
  k->scope_unit = g_strdup (scope_unit);
  g_hash_table_replace (refs->known, g_strdup (id), k);
}

/* The batch refused to create @id: a later reference to it names nothing (a registration the
 * server already had from elsewhere, and an evaluation of it made on the same computer). */
void
_kh_server_refs_refused (KhServerRefs *refs,
                         const char   *id)
{
  g_hash_table_remove (refs->later, id);
}

/* The org tree changed: which unit is inside which may have too. */
void
_kh_server_refs_forget_areas (KhServerRefs *refs)
{
  g_hash_table_remove_all (refs->areas);
  g_hash_table_remove_all (refs->lives);
}

GHashTable *
_kh_server_refs_lives (KhServerRefs *refs)
{
  return refs->lives;
}

static gboolean
known_row_cb (const char * const *v,
              int                 n,
              gpointer            data)
{
  KhServerRefs *refs = data;

  if (!g_hash_table_contains (refs->known, v[0]))
    {
      Known *k = g_new0 (Known, 1);

      k->entity = g_strdup (v[1]);
      k->deleted = g_ascii_strtoll (v[2], NULL, 10) != 0;
      k->scope_unit = g_strdup (v[3]);
      g_hash_table_insert (refs->known, g_strdup (v[0]), k);
    }
  return TRUE;
}

static const guint sizes[] = { 16, 128, 512 };

static const char *
lookup_sql (guint  remaining,
            guint *size)
{
  static char *sql[G_N_ELEMENTS (sizes)];
  static gsize once = 0;
  guint k = 0;

  if (g_once_init_enter (&once))
    {
      for (guint z = 0; z < G_N_ELEMENTS (sizes); z++)
        {
          GString *q = g_string_new ("SELECT id, entity, deleted, scope_unit FROM records WHERE id IN (?");

          for (guint i = 1; i < sizes[z]; i++)
            g_string_append (q, ", ?");
          g_string_append_c (q, ')');
          sql[z] = g_string_free (q, FALSE);
        }
      g_once_init_leave (&once, 1);
    }
  while (k + 1 < G_N_ELEMENTS (sizes) && sizes[k] < remaining)
    k++;
  *size = sizes[k];
  return sql[k];
}

/* Looks up @ids (not known yet) a few hundred at a time; those not found are known absent. */
static gboolean
load (KhServerRefs  *refs,
      GPtrArray     *ids,
      GError       **error)
{
  for (guint i = 0; i < ids->len;)
    {
      guint size;
      const char *sql = lookup_sql (ids->len - i, &size);
      g_autofree KhSqlParam *p = g_new (KhSqlParam, size);

      for (guint k = 0; k < size; k++)
        p[k] = KH_SQL_P_TEXT (i + k < ids->len ? (const char *) ids->pdata[i + k] : NULL);
      if (!kh_server_backend_exec (refs->b, sql, p, size, known_row_cb, refs, NULL, error))
        return FALSE;
      i += size;
    }
  for (guint i = 0; i < ids->len; i++)
    if (!g_hash_table_contains (refs->known, ids->pdata[i]))
      g_hash_table_insert (refs->known, g_strdup (ids->pdata[i]), g_new0 (Known, 1));
  return TRUE;
}

/* Looks up every id the request's mutations set in a reference field, before any is applied. */
gboolean
_kh_server_refs_preload (KhServerRefs         *refs,
                         const KhPushRequest  *request,
                         GError              **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();

  for (guint i = 0; i < request->mutations->len; i++)
    {
      KhMutation *m = request->mutations->pdata[i];
      const KhEntity *entity = kh_entity_lookup (m->entity);

      if (entity == NULL || m->fields == NULL)
        continue;
      /* A reference may name a record the same batch creates further on: the outbox keeps
       * a record's changes in one entry, at the place of its first, so a household made
       * before its head, and given the head afterwards, is sent before the head. */
      if (m->op == KH_OP_CREATE && !g_hash_table_contains (refs->later, m->id))
        {
          Known *k = g_new0 (Known, 1);

          k->entity = g_strdup (m->entity);
          k->scope_unit = g_strdup (entity->scope_field == NULL ? NULL
                                    : strcmp (entity->scope_field, "id") == 0 ? m->id
                                    : _kh_server_string_member (m->fields, entity->scope_field));
          g_hash_table_insert (refs->later, g_strdup (m->id), k);
        }
      json_object_object_foreach (m->fields, key, val)
        {
          const KhField *f = kh_entity_get_field (entity, key);
          const char *id;

          if (f == NULL || f->type != KH_FIELD_REF || !json_object_is_type (val, json_type_string))
            continue;
          id = json_object_get_string (val);
          if (!g_hash_table_contains (refs->known, id) && g_hash_table_add (seen, (gpointer) id))
            g_ptr_array_add (ids, (gpointer) id);
        }
    }
  return load (refs, ids, error);
}

static Known *
lookup (KhServerRefs  *refs,
        const char    *id,
        GError       **error)
{
  Known *k = g_hash_table_lookup (refs->known, id);
  g_autoptr(GPtrArray) one = NULL;

  if (k != NULL && k->entity == NULL && g_hash_table_contains (refs->later, id))
    return g_hash_table_lookup (refs->later, id);
  if (k != NULL)
    return k;
  /* Not named by the batch (an owner kept while the record moves): one query. */
  one = g_ptr_array_new ();
  g_ptr_array_add (one, (gpointer) id);
  if (!load (refs, one, error))
    return NULL;
  k = g_hash_table_lookup (refs->known, id);
  if (k->entity == NULL && g_hash_table_contains (refs->later, id))
    return g_hash_table_lookup (refs->later, id);
  return k;
}

/* Whether @unit is in the area of @owner's unit (AREA: below it, or below a unit that preceded
 * one in it), remembered for the batch. */
static gboolean
inside (KhServerRefs  *refs,
        const char    *owner,
        const char    *unit,
        gboolean      *result,
        GError       **error)
{
  g_autofree char *key = NULL;
  gpointer known;

  if (strcmp (owner, unit) == 0)
    {
      *result = TRUE;
      return TRUE;
    }
  key = g_strconcat (owner, "/", unit, NULL);
  known = g_hash_table_lookup (refs->areas, key);
  if (known != NULL)
    {
      *result = GPOINTER_TO_INT (known) == 1;
      return TRUE;
    }
  if (!_kh_server_in_area (refs->b, owner, unit, result, error))
    return FALSE;
  g_hash_table_insert (refs->areas, g_steal_pointer (&key), GINT_TO_POINTER (*result ? 1 : 2));
  return TRUE;
}

static gboolean
member_set (json_object *obj,
            const char  *name)
{
  return obj != NULL && json_object_object_get_ex (obj, name, NULL);
}

/* Checks the references of the record @data (after the mutation) of @entity whose unit is
 * @place: those @changes sets (every one when @changes is NULL, a new record), and the owner
 * again when the record moves. On a refusal sets *@reason, *@field and *@code. */
gboolean
_kh_server_refs_check (KhServerRefs        *refs,
                       const KhEntity      *entity,
                       json_object         *data,
                       json_object         *changes,
                       const char          *place,
                       KhServerScopeFunc    in_scope,
                       gpointer             scope_data,
                       char               **reason,
                       const char         **field,
                       KhSyncError         *code,
                       GError             **error)
{
  gboolean moved = changes == NULL
                   || (entity->scope_field != NULL && member_set (changes, entity->scope_field));

  *reason = NULL;
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];
      const char *value;
      const char *target;
      gboolean owner = (f->flags & KH_FIELD_FLAG_PARENT) != 0;
      gboolean ok = TRUE;
      Known *k;

      if (f->type != KH_FIELD_REF)
        continue;
      if (changes != NULL && !member_set (changes, f->name)
          && (f->ref_kind == NULL || !member_set (changes, f->ref_kind)) && !(owner && moved))
        continue;
      if ((value = _kh_server_string_member (data, f->name)) == NULL)
        continue;
      if ((target = kh_field_ref_target (f, data)) == NULL)
        continue;
      if ((k = lookup (refs, value, error)) == NULL)
        return FALSE;
      if (k->entity == NULL || k->deleted || strcmp (k->entity, target) != 0)
        ok = FALSE;
      else if (k->scope_unit != NULL && !in_scope (scope_data, k->scope_unit, &ok, error))
        return FALSE;
      if (!ok)
        {
          const KhEntity *te = kh_entity_lookup (target);

          /* The same words and code whether the record does not exist or is out of reach:
           * the answer must not tell which ids exist in other areas. `invalid`, naming the
           * field, and not `out_of_scope`: the record's own place was judged before (that
           * refusal is about the area, and a client judges it again when the area changes);
           * this one is about the value, mostly a record deleted since, and a person must
           * name another. */
          *reason = g_strdup_printf (_("%s: there is no %s with the id “%s” in your area."),
                                     _(f->label), te != NULL ? _(te->label) : target, value);
          *field = f->name;
          *code = KH_SYNC_ERROR_INVALID;
          return TRUE;
        }
      if (owner && k->scope_unit != NULL && place != NULL)
        {
          if (!inside (refs, k->scope_unit, place, &ok, error))
            return FALSE;
          if (!ok)
            {
              const KhEntity *te = kh_entity_lookup (target);

              *reason = g_strdup_printf (_("%s: this %s belongs to a unit outside the area of its %s; "
                                           "record it in that unit or one below it."),
                                         _(f->label), _(entity->label), te != NULL ? _(te->label) : target);
              *field = f->name;
              *code = KH_SYNC_ERROR_INVALID;
              return TRUE;
            }
        }
    }
  return TRUE;
}
