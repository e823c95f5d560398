/* test-server-ops.c: what an operator relies on, against the real server
 *
 * Run as `test-server-ops --backend=sqlite` or `--backend=postgresql`:
 * - /metrics answers in Prometheus' text format, only on the address given to --metrics, and
 *   counts the requests, the pushed mutations by result and the feed's records;
 * - each request is one line on stderr (user, endpoint, status, time), with a syslog priority
 *   in front when stderr is journald's stream;
 * - SIGTERM under load: a request that arrived before it is answered (here one whose body is
 *   still arriving), the server exits 0, and after a restart every acknowledged mutation is there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <curl/curl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "kh-test-server.h"
#include "kh-uuid.h"

static const char *backend = "sqlite";

/* A push of @n new people in @unit; their ids are added to @ids. */
static char *
push_body (const char *unit,
           guint       n,
           GPtrArray  *ids)
{
  json_object *body = json_object_new_object ();
  json_object *list = json_object_new_array ();
  g_autofree char *client = kh_uuid_v7_new ();
  char *text;

  for (guint i = 0; i < n; i++)
    {
      char *id = kh_uuid_v7_new ();
      g_autofree char *name = g_strdup_printf ("Người %u", i);

      json_object_array_add (list, kh_test_mutation ("create", "person", id, 0, kh_test_person (name, unit)));
      g_ptr_array_add (ids, id);
    }
  json_object_object_add (body, "client_id", json_object_new_string (client));
  json_object_object_add (body, "mutations", list);
  text = g_strdup (json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN));
  json_object_put (body);
  return text;
}

static size_t
collect_cb (char   *data,
            size_t  size,
            size_t  n,
            void   *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

/* GET @url with libcurl: the status (0 when no answer), the body in @body. */
static long
get (const char *url,
     GString    *body)
{
  CURL *curl = curl_easy_init ();
  long status = 0;

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  return status;
}

/* The port the server printed for --metrics in its log. */
static int
metrics_port (KhTestServer *s)
{
  g_autofree char *path = g_build_filename (s->dir, "serve.log", NULL);
  g_autofree char *log = NULL;
  const char *at;

  g_assert_true (g_file_get_contents (path, &log, NULL, NULL));
  at = strstr (log, "Metrics on port ");
  g_assert_nonnull (at);
  return atoi (at + strlen ("Metrics on port "));
}

/* The value of the sample @name (with its labels) in @text, or -1. */
static double
sample (const char *text,
        const char *name)
{
  g_autofree char *key = g_strdup_printf ("\n%s ", name);
  const char *at = strstr (text, key);

  return at != NULL ? g_ascii_strtod (at + strlen (key), NULL) : -1;
}

static void
test_metrics (void)
{
  const char * const args[] = { "--metrics", "127.0.0.1:0", NULL };
  KhTestServer *s = kh_test_server_new (backend);
  g_autofree char *unit = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *body = NULL;
  g_autofree char *url = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) elsewhere = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  KhRequestOptions o = { NULL, NULL, NULL };

  if (s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  kh_test_server_populate (s);
  kh_test_server_start (s, args);
  token = kh_test_login (s, "admin", &unit);
  o.token = token;
  body = push_body (unit, 3, ids);
  {
    g_autoptr(KhReply) r = kh_http (s, "POST", "/v1/push", body, strlen (body), &o);

    g_assert_cmpint (r->status, ==, 200);
  }
  {
    g_autoptr(KhReply) r = kh_http (s, "GET", "/v1/changes", NULL, 0, &o);

    g_assert_cmpint (r->status, ==, 200);
  }
  {
    g_autoptr(KhReply) r = kh_http (s, "GET", "/no/such/thing", NULL, 0, NULL);

    g_assert_cmpint (r->status, ==, 404);
  }

  /* A request is counted once its answer is sent, which the client may see first: scraped
   * again until the last one is in. */
  url = g_strdup_printf ("http://127.0.0.1:%d/metrics", metrics_port (s));
  for (int i = 0; i < 500; i++)
    {
      g_string_truncate (text, 0);
      g_assert_cmpint (get (url, text), ==, 200);
      g_string_prepend_c (text, '\n');
      if (sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"other\",status=\"404\"}") == 1
          && sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"/v1/push\",status=\"200\"}") == 1
          && sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"/v1/changes\",status=\"200\"}") == 1
          && sample (text->str, "khuyenhoc_http_requests_in_flight") == 0)
        break;
      g_usleep (10000);
    }
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"/v1/push\",status=\"200\"}"), ==, 1);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"/v1/login\",status=\"200\"}"), ==, 1);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_requests_total{endpoint=\"other\",status=\"404\"}"), ==, 1);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_request_duration_seconds_count{endpoint=\"/v1/push\"}"), ==, 1);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_push_mutations_total{result=\"applied\"}"), ==, 3);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_push_mutations_total{result=\"rejected\"}"), ==, 0);
  /* The standard tree's units and the three people. */
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_feed_records_total"), >=, 3);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_database_size_bytes"), >, 0);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_requests_in_flight"), ==, 0);
  g_assert_cmpfloat (sample (text->str, "khuyenhoc_http_connections"), >=, 0);

  /* The exposition format: every sample a name, labels, a number, and every name announced. */
  lines = g_strsplit (text->str + 1, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *name = NULL;

      if (*lines[i] == '\0' || g_str_has_prefix (lines[i], "# HELP ") || g_str_has_prefix (lines[i], "# TYPE "))
        continue;
      g_assert_true (g_regex_match_simple ("^[a-z_]+(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? "
                                           "[0-9.e+-]+$", lines[i], 0, 0));
      name = g_strndup (lines[i], strcspn (lines[i], "{ "));
      if (g_str_has_suffix (name, "_bucket") || g_str_has_suffix (name, "_sum") || g_str_has_suffix (name, "_count"))
        *strrchr (name, '_') = '\0';
      {
        g_autofree char *type = g_strdup_printf ("\n# TYPE %s ", name);

        g_assert_nonnull (strstr (text->str, type));
      }
    }

  /* Not on the clients' port. */
  {
    g_autoptr(KhReply) r = kh_http (s, "GET", "/metrics", NULL, 0, NULL);

    g_assert_cmpint (r->status, ==, 404);
  }
  {
    g_autofree char *health = g_strdup_printf ("%s/v1/health", s->base);

    g_assert_cmpint (get (health, elsewhere), ==, 200);
  }

  /* The request log: one line per request, with the user once authenticated (written when
   * the answer is sent: the server is stopped first). */
  kh_test_server_stop (s);
  log_path = g_build_filename (s->dir, "serve.log", NULL);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_true (g_regex_match_simple ("^\\S+Z request user=admin endpoint=/v1/push status=200 ms=[0-9.]+$",
                                       log, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^\\S+Z request user=- endpoint=/v1/login status=200 ms=",
                                       log, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^\\S+Z request user=- endpoint=other status=404 ms=",
                                       log, G_REGEX_MULTILINE, 0));
  kh_test_server_free (s);
}

/* Under systemd, stderr is journald's stream (JOURNAL_STREAM names its device and inode): the
 * lines then carry a syslog priority and no time, which journald adds. */
static void
test_journal_log (void)
{
  KhTestServer *s = kh_test_server_new (backend);
  g_autofree char *log_path = NULL;
  g_autofree char *log = NULL;
  g_autofree char *stream = NULL;
  struct stat st;

  if (s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  log_path = g_build_filename (s->dir, "serve.log", NULL);
  g_assert_true (g_file_set_contents (log_path, "", 0, NULL));
  g_assert_cmpint (stat (log_path, &st), ==, 0);
  stream = g_strdup_printf ("%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
  g_setenv ("JOURNAL_STREAM", stream, TRUE);
  kh_test_server_start (s, NULL);
  g_unsetenv ("JOURNAL_STREAM");
  {
    g_autoptr(KhReply) r = kh_http (s, "GET", "/v1/health", NULL, 0, NULL);
    g_autoptr(KhReply) r2 = kh_http (s, "GET", "/v1/changes", NULL, 0, NULL);

    g_assert_cmpint (r->status, ==, 200);
    g_assert_cmpint (r2->status, ==, 401);
  }
  kh_test_server_stop (s);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_true (g_regex_match_simple ("^<6>request user=- endpoint=/v1/health status=200 ms=[0-9.]+$",
                                       log, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^<5>request user=- endpoint=/v1/changes status=401 ms=",
                                       log, G_REGEX_MULTILINE, 0));
  kh_test_server_free (s);
}

/* SIGTERM under load ------------------------------------------------------------------------- */

typedef struct
{
  GMutex      lock;
  char       *base;        /* the server's address now (it moves at the restart) */
  char       *unit;
  char       *token;
  gint        stop;
  GPtrArray  *acked;       /* ids of people whose push was answered 200, applied */
  guint       answered;
} Load;

static gboolean
all_applied (const char *answer,
             guint       n)
{
  g_autoptr(GError) error = NULL;
  json_object *json = json_tokener_parse (answer);
  g_autoptr(KhPushResponse) r = json != NULL ? kh_push_response_from_json (json, &error) : NULL;
  gboolean ok = r != NULL && r->results->len == n;

  for (guint i = 0; ok && i < r->results->len; i++)
    ok = ((KhMutationResult *) r->results->pdata[i])->status == KH_RESULT_APPLIED;
  if (json != NULL)
    json_object_put (json);
  return ok;
}

/* A client pushing batches of 20 people on one kept-alive connection, as the engine does. */
static gpointer
load_thread (gpointer data)
{
  Load *load = data;
  CURL *curl = curl_easy_init ();
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s", load->token);
  struct curl_slist *headers = curl_slist_append (NULL, auth);

  headers = curl_slist_append (headers, "Content-Type: application/json");
  while (!g_atomic_int_get (&load->stop))
    {
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *body = push_body (load->unit, 20, ids);
      g_autofree char *url = NULL;
      g_autoptr(GString) answer = g_string_new (NULL);
      long status = 0;

      g_mutex_lock (&load->lock);
      url = g_strdup_printf ("%s/v1/push", load->base);
      g_mutex_unlock (&load->lock);
      curl_easy_setopt (curl, CURLOPT_URL, url);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_cb);
      curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
      curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
      curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
      if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200 && all_applied (answer->str, ids->len))
        {
          g_mutex_lock (&load->lock);
          for (guint i = 0; i < ids->len; i++)
            g_ptr_array_add (load->acked, g_strdup (ids->pdata[i]));
          load->answered++;
          g_mutex_unlock (&load->lock);
        }
      else if (status == 0)
        g_usleep (20000);  /* stopped: the next try goes to the restarted server */
    }
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return NULL;
}

typedef struct
{
  const char *body;
  gsize       len;
  gsize       sent;
} Trickle;

/* Sends the body in four parts a quarter of a second apart: the request is in flight for a
 * second, and the SIGTERM comes in the middle of it. */
static size_t
trickle_cb (char   *buffer,
            size_t  size,
            size_t  n,
            void   *data)
{
  Trickle *t = data;
  gsize part = MIN (MIN (size * n, t->len / 4 + 1), t->len - t->sent);

  if (t->sent > 0)
    g_usleep (250000);
  memcpy (buffer, t->body + t->sent, part);
  t->sent += part;
  return part;
}

typedef struct
{
  Load       *load;
  char       *url;
  GPtrArray  *ids;
  long        status;
  gboolean    applied;
  gint        started;
} Slow;

static gpointer
slow_thread (gpointer data)
{
  Slow *slow = data;
  g_autofree char *body = push_body (slow->load->unit, 50, slow->ids);
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s", slow->load->token);
  g_autoptr(GString) answer = g_string_new (NULL);
  Trickle t = { body, strlen (body), 0 };
  struct curl_slist *headers = curl_slist_append (NULL, auth);
  CURL *curl = curl_easy_init ();
  g_autofree char *length = g_strdup_printf ("Content-Length: %zu", t.len);

  headers = curl_slist_append (headers, "Content-Type: application/json");
  headers = curl_slist_append (headers, length);
  headers = curl_slist_append (headers, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, slow->url);
  curl_easy_setopt (curl, CURLOPT_POST, 1L);
  curl_easy_setopt (curl, CURLOPT_READFUNCTION, trickle_cb);
  curl_easy_setopt (curl, CURLOPT_READDATA, &t);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  g_atomic_int_set (&slow->started, 1);
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &slow->status);
  slow->applied = slow->status == 200 && all_applied (answer->str, slow->ids->len);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return NULL;
}

static void
test_sigterm_under_load (void)
{
  KhTestServer *s = kh_test_server_new (backend);
  Load load = { 0 };
  Slow slow = { 0 };
  GThread *threads[6];
  GThread *slow_t;
  g_autoptr(GHashTable) records = NULL;
  g_autofree char *cursor = NULL;
  guint before;

  if (s == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  kh_test_server_populate (s);
  kh_test_server_start (s, NULL);
  g_mutex_init (&load.lock);
  load.base = g_strdup (s->base);
  load.token = kh_test_login (s, "admin", &load.unit);
  load.acked = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("load", load_thread, &load);
  /* Under load for a while. */
  for (int i = 0; i < 200; i++)
    {
      g_mutex_lock (&load.lock);
      before = load.answered;
      g_mutex_unlock (&load.lock);
      if (before >= 20)
        break;
      g_usleep (20000);
    }

  slow.load = &load;
  slow.url = g_strdup_printf ("%s/v1/push", s->base);
  slow.ids = g_ptr_array_new_with_free_func (g_free);
  slow_t = g_thread_new ("slow", slow_thread, &slow);
  while (!g_atomic_int_get (&slow.started))
    g_usleep (1000);
  g_usleep (400000);
  /* Stops only once the slow push is answered; exits 0 (asserted). */
  kh_test_server_kill (s, SIGTERM);
  g_thread_join (slow_t);
  g_assert_cmpint (slow.status, ==, 200);
  g_assert_true (slow.applied);

  /* Restarted on the same database; the clients go on against it. */
  kh_test_server_start (s, NULL);
  g_mutex_lock (&load.lock);
  g_free (load.base);
  load.base = g_strdup (s->base);
  before = load.answered;
  g_mutex_unlock (&load.lock);
  for (int i = 0; i < 500; i++)
    {
      guint now;

      g_mutex_lock (&load.lock);
      now = load.answered;
      g_mutex_unlock (&load.lock);
      if (now >= before + 20)
        break;
      g_usleep (20000);
    }
  g_atomic_int_set (&load.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (load.answered, >=, before + 20);

  /* Every acknowledged person is on the server. */
  records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kh_record_free);
  cursor = kh_test_pull_all (s, load.token, NULL, 5000, records, NULL, NULL);
  for (guint i = 0; i < slow.ids->len; i++)
    g_assert_true (g_hash_table_contains (records, slow.ids->pdata[i]));
  for (guint i = 0; i < load.acked->len; i++)
    if (!g_hash_table_contains (records, load.acked->pdata[i]))
      g_error ("acknowledged %s is missing after the restart", (const char *) load.acked->pdata[i]);
  g_test_message ("%u acknowledged people, all there after the restart", load.acked->len);

  kh_test_server_stop (s);
  g_ptr_array_unref (slow.ids);
  g_free (slow.url);
  g_ptr_array_unref (load.acked);
  g_free (load.base);
  g_free (load.unit);
  g_free (load.token);
  g_mutex_clear (&load.lock);
  kh_test_server_free (s);
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--backend="))
      backend = argv[i] + strlen ("--backend=");
  g_test_init (&argc, &argv, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  g_test_add_func ("/server/ops/metrics", test_metrics);
  g_test_add_func ("/server/ops/journal-log", test_journal_log);
  g_test_add_func ("/server/ops/sigterm-under-load", test_sigterm_under_load);
  return g_test_run ();
}
