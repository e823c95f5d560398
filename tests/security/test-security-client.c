/* test-security-client.c: what the CLI prints of a hostile server's text, where it signs in
 * over http://, the modes of a replica's files, and the control characters the server refuses
 *
 * A server (or whoever answers in its place) chooses the words of a login error, the reason of
 * a refusal and every record's updated_by and values. A small server inside the test sends
 * escape sequences (ESC, OSC with BEL, CSI as one C1 character), carriage returns, DEL and line
 * breaks in all of them, and every command that prints them must show them as escapes: nothing
 * a terminal acts on, no line of the server's own making. The server side runs on both
 * backends: a push of a name with control characters, a user name with them, and an account
 * named so before, whose name would become updated_by.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "kh-cli-visible.h"
#include "kh-replica.h"
#include "kh-store.h"
#include "kh-test-dir.h"
#include "kh-test-http-server.h"
#include "kh-test-server.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"
#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"

#define SERVER_ID "6b0f12ab-0000-7000-8000-00000000beef"
#define UNIT_ID   "0190c9a2-0000-7000-8000-000000000001"
#define PERSON_ID "0190c9a2-0000-7000-8000-000000000002"

/* What a hostile server writes: an OSC that retitles the window (ended by BEL), a CSI that
 * clears the screen, a carriage return and a line break that start a line of its own, a C1
 * CSI, DEL and a right-to-left override. */
#define HOSTILE "\x1b]0;owned\x07\x1b[2J\r\nSigned in as admin.\xc2\x9b" "31m\x7f\xe2\x80\xae"

/* Output harmless to a terminal: no control character but line breaks and tabs, no DEL, no C1
 * character, no bidirectional override. */
static void
assert_harmless (const char *what,
                 const char *out)
{
  for (const guchar *p = (const guchar *) out; *p != '\0'; p++)
    {
      gboolean bad = (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f
                     || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                     || (*p == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae);

      if (bad)
        g_error ("%s printed a raw control character (byte %02x at %td): %s", what, *p,
                 (const char *) p - out, g_strescape (out, NULL));
    }
}

/* No line of @out begins with the server's forged one. */
static void
assert_no_forged_line (const char *what,
                       const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (g_strchug (lines[i]), "Signed in as admin"))
      g_error ("%s printed a line the server made: %s", what, lines[i]);
}

/* Runs the CLI on @db with @args; @input on its standard input. Returns its exit status. */
static int
run_cli (const char  *db,
         const char  *input,
         char       **out,
         char       **err,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                                         | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                         | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  const char *a;
  va_list ap;

  g_ptr_array_add (argv, (char *) CLI_BIN);
  if (db != NULL)
    {
      g_ptr_array_add (argv, (char *) "--db");
      g_ptr_array_add (argv, (char *) db);
    }
  va_start (ap, err);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "KHUYENHOC_TOKEN_STORE", "file", TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, input, NULL, out, err, &error));
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (proc);
}

/* The visible form ------------------------------------------------------------------------- */

static void
test_visible (void)
{
  g_autofree char *plain = kh_cli_visible ("Nguyễn Văn Đức\tx\n", KH_CLI_VISIBLE_LAYOUT);
  g_autofree char *escapes = kh_cli_visible ("a\x1b[2Jb\x07\r\x7f\xc2\x9b" "c\xe2\x80\xae", KH_CLI_VISIBLE_LAYOUT);
  g_autofree char *line = kh_cli_visible ("one\ntwo\tthree", KH_CLI_VISIBLE_ONE_LINE);
  g_autofree char *bad = kh_cli_visible ("a\xff\xc3", KH_CLI_VISIBLE_LAYOUT);

  g_assert_cmpstr (plain, ==, "Nguyễn Văn Đức\tx\n");
  g_assert_cmpstr (escapes, ==, "a\\u001b[2Jb\\u0007\\u000d\\u007f\\u009bc\\u202e");
  g_assert_cmpstr (line, ==, "one\\ntwo\\tthree");
  g_assert_cmpstr (bad, ==, "a\xef\xbf\xbd\xef\xbf\xbd");
  g_assert_null (kh_cli_visible (NULL, KH_CLI_VISIBLE_LAYOUT));
}

/* A hostile server ------------------------------------------------------------------------- */

typedef struct
{
  GMutex  lock;
  int     login_status;
  char   *login_body;
  char   *page;       /* every /v1/changes answer */
  char   *db;         /* the replica, whose own summary is the integrity answer */
  guint   pushed;     /* mutations refused */
} Hostile;

static json_object *
record (const char *entity,
        const char *id,
        gint64      version,
        json_object *fields,
        const char *updated_by)
{
  json_object *r = json_object_new_object ();

  json_object_object_add (r, "entity", json_object_new_string (entity));
  json_object_object_add (r, "id", json_object_new_string (id));
  json_object_object_add (r, "version", json_object_new_int64 (version));
  json_object_object_add (r, "deleted", json_object_new_boolean (FALSE));
  json_object_object_add (r, "fields", fields);
  json_object_object_add (r, "updated_by", json_object_new_string (updated_by));
  json_object_object_add (r, "updated_at", json_object_new_string ("2025-07-01T08:30:00Z"));
  return r;
}

/* A page with the area's unit and one person called @name, at @version. */
static char *
page_with (const char *name,
           gint64      version)
{
  json_object *page = json_object_new_object ();
  json_object *records = json_object_new_array ();
  json_object *unit = json_object_new_object ();
  json_object *person = json_object_new_object ();
  char *text;

  json_object_object_add (unit, "code", json_object_new_string ("P01"));
  json_object_object_add (unit, "name", json_object_new_string ("Tỉnh\xc2\x9b" "2J"));
  json_object_object_add (unit, "kind", json_object_new_string ("province"));
  json_object_object_add (person, "full_name", json_object_new_string (name));
  json_object_object_add (person, "org_unit_id", json_object_new_string (UNIT_ID));
  json_object_object_add (person, "notes", json_object_new_string ("line\nSigned in as admin.\x7f"));
  json_object_array_add (records, record ("org_unit", UNIT_ID, 1, unit, HOSTILE));
  json_object_array_add (records, record ("person", PERSON_ID, version, person, HOSTILE));
  json_object_object_add (page, "server_id", json_object_new_string (SERVER_ID));
  json_object_object_add (page, "epoch", json_object_new_int (1));
  json_object_object_add (page, "cursor", json_object_new_string (version == 2 ? "1.1.3.6b0f12ab" : "1.1.2.6b0f12ab"));
  json_object_object_add (page, "has_more", json_object_new_boolean (FALSE));
  json_object_object_add (page, "records", records);
  json_object_object_add (page, "removed", json_object_new_array ());
  json_object_object_add (page, "reset", json_object_new_boolean (FALSE));
  text = g_strdup (json_object_to_json_string_ext (page, JSON_C_TO_STRING_PLAIN));
  json_object_put (page);
  return text;
}

static GBytes *
json_answer (int          status,
             json_object *body)
{
  const char *text = json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN);
  GBytes *answer = test_server_response (status, NULL, text, strlen (text));

  json_object_put (body);
  return answer;
}

static GBytes *
gunzip_bytes (GBytes *body)
{
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_bytes (body);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (z));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_cmpint (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL), >=, 0);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Every push: each mutation refused, for a reason of the server's making. */
static GBytes *
refuse_push (Hostile    *h,
             const char *head,
             GBytes     *body)
{
  g_autofree char *encoding = test_server_header (head, "Content-Encoding");
  g_autoptr(GBytes) plain = g_strcmp0 (encoding, "gzip") == 0 ? gunzip_bytes (body) : g_bytes_ref (body);
  g_autofree char *text = g_strndup (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
  json_object *request = json_tokener_parse (text);
  json_object *mutations = NULL;
  json_object *answer = json_object_new_object ();
  json_object *results = json_object_new_array ();

  g_assert_true (json_object_object_get_ex (request, "mutations", &mutations));
  for (size_t i = 0; i < json_object_array_length (mutations); i++)
    {
      json_object *m = json_object_array_get_idx (mutations, i);
      json_object *r = json_object_new_object ();

      json_object_object_add (r, "mutation_id", json_object_get (json_object_object_get (m, "mutation_id")));
      json_object_object_add (r, "status", json_object_new_string ("rejected"));
      json_object_object_add (r, "code", json_object_new_string ("invalid"));
      json_object_object_add (r, "message", json_object_new_string ("Refused" HOSTILE));
      json_object_array_add (results, r);
      g_mutex_lock (&h->lock);
      h->pushed++;
      g_mutex_unlock (&h->lock);
    }
  json_object_put (request);
  json_object_object_add (answer, "results", results);
  json_object_object_add (answer, "server_id", json_object_new_string (SERVER_ID));
  json_object_object_add (answer, "epoch", json_object_new_int (1));
  return json_answer (200, answer);
}

/* The integrity summary the replica has: the check finds nothing to repair. */
static GBytes *
agree (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (h->db, &error);
  json_object *summary = json_object_new_object ();
  json_object *entities;

  g_assert_no_error (error);
  entities = kh_replica_integrity (store, &error);
  g_assert_no_error (error);
  /* The replica names the digest "checksum"; the protocol "digest". */
  json_object_object_foreach (entities, name, item)
    {
      json_object_object_add (item, "digest", json_object_get (json_object_object_get (item, "checksum")));
      json_object_object_del (item, "checksum");
      (void) name;
    }
  json_object_object_add (summary, "entities", entities);
  json_object_object_add (summary, "server_id", json_object_new_string (SERVER_ID));
  json_object_object_add (summary, "epoch", json_object_new_int (1));
  return json_answer (200, summary);
}

static GBytes *
hostile_cb (const char *head,
            GBytes     *body,
            gpointer    user_data)
{
  Hostile *h = user_data;
  g_auto(GStrv) line = g_strsplit (head, " ", 3);
  g_autofree char *path = g_strdup (line[1] != NULL ? line[1] : "");
  char *query = strchr (path, '?');
  GBytes *answer = NULL;

  if (query != NULL)
    *query = '\0';
  g_mutex_lock (&h->lock);
  if (strcmp (path, "/v1/login") == 0)
    answer = test_server_response (h->login_status, NULL, h->login_body, strlen (h->login_body));
  else if (strcmp (path, "/v1/changes") == 0)
    answer = test_server_response (200, NULL, h->page, strlen (h->page));
  g_mutex_unlock (&h->lock);
  if (answer == NULL && strcmp (path, "/v1/push") == 0)
    answer = refuse_push (h, head, body);
  if (answer == NULL && strcmp (path, "/v1/integrity") == 0)
    answer = agree (h);
  if (answer == NULL && strcmp (path, "/v1/erasures") == 0)
    {
      static const char none[] = "{\"records\": [], \"through\": 0, \"has_more\": false, "
                                 "\"server_id\": \"" SERVER_ID "\", \"epoch\": 1}";

      answer = test_server_response (200, NULL, none, strlen (none));
    }
  if (answer == NULL)
    answer = test_server_response (404, NULL, "{\"error\": {\"code\": \"not_found\", \"message\": \"No.\"}}",
                                   strlen ("{\"error\": {\"code\": \"not_found\", \"message\": \"No.\"}}"));
  return answer;
}

/* Runs @args and checks both outputs; returns the exit status, and the outputs in @out, @err
 * when not NULL. */
static int
checked (const char  *what,
         const char  *db,
         const char  *input,
         char       **out_ret,
         char       **err_ret,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *a;
  va_list ap;
  int status;

  va_start (ap, err_ret);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  while (args->len < 8)
    g_ptr_array_add (args, NULL);
  status = run_cli (db, input, &out, &err, args->pdata[0], args->pdata[1], args->pdata[2], args->pdata[3],
                    args->pdata[4], args->pdata[5], args->pdata[6], args->pdata[7], NULL);
  g_test_message ("%s: %s%s", what, out, err);
  assert_harmless (what, out);
  assert_harmless (what, err);
  assert_no_forged_line (what, out);
  assert_no_forged_line (what, err);
  if (out_ret != NULL)
    *out_ret = g_steal_pointer (&out);
  if (err_ret != NULL)
    *err_ret = g_steal_pointer (&err);
  return status;
}

static void
test_hostile_text (void)
{
  g_autoptr(TestServer) s = test_server_new ();
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "replica.db", NULL);
  Hostile h = { 0 };
  json_object *error_body = json_object_new_object ();
  json_object *error = json_object_new_object ();
  json_object *login = json_object_new_object ();
  json_object *user = json_object_new_object ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *added = NULL;
  json_object *parsed;

  g_mutex_init (&h.lock);
  h.db = db;
  json_object_object_add (error, "code", json_object_new_string ("unauthorized"));
  json_object_object_add (error, "message", json_object_new_string ("Wrong password." HOSTILE));
  json_object_object_add (error_body, "error", error);
  json_object_object_add (user, "username", json_object_new_string ("officer"));
  json_object_object_add (user, "role", json_object_new_string ("officer"));
  json_object_object_add (user, "scope", json_object_new_string ("P01"));
  json_object_object_add (user, "scope_unit_id", json_object_new_string (UNIT_ID));
  json_object_object_add (login, "token", json_object_new_string ("kq1v0xJ0ZQk2c2VjdXJpdHktdGVzdC10b2tlbi0wMDAx"));
  json_object_object_add (login, "user", user);
  json_object_object_add (login, "server_id", json_object_new_string (SERVER_ID));
  json_object_object_add (login, "epoch", json_object_new_int (1));
  h.login_status = 401;
  h.login_body = g_strdup (json_object_to_json_string_ext (error_body, JSON_C_TO_STRING_PLAIN));
  h.page = page_with ("Văn\xc2\x9b" "2J An", 1);
  test_server_set_handler (s, hostile_cb, &h);

  /* A login error. */
  g_assert_cmpint (checked ("login refused", db, "pw\n", NULL, &err, "login", "--server", s->base,
                            "--user", "officer", "--attempts", "1", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Wrong password.\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\nSigned in as admin."));
  g_clear_pointer (&err, g_free);

  g_mutex_lock (&h.lock);
  g_free (h.login_body);
  h.login_status = 200;
  h.login_body = g_strdup (json_object_to_json_string_ext (login, JSON_C_TO_STRING_PLAIN));
  g_mutex_unlock (&h.lock);
  g_assert_cmpint (checked ("login", db, "pw\n", NULL, NULL, "login", "--server", s->base, "--user", "officer",
                            "--attempts", "1", NULL), ==, 0);

  /* Records whose values and updated_by are the server's. */
  g_assert_cmpint (checked ("sync", db, NULL, NULL, NULL, "sync", "--attempts", "1", NULL), ==, 0);
  g_assert_cmpint (checked ("get", db, NULL, &out, NULL, "get", "person", PERSON_ID, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Văn\\u009b2J An"));
  g_assert_nonnull (strstr (out, "line\\nSigned in as admin.\\u007f"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (checked ("list", db, NULL, NULL, NULL, "list", "person", NULL), ==, 0);
  g_assert_cmpint (checked ("list units", db, NULL, NULL, NULL, "list", "org_unit", NULL), ==, 0);
  g_assert_cmpint (checked ("history", db, NULL, &out, NULL, "history", "person", PERSON_ID, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\\u001b]0;owned\\u0007"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (checked ("search", db, NULL, NULL, NULL, "search", "Văn", NULL), ==, 0);
  g_assert_cmpint (checked ("report", db, NULL, NULL, NULL, "report", "--unit", "P01", "--year", "2025", NULL), ==, 0);

  /* A conflict with the server's change, and a new record the server refuses. */
  g_assert_cmpint (checked ("set", db, NULL, NULL, NULL, "set", "person", PERSON_ID, "full_name=Mine", NULL), ==, 0);
  g_assert_cmpint (checked ("add", db, NULL, &added, NULL, "add", "person", "full_name=Lê Thị Hoa",
                            "org_unit_id=" UNIT_ID, NULL), ==, 0);
  g_mutex_lock (&h.lock);
  g_free (h.page);
  h.page = page_with ("Theirs\xc2\x9b" "2J", 2);
  g_mutex_unlock (&h.lock);
  checked ("sync with refusals", db, NULL, NULL, NULL, "sync", "--attempts", "1", NULL);
  g_mutex_lock (&h.lock);
  g_assert_cmpuint (h.pushed, >=, 1);
  g_mutex_unlock (&h.lock);
  g_assert_cmpint (checked ("status", db, NULL, &out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Refused\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\nSigned in as admin."));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (checked ("conflicts", db, NULL, &out, NULL, "conflicts", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Theirs\\u009b2J"));
  g_assert_nonnull (strstr (out, "\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\nSigned in as admin."));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (checked ("outbox", db, NULL, NULL, NULL, "outbox", NULL), ==, 0);

  /* --json stays JSON, and says what the server sent. */
  g_assert_cmpint (checked ("conflicts --json", db, NULL, &out, NULL, "--json", "conflicts", NULL), ==, 0);
  parsed = json_tokener_parse (out);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (parsed, 0), "remote_by")),
                   ==, HOSTILE);
  json_object_put (parsed);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (checked ("status --json", db, NULL, &out, NULL, "--json", "status", NULL), ==, 0);
  parsed = json_tokener_parse (out);
  g_assert_nonnull (parsed);
  g_clear_pointer (&out, g_free);

  /* The last sync is written as the locale writes a date and a time, not as stored. */
  {
    const char *last = json_object_get_string (json_object_object_get (parsed, "last_sync"));
    g_autoptr(GDateTime) utc = NULL;
    g_autoptr(GDateTime) local = NULL;
    g_autofree char *dmy = NULL;
    g_autofree char *mdy = NULL;

    g_assert_nonnull (last);
    utc = g_date_time_new_from_iso8601 (last, NULL);
    g_assert_nonnull (utc);
    local = g_date_time_to_local (utc);
    dmy = g_date_time_format (local, "%d/%m/%Y %H:%M");
    mdy = g_date_time_format (local, "%m/%d/%Y %H:%M");
    g_assert_cmpint (checked ("status", db, NULL, &out, NULL, "status", NULL), ==, 0);
    g_assert_null (strstr (out, last));
    g_assert_true (strstr (out, dmy) != NULL || strstr (out, mdy) != NULL);
    g_clear_pointer (&out, g_free);
  }
  json_object_put (parsed);

  json_object_put (error_body);
  json_object_put (login);
  g_free (h.login_body);
  g_free (h.page);
  g_mutex_clear (&h.lock);
  kh_test_rmdir (dir);
}

/* http:// to another machine ---------------------------------------------------------------- */

static void
test_http_elsewhere (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "replica.db", NULL);
  g_autoptr(TestServer) s = test_server_new ();
  g_autofree char *localhost = g_strdup_printf ("http://localhost:%d", s->port);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  /* 192.0.2.1 is TEST-NET-1: nothing answers there, so a refusal must come before any try. */
  g_assert_cmpint (run_cli (db, "secret\n", &out, &err, "login", "--server", "http://192.0.2.1:8080",
                            "--user", "hoa", "--connect-timeout", "1", "--attempts", "1", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--allow-http"));
  g_assert_null (strstr (err, "Could not reach"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (db, "secret\n", &out, &err, "login", "--server", "http://khuyenhoc.example.vn",
                            "--user", "hoa", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Said explicitly: tried, with a warning. */
  g_assert_cmpint (run_cli (db, "secret\n", &out, &err, "login", "--server", "http://192.0.2.1:8080",
                            "--user", "hoa", "--allow-http", "--connect-timeout", "1", "--attempts", "1",
                            NULL), ==, 1);
  g_assert_true (g_str_has_prefix (err, "Warning: this server is reached over http://"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* This machine needs no option: the answer is the test server's refusal. */
  test_server_answer_text (s, 401, "{\"error\": {\"code\": \"unauthorized\", \"message\": \"Wrong.\"}}");
  g_assert_cmpint (run_cli (db, "secret\n", &out, &err, "login", "--server", localhost, "--user", "hoa",
                            "--attempts", "1", NULL), ==, 1);
  g_assert_null (strstr (err, "Warning"));
  g_assert_nonnull (strstr (err, "Wrong."));
  g_assert_cmpuint (test_server_requests (s), ==, 1);
  kh_test_rmdir (dir);
}

/* File modes -------------------------------------------------------------------------------- */

static guint
mode_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

static void
test_file_modes (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "replica.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);
  g_autofree char *own = g_build_filename (dir, "khuyenhoc", NULL);
  g_autofree char *own_db = g_build_filename (own, "khuyenhoc.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  mode_t old = umask (022);
  KhStore *store;

  /* New: the database and the files SQLite makes beside it. */
  store = kh_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS) && g_file_test (shm, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (mode_of (db), ==, 0600);
  g_assert_cmpuint (mode_of (wal), ==, 0600);
  g_assert_cmpuint (mode_of (shm), ==, 0600);
  g_object_unref (store);

  /* Made readable to all before: tightened when opened. */
  g_assert_cmpint (g_chmod (db, 0644), ==, 0);
  g_assert_true (g_file_set_contents (wal, "", 0, NULL));
  g_assert_cmpint (g_chmod (wal, 0644), ==, 0);
  store = kh_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (db), ==, 0600);
  g_assert_cmpuint (mode_of (wal), ==, 0600);
  g_object_unref (store);

  /* The program's own folder, made 0755 by an older version: 0700. */
  g_assert_cmpint (g_mkdir (own, 0755), ==, 0);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "KHUYENHOC_DB");
  proc = g_subprocess_launcher_spawn (launcher, &error, CLI_BIN, "init", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_cmpuint (mode_of (own), ==, 0700);
  g_assert_cmpuint (mode_of (own_db), ==, 0600);
  umask (old);
  kh_test_rmdir (dir);
}

/* The server refuses control characters ------------------------------------------------------ */

static void
exec_sql (KhTestServer *s,
          const char   *sql,
          const char   *param)
{
  if (g_strcmp0 (s->backend, "postgresql") == 0)
    {
      PGconn *conn = PQconnectdb (s->url);
      PGresult *res;
      g_auto(GStrv) parts = g_strsplit (sql, "?", 2);
      /* The same statement with PostgreSQL's placeholder. */
      g_autofree char *dollar = g_strjoinv ("$1", parts);
      const char *values[1] = { param };

      g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
      res = PQexecParams (conn, dollar, 1, NULL, values, NULL, NULL, 0);
      g_assert_cmpint (PQresultStatus (res), ==, PGRES_COMMAND_OK);
      PQclear (res);
      PQfinish (conn);
    }
  else
    {
      sqlite3 *db = NULL;
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_open_v2 (s->url + strlen ("sqlite:"), &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
      sqlite3_busy_timeout (db, 10000);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_text (stmt, 1, param, -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
      sqlite3_finalize (stmt);
      sqlite3_close (db);
    }
}

static const char *
push_one (KhTestServer *s,
          const char   *token,
          json_object  *fields,
          char        **message)
{
  g_autofree char *id = g_uuid_string_random ();
  json_object *mutations = json_object_new_array ();
  g_autoptr(KhPushResponse) response = NULL;
  KhMutationResult *r;

  json_object_array_add (mutations, kh_test_mutation ("create", "person", id, 0, fields));
  response = kh_test_push (s, token, mutations);
  g_assert_cmpuint (response->results->len, ==, 1);
  r = response->results->pdata[0];
  if (message != NULL)
    *message = g_strdup (r->message);
  return kh_result_status_to_string (r->status);
}

static void
test_server_refuses (gconstpointer data)
{
  KhTestServer *s = kh_test_server_new_serving (data);
  g_autofree char *unit = NULL;
  g_autofree char *token = NULL;
  g_autofree char *message = NULL;
  const char *names[] = { "Văn\rAn", "Văn\x1b[2J", "Văn\x7f", "Văn\xc2\x9b" "2J", "Văn\xc2\x85",
                          "Văn\x08\x08\x08" "Admin" };
  json_object *fields;
  g_autoptr(KhReply) reply = NULL;
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *password_file = g_build_filename (dir, "password", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;

  if (s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  token = kh_test_login (s, "officer_a", &unit);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *result = push_one (s, token, kh_test_person (names[i], unit), &message);

      g_test_message ("%s: %s", g_strescape (names[i], NULL), message ? message : "");
      g_assert_cmpstr (result, ==, "rejected");
      g_assert_nonnull (strstr (message, "control characters"));
      g_clear_pointer (&message, g_free);
    }
  /* A name may be written over two lines (a spreadsheet cell); the CLI shows it on one. */
  g_assert_cmpstr (push_one (s, token, kh_test_person ("Nguyễn Văn\nAn", unit), NULL), ==, "applied");
  /* A multi-line field keeps its lines, carriage returns and tabs. */
  fields = kh_test_person ("Nguyễn Văn An", unit);
  json_object_object_add (fields, "notes", json_object_new_string ("one\r\ntwo\tthree"));
  g_assert_cmpstr (push_one (s, token, fields, NULL), ==, "applied");
  /* But not an escape sequence. */
  fields = kh_test_person ("Nguyễn Văn Bình", unit);
  json_object_object_add (fields, "notes", json_object_new_string ("one\xc2\x9b" "2J"));
  g_assert_cmpstr (push_one (s, token, fields, NULL), ==, "rejected");

  /* A user name with control characters is refused. */
  g_assert_true (g_file_set_contents (password_file, "password-evil\n", -1, NULL));
  {
    const char *argv[] = { SERVER_BIN, "--db", s->url, "user", "add", "evil\x1b]0;owned\x07", "--role", "officer",
                           "--scope", "A", "--password-file", password_file, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
    g_assert_no_error (error);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "control characters"));
    assert_harmless ("user add", err);
  }
  g_assert_cmpint (kh_test_server_count (s, "SELECT count(*) FROM users WHERE username LIKE 'evil%'"), ==, 0);

  /* An account named so before writes nothing: its name would be every record's updated_by. */
  exec_sql (s, "UPDATE users SET username = ? WHERE username = 'officer_a'", "officer_a\x1b]0;owned\x07");
  {
    json_object *mutations = json_object_new_array ();
    g_autofree char *id = g_uuid_string_random ();
    const char *body;

    json_object_array_add (mutations, kh_test_mutation ("create", "person", id, 0, kh_test_person ("Trần Văn C", unit)));
    fields = json_object_new_object ();
    json_object_object_add (fields, "mutations", mutations);
    json_object_object_add (fields, "client_id", json_object_new_string (id));
    reply = kh_http_json (s, "POST", "/v1/push", token, fields);
    body = reply->body;
    g_assert_cmpint (reply->status, ==, 403);
    g_assert_nonnull (strstr (body, "control characters"));
    json_object_put (fields);
  }
  g_assert_cmpint (kh_test_server_count (s, "SELECT count(*) FROM records WHERE data LIKE '%Trần Văn C%'"), ==, 0);
  kh_test_server_free (s);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);

  g_test_add_func ("/security/client/visible", test_visible);
  g_test_add_func ("/security/client/hostile-text", test_hostile_text);
  g_test_add_func ("/security/client/http-elsewhere", test_http_elsewhere);
  g_test_add_func ("/security/client/file-modes", test_file_modes);
  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autofree char *path = g_strdup_printf ("/security/server/%s/control-characters", backends[b]);

      g_test_add_data_func (path, backends[b], test_server_refuses);
    }
  return g_test_run ();
}
