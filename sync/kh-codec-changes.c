/* kh-codec-changes.c: what the server says about its records: the change feed and integrity
 *
 * The pages of /changes and the summaries and id lists the integrity check compares (see
 * PROTOCOL.md); the member readers are in kh-codec.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec-private.h"
#include "kh-uuid.h"

/* The change feed ------------------------------------------------------------------------------ */

static void
removed_free (KhRemoved *r)
{
  g_free (r->entity);
  g_free (r->id);
  g_free (r);
}

KhChangesPage *
kh_changes_page_new (void)
{
  KhChangesPage *p = g_new0 (KhChangesPage, 1);

  p->records = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_record_free);
  p->removed = g_ptr_array_new_with_free_func ((GDestroyNotify) removed_free);
  return p;
}

void
kh_changes_page_free (KhChangesPage *page)
{
  if (page == NULL)
    return;
  g_free (page->server_id);
  g_free (page->cursor);
  g_free (page->scope_unit_id);
  g_ptr_array_unref (page->records);
  g_ptr_array_unref (page->removed);
  g_free (page);
}

void
kh_changes_page_add_removed (KhChangesPage *page,
                             const char    *entity,
                             const char    *id)
{
  KhRemoved *r = g_new0 (KhRemoved, 1);

  r->entity = g_strdup (entity);
  r->id = g_strdup (id);
  g_ptr_array_add (page->removed, r);
}

static KhChangesPage *changes_page_from_json (json_object  *obj,
                                             gboolean      with_records,
                                             GError      **error);

KhChangesPage *
kh_changes_page_from_json (json_object  *obj,
                           GError      **error)
{
  return changes_page_from_json (obj, TRUE, error);
}

/* kh_changes_page_from_json() without reading the records into the page (its records array
 * stays empty): for a reader that applies them from @obj itself after checking them. */
KhChangesPage *
kh_changes_page_header_from_json (json_object  *obj,
                                  GError      **error)
{
  return changes_page_from_json (obj, FALSE, error);
}

static KhChangesPage *
changes_page_from_json (json_object  *obj,
                        gboolean      with_records,
                        GError      **error)
{
  g_autoptr(KhChangesPage) p = kh_changes_page_new ();
  gboolean present;
  json_object *records;
  json_object *removed;

  if (!kh_codec_get_uuid (obj, NULL, "server_id", TRUE, &p->server_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", TRUE, 0, &p->epoch, error)
      || !kh_codec_get_string (obj, NULL, "cursor", TRUE, 256, &p->cursor, error)
      || !kh_codec_get_bool (obj, NULL, "has_more", TRUE, &p->has_more, error)
      || !kh_codec_get_bool (obj, NULL, "reset", TRUE, &p->reset, error)
      || !kh_codec_get_uuid (obj, NULL, "scope_unit_id", FALSE, &p->scope_unit_id, error))
    return NULL;
  records = kh_codec_member (obj, NULL, "records", json_type_array, TRUE, &present, error);
  if (records == NULL)
    return NULL;
  for (size_t i = 0; with_records && i < json_object_array_length (records); i++)
    {
      KhRecord *r = kh_record_from_json (json_object_array_get_idx (records, i), error);

      if (r == NULL)
        return NULL;
      g_ptr_array_add (p->records, r);
    }
  removed = kh_codec_member (obj, NULL, "removed", json_type_array, FALSE, &present, error);
  if (removed == NULL && present)
    return NULL;
  for (size_t i = 0; removed != NULL && i < json_object_array_length (removed); i++)
    {
      json_object *o = json_object_array_get_idx (removed, i);
      g_autofree char *entity = NULL;
      g_autofree char *id = NULL;

      if (o == NULL || !json_object_is_type (o, json_type_object))
        {
          kh_codec_wrong_type (error, NULL, "removed[]", _("an object"));
          return NULL;
        }
      if (!kh_codec_get_name (o, "removed", "entity", &entity, error)
          || !kh_codec_get_uuid (o, "removed", "id", TRUE, &id, error))
        return NULL;
      kh_changes_page_add_removed (p, entity, id);
    }
  return g_steal_pointer (&p);
}

/* Integrity ------------------------------------------------------------------------------------ */

char *
kh_codec_checksum_to_string (guint64 checksum)
{
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x", checksum);
}

gboolean
kh_codec_checksum_from_string (const char *text,
                               guint64    *checksum)
{
  guint64 v = 0;

  if (text == NULL || strlen (text) != 16)
    return FALSE;
  for (int i = 0; i < 16; i++)
    {
      int d = g_ascii_xdigit_value (text[i]);

      if (d < 0 || g_ascii_isupper (text[i]))
        return FALSE;
      v = (v << 4) | (guint64) d;
    }
  *checksum = v;
  return TRUE;
}

static void
integrity_entry_free (KhIntegrityEntry *e)
{
  g_free (e->entity);
  g_free (e);
}

KhIntegrity *
kh_integrity_new (void)
{
  KhIntegrity *i = g_new0 (KhIntegrity, 1);

  i->entities = g_ptr_array_new_with_free_func ((GDestroyNotify) integrity_entry_free);
  return i;
}

void
kh_integrity_free (KhIntegrity *integrity)
{
  if (integrity == NULL)
    return;
  g_ptr_array_unref (integrity->entities);
  g_free (integrity->server_id);
  g_free (integrity);
}

KhIntegrityEntry *
kh_integrity_add (KhIntegrity *integrity,
                  const char  *entity)
{
  KhIntegrityEntry *e = g_new0 (KhIntegrityEntry, 1);

  e->entity = g_strdup (entity);
  g_ptr_array_add (integrity->entities, e);
  return e;
}

const KhIntegrityEntry *
kh_integrity_lookup (const KhIntegrity *integrity,
                     const char        *entity)
{
  for (guint i = 0; i < integrity->entities->len; i++)
    {
      const KhIntegrityEntry *e = integrity->entities->pdata[i];

      if (strcmp (e->entity, entity) == 0)
        return e;
    }
  return NULL;
}

json_object *
kh_integrity_to_json (const KhIntegrity *integrity)
{
  json_object *obj = json_object_new_object ();
  json_object *entities = json_object_new_object ();

  for (guint i = 0; i < integrity->entities->len; i++)
    {
      const KhIntegrityEntry *e = integrity->entities->pdata[i];
      json_object *o = json_object_new_object ();
      g_autofree char *sum = kh_codec_checksum_to_string (e->checksum);

      json_object_object_add (o, "count", json_object_new_int64 (e->count));
      json_object_object_add (o, "digest", json_object_new_string (sum));
      json_object_object_add (entities, e->entity, o);
    }
  json_object_object_add (obj, "entities", entities);
  json_object_object_add (obj, "server_id", json_object_new_string (integrity->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (integrity->epoch));
  return obj;
}

KhIntegrity *
kh_integrity_from_json (json_object  *obj,
                        GError      **error)
{
  g_autoptr(KhIntegrity) integrity = kh_integrity_new ();
  gboolean present;
  json_object *entities;

  if (!kh_codec_get_uuid (obj, NULL, "server_id", TRUE, &integrity->server_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", TRUE, 0, &integrity->epoch, error))
    return NULL;
  entities = kh_codec_member (obj, NULL, "entities", json_type_object, TRUE, &present, error);
  if (entities == NULL)
    return NULL;
  json_object_object_foreach (entities, key, val)
    {
      KhIntegrityEntry *e;
      g_autofree char *sum = NULL;

      if (val == NULL || !json_object_is_type (val, json_type_object))
        {
          kh_codec_wrong_type (error, "entities", key, _("an object"));
          return NULL;
        }
      e = kh_integrity_add (integrity, key);
      if (!kh_codec_get_int (val, key, "count", TRUE, 0, &e->count, error)
          || !kh_codec_get_string (val, key, "digest", TRUE, 16, &sum, error))
        return NULL;
      if (!kh_codec_checksum_from_string (sum, &e->checksum))
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("“%s.digest” must be 16 lower-case hex digits."), key);
          return NULL;
        }
    }
  return g_steal_pointer (&integrity);
}

static void
id_version_clear (gpointer data)
{
  KhIdVersion *iv = data;

  g_free (iv->id);
}

KhIntegrityIds *
kh_integrity_ids_new (void)
{
  KhIntegrityIds *ids = g_new0 (KhIntegrityIds, 1);

  ids->ids = g_array_new (FALSE, TRUE, sizeof (KhIdVersion));
  g_array_set_clear_func (ids->ids, id_version_clear);
  return ids;
}

void
kh_integrity_ids_free (KhIntegrityIds *ids)
{
  if (ids == NULL)
    return;
  g_array_unref (ids->ids);
  g_free (ids);
}

void
kh_integrity_ids_add (KhIntegrityIds *ids,
                      const char     *id,
                      gint64          version,
                      guint64         checksum)
{
  KhIdVersion iv = { g_strdup (id), version, checksum };

  g_array_append_val (ids->ids, iv);
}

json_object *
kh_integrity_ids_to_json (const KhIntegrityIds *ids)
{
  json_object *obj = json_object_new_object ();
  json_object *list = json_object_new_array_ext ((int) ids->ids->len);

  for (guint i = 0; i < ids->ids->len; i++)
    {
      const KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);
      json_object *pair = json_object_new_array_ext (3);
      g_autofree char *sum = kh_codec_checksum_to_string (iv->checksum);

      json_object_array_add (pair, json_object_new_string (iv->id));
      json_object_array_add (pair, json_object_new_int64 (iv->version));
      json_object_array_add (pair, json_object_new_string (sum));
      json_object_array_add (list, pair);
    }
  json_object_object_add (obj, "ids", list);
  json_object_object_add (obj, "has_more", json_object_new_boolean (ids->has_more));
  return obj;
}

KhIntegrityIds *
kh_integrity_ids_from_json (json_object  *obj,
                            GError      **error)
{
  g_autoptr(KhIntegrityIds) ids = kh_integrity_ids_new ();
  gboolean present;
  json_object *list;

  if (!kh_codec_get_bool (obj, NULL, "has_more", TRUE, &ids->has_more, error))
    return NULL;
  list = kh_codec_member (obj, NULL, "ids", json_type_array, TRUE, &present, error);
  if (list == NULL)
    return NULL;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *pair = json_object_array_get_idx (list, i);
      json_object *id;
      json_object *version;
      json_object *sum;
      guint64 checksum = 0;

      if (pair == NULL || !json_object_is_type (pair, json_type_array)
          || json_object_array_length (pair) != 3
          || !json_object_is_type ((id = json_object_array_get_idx (pair, 0)), json_type_string)
          || !json_object_is_type ((version = json_object_array_get_idx (pair, 1)), json_type_int)
          || !json_object_is_type ((sum = json_object_array_get_idx (pair, 2)), json_type_string)
          || !kh_uuid_is_valid (json_object_get_string (id))
          || !kh_codec_checksum_from_string (json_object_get_string (sum), &checksum))
        {
          kh_codec_wrong_type (error, NULL, "ids[]", _("a UUID, an integer and 16 hex digits"));
          return NULL;
        }
      kh_integrity_ids_add (ids, json_object_get_string (id), json_object_get_int64 (version), checksum);
    }
  return g_steal_pointer (&ids);
}
