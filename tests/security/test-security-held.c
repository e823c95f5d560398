/* test-security-held.c: the probes of the outside audit that held, kept holding
 *
 * An attacker with an officer's or a viewer's account, an anonymous client and a hostile
 * server tried these and got nowhere; each test here tries them again, so a change that opens
 * one fails. Server probes run on SQLite and (with KH_TEST_PG_URL) PostgreSQL: crafted cursors,
 * an old token after its account's area changed, a viewer's writes, SQL in the values the
 * server puts in queries, and malformed, deep, huge and compressed bodies. The CLI's own SQL
 * (--where, --order, search) is tried on a local replica, and a fake server answers the CLI
 * with bad pages: malformed, oversized, deep, a redirect, a huge header.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <string.h>
#include <zlib.h>

#include "kh-test-dir.h"
#include "kh-test-http-server.h"
#include "kh-test-server.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"

typedef struct
{
  KhTestServer *s;
  char         *unit_a;
  char         *unit_b;
  char         *officer_a;
  char         *officer_b;
  char         *viewer_a;
  char         *marker;    /* a person in A, which B's officer must never get */
  gint64        marker_version;
} Fixture;

static gboolean
skip_without (Fixture *f)
{
  if (f->s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return TRUE;
    }
  return FALSE;
}

static void
set_up (Fixture       *f,
        gconstpointer  backend)
{
  g_autoptr(KhPushResponse) response = NULL;
  json_object *mutations;
  KhMutationResult *r;

  f->s = kh_test_server_new_serving (backend);
  if (f->s == NULL)
    return;
  f->officer_a = kh_test_login (f->s, "officer_a", &f->unit_a);
  f->officer_b = kh_test_login (f->s, "officer_b", &f->unit_b);
  f->viewer_a = kh_test_login (f->s, "viewer_a", NULL);
  f->marker = g_uuid_string_random ();
  mutations = json_object_new_array ();
  json_object_array_add (mutations, kh_test_mutation ("create", "person", f->marker, 0,
                                                      kh_test_person ("Người Đánh Dấu", f->unit_a)));
  response = kh_test_push (f->s, f->officer_a, mutations);
  r = response->results->pdata[0];
  g_assert_cmpint (r->status, ==, KH_RESULT_APPLIED);
  f->marker_version = r->version;
}

static void
tear_down (Fixture       *f,
           gconstpointer  backend)
{
  g_clear_pointer (&f->s, kh_test_server_free);
  g_free (f->unit_a);
  g_free (f->unit_b);
  g_free (f->officer_a);
  g_free (f->officer_b);
  g_free (f->viewer_a);
  g_free (f->marker);
}

static const char *
error_code (KhReply *reply)
{
  json_object *error = NULL;
  json_object *code = NULL;

  if (reply->json == NULL || !json_object_object_get_ex (reply->json, "error", &error)
      || !json_object_object_get_ex (error, "code", &code))
    return NULL;
  return json_object_get_string (code);
}

static gint64
people (Fixture *f)
{
  return kh_test_server_count (f->s, "SELECT count(*) FROM records WHERE entity = 'person'");
}

/* Crafted cursors ------------------------------------------------------------------------- */

/* Whatever cursor B's officer makes up, the answer is a refusal or B's own records. */
static void
test_crafted_cursors (Fixture       *f,
                      gconstpointer  backend)
{
  const char *cursors[] = {
    "abc", "1", "1.1", "1.1.1", "1.1.1.1.1", "-1.0.0.0", "0.0.0.0", "1.0.-5.0",
    "1.1.99999999999999999999.0", "9223372036854775807.9223372036854775807.9223372036854775807.ffffffff",
    "1.1.0.00000000", "1.999.0.6b0f12ab", "1.0.0.' OR '1'='1", "1.0.0.%00", "1..2.3", "….…",
    "1.1.1.6b0f12ab; DROP TABLE records", "\xff\xfe", "1e3.1.1.1", " 1.1.1.1",
  };

  if (skip_without (f))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cursors); i++)
    {
      g_autofree char *esc = g_uri_escape_string (cursors[i], NULL, FALSE);
      g_autofree char *path = g_strdup_printf ("/v1/changes?cursor=%s&limit=5", esc);
      KhRequestOptions o = { f->officer_b, NULL, NULL };
      g_autoptr(KhReply) reply = kh_http (f->s, "GET", path, NULL, 0, &o);
      json_object *records = NULL;

      g_test_message ("cursor %s: %ld", esc, reply->status);
      if (reply->status != 200)
        {
          g_assert_cmpint (reply->status, ==, 400);
          g_assert_cmpstr (error_code (reply), ==, "invalid");
          continue;
        }
      g_assert_true (json_object_object_get_ex (reply->json, "records", &records));
      g_assert_cmpuint (json_object_array_length (records), <=, 5);
      g_assert_null (strstr (reply->body, f->marker));
    }
  g_assert_cmpint (people (f), ==, 1);
}

/* An old token after a change of area ------------------------------------------------------ */

static void
test_old_token_new_area (Fixture       *f,
                         gconstpointer  backend)
{
  g_autoptr(GHashTable) records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) kh_record_free);
  g_autoptr(KhPushResponse) response = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *after = NULL;
  g_autofree char *id = g_uuid_string_random ();
  json_object *mutations;
  KhMutationResult *r;
  gboolean reset = FALSE;

  if (skip_without (f))
    return;
  cursor = kh_test_pull_all (f->s, f->officer_a, NULL, 100, records, &reset, NULL);
  g_assert_true (g_hash_table_contains (records, f->marker));

  /* A's officer now works for B; the token made for A is used as it was. */
  kh_test_server_cli (f->s, NULL, "user", "scope", "officer_a", "B", NULL);
  g_hash_table_remove_all (records);
  after = kh_test_pull_all (f->s, f->officer_a, cursor, 100, records, &reset, NULL);
  g_assert_true (reset);
  g_assert_false (g_hash_table_contains (records, f->marker));
  g_hash_table_remove_all (records);
  g_free (after);
  after = kh_test_pull_all (f->s, f->officer_a, NULL, 100, records, &reset, NULL);
  g_assert_false (g_hash_table_contains (records, f->marker));

  /* Nor can it write in A any more. */
  mutations = json_object_new_array ();
  json_object_array_add (mutations, kh_test_mutation ("create", "person", id, 0,
                                                      kh_test_person ("Vùng Cũ", f->unit_a)));
  json_object_array_add (mutations, kh_test_mutation ("delete", "person", f->marker, f->marker_version, NULL));
  response = kh_test_push (f->s, f->officer_a, mutations);
  for (guint i = 0; i < response->results->len; i++)
    {
      r = response->results->pdata[i];
      g_assert_cmpint (r->status, ==, KH_RESULT_REJECTED);
      g_assert_cmpstr (r->code, ==, "out_of_scope");
    }
  g_assert_cmpint (people (f), ==, 1);
  g_assert_cmpint (kh_test_server_count (f->s, "SELECT count(*) FROM records WHERE deleted = 1"), ==, 0);
}

/* A viewer writes nothing ------------------------------------------------------------------- */

static void
test_viewer_writes (Fixture       *f,
                    gconstpointer  backend)
{
  g_autoptr(KhPushResponse) response = NULL;
  g_autofree char *id = g_uuid_string_random ();
  json_object *mutations = json_object_new_array ();
  json_object *fields = json_object_new_object ();

  if (skip_without (f))
    return;
  json_object_object_add (fields, "full_name", json_object_new_string ("Đổi Tên"));
  json_object_array_add (mutations, kh_test_mutation ("create", "person", id, 0,
                                                      kh_test_person ("Người Xem", f->unit_a)));
  json_object_array_add (mutations, kh_test_mutation ("update", "person", f->marker, f->marker_version, fields));
  json_object_array_add (mutations, kh_test_mutation ("delete", "person", f->marker, f->marker_version, NULL));
  json_object_array_add (mutations, kh_test_mutation ("restore", "person", f->marker, f->marker_version, NULL));
  response = kh_test_push (f->s, f->viewer_a, mutations);
  g_assert_cmpuint (response->results->len, ==, 4);
  for (guint i = 0; i < response->results->len; i++)
    {
      KhMutationResult *r = response->results->pdata[i];

      g_assert_cmpint (r->status, ==, KH_RESULT_REJECTED);
      g_assert_cmpstr (r->code, ==, "forbidden");
    }
  g_assert_cmpint (people (f), ==, 1);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM records WHERE entity = 'person' AND version = %"
                                            G_GINT64_FORMAT " AND deleted = 0", f->marker_version);

    g_assert_cmpint (kh_test_server_count (f->s, sql), ==, 1);
  }
}

/* SQL in what the server puts in queries ------------------------------------------------------- */

static void
test_sql_in_values (Fixture       *f,
                    gconstpointer  backend)
{
  const char *paths[] = {
    "/v1/integrity/ids?entity=person'%20OR%20'1'%3D'1",
    "/v1/integrity/ids?entity=person&suffix=0'%20OR%201%3D1--",
    "/v1/integrity/ids?entity=person&after=0'%20OR%201%3D1--",
    "/v1/integrity/ids?entity=person&limit=1%20OR%201%3D1",
    "/v1/integrity/buckets?entity=person%3B%20DROP%20TABLE%20records",
    "/v1/integrity/buckets?entity=person&suffix=%25",
    "/v1/changes?limit=5%3B%20DELETE%20FROM%20records",
  };
  const char *bodies[] = {
    "{\"entity\": \"person' OR '1'='1\", \"ids\": []}",
    "{\"entity\": \"person\", \"ids\": [\"' OR 1=1 --\"]}",
    "{\"entity\": \"records; DROP TABLE records\", \"ids\": [\"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e\"]}",
  };

  if (skip_without (f))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      KhRequestOptions o = { f->officer_b, NULL, NULL };
      g_autoptr(KhReply) reply = kh_http (f->s, "GET", paths[i], NULL, 0, &o);

      /* Refused, or taken as the value it is: never A's records. */
      g_test_message ("%s: %ld %s", paths[i], reply->status, reply->body);
      g_assert_true (reply->status == 400 || reply->status == 200);
      g_assert_null (strstr (reply->body, f->marker));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      KhRequestOptions o = { f->officer_b, NULL, NULL };
      g_autoptr(KhReply) reply = kh_http (f->s, "POST", "/v1/records", bodies[i], strlen (bodies[i]), &o);

      g_test_message ("%s: %ld %s", bodies[i], reply->status, reply->body);
      g_assert_cmpint (reply->status / 100, ==, 4);
      g_assert_null (strstr (reply->body, f->marker));
    }
  /* A name that looks like SQL is a name. */
  {
    g_autoptr(KhPushResponse) response = NULL;
    g_autofree char *id = g_uuid_string_random ();
    json_object *mutations = json_object_new_array ();

    json_object_array_add (mutations, kh_test_mutation ("create", "person", id, 0,
                                                        kh_test_person ("x'); DELETE FROM records; --", f->unit_b)));
    response = kh_test_push (f->s, f->officer_b, mutations);
    g_assert_cmpint (((KhMutationResult *) response->results->pdata[0])->status, ==, KH_RESULT_APPLIED);
  }
  g_assert_cmpint (people (f), ==, 2);
}

/* Malformed, deep, huge and compressed bodies --------------------------------------------------- */

static char *
gzip_text (const void *data,
           gsize       len,
           gsize      *out_len)
{
  z_stream z = { 0 };
  gsize cap = compressBound (len) + 64;
  char *out = g_malloc (cap);

  g_assert_cmpint (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), ==, Z_OK);
  z.next_in = (Bytef *) data;
  z.avail_in = len;
  z.next_out = (Bytef *) out;
  z.avail_out = cap;
  g_assert_cmpint (deflate (&z, Z_FINISH), ==, Z_STREAM_END);
  *out_len = z.total_out;
  deflateEnd (&z);
  return out;
}

static void
assert_refused (Fixture    *f,
                const char *what,
                const char *body,
                gsize       len,
                const char *encoding,
                long        status,
                const char *code)
{
  KhRequestOptions o = { f->officer_a, encoding, NULL };
  g_autoptr(KhReply) reply = kh_http (f->s, "POST", "/v1/push", body, len, &o);

  g_test_message ("%s: %ld %.200s", what, reply->status, reply->body);
  g_assert_cmpint (reply->status, ==, status);
  g_assert_cmpstr (error_code (reply), ==, code);
}

static void
test_bodies (Fixture       *f,
             gconstpointer  backend)
{
  g_autoptr(GString) deep = g_string_new ("{\"client_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e\", \"mutations\": ");
  g_autoptr(GString) huge = g_string_new ("{\"client_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e\", \"x\": \"");
  g_autofree char *zeros = g_malloc0 (40 * 1024 * 1024);
  g_autofree char *bomb = NULL;
  g_autofree char *small = NULL;
  const char *good = "{\"client_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d6e\", \"mutations\": []}";
  gsize bomb_len;
  gsize small_len;

  if (skip_without (f))
    return;
  assert_refused (f, "cut", "{\"client_id\": ", 14, NULL, 400, "bad_json");
  assert_refused (f, "not json", "mutations", 9, NULL, 400, "bad_json");
  assert_refused (f, "trailing", "{} {}", 5, NULL, 400, "bad_json");
  assert_refused (f, "not UTF-8", "{\"client_id\": \"\xff\xfe\"}", 19, NULL, 400, "bad_json");
  assert_refused (f, "an array", "[1, 2]", 6, NULL, 400, "wrong_type");
  assert_refused (f, "nul", "{\"a\": 1}\0{}", 11, NULL, 400, "bad_json");

  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  assert_refused (f, "deep", deep->str, deep->len, NULL, 400, "too_deep");

  /* Beyond the 8 MiB a request may carry. */
  while (huge->len < 9 * 1024 * 1024)
    g_string_append (huge, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (huge, "\"}");
  assert_refused (f, "huge", huge->str, huge->len, NULL, 413, "too_large");

  /* A few kilobytes that inflate beyond what a body may become. */
  bomb = gzip_text (zeros, 40 * 1024 * 1024, &bomb_len);
  g_assert_cmpuint (bomb_len, <, 100 * 1024);
  assert_refused (f, "gzip bomb", bomb, bomb_len, "gzip", 413, "too_large");
  small = gzip_text (good, strlen (good), &small_len);
  assert_refused (f, "gzip cut", small, small_len / 2, "gzip", 400, "bad_json");
  assert_refused (f, "not gzip", good, strlen (good), "gzip", 400, "bad_json");
  assert_refused (f, "brotli", good, strlen (good), "br", 400, "bad_json");

  /* And the same body, well sent, is taken. */
  {
    KhRequestOptions o = { f->officer_a, "gzip", NULL };
    g_autoptr(KhReply) reply = kh_http (f->s, "POST", "/v1/push", small, small_len, &o);

    g_assert_cmpint (reply->status, ==, 200);
  }
  g_assert_cmpint (people (f), ==, 1);
}

/* The CLI's own SQL ---------------------------------------------------------------------------- */

static int
run_cli (const char  *db,
         char       **out,
         char       **err,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                         | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  const char *a;
  va_list ap;

  g_ptr_array_add (argv, (char *) CLI_BIN);
  g_ptr_array_add (argv, (char *) "--db");
  g_ptr_array_add (argv, (char *) db);
  va_start (ap, err);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "KHUYENHOC_TOKEN_STORE", "file", TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, &error));
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (proc);
}

static void
test_cli_sql (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "replica.db", NULL);
  const char *wheres[] = {
    "full_name=x' OR '1'='1", "full_name=x\" OR \"1\"=\"1", "full_name=%", "full_name=_",
    "full_name=x'); DROP TABLE person; --",
  };
  const char *searches[] = { "\" OR 1=1 --", "a' OR 'x'='x", "*", "NEAR(a b)", "full_name:a", "a AND b OR c NOT d", "\"" };
  char *out = NULL;
  char *err = NULL;

  g_assert_cmpint (run_cli (db, &out, &err, "demo", "--records", "2000", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (db, &out, &err, "count", "person", NULL), ==, 0);
  g_assert_cmpint (g_ascii_strtoll (out, NULL, 10), >, 0);
  {
    g_autofree char *before = g_strdup (out);

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    for (guint i = 0; i < G_N_ELEMENTS (wheres); i++)
      {
        int status = run_cli (db, &out, &err, "count", "person", "--where", wheres[i], NULL);

        g_test_message ("--where %s: %d %s%s", wheres[i], status, out, err);
        g_assert_true (status == 0 || status == 2);
        if (status == 0)
          g_assert_cmpint (g_ascii_strtoll (out, NULL, 10), ==, 0);
        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
      }
    g_assert_cmpint (run_cli (db, &out, &err, "list", "person", "--order", "full_name; DROP TABLE person", NULL), ==, 2);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (db, &out, &err, "list", "person", "--order", "1", NULL), ==, 2);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
      {
        int status = run_cli (db, &out, &err, "search", searches[i], NULL);

        g_test_message ("search %s: %d %s", searches[i], status, err);
        g_assert_cmpint (status, ==, 0);
        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
      }
    g_assert_cmpint (run_cli (db, &out, &err, "count", "person", NULL), ==, 0);
    g_assert_cmpstr (out, ==, before);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  kh_test_rmdir (dir);
}

/* A fake server's bad pages ------------------------------------------------------------------- */

#define SERVER_ID "6b0f12ab-0000-7000-8000-00000000beef"
#define UNIT_ID   "0190c9a2-0000-7000-8000-000000000001"

typedef struct
{
  GMutex  lock;
  GBytes *changes;   /* the whole answer to /v1/changes */
} BadServer;

static GBytes *
bad_cb (const char *head,
        GBytes     *body,
        gpointer    user_data)
{
  BadServer *b = user_data;
  GBytes *answer;

  if (g_str_has_prefix (head, "POST /v1/login "))
    {
      const char *login = "{\"token\": \"kq1v0xJ0ZQk2c2VjdXJpdHktdGVzdC10b2tlbi0wMDAx\", \"user\": "
                          "{\"username\": \"officer\", \"role\": \"officer\", \"scope\": \"P01\", "
                          "\"scope_unit_id\": \"" UNIT_ID "\"}, \"server_id\": \"" SERVER_ID "\", \"epoch\": 1}";

      return test_server_response (200, NULL, login, strlen (login));
    }
  g_mutex_lock (&b->lock);
  answer = g_bytes_ref (b->changes);
  g_mutex_unlock (&b->lock);
  return answer;
}

static void
bad_answer (BadServer  *b,
            int         status,
            const char *headers,
            const char *body,
            gsize       len)
{
  g_mutex_lock (&b->lock);
  g_clear_pointer (&b->changes, g_bytes_unref);
  b->changes = test_server_response (status, headers, body, len);
  g_mutex_unlock (&b->lock);
}

/* A person in the page's records, as text. */
#define PERSON(id, name) \
  "{\"entity\": \"person\", \"id\": \"" id "\", \"version\": 2, \"deleted\": false, \"fields\": " \
  "{\"full_name\": \"" name "\", \"org_unit_id\": \"" UNIT_ID "\"}, \"updated_at\": \"2025-07-01T08:30:00Z\"}"
#define PAGE_HEAD "{\"server_id\": \"" SERVER_ID "\", \"epoch\": 1, \"cursor\": \"1.1.9.6b0f12ab\", " \
  "\"has_more\": false, \"removed\": [], \"reset\": false, \"records\": ["

static void
test_bad_pages (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autoptr(TestServer) elsewhere = test_server_new ();
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "replica.db", NULL);
  g_autoptr(GString) deep = g_string_new (PAGE_HEAD "{\"entity\": \"person\", \"id\": \"0190c9a2-0000-7000-8000-000000000002\", "
                                                    "\"version\": 2, \"deleted\": false, \"fields\": {\"notes\": ");
  g_autoptr(GString) big = g_string_new (PAGE_HEAD);
  g_autoptr(GString) header = g_string_new ("X-Padding: ");
  g_autofree char *redirect = g_strdup_printf ("Location: %s/v1/changes\r\n", elsewhere->base);
  BadServer b = { 0 };
  char *out = NULL;
  char *err = NULL;
  struct
  {
    const char *what;
    int         status;
    const char *headers;
    const char *body;
    gsize       len;
  } pages[] = {
    { "cut", 200, NULL, PAGE_HEAD PERSON ("0190c9a2-0000-7000-8000-000000000002", "An"), 0 },
    { "not json", 200, NULL, "<html>502 Bad Gateway</html>", 0 },
    { "wrong types", 200, NULL, "{\"server_id\": 1, \"epoch\": \"1\", \"cursor\": [], \"has_more\": 0, \"records\": {}}", 0 },
    { "bad record", 200, NULL, PAGE_HEAD PERSON ("not-an-id", "An") "]}", 0 },
    { "bad value", 200, NULL, PAGE_HEAD "{\"entity\": \"person\", \"id\": \"0190c9a2-0000-7000-8000-000000000002\", "
      "\"version\": 2, \"deleted\": false, \"fields\": {\"full_name\": 5, \"org_unit_id\": \"" UNIT_ID "\"}}]}", 0 },
    { "unknown entity", 200, NULL, PAGE_HEAD "{\"entity\": \"sqlite_master\", \"id\": \"0190c9a2-0000-7000-8000-000000000002\", "
      "\"version\": 2, \"deleted\": false, \"fields\": {}}]}", 0 },
    { "another server", 200, NULL, "{\"server_id\": \"0190c9a2-0000-7000-8000-0000000000ff\", \"epoch\": 1, "
      "\"cursor\": \"x\", \"has_more\": false, \"records\": [" PERSON ("0190c9a2-0000-7000-8000-000000000002", "An")
      "], \"removed\": [], \"reset\": false}", 0 },
    { "trailing", 200, NULL, PAGE_HEAD "]} {}", 0 },
    { "gzip lie", 200, "Content-Encoding: gzip\r\n", PAGE_HEAD "]}", 0 },
    { "redirect", 302, NULL, "{}", 0 },
    { "huge header", 200, NULL, PAGE_HEAD "]}", 0 },
    { "deep", 200, NULL, NULL, 0 },
    { "oversized", 200, NULL, NULL, 0 },
  };

  g_mutex_init (&b.lock);
  bad_answer (&b, 200, NULL, "{}", 2);
  test_server_set_handler (s, bad_cb, &b);
  test_server_answer_text (elsewhere, 200, PAGE_HEAD PERSON ("0190c9a2-0000-7000-8000-000000000009", "Elsewhere") "]}");
  g_assert_cmpint (run_cli (db, &out, &err, "login", "--server", s->base, "--user", "officer",
                            "--password-file", "/dev/null", NULL), !=, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *pw = g_build_filename (dir, "pw", NULL);

    g_assert_true (g_file_set_contents (pw, "secret\n", -1, NULL));
    g_assert_cmpint (run_cli (db, &out, &err, "login", "--server", s->base, "--user", "officer",
                              "--password-file", pw, NULL), ==, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  for (int i = 0; i < 200; i++)
    g_string_append (deep, "{\"a\": ");
  g_string_append (deep, "1");
  for (int i = 0; i < 200; i++)
    g_string_append_c (deep, '}');
  g_string_append (deep, "}}]}");
  /* A value far beyond its field's length (the answer's own size limit, 256 MiB, is test-http's). */
  g_string_append (big, "{\"entity\": \"person\", \"id\": \"0190c9a2-0000-7000-8000-000000000003\", "
                        "\"version\": 2, \"deleted\": false, \"fields\": {\"org_unit_id\": \"" UNIT_ID "\", "
                        "\"full_name\": \"");
  while (big->len < 4 * 1024 * 1024)
    g_string_append (big, "Nguyễn Văn An ");
  g_string_append (big, "\"}}]}");
  while (header->len < 2 * 1024 * 1024)
    g_string_append (header, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (header, "\r\n");

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      const char *body = pages[i].body;
      const char *headers = pages[i].headers;
      gsize len;
      int status;

      if (strcmp (pages[i].what, "deep") == 0)
        body = deep->str;
      else if (strcmp (pages[i].what, "oversized") == 0)
        body = big->str;
      else if (strcmp (pages[i].what, "redirect") == 0)
        headers = redirect;
      else if (strcmp (pages[i].what, "huge header") == 0)
        headers = header->str;
      len = strlen (body);
      bad_answer (&b, pages[i].status, headers, body, len);
      status = run_cli (db, &out, &err, "sync", "--attempts", "1", NULL);
      g_test_message ("%s: %d %s", pages[i].what, status, err);
      g_assert_cmpint (status, ==, 1);
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (run_cli (db, &out, &err, "count", "person", NULL), ==, 0);
      g_assert_cmpstr (out, ==, "0\n");
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
    }
  /* The redirect was not followed: the token never went elsewhere. */
  g_assert_cmpuint (test_server_requests (elsewhere), ==, 0);

  g_clear_pointer (&b.changes, g_bytes_unref);
  g_mutex_clear (&b.lock);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);

  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
#define ADD(name, fn) \
      { \
        g_autofree char *path = g_strdup_printf ("/security/held/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("crafted-cursors", test_crafted_cursors);
      ADD ("old-token-new-area", test_old_token_new_area);
      ADD ("viewer-writes", test_viewer_writes);
      ADD ("sql-in-values", test_sql_in_values);
      ADD ("bodies", test_bodies);
#undef ADD
    }
  g_test_add_func ("/security/held/cli-sql", test_cli_sql);
  g_test_add_func ("/security/held/bad-pages", test_bad_pages);
  return g_test_run ();
}
