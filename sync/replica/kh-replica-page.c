/* kh-replica-page.c: pages of the change feed, checked and read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-replica-private.h"
#include "kh-uuid.h"
#include "kh-wire-read.h"

/* Remote records ------------------------------------------------------------------------------ */

/* The members' names, in that order. */
static const char * const record_members[N_MEMBERS] = {
  "entity", "id", "version", "deleted", "fields", "updated_by", "updated_at"
};

/* The members of @record in @m (NULL where absent). In the server's order they are taken side
 * by side without a lookup, as _kh_replica_bind_fields() does; in any other, they are
 * looked up. */
void
_kh_replica_record_get_members (json_object *record,
                                json_object *m[N_MEMBERS])
{
  struct lh_entry *next = NULL;

  memset (m, 0, sizeof (json_object *) * N_MEMBERS);
  if (record == NULL || !json_object_is_type (record, json_type_object))
    return;
  next = lh_table_head (json_object_get_object (record));
  for (guint i = 0; i < N_MEMBERS; i++)
    if (next != NULL && *(const char *) lh_entry_k (next) == record_members[i][0]
        && strcmp (lh_entry_k (next), record_members[i]) == 0)
      {
        m[i] = lh_entry_v (next);
        next = lh_entry_next (next);
      }
  if (next != NULL)
    for (guint i = 0; i < N_MEMBERS; i++)
      m[i] = get_member (record, record_members[i]);
}

static const char *
string_len (json_object *v,
            int         *len)
{
  if (v == NULL || !json_object_is_type (v, json_type_string))
    {
      *len = -1;
      return NULL;
    }
  *len = json_object_get_string_len (v);
  return json_object_get_string (v);
}

/* Checks the members of a record from the server (@m, from _kh_replica_record_get_members() or read
 * from the page's text): known entity, a UUID, a positive version, a boolean deleted flag,
 * fields of the registry with values of the right types. */
static gboolean
check_members (json_object  *m[N_MEMBERS],
               GError      **error)
{
  const char *entity_name;
  const char *id;
  json_object *version = m[M_VERSION];
  json_object *deleted = m[M_DELETED];
  json_object *fields = m[M_FIELDS];
  json_object *by = m[M_UPDATED_BY];
  json_object *at = m[M_UPDATED_AT];
  const KhEntity *entity;
  g_autoptr(GError) local_error = NULL;
  int len;

  entity_name = string_len (m[M_ENTITY], &len);
  id = string_len (m[M_ID], &len);
  if (entity_name == NULL || (entity = kh_entity_lookup (entity_name)) == NULL)
    return _kh_replica_bad_answer (error, _("a record of an unknown kind"));
  if (id == NULL || !kh_uuid_is_valid (id))
    return _kh_replica_bad_answer (error, _("a record id is not a UUID"));
  if (version == NULL || !json_object_is_type (version, json_type_int) || json_object_get_int64 (version) <= 0)
    return _kh_replica_bad_answer (error, _("a record version is not a positive integer"));
  if (deleted == NULL || !json_object_is_type (deleted, json_type_boolean))
    return _kh_replica_bad_answer (error, _("a record's deleted flag is not true or false"));
  if (fields == NULL || !json_object_is_type (fields, json_type_object))
    return _kh_replica_bad_answer (error, _("a record's fields are not an object"));
  if (by != NULL && !json_object_is_type (by, json_type_string))
    return _kh_replica_bad_answer (error, _("a record's author is not text"));
  if (at != NULL && !json_object_is_type (at, json_type_string))
    return _kh_replica_bad_answer (error, _("a record's time is not text"));
  /* The wire's limits (sync/kh-codec.h): a time is short, any other text under 64 KiB. */
  if ((at != NULL && json_object_get_string_len (at) > KH_CODEC_MAX_TIME)
      || (by != NULL && json_object_get_string_len (by) > KH_CODEC_MAX_TEXT))
    return _kh_replica_bad_answer (error, _("a record's time or author is too long"));
  if (!kh_entity_validate (entity, fields, FALSE, &local_error))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("The server sent a record that is not valid (%s “%s”: %s); nothing was changed."),
                   _(entity->label), id, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Checks the form of a RECORD from the server (check_members()). */
gboolean
kh_replica_check_record (json_object  *record,
                         GError      **error)
{
  json_object *m[N_MEMBERS];

  if (record == NULL || !json_object_is_type (record, json_type_object))
    return _kh_replica_bad_answer (error, _("a record is not an object"));
  _kh_replica_record_get_members (record, m);
  return check_members (m, error);
}

/* The members of a record that check_members() accepted, as a Remote. */
void
_kh_replica_remote_from_members (Remote      *r,
                                 json_object *m[N_MEMBERS])
{
  int entity_len;

  r->values = NULL;
  r->entity = kh_entity_lookup (string_len (m[M_ENTITY], &entity_len));
  r->id = string_len (m[M_ID], &r->id_len);
  r->version = json_object_get_int64 (m[M_VERSION]);
  r->deleted = json_object_get_boolean (m[M_DELETED]);
  r->fields = m[M_FIELDS];
  r->updated_by = string_len (m[M_UPDATED_BY], &r->by_len);
  r->updated_at = string_len (m[M_UPDATED_AT], &r->at_len);
  if (r->updated_at == NULL)
    {
      r->updated_at = "1970-01-01T00:00:00Z";
      r->at_len = -1;
    }
}

/* Pages --------------------------------------------------------------------------------------- */


void
kh_replica_page_free (KhReplicaPage *page)
{
  if (page == NULL)
    return;
  json_object_put (page->records);
  json_object_put (page->removed);
  for (guint i = 0; page->members != NULL && i < page->n_members * N_MEMBERS; i++)
    json_object_put (page->members[i]);
  g_free (page->members);
  g_clear_pointer (&page->blocks, g_ptr_array_unref);
  g_clear_pointer (&page->objects, g_ptr_array_unref);
  g_free (page->remotes);
  g_free (page->repeated);
  g_clear_pointer (&page->id_lists, g_hash_table_unref);
  g_free (page->scope_unit_id);
  g_free (page);
}

guint
kh_replica_page_get_n_records (KhReplicaPage *page)
{
  return page->n_records;
}

static void
string_free (gpointer data)
{
  g_string_free (data, TRUE);
}

static KhReplicaPage *
page_alloc (guint n_records)
{
  KhReplicaPage *page = g_new0 (KhReplicaPage, 1);

  page->n_records = n_records;
  page->remotes = g_new0 (Remote, n_records + 1);
  page->repeated = g_new0 (guint8, n_records + 1);
  page->id_lists = g_hash_table_new_full (NULL, NULL, NULL, string_free);
  return page;
}

/* Finds, from the page's remotes, the records sent twice and the list of ids of each entity
 * for records_absent(). */
/* The hash of a record id, which every reader checked to be a UUID: its last sixteen
 * characters, random in the ids the app makes (the first twelve of a version 7 id are its
 * time, alike in a whole page). A server that sends ids alike there on purpose only makes
 * its own page slower to read. */
static guint
id_hash (gconstpointer key)
{
  const char *id = key;
  guint64 a, b;

  memcpy (&a, id + 20, 8);
  memcpy (&b, id + 28, 8);
  return (guint) ((((a * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) ^ b)
                   * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> 32);
}

static void
page_index (KhReplicaPage *page)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (id_hash, g_str_equal);
  GHashTableIter iter;
  gpointer list;

  for (guint i = 0; i < page->n_records; i++)
    {
      const Remote *r = &page->remotes[i];
      GString *ids;

      /* An id twice (in any entity: ids are UUIDs) is a record sent twice. */
      if (!g_hash_table_add (seen, (gpointer) r->id))
        {
          page->repeated[i] = TRUE;
          continue;
        }
      ids = g_hash_table_lookup (page->id_lists, r->entity);
      if (ids == NULL)
        {
          ids = g_string_sized_new (40 * page->n_records);
          g_string_append_c (ids, '[');
          g_hash_table_insert (page->id_lists, (gpointer) r->entity, ids);
        }
      else
        g_string_append_c (ids, ',');
      /* Checked to be a UUID: nothing to escape. */
      g_string_append_c (ids, '"');
      g_string_append_len (ids, r->id, r->id_len);
      g_string_append_c (ids, '"');
    }
  g_hash_table_iter_init (&iter, page->id_lists);
  while (g_hash_table_iter_next (&iter, NULL, &list))
    g_string_append_c (list, ']');
}

/* Checks and keeps the list of records the server took out of the replica's scope. */
gboolean
kh_replica_page_set_removed (KhReplicaPage  *page,
                             json_object    *removed,
                             GError        **error)
{
  size_t n_removed;

  if (removed != NULL && !json_object_is_type (removed, json_type_array))
    return _kh_replica_bad_answer (error, _("the removed records are not a list"));
  n_removed = removed ? json_object_array_length (removed) : 0;
  for (size_t i = 0; i < n_removed; i++)
    {
      json_object *item = json_object_array_get_idx (removed, i);
      const char *entity = get_str (item, "entity");
      const char *id = get_str (item, "id");

      if (entity == NULL || kh_entity_lookup (entity) == NULL || id == NULL || !kh_uuid_is_valid (id))
        return _kh_replica_bad_answer (error, _("a removed record is not an entity and an id"));
    }
  json_object_put (page->removed);
  page->removed = json_object_get (removed);
  return TRUE;
}

/* Checks a page's lists and every record in them, without a database, and reads what applying
 * them needs. */
KhReplicaPage *
kh_replica_page_new (json_object  *records,
                     json_object  *removed,
                     GError      **error)
{
  g_autoptr(KhReplicaPage) page = NULL;

  if (records == NULL || !json_object_is_type (records, json_type_array))
    {
      _kh_replica_bad_answer (error, _("the records are not a list"));
      return NULL;
    }

  page = page_alloc (json_object_array_length (records));
  page->records = json_object_get (records);
  for (guint i = 0; i < page->n_records; i++)
    {
      json_object *rec = json_object_array_get_idx (records, i);
      json_object *m[N_MEMBERS];

      if (!kh_replica_check_record (rec, error))
        return NULL;
      _kh_replica_record_get_members (rec, m);
      _kh_replica_remote_from_members (&page->remotes[i], m);
    }
  page_index (page);
  if (!kh_replica_page_set_removed (page, removed, error))
    return NULL;
  return g_steal_pointer (&page);
}

/* Records read without json-c ------------------------------------------------------------------
 *
 * The usual record (the members the server writes, each once, fields of the registry with text,
 * whole numbers, true, false or null, or an object for a JSON field, every one of them valid)
 * is read into a Remote whose strings and values are in the page's blocks: a few large
 * allocations for the page instead of some twenty-five small ones per record, which the
 * fetching thread spent most of its time making and freeing. Anything else (a member twice, a
 * field that is not known or not valid, a list or an object as a value, text that is not JSON)
 * is read again as json-c values, which then take or refuse it as they always did. The JSON
 * tokens themselves are read by the wire's reader (sync/kh-wire-read.c); what is here builds
 * the replica's records from them. */

#define BLOCK_SIZE (256 * 1024)

typedef struct
{
  GPtrArray *blocks;
  GPtrArray *objects;  /* the values of JSON fields, json-c's */
  char      *next;
  gsize      left;
  const KhEntity *last_entity;  /* the record before's: most records are of its entity */
} Blocks;

static gpointer
blocks_alloc (Blocks *b,
              gsize   n)
{
  gpointer p;

  n = (n + 7) & ~(gsize) 7;
  if (n > b->left)
    {
      gsize size = MAX (n, BLOCK_SIZE);

      b->next = g_malloc (size);
      b->left = size;
      g_ptr_array_add (b->blocks, b->next);
    }
  p = b->next;
  b->next += n;
  b->left -= n;
  return p;
}

/* The string at the reader, NUL-terminated in the blocks; FALSE for one holding a NUL. */
static gboolean
read_plain_string (KhWireReader  *rd,
                   Blocks        *b,
                   const char   **out,
                   int           *len)
{
  const char *text;
  gsize n;
  char *copy;

  if (!kh_wire_read_string (rd, &text, &n, NULL) || n > G_MAXINT
      || (text == rd->scratch->str && memchr (text, '\0', n) != NULL))
    return FALSE;
  copy = blocks_alloc (b, n + 1);
  memcpy (copy, text, n);
  copy[n] = '\0';
  *out = copy;
  *len = (int) n;
  return TRUE;
}

/* A value at the reader: text, a whole number, true, false or null; an object or a list
 * only for a JSON field (@field; NULL for none). */
static gboolean
read_plain_value (KhWireReader  *rd,
                  Blocks        *b,
                  const KhField *field,
                  KhValue       *v)
{
  const char *start;
  gboolean whole;

  kh_wire_read_space (rd);
  if (rd->p >= rd->end)
    return FALSE;
  switch (*rd->p)
    {
    case '{':
    case '[':
      if (field == NULL || field->type != KH_FIELD_JSON || !kh_wire_read_value (rd, &v->json, NULL))
        return FALSE;
      v->kind = KH_VALUE_OTHER;
      g_ptr_array_add (b->objects, v->json);
      return TRUE;
    case '"':
      /* The page was checked to be UTF-8 with no NUL, and so is what its escapes stand for. */
      v->kind = KH_VALUE_TEXT;
      v->utf8 = TRUE;
      return read_plain_string (rd, b, &v->text, &v->len);
    case 't':
      v->kind = KH_VALUE_BOOL;
      v->number = 1;
      return kh_wire_read_word (rd, "true");
    case 'f':
      v->kind = KH_VALUE_BOOL;
      v->number = 0;
      return kh_wire_read_word (rd, "false");
    case 'n':
      v->kind = KH_VALUE_NULL;
      return kh_wire_read_word (rd, "null");
    default:
      start = rd->p;
      v->kind = KH_VALUE_INT;
      return (*rd->p == '-' || g_ascii_isdigit (*rd->p)) && kh_wire_scan_number (rd, &whole, NULL) && whole
             && kh_wire_whole_number (start, rd->p - start, &v->number);
    }
}

/* The fields object of a record of @entity into @values (one per field, zeroed). */
static gboolean
read_plain_fields (KhWireReader   *rd,
                   Blocks         *b,
                   const KhEntity *entity,
                   KhValue        *values)
{
  guint cursor = 0;

  if (!kh_wire_read_char (rd, '{'))
    return FALSE;
  if (kh_wire_read_char (rd, '}'))
    return TRUE;
  for (;;)
    {
      const char *key;
      gsize key_len;
      const KhField *field;
      KhValue *v;

      if (!kh_wire_read_name (rd, &key, &key_len, NULL)
          || (field = kh_wire_find_field (entity, key, key_len, &cursor)) == NULL)
        return FALSE;
      v = &values[field - entity->fields];
      if (v->kind != KH_VALUE_ABSENT || !read_plain_value (rd, b, field, v)
          || !kh_field_validate_value (field, v, NULL))
        return FALSE;
      if (kh_wire_read_char (rd, ','))
        continue;
      return kh_wire_read_char (rd, '}');
    }
}

/* A usual record at the reader into @r; FALSE for anything else, read again with json-c. */
static gboolean
read_plain_record (KhWireReader *rd,
                   Blocks       *b,
                   Remote       *r)
{
  guint seen = 0;
  KhValue *values = NULL;
  const char *entity_name = NULL;
  int len;

  memset (r, 0, sizeof *r);
  r->at_len = r->by_len = -1;
  if (!kh_wire_read_char (rd, '{') || !kh_wire_read_deeper (rd, NULL) || kh_wire_read_char (rd, '}'))
    return FALSE;
  for (;;)
    {
      const char *key;
      gsize key_len;
      int member = -1;
      gboolean ok;

      if (!kh_wire_read_name (rd, &key, &key_len, NULL))
        return FALSE;
      for (int i = 0; i < N_MEMBERS; i++)
        if (record_members[i][0] == key[0] && strncmp (record_members[i], key, key_len) == 0
            && record_members[i][key_len] == '\0')
          {
            member = i;
            break;
          }
      if (member >= 0 && (seen & (1u << member)))
        return FALSE;
      if (member >= 0)
        seen |= 1u << member;
      kh_wire_read_space (rd);
      switch (member)
        {
        case M_ENTITY:
          ok = read_plain_string (rd, b, &entity_name, &len);
          if (ok && b->last_entity != NULL && strcmp (b->last_entity->name, entity_name) == 0)
            r->entity = b->last_entity;
          else if (ok)
            ok = (r->entity = b->last_entity = kh_entity_lookup (entity_name)) != NULL;
          break;
        case M_ID:
          ok = read_plain_string (rd, b, &r->id, &r->id_len) && kh_uuid_is_valid (r->id);
          break;
        case M_VERSION:
          {
            KhValue v = { 0 };

            ok = read_plain_value (rd, b, NULL, &v) && v.kind == KH_VALUE_INT && v.number > 0;
            r->version = v.number;
          }
          break;
        case M_DELETED:
          {
            KhValue v = { 0 };

            ok = read_plain_value (rd, b, NULL, &v) && v.kind == KH_VALUE_BOOL;
            r->deleted = v.number != 0;
          }
          break;
        case M_FIELDS:
          /* The server names the entity first. */
          ok = r->entity != NULL;
          if (ok)
            {
              values = blocks_alloc (b, sizeof (KhValue) * MAX (r->entity->n_fields, 1));
              memset (values, 0, sizeof (KhValue) * r->entity->n_fields);
              ok = read_plain_fields (rd, b, r->entity, values);
            }
          break;
        case M_UPDATED_BY:
        case M_UPDATED_AT:
          {
            const char **text = member == M_UPDATED_BY ? &r->updated_by : &r->updated_at;
            int *n = member == M_UPDATED_BY ? &r->by_len : &r->at_len;

            if (rd->p < rd->end && *rd->p == 'n')
              ok = kh_wire_read_word (rd, "null");
            else
              ok = read_plain_string (rd, b, text, n);
          }
          break;
        default:
          ok = kh_wire_read_value (rd, NULL, NULL);  /* a member the client does not know: skipped */
          break;
        }
      if (!ok)
        return FALSE;
      if (kh_wire_read_char (rd, ','))
        continue;
      if (!kh_wire_read_char (rd, '}'))
        return FALSE;
      break;
    }
  rd->depth--;
  /* The wire's limits (sync/kh-codec.h), as check_members(). */
  if (values == NULL || !(seen & (1u << M_ID)) || !(seen & (1u << M_VERSION)) || !(seen & (1u << M_DELETED))
      || r->at_len > KH_CODEC_MAX_TIME || r->by_len > KH_CODEC_MAX_TEXT)
    return FALSE;
  r->values = values;
  if (r->updated_at == NULL)
    {
      r->updated_at = "1970-01-01T00:00:00Z";
      r->at_len = -1;
    }
  return TRUE;
}

/* One member of a record into the members (NULL: only checked). */
static gboolean
read_record_member (KhWireReader  *rd,
                    gpointer       data,
                    GError       **error)
{
  json_object **m = data;
  const char *key;
  gsize key_len;
  int member = -1;
  json_object *value = NULL;
  gboolean ok;

  if (!kh_wire_read_name (rd, &key, &key_len, error))
    return FALSE;
  for (int i = 0; m != NULL && i < N_MEMBERS; i++)
    if (record_members[i][0] == key[0] && strncmp (record_members[i], key, key_len) == 0
        && record_members[i][key_len] == '\0')
      {
        member = i;
        break;
      }
  kh_wire_read_space (rd);
  if (member == M_FIELDS && rd->p < rd->end && *rd->p == '{')
    {
      /* The server names the entity first; fields before it are read as any object. */
      const char *entity = m[M_ENTITY] != NULL && json_object_is_type (m[M_ENTITY], json_type_string)
                           ? json_object_get_string (m[M_ENTITY]) : NULL;

      ok = kh_wire_read_object (rd, entity != NULL ? kh_entity_lookup (entity) : NULL, &value, error);
    }
  else
    ok = kh_wire_read_value (rd, member >= 0 ? &value : NULL, error);
  if (!ok)
    return FALSE;
  if (member >= 0)
    {
      json_object_put (m[member]);
      m[member] = value;
    }
  return TRUE;
}

static void
members_clear (json_object *m[N_MEMBERS])
{
  for (int i = 0; i < N_MEMBERS; i++)
    g_clear_pointer (&m[i], json_object_put);
}

typedef struct
{
  GArray  *members;      /* N_MEMBERS per record read with json-c, checked */
  GArray  *remotes;      /* one per record, checked */
  Blocks   blocks;
  guint    n_records;
  GError **check_error;  /* why a record is not valid; the rest are then only read through */
} RecordsRead;

/* One record of the list: its members kept when check_members() accepts them. */
static gboolean
read_record (KhWireReader  *rd,
             gpointer       data,
             GError       **error)
{
  RecordsRead *r = data;
  gboolean keep = *r->check_error == NULL;

  r->n_records++;
  kh_wire_read_space (rd);
  if (keep)
    {
      const char *start = rd->p;
      int depth = rd->depth;
      Remote remote;

      if (read_plain_record (rd, &r->blocks, &remote))
        {
          g_array_append_val (r->remotes, remote);
          return TRUE;
        }
      rd->p = start;
      rd->depth = depth;
    }
  if (rd->p < rd->end && *rd->p == '{')
    {
      json_object *m[N_MEMBERS] = { NULL };

      if (!kh_wire_read_list (rd, '{', '}', read_record_member, keep ? m : NULL, error))
        {
          members_clear (m);
          return FALSE;
        }
      if (keep && check_members (m, r->check_error))
        {
          Remote remote;

          g_array_append_vals (r->members, m, N_MEMBERS);
          _kh_replica_remote_from_members (&remote, m);
          g_array_append_val (r->remotes, remote);
        }
      else
        members_clear (m);
      return TRUE;
    }
  if (keep)
    _kh_replica_bad_answer (r->check_error, _("a record is not an object"));
  return kh_wire_read_value (rd, NULL, error);
}

typedef struct
{
  const char  *text;
  RecordsRead  records;
  gsize        list_start;  /* where the records list is in the text */
  gsize        list_end;
  gboolean     found;
} PageRead;

/* One member of the page: the records list read here, any other only checked. */
static gboolean
read_page_member (KhWireReader  *rd,
                  gpointer       data,
                  GError       **error)
{
  PageRead *pr = data;
  const char *key;
  gsize key_len;
  gboolean records;

  if (!kh_wire_read_name (rd, &key, &key_len, error))
    return FALSE;
  records = key_len == 7 && memcmp (key, "records", 7) == 0;
  kh_wire_read_space (rd);
  if (records && pr->found)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("the records are there twice"));
      return FALSE;
    }
  if (!records || rd->p >= rd->end || *rd->p != '[')
    return kh_wire_read_value (rd, NULL, error);
  pr->list_start = rd->p - pr->text;
  if (!kh_wire_read_list (rd, '[', ']', read_record, &pr->records, error))
    return FALSE;
  pr->list_end = rd->p - pr->text;
  pr->found = TRUE;
  return TRUE;
}

/* Reads the records of a page of changes from the page's TEXT (a JSON object), checked
 * record by record: the first record that is not valid gives @check_error (the page is then
 * not to be applied). @rest is the text with the records list left empty, for json-c (the
 * header; kh_replica_page_set_removed()). Text that is not JSON gives NULL and @error; JSON
 * that is not an object, or has no records list, is left whole in @rest, for its reader to
 * refuse. */
KhReplicaPage *
kh_replica_page_read (const char  *text,
                      gsize        len,
                      char       **rest,
                      GError     **check_error,
                      GError     **error)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  KhWireReader rd = { text, text, text + len, 0, scratch };
  PageRead pr = { text, { g_array_new (FALSE, FALSE, sizeof (json_object *)),
                          g_array_new (FALSE, FALSE, sizeof (Remote)),
                          { g_ptr_array_new_with_free_func (g_free),
                            g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put), NULL, 0 },
                          0, check_error },
                  0, 0, FALSE };
  KhReplicaPage *page;
  gboolean ok;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (rest != NULL && check_error != NULL, NULL);

  *rest = NULL;
  kh_wire_read_space (&rd);
  if (!kh_utf8_validate (text, len) || rd.p >= rd.end || *rd.p != '{')
    {
      g_array_unref (pr.records.members);
      g_array_unref (pr.records.remotes);
      g_ptr_array_unref (pr.records.blocks.blocks);
      g_ptr_array_unref (pr.records.blocks.objects);
      *rest = g_strndup (text, len);
      page = page_alloc (0);
      page_index (page);
      return page;
    }
  ok = kh_wire_read_list (&rd, '{', '}', read_page_member, &pr, error);
  kh_wire_read_space (&rd);
  if (ok && rd.p != rd.end)
    ok = kh_wire_read_fail (&rd, error);  /* only white space after the object */
  if (!ok)
    {
      for (guint i = 0; i < pr.records.members->len; i++)
        json_object_put (g_array_index (pr.records.members, json_object *, i));
      g_array_unref (pr.records.members);
      g_array_unref (pr.records.remotes);
      g_ptr_array_unref (pr.records.blocks.blocks);
      g_ptr_array_unref (pr.records.blocks.objects);
      g_clear_error (check_error);
      return NULL;
    }

  if (pr.found)
    *rest = g_strdup_printf ("%.*s[]%.*s", (int) pr.list_start, text, (int) (len - pr.list_end), text + pr.list_end);
  else
    *rest = g_strndup (text, len);
  page = page_alloc (pr.records.n_records);
  page->n_members = pr.records.members->len / N_MEMBERS;
  page->members = (json_object **) (void *) g_array_free (pr.records.members, FALSE);
  page->blocks = pr.records.blocks.blocks;
  page->objects = pr.records.blocks.objects;
  if (*check_error == NULL)
    {
      g_assert (pr.records.remotes->len == page->n_records);
      if (page->n_records > 0)
        memcpy (page->remotes, pr.records.remotes->data, sizeof (Remote) * page->n_records);
      page_index (page);
    }
  g_array_unref (pr.records.remotes);
  return page;
}
