/* test-sync-attach.c: attached files between replicas and the real server, on SQLite and on
 * PostgreSQL
 *
 * What is proved: a file goes up after its record and comes down when asked, the same bytes;
 * a second replica attaching the same file sends none of it; an upload cut at random bytes
 * (the fault proxy) or by SIGKILL of the client goes on from where the server stands, so the
 * bytes carried stay near the file's size; downloads cut at random bytes resume and are
 * checked; the proxy's random faults during both end with the right file; the server refuses a
 * file whose content does not have its hash, a file for a record outside the sender's area, a
 * file over its limit (saying the limit); a file nobody refers to after the tombstone window is
 * removed, one still referred to is kept; `files check` counts the files and finds one altered.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "kh-attach.h"
#include "kh-error.h"
#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-sync-test-util.h"
#include "kh-uuid.h"

#define CLI_BIN    KH_BUILD_DIR "/app/khuyenhoc-cli"
#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  char         *files;      /* the server's folder of files */
  KhTReplica   *a1;         /* officer_a */
  KhTReplica   *a2;         /* officer_a, another computer */
  char         *unit_a;
  char         *person;     /* a person in A, known to both */
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  const char *backend = data;
  g_autofree char *files_arg = NULL;

  f->server = kh_test_server_new (backend);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  /* SQLite: the default folder beside the database; PostgreSQL has none unless given. */
  if (strcmp (backend, "sqlite") == 0)
    f->files = g_strconcat (f->server->url + strlen ("sqlite:"), "-files", NULL);
  else
    f->files = g_build_filename (f->dir, "server-files", NULL);
  kh_test_server_populate (f->server);
  {
    const char *args[] = { "--threads", "4", "--attachment-max-mb", "1",
                           strcmp (backend, "sqlite") == 0 ? NULL : "--files", f->files, NULL };

    kh_test_server_start (f->server, args);
  }
  f->a1 = kh_treplica_new (f->server, f->dir, "a1", f->server->base, "officer_a");
  f->a2 = kh_treplica_new (f->server, f->dir, "a2", f->server->base, "officer_a");
  kh_treplica_sync (f->a1);
  f->unit_a = g_strdup (kh_treplica_unit (f->a1, "A"));
  {
    g_autofree char *json = g_strdup_printf ("{\"full_name\": \"Nguyễn Văn An\", \"org_unit_id\": \"%s\"}",
                                             f->unit_a);

    f->person = kh_treplica_add (f->a1, "person", json);
  }
  kh_treplica_sync (f->a1);
  kh_treplica_sync (f->a2);
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_treplica_free (f->a1);
  kh_treplica_free (f->a2);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->files);
  g_free (f->unit_a);
  g_free (f->person);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

/* A JPEG of @size bytes (its magic, then noise that does not compress), written in the test's
 * folder; its SHA-256 in *@sha256. */
static char *
make_photo (Fixture  *f,
            const char *name,
            gsize     size,
            guint32   seed,
            char    **sha256)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  char *path = g_build_filename (f->dir, name, NULL);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_rand_int (rand);
  data[0] = 0xff;
  data[1] = 0xd8;
  data[2] = 0xff;
  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  if (sha256 != NULL)
    *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
  return path;
}

static char *
attach (KhTReplica *r,
        const char *owner,
        const char *path)
{
  g_autoptr(GError) error = NULL;
  char *id = kh_attach_add (r->store, "person", owner, path, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

/* The file @sha256 of @r, whole, equals the file at @path. */
static void
assert_same_file (KhTReplica *r,
                  const char *sha256,
                  const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;
  gsize len;
  g_autoptr(GBytes) got = NULL;

  g_assert_true (g_file_get_contents (path, &want, &len, NULL));
  got = kh_attach_read (r->store, sha256, 0, len + 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (got), ==, len);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), len, want, len);
}

static gboolean
server_has (Fixture    *f,
            const char *sha256)
{
  g_autofree char *path = g_build_filename (f->files, sha256, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Up, then down on the other computer when asked; the same file attached again elsewhere is
 * not sent a second time. */
static void
test_up_and_down (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *sha = NULL;
  g_autofree char *photo = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  g_autoptr(GError) error = NULL;
  json_object *list;
  KhSyncReport r;

  SKIP_WITHOUT_SERVER (f);
  photo = make_photo (f, "scan.jpg", 300 * 1024 + 17, 1, &sha);
  id = attach (f->a1, f->person, photo);
  r = kh_treplica_sync (f->a1);
  g_assert_cmpuint (r.files_uploaded, ==, 1);
  g_assert_true (server_has (f, sha));

  /* The record arrives; the file waits until someone opens it. */
  r = kh_treplica_sync (f->a2);
  g_assert_cmpuint (r.files_downloaded, ==, 0);
  list = kh_attach_list (f->a2->store, f->person, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (list), ==, 1);
  g_assert_false (json_object_get_boolean (json_object_object_get (json_object_array_get_idx (list, 0), "here")));
  json_object_put (list);
  g_assert_true (kh_attach_want (f->a2->store, sha, FALSE, &error));
  /* Not on a metered network, unless asked even there. */
  g_setenv ("KHUYENHOC_METERED", "1", TRUE);
  r = kh_treplica_sync (f->a2);
  g_assert_cmpuint (r.files_downloaded, ==, 0);
  g_setenv ("KHUYENHOC_METERED", "0", TRUE);
  r = kh_treplica_sync (f->a2);
  g_assert_cmpuint (r.files_downloaded, ==, 1);
  assert_same_file (f->a2, sha, photo);

  /* A third computer attaches the same photo again: the server has it, nothing is sent. */
  {
    KhTReplica *a3 = kh_treplica_new (f->server, f->dir, "a3", f->server->base, "officer_a");

    kh_treplica_sync (a3);
    id2 = attach (a3, f->person, photo);
    r = kh_treplica_sync (a3);
    g_assert_cmpuint (r.files_uploaded, ==, 1);
    g_assert_cmpuint (r.file_bytes_sent, ==, 0);
    kh_treplica_free (a3);
  }
  /* A record kept offline: its files come with the sync, unopened (both attachments name one
   * file: it comes once). */
  {
    KhTReplica *a4 = kh_treplica_new (f->server, f->dir, "a4", f->server->base, "officer_a");

    kh_treplica_sync (a4);
    g_assert_true (kh_attach_keep_offline (a4->store, f->person, TRUE, &error));
    r = kh_treplica_sync (a4);
    g_assert_cmpuint (r.files_downloaded, ==, 1);
    assert_same_file (a4, sha, photo);
    kh_treplica_free (a4);
  }
}

/* A replica of @f's second computer whose file requests go through @proxy. */
static KhTReplica *
replica_through (Fixture      *f,
                 KhFaultProxy *proxy,
                 const char   *name)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (proxy));
  KhTReplica *r = kh_treplica_new (f->server, f->dir, name, url, "officer_a");

  g_object_set (r->engine, "max-attempts", 2, "backoff-base", 0.01, NULL);
  return r;
}

/* Syncs until the files are through, at most @tries times. */
static int
sync_until_done (KhTReplica *r,
                 int         tries,
                 gboolean    down)
{
  for (int i = 1; i <= tries; i++)
    {
      g_autoptr(GError) error = NULL;
      KhSyncReport report;
      gint64 up = 0, up_bytes = 0, dl = 0, dl_bytes = 0;

      kh_treplica_try_sync (r, &report, &error);
      g_assert_true (kh_attach_count_waiting (r->store, &up, &up_bytes, &dl, &dl_bytes));
      if ((down ? dl : up) == 0 && error == NULL)
        return i;
    }
  return -1;
}

/* Pieces cut at random bytes on the way up, answers cut at random bytes on the way down. */
static void
test_cuts (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *sha = NULL;
  g_autofree char *photo = NULL;
  g_autofree char *id = NULL;
  KhFaultProxy *proxy;
  KhTReplica *u;
  KhTReplica *d;
  KhSyncReport report;
  gsize size = 700 * 1024 + 3;
  guint64 before;
  guint64 carried;

  SKIP_WITHOUT_SERVER (f);
  proxy = kh_fault_proxy_new (f->server->port, g_test_rand_int ());
  u = replica_through (f, proxy, "cut-up");
  kh_treplica_sync (u);
  photo = make_photo (f, "cut.jpg", size, 5, &sha);
  id = attach (u, f->person, photo);
  /* Records only: the file waits. */
  g_assert_true (kh_sync_engine_run (u->engine, KH_SYNC_FLAGS_NO_FILES, &report, NULL, NULL));
  g_assert_false (server_has (f, sha));

  kh_fault_proxy_set_fault (proxy, KH_FAULT_CUT_REQUEST, "POST /v1/files/chunk", 3);
  before = kh_fault_proxy_get_bytes_up (proxy);
  g_assert_cmpint (sync_until_done (u, 10, FALSE), >, 0);
  g_assert_cmpuint (kh_fault_proxy_get_count (proxy, KH_FAULT_CUT_REQUEST), ==, 3);
  g_assert_true (server_has (f, sha));
  carried = kh_fault_proxy_get_bytes_up (proxy) - before;
  g_test_message ("a file of %zu bytes: %" G_GUINT64_FORMAT " bytes carried up, with three cuts", size, carried);
  /* The file once, plus at most the three pieces cut (64 kB each on this link, as the first
   * piece is) and the requests' headers: never the file again from its start. */
  g_assert_cmpuint (carried, <, size + 3 * 64 * 1024 + 32 * 1024);
  kh_treplica_free (u);

  /* Down, its answers cut three times at random bytes. */
  d = replica_through (f, proxy, "cut-down");
  kh_treplica_sync (d);
  g_assert_true (kh_attach_want (d->store, sha, FALSE, NULL));
  kh_fault_proxy_set_fault (proxy, KH_FAULT_CUT_ANSWER, "GET /v1/files/data", 3);
  g_assert_cmpint (sync_until_done (d, 10, TRUE), >, 0);
  g_assert_cmpuint (kh_fault_proxy_get_count (proxy, KH_FAULT_CUT_ANSWER), ==, 3);
  assert_same_file (d, sha, photo);
  kh_treplica_free (d);
  kh_fault_proxy_free (proxy);
}

/* The proxy's random faults (resets, cut answers, 500s, 503s, duplicates) during uploads and
 * downloads: the files arrive whole. */
static void
test_random_faults (Fixture       *f,
                    gconstpointer  data)
{
  KhFaultProxy *proxy;
  KhTReplica *u;
  KhTReplica *d;
  char *sha[3];
  char *photo[3];

  SKIP_WITHOUT_SERVER (f);
  proxy = kh_fault_proxy_new (f->server->port, g_test_rand_int ());
  u = replica_through (f, proxy, "rand-up");
  kh_treplica_sync (u);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("rand%d.jpg", i);
      g_autofree char *id = NULL;

      photo[i] = make_photo (f, name, 150 * 1024 + (gsize) i, 10 + (guint32) i, &sha[i]);
      id = attach (u, f->person, photo[i]);
    }
  kh_fault_proxy_set_random (proxy, 0.3);
  g_assert_cmpint (sync_until_done (u, 30, FALSE), >, 0);
  for (int i = 0; i < 3; i++)
    g_assert_true (server_has (f, sha[i]));
  kh_fault_proxy_set_random (proxy, 0);
  d = replica_through (f, proxy, "rand-down");
  kh_treplica_sync (d);
  g_assert_true (kh_attach_want_owner (d->store, f->person, FALSE, NULL));
  kh_fault_proxy_set_random (proxy, 0.3);
  g_assert_cmpint (sync_until_done (d, 30, TRUE), >, 0);
  for (int i = 0; i < 3; i++)
    {
      assert_same_file (d, sha[i], photo[i]);
      g_free (sha[i]);
      g_free (photo[i]);
    }
  kh_treplica_free (u);
  kh_treplica_free (d);
  kh_fault_proxy_free (proxy);
}

/* The client's sync killed while a file goes up; the next sync goes on from the server's bytes.
 * The CLI seals the replica (the tests' passphrase): the file attached while it was plain is
 * sealed with it, and sent from its sealed copy. */
static void
test_sigkill (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *sha = NULL;
  g_autofree char *photo = NULL;
  g_autofree char *id = NULL;
  g_autofree char *part = NULL;
  g_autofree char *db = NULL;
  g_autofree char *local = NULL;
  g_autofree char *out = NULL;
  g_autofree char *head = NULL;
  g_autoptr(json_object) report = NULL;
  KhFaultProxy *proxy;
  KhTReplica *u;
  KhSyncReport r;
  gsize size = 900 * 1024;
  guint64 carried;
  GStatBuf st;
  GPid pid;
  int status = 0;
  gint64 deadline;

  SKIP_WITHOUT_SERVER (f);
  proxy = kh_fault_proxy_new (f->server->port, g_test_rand_int ());
  u = replica_through (f, proxy, "killed");
  kh_treplica_sync (u);
  photo = make_photo (f, "kill.jpg", size, 20, &sha);
  id = attach (u, f->person, photo);
  g_assert_true (kh_sync_engine_run (u->engine, KH_SYNC_FLAGS_NO_FILES, &r, NULL, NULL));
  db = g_strdup (u->path);
  local = g_strdup_printf ("%s-files/%s", db, sha);
  kh_treplica_free (u);
  part = g_strdup_printf ("%s/%s.part", f->files, sha);
  /* 200 kB/s: the file takes seconds, and is killed after its first piece. */
  kh_fault_proxy_set_link (proxy, 200 * 1024, 0);
  {
    const char *argv[] = { CLI_BIN, "--db", db, "sync", NULL };

    g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                  | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL));
  }
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((g_stat (part, &st) != 0 || st.st_size == 0) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_assert_cmpint (g_stat (part, &st), ==, 0);
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_false (server_has (f, sha));
  g_assert_cmpint (g_stat (part, &st), ==, 0);
  /* Sealed with the replica. */
  g_assert_true (g_file_get_contents (local, &head, NULL, NULL));
  g_assert_true (g_str_has_prefix (head, "KHFILE1\n"));

  kh_fault_proxy_set_link (proxy, 0, 0);
  {
    const char *argv[] = { CLI_BIN, "--db", db, "--json", "sync", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                                 &status, NULL));
  }
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  report = json_tokener_parse (out);
  g_assert_nonnull (report);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (report, "files_uploaded")), ==, 1);
  /* Only what the server lacked was sent again. */
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (report, "file_bytes_sent")), <=,
                   (gint64) size - (gint64) st.st_size);
  g_assert_true (server_has (f, sha));
  carried = kh_fault_proxy_get_bytes_up (proxy);
  g_test_message ("killed with %" G_GINT64_FORMAT " bytes on the server; %" G_GUINT64_FORMAT " bytes carried in all",
                  (gint64) st.st_size, carried);
  g_assert_cmpuint (carried, <, 2 * size);
  kh_fault_proxy_free (proxy);
}

static char *
sha_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* An attachment record pushed straight to the server by @token, for a file @sha256 of @size. */
static char *
push_attachment (Fixture    *f,
                 const char *token,
                 const char *sha256,
                 gint64      size)
{
  g_autofree char *id = kh_uuid_v7_new ();
  json_object *fields = json_object_new_object ();
  json_object *mutations = json_object_new_array ();
  g_autoptr(KhPushResponse) answer = NULL;

  json_object_object_add (fields, "owner_entity", json_object_new_string ("person"));
  json_object_object_add (fields, "owner_id", json_object_new_string (f->person));
  json_object_object_add (fields, "org_unit_id", json_object_new_string (f->unit_a));
  json_object_object_add (fields, "name", json_object_new_string ("x.pdf"));
  json_object_object_add (fields, "media_type", json_object_new_string ("application/pdf"));
  json_object_object_add (fields, "size", json_object_new_int64 (size));
  json_object_object_add (fields, "sha256", json_object_new_string (sha256));
  json_object_array_add (mutations, kh_test_mutation ("create", "attachment", id, 0, fields));
  answer = kh_test_push (f->server, token, mutations);
  g_assert_cmpuint (answer->results->len, ==, 1);
  return g_steal_pointer (&id);
}

static KhReply *
put_chunk (Fixture    *f,
           const char *token,
           const char *sha256,
           const char *id,
           gint64      offset,
           const char *body,
           gsize       len)
{
  g_autofree char *path = g_strdup_printf ("/v1/files/chunk?sha256=%s&attachment=%s&offset=%" G_GINT64_FORMAT,
                                           sha256, id, offset);
  KhRequestOptions o = { .token = token };

  return kh_http (f->server, "POST", path, body, len, &o);
}

static const char *
error_message (KhReply *reply)
{
  json_object *e = NULL;
  json_object *m = NULL;

  g_assert_nonnull (reply->json);
  g_assert_true (json_object_object_get_ex (reply->json, "error", &e));
  g_assert_true (json_object_object_get_ex (e, "message", &m));
  return json_object_get_string (m);
}

/* The server checks what it takes: the hash, the sender's area and role, the size. */
static void
test_refusals (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *token_a = NULL;
  g_autofree char *token_b = NULL;
  g_autofree char *token_v = NULL;
  const char *content = "%PDF-1.4 a decision recognizing a learning family";
  g_autofree char *sha = sha_hex (content);
  g_autofree char *big_sha = sha_hex ("big");
  g_autofree char *id = NULL;
  g_autofree char *big = NULL;
  gsize len = strlen (content);

  SKIP_WITHOUT_SERVER (f);
  token_a = kh_test_login (f->server, "officer_a", NULL);
  token_b = kh_test_login (f->server, "officer_b", NULL);
  token_v = kh_test_login (f->server, "viewer_a", NULL);
  id = push_attachment (f, token_a, sha, (gint64) len);

  /* Another content of the same length under this hash: dropped, nothing kept. */
  {
    g_autofree char *wrong = g_strdup (content);
    g_autoptr(KhReply) reply = NULL;

    wrong[len - 1] = '!';
    reply = put_chunk (f, token_a, sha, id, 0, wrong, len);
    g_assert_cmpint (reply->status, ==, 400);
    g_assert_nonnull (strstr (error_message (reply), "SHA-256"));
    g_assert_false (server_has (f, sha));
  }
  /* Officer B's area does not hold the record: the same words as for no record at all. */
  {
    g_autoptr(KhReply) reply = put_chunk (f, token_b, sha, id, 0, content, len);
    g_autoptr(KhReply) none = put_chunk (f, token_b, sha, "0190f0f0-0000-7000-8000-000000000000", 0, content, len);

    g_assert_cmpint (reply->status, ==, 403);
    g_assert_cmpstr (error_message (reply), ==, error_message (none));
    g_assert_false (server_has (f, sha));
  }
  {
    g_autofree char *path = g_strdup_printf ("/v1/files/data?sha256=%s&attachment=%s&offset=0&length=65536", sha, id);
    KhRequestOptions o = { .token = token_b };
    g_autoptr(KhReply) reply = kh_http (f->server, "GET", path, NULL, 0, &o);

    g_assert_cmpint (reply->status, ==, 403);
  }
  /* A viewer reads, and sends nothing. */
  {
    g_autoptr(KhReply) reply = put_chunk (f, token_v, sha, id, 0, content, len);

    g_assert_cmpint (reply->status, ==, 403);
  }
  /* Pieces in order, a piece sent twice is no harm, and the file is kept once whole. */
  {
    g_autoptr(KhReply) first = put_chunk (f, token_a, sha, id, 0, content, 10);
    g_autoptr(KhReply) again = put_chunk (f, token_a, sha, id, 0, content, 10);
    g_autoptr(KhReply) rest = put_chunk (f, token_a, sha, id, 10, content + 10, len - 10);

    g_assert_cmpint (first->status, ==, 200);
    g_assert_cmpint (json_object_get_int64 (json_object_object_get (again->json, "offset")), ==, 10);
    g_assert_cmpint (rest->status, ==, 200);
    g_assert_true (json_object_get_boolean (json_object_object_get (rest->json, "complete")));
    g_assert_true (server_has (f, sha));
  }
  /* Over the limit of 1 MB the server was started with: refused, the limit said. */
  big = push_attachment (f, token_a, big_sha, 3 * 1024 * 1024);
  {
    g_autoptr(KhReply) reply = put_chunk (f, token_a, big_sha, big, 0, "x", 1);

    g_assert_cmpint (reply->status, ==, 413);
    g_assert_nonnull (strstr (error_message (reply), "1.0 MB"));
  }
  /* The client learns the limit and refuses such a file itself, saying the limit. */
  {
    g_autofree char *photo = make_photo (f, "big.jpg", 1536 * 1024, 30, NULL);
    g_autofree char *small = make_photo (f, "small.jpg", 1000, 31, NULL);
    g_autofree char *small_id = attach (f->a1, f->person, small);
    g_autoptr(GError) error = NULL;
    KhSyncReport r = kh_treplica_sync (f->a1);

    g_assert_cmpuint (r.files_uploaded, ==, 1);
    g_assert_cmpint (kh_attach_get_max_size (f->a1->store), ==, 1024 * 1024);
    g_assert_null (kh_attach_add (f->a1->store, "person", f->person, photo, NULL, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "1.0 MB"));
  }
  /* A type found from the content, not the name. */
  {
    g_autofree char *path = g_build_filename (f->dir, "notes.jpg", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (g_file_set_contents (path, "MZ\x90\x00 not a picture at all", -1, NULL));
    g_assert_null (kh_attach_add (f->a1->store, "person", f->person, path, NULL, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  }
}

static int
run_server_cli (Fixture    *f,
                const char *what,
                char      **out)
{
  const char *argv[] = { SERVER_BIN, "--db", f->server->url, "files", what, "--files", f->files,
                         "--tombstone-days", "0", NULL };
  g_autofree char *ignored = NULL;
  int status = 0;

  /* Its output is read, or dropped: inherited, it would break the TAP stream. */
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               out != NULL ? out : &ignored, NULL, &status, NULL));
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* Files nobody refers to after the window are removed; `files check` counts and checks them. */
static void
test_collect (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *sha1 = NULL;
  g_autofree char *sha2 = NULL;
  g_autofree char *p1 = NULL;
  g_autofree char *p2 = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *other = NULL;
  g_autofree char *out = NULL;

  SKIP_WITHOUT_SERVER (f);
  {
    g_autofree char *json = g_strdup_printf ("{\"full_name\": \"Lê Văn Cường\", \"org_unit_id\": \"%s\"}", f->unit_a);

    other = kh_treplica_add (f->a1, "person", json);
  }
  p1 = make_photo (f, "c1.jpg", 5000, 40, &sha1);
  p2 = make_photo (f, "c2.jpg", 6000, 41, &sha2);
  id1 = attach (f->a1, f->person, p1);
  id2 = kh_attach_add (f->a1->store, "person", other, p2, NULL, NULL);
  kh_treplica_sync (f->a1);
  g_assert_true (server_has (f, sha1) && server_has (f, sha2));

  g_assert_cmpint (run_server_cli (f, "check", &out), ==, 0);
  g_assert_nonnull (strstr (out, "2 files"));
  g_clear_pointer (&out, g_free);

  /* Nothing refers to nothing yet: both kept. */
  g_assert_cmpint (run_server_cli (f, "collect", NULL), ==, 0);
  g_assert_true (server_has (f, sha1) && server_has (f, sha2));

  /* The attachment removed, and the other file's record deleted: with a window of 0 days,
   * both files go. */
  g_assert_true (kh_store_delete (f->a1->store, "attachment", id1, NULL));
  g_assert_true (kh_store_delete (f->a1->store, "person", other, NULL));
  kh_treplica_sync (f->a1);
  g_assert_cmpint (run_server_cli (f, "collect", NULL), ==, 0);
  g_assert_false (server_has (f, sha1));
  g_assert_false (server_has (f, sha2));

  /* A file altered on the server's disk is found by the check. */
  {
    g_autofree char *sha3 = NULL;
    g_autofree char *p3 = make_photo (f, "c3.jpg", 7000, 42, &sha3);
    g_autofree char *id3 = attach (f->a1, f->person, p3);
    g_autofree char *stored = g_build_filename (f->files, sha3, NULL);

    kh_treplica_sync (f->a1);
    g_assert_true (g_file_set_contents (stored, "\xff\xd8\xff altered", -1, NULL));
    g_assert_cmpint (run_server_cli (f, "check", &out), ==, 1);
    g_assert_nonnull (strstr (out, sha3));
  }
}

/* The local file of an attachment removed on another computer goes with the tombstone
 * pulled; the file of an attachment removed here goes at once. */
static void
test_local_collect (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *sha = NULL;
  g_autofree char *photo = NULL;
  g_autofree char *id = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *here = NULL;
  g_autoptr(GError) error = NULL;
  KhSyncReport r;

  SKIP_WITHOUT_SERVER (f);
  photo = make_photo (f, "danh-sach-ky-nhan.jpg", 40 * 1024 + 1, 21, &sha);
  id = attach (f->a1, f->person, photo);
  r = kh_treplica_sync (f->a1);
  g_assert_cmpuint (r.files_uploaded, ==, 1);
  g_assert_true (kh_attach_keep_offline (f->a2->store, f->person, TRUE, &error));
  r = kh_treplica_sync (f->a2);
  g_assert_cmpuint (r.files_downloaded, ==, 1);
  g_assert_true (kh_attach_has_file (f->a2->store, sha));

  g_assert_true (kh_attach_remove (f->a1->store, id, &error));
  g_assert_no_error (error);
  g_assert_false (kh_attach_has_file (f->a1->store, sha));
  kh_treplica_sync (f->a1);
  kh_treplica_sync (f->a2);
  g_assert_false (kh_attach_has_file (f->a2->store, sha));
  dir = kh_attach_dir (f->a2->store);
  here = g_build_filename (dir, sha, NULL);
  g_assert_false (g_file_test (here, G_FILE_TEST_EXISTS));
  /* The server keeps it for the window: another computer's restore finds it there. */
  g_assert_true (server_has (f, sha));
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  g_setenv ("KHUYENHOC_METERED", "0", TRUE);
  g_setenv ("KHUYENHOC_PASSPHRASE", "the tests’ passphrase", FALSE);
  g_setenv ("KHUYENHOC_TEST_CHEAP_KEY_FILE", "1", FALSE);
  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
#define ADD(name, fn) \
      { \
        g_autofree char *path = g_strdup_printf ("/sync/attach/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("up-and-down", test_up_and_down);
      ADD ("refusals", test_refusals);
      ADD ("cuts", test_cuts);
      ADD ("random-faults", test_random_faults);
      ADD ("sigkill", test_sigkill);
      ADD ("collect", test_collect);
      ADD ("local-collect", test_local_collect);
#undef ADD
    }
  return g_test_run ();
}
