/* test-wire-write.c: the fast writer gives the codec's bytes, and the record checksum is FNV-1a
 *
 * The server writes its change-feed pages and stored JSON with kh-wire.c, not with json-c; a
 * client reads them with the codec. These tests feed the same values through both and want the
 * same bytes, so the two can never drift apart. The integrity checksum of a record is the same
 * at both ends: from the server's stored JSON and from the replica's columns.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sqlite.h"
#include "kh-store.h"
#include "kh-store-sql.h"
#include "kh-test-dir.h"
#include "kh-wire.h"

#define UUID1 "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e"
#define UUID2 "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6f"

/* Every byte that json-c escapes, the ones it does not, and text beyond ASCII. */
static GString *
every_escape (void)
{
  GString *s = g_string_new (NULL);

  for (int c = 1; c < 0x80; c++)
    g_string_append_c (s, (char) c);
  /* Vietnamese, U+2028 and U+2029 (which JavaScript would not take raw), and an emoji. */
  g_string_append (s, "Nguyễn Văn Đức \u2028\u2029 \xf0\x9f\x93\x9a");
  g_string_append (s, "\"quoted\" back\\slash /slash/ </script>");
  return s;
}

/* kh_wire_write_json(@o) and kh_codec_to_string(@o) agree, byte for byte. */
static void
assert_same_json (json_object *o)
{
  g_autoptr(GString) fast = g_string_new (NULL);
  gsize len;
  const char *reference = kh_codec_to_string (o, &len);

  kh_wire_write_json (fast, o);
  g_assert_cmpstr (fast->str, ==, reference);
  g_assert_cmpuint (fast->len, ==, len);
}

static void
test_strings (void)
{
  g_autoptr(GString) all = every_escape ();
  static const char *const cases[] = {
    "", "plain", "\n", "\r\n", "\t", "\b\f", "\x01\x1f", "\x7f", "\"", "\\", "/", "\\/",
    "trailing\\", "\"leading", "Đắk Lắk", "\u2028", "a\u2029b",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(json_object) o = json_object_new_string (cases[i]);

      assert_same_json (o);
    }
  {
    g_autoptr(json_object) o = json_object_new_string_len (all->str, (int) all->len);

    assert_same_json (o);
  }
  /* A NUL inside a string (json-c keeps its length). */
  {
    g_autoptr(json_object) o = json_object_new_string_len ("a\0b", 3);

    assert_same_json (o);
  }
  /* Each byte on its own, through the escaper directly. */
  for (int c = 1; c < 0x80; c++)
    {
      char text[2] = { (char) c, '\0' };
      g_autoptr(json_object) o = json_object_new_string (text);
      g_autoptr(GString) fast = g_string_new (NULL);

      kh_wire_write_string (fast, text, -1);
      g_assert_cmpstr (fast->str, ==, kh_codec_to_string (o, NULL));
    }
}

static void
test_numbers (void)
{
  static const gint64 ints[] = {
    0, 1, -1, 9, 10, -10, 1234567890, G_MAXINT32, G_MININT32, (gint64) G_MAXINT32 + 1,
    G_MAXINT64 - 1, G_MAXINT64, G_MININT64, G_MININT64 + 1,
  };
  g_autoptr(json_object) array = json_object_new_array ();

  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      g_autoptr(json_object) o = json_object_new_int64 (ints[i]);

      assert_same_json (o);
      json_object_array_add (array, json_object_new_int64 (ints[i]));
    }
  /* An unsigned value above 2^63-1 reads back as INT64_MAX: json-c's text is kept. */
  {
    g_autoptr(json_object) o = json_object_new_uint64 (G_MAXUINT64);

    assert_same_json (o);
  }
  {
    g_autoptr(json_object) o = json_object_new_double (1.5);

    assert_same_json (o);
  }
  assert_same_json (array);
}

/* Fields of every kind a record may hold, nested ones and escaped keys included. */
static json_object *
every_field (void)
{
  g_autoptr(GString) all = every_escape ();
  json_object *f = json_object_new_object ();
  json_object *nested = json_object_new_object ();
  json_object *list = json_object_new_array ();

  json_object_object_add (f, "full_name", json_object_new_string ("Nguyễn Thị Hoa"));
  json_object_object_add (f, "note", json_object_new_string_len (all->str, (int) all->len));
  json_object_object_add (f, "zero", json_object_new_int64 (0));
  json_object_object_add (f, "negative", json_object_new_int64 (-42));
  json_object_object_add (f, "max", json_object_new_int64 (G_MAXINT64));
  json_object_object_add (f, "min", json_object_new_int64 (G_MININT64));
  json_object_object_add (f, "yes", json_object_new_boolean (TRUE));
  json_object_object_add (f, "no", json_object_new_boolean (FALSE));
  json_object_object_add (f, "nothing", NULL);
  json_object_object_add (f, "key \"with\"\n\\escapes/ đ", json_object_new_string ("v"));
  json_object_object_add (nested, "a", json_object_new_int64 (1));
  json_object_object_add (f, "nested", nested);
  json_object_array_add (list, json_object_new_string ("x\ty"));
  json_object_array_add (list, NULL);
  json_object_array_add (list, json_object_new_array ());
  json_object_object_add (f, "list", list);
  json_object_object_add (f, "empty", json_object_new_object ());
  return f;
}

static void
test_objects (void)
{
  g_autoptr(json_object) empty = json_object_new_object ();
  g_autoptr(json_object) fields = every_field ();
  g_autoptr(json_object) null_value = NULL;

  assert_same_json (empty);
  assert_same_json (fields);
  assert_same_json (null_value);
}

static KhRecord *
record_new (const char  *entity,
            const char  *id,
            gint64       version,
            gboolean     deleted,
            json_object *fields,
            const char  *updated_by,
            const char  *updated_at)
{
  KhRecord *r = kh_record_new ();

  r->entity = g_strdup (entity);
  r->id = g_strdup (id);
  r->version = version;
  r->deleted = deleted;
  r->fields = fields;
  r->updated_by = g_strdup (updated_by);
  r->updated_at = g_strdup (updated_at);
  return r;
}

/* The records the tests below send both ways: every field kind, a deleted one, one without
 * fields or authorship, and the version's edges. */
static GPtrArray *
sample_records (void)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_record_free);
  g_autoptr(GString) all = every_escape ();

  g_ptr_array_add (records, record_new ("person", UUID1, 7, FALSE, every_field (), "cán_bộ",
                                        "2024-05-06T07:08:09Z"));
  g_ptr_array_add (records, record_new ("household", UUID2, 1, TRUE, json_object_new_object (),
                                        "admin", "2024-01-01T00:00:00Z"));
  g_ptr_array_add (records, record_new ("person", UUID2, 0, FALSE, NULL, NULL, NULL));
  g_ptr_array_add (records, record_new ("org_unit", UUID1, G_MAXINT64, FALSE, NULL, all->str, NULL));
  g_ptr_array_add (records, record_new ("org_unit", UUID2, G_MININT64, TRUE, NULL, NULL, all->str));
  g_ptr_array_add (records, record_new ("a\"b\\c\n", "not/a-uuid\u2028", -1, FALSE, NULL, "", ""));
  return records;
}

/* Writes @r the way the server does: its fields as stored text, its version as the database's
 * decimal text. */
static void
write_record (GString        *out,
              const KhRecord *r)
{
  g_autofree char *version = g_strdup_printf ("%" G_GINT64_FORMAT, r->version);
  g_autoptr(GString) fields = g_string_new (NULL);

  if (r->fields != NULL)
    kh_wire_write_json (fields, r->fields);
  kh_wire_write_record (out, r->entity, r->id, version, r->deleted,
                        r->fields != NULL ? fields->str : NULL, r->updated_by, r->updated_at);
}

static void
test_records (void)
{
  g_autoptr(GPtrArray) records = sample_records ();

  for (guint i = 0; i < records->len; i++)
    {
      g_autoptr(json_object) reference = kh_record_to_json (records->pdata[i]);
      g_autoptr(GString) fast = g_string_new (NULL);

      write_record (fast, records->pdata[i]);
      g_assert_cmpstr (fast->str, ==, kh_codec_to_string (reference, NULL));
    }
}

/* The page as the codec's objects would encode it: the protocol's members, in its order. */
static json_object *
page_reference (const KhChangesPage *page)
{
  json_object *obj = json_object_new_object ();
  json_object *records = json_object_new_array ();
  json_object *removed = json_object_new_array ();

  json_object_object_add (obj, "server_id", json_object_new_string (page->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (page->epoch));
  json_object_object_add (obj, "cursor", json_object_new_string (page->cursor));
  json_object_object_add (obj, "has_more", json_object_new_boolean (page->has_more));
  for (guint i = 0; i < page->records->len; i++)
    json_object_array_add (records, kh_record_to_json (page->records->pdata[i]));
  json_object_object_add (obj, "records", records);
  for (guint i = 0; i < page->removed->len; i++)
    {
      KhRemoved *r = page->removed->pdata[i];
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "entity", json_object_new_string (r->entity));
      json_object_object_add (o, "id", json_object_new_string (r->id));
      json_object_array_add (removed, o);
    }
  json_object_object_add (obj, "removed", removed);
  json_object_object_add (obj, "reset", json_object_new_boolean (page->reset));
  return obj;
}

static void
check_page (guint     n_records,
            guint     n_removed,
            gboolean  has_more,
            gboolean  reset)
{
  g_autoptr(KhChangesPage) page = kh_changes_page_new ();
  g_autoptr(GPtrArray) sample = sample_records ();
  g_autoptr(GString) records = g_string_new (NULL);
  g_autoptr(GString) fast = NULL;
  g_autoptr(json_object) reference = NULL;

  page->server_id = g_strdup (UUID1);
  page->epoch = 3;
  page->cursor = g_strdup ("3.1.99.0190c9a2");
  page->has_more = has_more;
  page->reset = reset;
  for (guint i = 0; i < n_records; i++)
    {
      KhRecord *r = sample->pdata[i % sample->len];

      if (i > 0)
        g_string_append_c (records, ',');
      write_record (records, r);
      g_ptr_array_add (page->records, record_new (r->entity, r->id, r->version, r->deleted,
                                                  r->fields != NULL ? json_object_get (r->fields) : NULL,
                                                  r->updated_by, r->updated_at));
    }
  for (guint i = 0; i < n_removed; i++)
    kh_changes_page_add_removed (page, i % 2 ? "person" : "hou\"se\nhold", i % 2 ? UUID1 : UUID2);

  fast = kh_wire_write_page (page, records->str, records->len);
  reference = page_reference (page);
  g_assert_cmpstr (fast->str, ==, kh_codec_to_string (reference, NULL));
}

static void
test_pages (void)
{
  check_page (0, 0, FALSE, FALSE);
  check_page (1, 0, TRUE, FALSE);
  check_page (0, 1, FALSE, TRUE);
  check_page (6, 3, TRUE, TRUE);
  check_page (13, 2, FALSE, FALSE);
}

/* A page the writer makes is one the codec reads, with the same values. */
static void
test_page_reads_back (void)
{
  g_autoptr(KhChangesPage) page = kh_changes_page_new ();
  g_autoptr(GPtrArray) sample = sample_records ();
  g_autoptr(GString) records = g_string_new (NULL);
  g_autoptr(GString) text = NULL;
  g_autoptr(json_object) json = NULL;
  g_autoptr(KhChangesPage) back = NULL;
  g_autoptr(GError) error = NULL;

  page->server_id = g_strdup (UUID1);
  page->epoch = 3;
  page->cursor = g_strdup ("3.1.7.0190c9a2");
  page->reset = TRUE;
  /* Only records the codec accepts: real entity names, UUIDs, versions from 0 and fields
   * that hold values (no null, nothing nested). */
  {
    json_object *fields = json_object_new_object ();

    json_object_object_add (fields, "full_name", json_object_new_string ("Trần \"Văn\"\n\\ /\u2028 \x01"));
    json_object_object_add (fields, "birth_year", json_object_new_int64 (-2011));
    json_object_object_add (fields, "verified", json_object_new_boolean (TRUE));
    kh_record_free (g_ptr_array_index (sample, 0));
    g_ptr_array_index (sample, 0) = record_new ("person", UUID1, 123456789012, FALSE, fields, "cán_bộ",
                                                "2024-05-06T07:08:09Z");
  }
  for (guint i = 0; i < 3; i++)
    {
      if (i > 0)
        g_string_append_c (records, ',');
      write_record (records, sample->pdata[i]);
    }
  kh_changes_page_add_removed (page, "person", UUID2);
  text = kh_wire_write_page (page, records->str, records->len);
  json = kh_codec_parse (text->str, text->len, KH_CODEC_MAX_DEPTH, &error);
  g_assert_no_error (error);
  back = kh_changes_page_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->server_id, ==, UUID1);
  g_assert_cmpint (back->epoch, ==, 3);
  g_assert_cmpstr (back->cursor, ==, page->cursor);
  g_assert_false (back->has_more);
  g_assert_true (back->reset);
  g_assert_cmpuint (back->records->len, ==, 3);
  g_assert_cmpuint (back->removed->len, ==, 1);
  for (guint i = 0; i < 3; i++)
    {
      KhRecord *a = sample->pdata[i];
      KhRecord *b = back->records->pdata[i];

      g_assert_cmpstr (b->entity, ==, a->entity);
      g_assert_cmpstr (b->id, ==, a->id);
      g_assert_cmpint (b->version, ==, a->version);
      g_assert_cmpint (b->deleted, ==, a->deleted);
      g_assert_cmpstr (b->updated_by, ==, a->updated_by);
      g_assert_cmpstr (b->updated_at, ==, a->updated_at);
      if (a->fields != NULL)
        g_assert_true (json_object_equal (b->fields, a->fields));
      else
        g_assert_cmpint (json_object_object_length (b->fields), ==, 0);
    }
}

static void
test_checksum (void)
{
  /* FNV-1a 64 reference vectors. */
  g_assert_cmphex (kh_wire_fnv1a64 (""), ==, G_GUINT64_CONSTANT (0xcbf29ce484222325));
  g_assert_cmphex (kh_wire_fnv1a64 ("a"), ==, G_GUINT64_CONSTANT (0xaf63dc4c8601ec8c));
  g_assert_cmphex (kh_wire_fnv1a64 ("b"), ==, G_GUINT64_CONSTANT (0xaf63df4c8601f1a5));
  g_assert_cmphex (kh_wire_fnv1a64 ("foobar"), ==, G_GUINT64_CONSTANT (0x85944171f73967e8));

}

/* The server's end of the checksum: the record's stored JSON text. */
static guint64
server_checksum (const char *entity_name,
                 const char *id,
                 gint64      version,
                 gboolean    deleted,
                 const char *stored)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autoptr(GString) scratch = g_string_new (NULL);
  g_autofree KhValue *values = g_new0 (KhValue, entity->n_fields);
  g_autoptr(json_object) tree = NULL;
  guint64 sum = kh_wire_stored_checksum (scratch, values, entity, id, version, deleted, stored);

  g_autoptr(GString) text = g_string_new (NULL);

  /* The text hashed as it is, when it is canonical, the values hashed as they would be
   * written, and the FNV-1a of the canonical text written out (PROTOCOL.md §4) all agree. */
  g_assert_true (kh_wire_fields_values (entity, stored, values, &tree, NULL));
  g_assert_cmphex (sum, ==, kh_wire_record_checksum (scratch, entity, id, version, deleted, values));
  g_string_printf (text, "%s:%" G_GINT64_FORMAT ":%d:", id, version, deleted ? 1 : 0);
  kh_wire_write_canonical (text, entity, values);
  g_assert_cmphex (sum, ==, kh_wire_fnv1a64 (text->str));
  return sum;
}

/* The replica's end of the checksum: the record's columns. */
static guint64
replica_checksum (KhStore    *store,
                  const char *entity,
                  const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) ids = kh_replica_ids (store, entity, &error);
  const KhReplicaSum *sum;

  g_assert_no_error (error);
  sum = g_hash_table_lookup (ids, id);
  g_assert_nonnull (sum);
  return sum->checksum;
}

static void
exec_sql (KhStore    *store,
          const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_sqlite_exec (kh_store_get_db (store), sql, &error));
  g_assert_no_error (error);
}

/* Both ends give one checksum for one record, whatever form the server's JSON takes (its own
 * flat form, escapes, another key order, nulls, a nested object), and another one as soon as a
 * field, the deleted flag or the version differs. */
static void
test_canonical_checksum (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "replica.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);
  guint64 same;
  guint64 other;

  g_assert_no_error (error);
  exec_sql (store, "INSERT INTO household (id, version, deleted, created_at, updated_at, head_name, org_unit_id, "
                   "members, poor) VALUES ('" UUID1 "', 5, 0, 'x', 'x', 'Lê Văn A', '" UUID2 "', 4, 1)");
  same = replica_checksum (store, "household", UUID1);
  g_assert_cmphex (same, ==, server_checksum ("household", UUID1, 5, FALSE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":true}"));
  /* Another order, a null, an unknown member, spaces: the same record. */
  g_assert_cmphex (same, ==, server_checksum ("household", UUID1, 5, FALSE,
                   "{ \"poor\": true, \"members\": 4, \"address\": null, \"x\": [1],"
                   " \"org_unit_id\": \"" UUID2 "\", \"head_name\": \"L\\u00ea V\\u0103n A\" }"));
  /* Each difference shows. */
  other = server_checksum ("household", UUID1, 5, FALSE,
                           "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":true}");
  g_assert_cmphex (other, ==, same);
  g_assert_cmphex (same, !=, server_checksum ("household", UUID1, 5, TRUE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":true}"));
  g_assert_cmphex (same, !=, server_checksum ("household", UUID1, 6, FALSE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":true}"));
  g_assert_cmphex (same, !=, server_checksum ("household", UUID1, 5, FALSE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":false}"));
  g_assert_cmphex (same, !=, server_checksum ("household", UUID1, 5, FALSE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4}"));
  g_assert_cmphex (same, !=, server_checksum ("household", UUID1, 5, FALSE,
                   "{\"head_name\":\"Lê Văn A\",\"org_unit_id\":\"" UUID2 "\",\"members\":4,\"poor\":true,"
                   "\"address\":\"\"}"));
  /* And on the replica's side. */
  exec_sql (store, "UPDATE household SET deleted = 1");
  g_assert_cmphex (replica_checksum (store, "household", UUID1), !=, same);
  exec_sql (store, "UPDATE household SET deleted = 0, version = 6");
  g_assert_cmphex (replica_checksum (store, "household", UUID1), !=, same);
  exec_sql (store, "UPDATE household SET version = 5, members = 5");
  g_assert_cmphex (replica_checksum (store, "household", UUID1), !=, same);
  exec_sql (store, "UPDATE household SET members = 4, address = 'Thôn 2'");
  g_assert_cmphex (replica_checksum (store, "household", UUID1), !=, same);
  exec_sql (store, "UPDATE household SET address = NULL");
  g_assert_cmphex (replica_checksum (store, "household", UUID1), ==, same);

  /* Text with escapes, and a JSON field, which the replica keeps as text of its own. */
  {
    g_autoptr(GString) text = g_string_new ("\"Quoted\" back\\slash\nnew line\ttab /slash/ Nguyễn Văn Đức");
    g_autoptr(GString) stored = g_string_new ("{\"notes\":");
    g_autoptr(GString) sql = g_string_new (NULL);
    sqlite3_stmt *stmt;

    kh_wire_write_string (stored, text->str, (gssize) text->len);
    g_string_append (stored, ",\"scores\":{\"b\":2,\"a\":[1,\"x\"]},\"result\":\"pass\",\"registration_id\":\"" UUID2
                             "\",\"org_unit_id\":\"" UUID2 "\",\"total\":7}");
    g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store),
                                         "INSERT INTO evaluation (id, version, deleted, created_at, updated_at, "
                                         "registration_id, org_unit_id, scores, total, result, notes) "
                                         "VALUES (?, 9, 1, 'x', 'x', ?, ?, '{ \"b\": 2, \"a\": [1, \"x\"] }', 7, 'pass', ?)",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    sqlite3_bind_text (stmt, 1, UUID1, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, UUID2, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, UUID2, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, text->str, (int) text->len, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
    sqlite3_finalize (stmt);
    g_assert_cmphex (replica_checksum (store, "evaluation", UUID1), ==,
                     server_checksum ("evaluation", UUID1, 9, TRUE, stored->str));
    g_assert_cmphex (replica_checksum (store, "evaluation", UUID1), !=,
                     server_checksum ("evaluation", UUID1, 9, FALSE, stored->str));
  }
  g_clear_object (&store);
  kh_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/wire/write/strings", test_strings);
  g_test_add_func ("/sync/wire/write/numbers", test_numbers);
  g_test_add_func ("/sync/wire/write/objects", test_objects);
  g_test_add_func ("/sync/wire/write/records", test_records);
  g_test_add_func ("/sync/wire/write/pages", test_pages);
  g_test_add_func ("/sync/wire/write/page-reads-back", test_page_reads_back);
  g_test_add_func ("/sync/wire/checksum", test_checksum);
  g_test_add_func ("/sync/wire/checksum/canonical", test_canonical_checksum);
  return g_test_run ();
}
