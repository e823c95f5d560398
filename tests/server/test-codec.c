/* test-codec.c: the protocol codec round-trips and refuses what it must
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-codec.h"
#include "kh-wire.h"

#define UUID1 "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e"
#define UUID2 "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6f"

static json_object *
parse (const char *text,
       GError    **error)
{
  return kh_codec_parse (text, strlen (text), KH_CODEC_MAX_DEPTH, error);
}

static void
test_push_round_trip (void)
{
  g_autoptr(KhPushRequest) req = kh_push_request_new ();
  KhMutation *m = kh_mutation_new ();
  g_autoptr(json_object) json = NULL;
  g_autoptr(json_object) back = NULL;
  g_autoptr(KhPushRequest) req2 = NULL;
  g_autoptr(GError) error = NULL;
  KhMutation *m2;

  req->client_id = g_strdup (UUID1);
  req->has_epoch = TRUE;
  req->epoch = 3;
  m->mutation_id = g_strdup (UUID2);
  m->entity = g_strdup ("person");
  m->id = g_strdup (UUID1);
  m->op = KH_OP_UPDATE;
  m->base_version = 41;
  m->fields = json_object_new_object ();
  json_object_object_add (m->fields, "phone", json_object_new_string ("0905"));
  json_object_object_add (m->fields, "notes", NULL);
  g_ptr_array_add (req->mutations, m);

  json = kh_push_request_to_json (req);
  back = parse (kh_codec_to_string (json, NULL), &error);
  g_assert_no_error (error);
  req2 = kh_push_request_from_json (back, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (req2->client_id, ==, UUID1);
  g_assert_true (req2->has_epoch);
  g_assert_cmpint (req2->epoch, ==, 3);
  g_assert_cmpuint (req2->mutations->len, ==, 1);
  m2 = req2->mutations->pdata[0];
  g_assert_cmpint (m2->op, ==, KH_OP_UPDATE);
  g_assert_cmpint (m2->base_version, ==, 41);
  g_assert_true (json_object_object_get_ex (m2->fields, "notes", NULL));
  g_assert_null (json_object_object_get (m2->fields, "notes"));
}

static void
test_refusals (void)
{
  static const struct { const char *text; KhSyncError code; } cases[] = {
    { "{\"client_id\":\"" UUID1 "\",\"mutations\":{}}", KH_SYNC_ERROR_WRONG_TYPE },
    { "{\"client_id\":\"" UUID1 "\"}", KH_SYNC_ERROR_WRONG_TYPE },
    { "{\"client_id\":\"" UUID1 "\",\"mutations\":[{\"mutation_id\":\"" UUID2 "\",\"entity\":\"person\","
      "\"id\":\"" UUID1 "\",\"op\":\"create\",\"base_version\":0,\"fields\":{\"a\":1.5}}]}", KH_SYNC_ERROR_WRONG_TYPE },
    { "{\"client_id\":\"" UUID1 "\",\"mutations\":[{\"mutation_id\":\"" UUID2 "\",\"entity\":\"person\","
      "\"id\":\"" UUID1 "\",\"op\":\"create\",\"base_version\":0,\"fields\":{\"a\":null}}]}", KH_SYNC_ERROR_WRONG_TYPE },
    { "{\"client_id\":\"" UUID1 "\",\"mutations\":[{\"mutation_id\":\"" UUID2 "\",\"entity\":\"Person;\","
      "\"id\":\"" UUID1 "\",\"op\":\"create\",\"base_version\":0,\"fields\":{}}]}", KH_SYNC_ERROR_INVALID },
    { "{\"client_id\":\"" UUID1 "\",\"mutations\":[{\"mutation_id\":\"" UUID2 "\",\"entity\":\"person\","
      "\"id\":\"" UUID1 "\",\"op\":\"update\",\"base_version\":-1,\"fields\":{}}]}", KH_SYNC_ERROR_INVALID },
    { "{\"client_id\":\"0190C9A2-7B1E-7C3A-9D7E-2F1A3B4C5D6E\",\"mutations\":[]}", KH_SYNC_ERROR_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(json_object) json = parse (cases[i].text, &error);
      g_autoptr(KhPushRequest) req = NULL;

      g_assert_no_error (error);
      req = kh_push_request_from_json (json, &error);
      g_assert_null (req);
      g_assert_error (error, KH_SYNC_ERROR, (gint) cases[i].code);
    }
}

static void
test_parse_limits (void)
{
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);

  g_assert_null (parse ("{\"a\":1} x", &e1));
  g_assert_error (e1, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
  g_assert_null (parse ("{\"a\":", &e2));
  g_assert_error (e2, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON);
  for (int i = 0; i < 33; i++)
    g_string_append (deep, "[");
  for (int i = 0; i < 33; i++)
    g_string_append (deep, "]");
  g_string_prepend (deep, "{\"a\":");
  g_string_append (deep, "}");
  g_assert_null (parse (deep->str, &e3));
  g_assert_error (e3, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_DEEP);
}

static void
test_checksum (void)
{
  g_autoptr(json_object) fields = json_tokener_parse ("{\"name\": \"Xã A\", \"code\": \"01\"}");
  guint64 h = kh_wire_record_checksum_json ("org_unit", UUID1, 7, FALSE, fields);
  guint64 manual = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  /* The registry's order (code before name), whatever the object's. */
  const char *text = UUID1 ":7:0:{\"code\":\"01\",\"name\":\"Xã A\"}";
  g_autofree char *s = NULL;
  guint64 back = 0;

  for (const char *p = text; *p; p++)
    {
      manual ^= (guchar) *p;
      manual *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  g_assert_cmphex (h, ==, manual);
  s = kh_codec_checksum_to_string (h);
  g_assert_cmpuint (strlen (s), ==, 16);
  g_assert_true (kh_codec_checksum_from_string (s, &back));
  g_assert_cmphex (back, ==, h);
}

/* A page the server's writer makes reads back through the codec with the same values. */
static void
test_changes_round_trip (void)
{
  g_autoptr(KhChangesPage) page = kh_changes_page_new ();
  g_autoptr(json_object) fields = json_object_new_object ();
  g_autoptr(GString) field_text = g_string_new (NULL);
  g_autoptr(GString) records = g_string_new (NULL);
  g_autoptr(GString) text = NULL;
  g_autoptr(json_object) json = NULL;
  g_autoptr(KhChangesPage) back = NULL;
  g_autoptr(GError) error = NULL;
  KhRecord *r;

  page->server_id = g_strdup (UUID1);
  page->epoch = 2;
  page->cursor = g_strdup ("2.1.99.0190c9a2");
  page->has_more = TRUE;
  json_object_object_add (fields, "full_name", json_object_new_string ("Nguyễn Văn Đức"));
  kh_wire_write_json (field_text, fields);
  kh_wire_write_record (records, "person", UUID2, "99", FALSE, field_text->str, NULL, NULL);
  kh_changes_page_add_removed (page, "household", UUID1);
  text = kh_wire_write_page (page, records->str, records->len);
  json = kh_codec_parse (text->str, text->len, KH_CODEC_MAX_DEPTH, &error);
  g_assert_no_error (error);
  back = kh_changes_page_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->cursor, ==, page->cursor);
  g_assert_true (back->has_more);
  g_assert_cmpuint (back->records->len, ==, 1);
  g_assert_cmpuint (back->removed->len, ==, 1);
  r = back->records->pdata[0];
  g_assert_cmpint (r->version, ==, 99);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (r->fields, "full_name")), ==,
                   "Nguyễn Văn Đức");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/codec/push-round-trip", test_push_round_trip);
  g_test_add_func ("/sync/codec/refusals", test_refusals);
  g_test_add_func ("/sync/codec/parse-limits", test_parse_limits);
  g_test_add_func ("/sync/codec/checksum", test_checksum);
  g_test_add_func ("/sync/codec/changes-round-trip", test_changes_round_trip);
  return g_test_run ();
}
