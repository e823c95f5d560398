/* test-sync-approval.c: approvals that hold and a history everyone reads the same, against the
 * real server, on SQLite and on PostgreSQL
 *
 * What is proved: each step of an award list needs its permission (the officer submits, the
 * chair approves, the treasurer pays), whatever the client sends; an approved list and its
 * entries refuse changes on the server ("locked") and in a replica's store, but take the
 * treasurer's payment; only an approver reopens, and only with a reason, which the history
 * keeps; a recognition issued and a dossier submitted are locked the same way; the history of
 * a record edited on three replicas reads the same, with its real authors and devices, on a
 * fourth made afterwards; a supervisor's activity holds the changes of their area only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-error.h"
#include "kh-replica.h"
#include "kh-sync-test-util.h"
#include "kh-test-store.h"
#include "kh-workflow.h"
#include "kh-uuid.h"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  char         *unit_a;
  char         *officer;
  char         *chair;
  char         *treasurer;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  kh_test_server_cli (f->server, "password-chair_a\n", "user", "add", "chair_a", "--role", "officer",
                      "--scope", "A", "--can", "approve", NULL);
  kh_test_server_cli (f->server, "password-treasurer_a\n", "user", "add", "treasurer_a", "--role", "officer",
                      "--scope", "A", NULL);
  kh_test_server_cli (f->server, NULL, "user", "can", "treasurer_a", "pay", NULL);
  f->officer = kh_test_login (f->server, "officer_a", &f->unit_a);
  f->chair = kh_test_login (f->server, "chair_a", NULL);
  f->treasurer = kh_test_login (f->server, "treasurer_a", NULL);
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit_a);
  g_free (f->officer);
  g_free (f->chair);
  g_free (f->treasurer);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

typedef struct
{
  KhResultStatus status;
  char          *code;
  gint64         version;
} Result;

static void
result_clear (Result *r)
{
  g_free (r->code);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

/* One mutation pushed as the account of @token; @fields is JSON text. */
static Result
push_one (Fixture    *f,
          const char *token,
          const char *op,
          const char *entity,
          const char *id,
          gint64      base,
          const char *fields)
{
  json_object *mutations = json_object_new_array ();
  g_autoptr(KhPushResponse) r = NULL;
  KhMutationResult *m;
  Result out;

  json_object_array_add (mutations, kh_test_mutation (op, entity, id, base,
                                                      fields != NULL ? json_tokener_parse (fields) : NULL));
  r = kh_test_push (f->server, token, mutations);
  g_assert_cmpuint (r->results->len, ==, 1);
  m = r->results->pdata[0];
  out.status = m->status;
  out.code = g_strdup (m->code);
  out.version = m->version;
  return out;
}

#define ASSERT_APPLIED(r) g_assert_cmpint ((r).status, ==, KH_RESULT_APPLIED)
#define ASSERT_REFUSED(r, c) \
  G_STMT_START { g_assert_cmpint ((r).status, ==, KH_RESULT_REJECTED); g_assert_cmpstr ((r).code, ==, c); } G_STMT_END

/* A list and one entry, made by the officer; *@lv and *@ev their versions. */
static void
make_list (Fixture  *f,
           char    **list,
           char    **entry,
           gint64   *lv,
           gint64   *ev)
{
  g_autofree char *lf = NULL;
  g_autofree char *ef = NULL;

  *list = kh_uuid_v7_new ();
  *entry = kh_uuid_v7_new ();
  lf = g_strdup_printf ("{\"title\":\"Học bổng Tết\",\"occasion\":\"tet\",\"school_year\":\"2025-2026\","
                        "\"org_unit_id\":\"%s\",\"status\":\"draft\"}", f->unit_a);
  ef = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"Lê Văn Tám\","
                        "\"category\":\"hardship\",\"amount\":500000,\"status\":\"proposed\"}", *list, f->unit_a);
  {
    g_auto(Result) a = push_one (f, f->officer, "create", "award_list", *list, 0, lf);
    g_auto(Result) b = push_one (f, f->officer, "create", "award_entry", *entry, 0, ef);

    ASSERT_APPLIED (a);
    ASSERT_APPLIED (b);
    *lv = a.version;
    *ev = b.version;
  }
}

/* Each step needs its permission; an approved list and its entries refuse changes but the
 * treasurer's payment. */
static void
test_roles_and_lock (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *other = NULL;
  gint64 lv, ev;

  SKIP_WITHOUT_SERVER (f);
  make_list (f, &list, &entry, &lv, &ev);

  {
    /* Nobody skips a step, and the officer cannot approve. */
    g_auto(Result) skip = push_one (f, f->chair, "update", "award_list", list, lv, "{\"status\":\"approved\"}");
    g_auto(Result) sub = push_one (f, f->officer, "update", "award_list", list, lv, "{\"status\":\"submitted\"}");
    g_auto(Result) off = push_one (f, f->officer, "update", "award_list", list, sub.version, "{\"status\":\"approved\"}");
    g_auto(Result) tre = push_one (f, f->treasurer, "update", "award_list", list, sub.version, "{\"status\":\"approved\"}");
    g_auto(Result) pay = push_one (f, f->treasurer, "update", "award_list", list, sub.version, "{\"status\":\"paid\"}");

    ASSERT_REFUSED (skip, "invalid");
    ASSERT_APPLIED (sub);
    ASSERT_REFUSED (off, "forbidden");
    ASSERT_REFUSED (tre, "forbidden");
    ASSERT_REFUSED (pay, "invalid");
    lv = sub.version;
  }
  {
    g_auto(Result) ok = push_one (f, f->chair, "update", "award_list", list, lv,
                                  "{\"status\":\"approved\",\"approved_by\":\"Nguyễn Văn Chủ\"}");

    ASSERT_APPLIED (ok);
    lv = ok.version;
  }
  {
    /* Locked: the list, its entries, a new entry, a deletion, for the officer and the chair. */
    g_autofree char *nf = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"Ai Đó\","
                                           "\"category\":\"merit\",\"amount\":1,\"status\":\"proposed\"}",
                                           list, f->unit_a);
    g_auto(Result) title = push_one (f, f->officer, "update", "award_list", list, lv, "{\"title\":\"Khác\"}");
    g_auto(Result) chair = push_one (f, f->chair, "update", "award_list", list, lv, "{\"title\":\"Khác\"}");
    g_auto(Result) amount = push_one (f, f->officer, "update", "award_entry", entry, ev, "{\"amount\":900000}");
    g_auto(Result) del = push_one (f, f->officer, "delete", "award_entry", entry, ev, NULL);
    g_auto(Result) dell = push_one (f, f->chair, "delete", "award_list", list, lv, NULL);
    g_auto(Result) added = { 0 };

    other = kh_uuid_v7_new ();
    added = push_one (f, f->officer, "create", "award_entry", other, 0, nf);
    ASSERT_REFUSED (title, "locked");
    ASSERT_REFUSED (chair, "locked");
    ASSERT_REFUSED (amount, "locked");
    ASSERT_REFUSED (del, "locked");
    ASSERT_REFUSED (dell, "locked");
    ASSERT_REFUSED (added, "locked");
  }
  {
    /* The treasurer records the payment: the entries' receipt, then the list. */
    g_auto(Result) amount = push_one (f, f->treasurer, "update", "award_entry", entry, ev, "{\"amount\":1}");
    g_auto(Result) paid = push_one (f, f->treasurer, "update", "award_entry", entry, ev,
                                    "{\"status\":\"paid\",\"received_on\":\"2026-01-20\",\"voucher_number\":\"PC-01\"}");
    g_auto(Result) byofficer = push_one (f, f->officer, "update", "award_list", list, lv, "{\"status\":\"paid\"}");
    g_auto(Result) list_paid = push_one (f, f->treasurer, "update", "award_list", list, lv, "{\"status\":\"paid\"}");

    ASSERT_REFUSED (amount, "locked");
    ASSERT_APPLIED (paid);
    ASSERT_REFUSED (byofficer, "forbidden");
    ASSERT_APPLIED (list_paid);
  }
}

/* Only an approver reopens, with a reason the history keeps; then the list can be edited. */
static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autoptr(KhReply) history = NULL;
  g_autofree char *path = NULL;
  gint64 lv, ev;
  json_object *rows;
  gboolean found = FALSE;

  SKIP_WITHOUT_SERVER (f);
  make_list (f, &list, &entry, &lv, &ev);
  {
    g_auto(Result) a = push_one (f, f->officer, "update", "award_list", list, lv, "{\"status\":\"submitted\"}");
    g_auto(Result) b = push_one (f, f->chair, "update", "award_list", list, a.version, "{\"status\":\"approved\"}");

    ASSERT_APPLIED (b);
    lv = b.version;
  }
  {
    g_auto(Result) officer = push_one (f, f->officer, "update", "award_list", list, lv,
                                       "{\"status\":\"draft\",\"reopen_reason\":\"Sai tên\"}");
    g_auto(Result) treasurer = push_one (f, f->treasurer, "update", "award_list", list, lv,
                                         "{\"status\":\"submitted\",\"reopen_reason\":\"Sai tên\"}");
    g_auto(Result) silent = push_one (f, f->chair, "update", "award_list", list, lv, "{\"status\":\"draft\"}");
    g_auto(Result) ok = push_one (f, f->chair, "update", "award_list", list, lv,
                                  "{\"status\":\"draft\",\"reopen_reason\":\"Sai tên một em\"}");
    g_auto(Result) edit = push_one (f, f->officer, "update", "award_entry", entry, ev,
                                    "{\"recipient_name\":\"Lê Văn Tâm\"}");

    ASSERT_REFUSED (officer, "forbidden");
    ASSERT_REFUSED (treasurer, "forbidden");
    ASSERT_REFUSED (silent, "invalid");
    ASSERT_APPLIED (ok);
    ASSERT_APPLIED (edit);
  }

  path = g_strdup_printf ("/v1/history?entity=award_list&id=%s", list);
  history = kh_http_json (f->server, "GET", path, f->officer, NULL);
  g_assert_cmpint (history->status, ==, 200);
  rows = json_object_object_get (history->json, "history");
  g_assert_cmpuint (json_object_array_length (rows), ==, 4);
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *row = json_object_array_get_idx (rows, i);
      json_object *change = json_object_object_get (json_object_object_get (row, "changes"), "reopen_reason");

      if (change != NULL)
        {
          g_assert_cmpstr (kh_tstr (row, "user"), ==, "chair_a");
          g_assert_cmpstr (json_object_get_string (json_object_array_get_idx (change, 1)), ==, "Sai tên một em");
          found = TRUE;
        }
    }
  g_assert_true (found);

  /* Outside the area, the history is not there. */
  {
    g_autofree char *token_b = kh_test_login (f->server, "officer_b", NULL);
    g_autoptr(KhReply) other = kh_http_json (f->server, "GET", path, token_b, NULL);

    g_assert_cmpint (other->status, ==, 404);
  }
}

/* A recognition issued by decision and a dossier submitted are locked the same way. */
static void
test_recognition_dossier (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *reg = kh_uuid_v7_new ();
  g_autofree char *rec = kh_uuid_v7_new ();
  g_autofree char *rf = g_strdup_printf ("{\"model\":\"unit\",\"year\":2025,\"org_unit_id\":\"%s\","
                                         "\"subject_kind\":\"org_unit\",\"subject_id\":\"%s\","
                                         "\"subject_name\":\"Trường Tiểu học A\",\"status\":\"registered\","
                                         "\"dossier\":\"draft\"}", f->unit_a, f->unit_a);
  g_autofree char *cf = g_strdup_printf ("{\"registration_id\":\"%s\",\"org_unit_id\":\"%s\","
                                         "\"decision_number\":\"12/QĐ\",\"decision_date\":\"2026-01-10\","
                                         "\"issuing_level\":\"commune\",\"status\":\"draft\","
                                         "\"reason\":\"Trường được công nhận theo hồ sơ tự đánh giá\"}", reg, f->unit_a);
  gint64 v;

  SKIP_WITHOUT_SERVER (f);
  {
    g_auto(Result) a = push_one (f, f->officer, "create", "registration", reg, 0, rf);
    g_auto(Result) b = push_one (f, f->officer, "update", "registration", reg, a.version, "{\"dossier\":\"submitted\"}");
    g_auto(Result) c = push_one (f, f->officer, "update", "registration", reg, b.version, "{\"subject_group\":\"Khối 5\"}");
    g_auto(Result) d = push_one (f, f->chair, "update", "registration", reg, b.version,
                                 "{\"dossier\":\"draft\",\"reopen_reason\":\"Thiếu minh chứng\"}");

    ASSERT_APPLIED (a);
    ASSERT_APPLIED (b);
    ASSERT_REFUSED (c, "locked");
    ASSERT_APPLIED (d);
  }
  {
    g_auto(Result) a = push_one (f, f->officer, "create", "recognition", rec, 0, cf);
    g_auto(Result) b = push_one (f, f->officer, "update", "recognition", rec, a.version, "{\"status\":\"issued\"}");
    g_auto(Result) c = push_one (f, f->chair, "update", "recognition", rec, a.version, "{\"status\":\"issued\"}");

    ASSERT_APPLIED (a);
    ASSERT_REFUSED (b, "forbidden");
    ASSERT_APPLIED (c);
    v = c.version;
  }
  {
    g_auto(Result) a = push_one (f, f->chair, "update", "recognition", rec, v, "{\"title\":\"Đơn vị học tập\"}");

    ASSERT_REFUSED (a, "locked");
  }
}

/* A replica's store refuses a locked list's changes too, and an edit made offline before the
 * approval is refused at push with the server's reason, kept for the officer. */
static void
test_replica_lock (Fixture       *f,
                   gconstpointer  data)
{
  KhTReplica *r;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *permissions = NULL;
  json_object *values;
  KhSyncReport rep;
  gint64 lv;

  SKIP_WITHOUT_SERVER (f);
  r = kh_treplica_new (f->server, f->dir, "r", f->server->base, "officer_a");
  permissions = kh_replica_get_state (r->store, KH_SYNC_PERMISSIONS);
  g_assert_cmpstr (permissions, ==, "submit");
  /* Opened again, as the CLI or the window opens it: bound to the account, it judges as it. */
  g_clear_object (&r->store);
  r->store = kh_test_open_store (f->dir, "r.db");
  g_assert_cmpuint (kh_store_get_permits (r->store), ==, KH_PERMIT_SUBMIT);
  kh_treplica_sync (r);
  json = g_strdup_printf ("{\"title\":\"Học bổng\",\"occasion\":\"tet\",\"school_year\":\"2025-2026\","
                          "\"org_unit_id\":\"%s\",\"status\":\"draft\"}", f->unit_a);
  list = kh_treplica_add (r, "award_list", json);
  g_free (json);
  json = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"Lê Văn Tám\","
                          "\"category\":\"hardship\",\"amount\":500000,\"status\":\"proposed\"}", list, f->unit_a);
  entry = kh_treplica_add (r, "award_entry", json);
  kh_treplica_set (r, "award_list", list, "{\"status\":\"submitted\"}");
  kh_treplica_sync (r);
  lv = json_object_get_int64 (json_object_object_get (kh_treplica_get (r, "award_list", list), "version"));

  /* Offline, the officer corrects the amount while the chair approves. */
  kh_treplica_set (r, "award_entry", entry, "{\"amount\":600000}");
  {
    g_auto(Result) ok = push_one (f, f->chair, "update", "award_list", list, lv, "{\"status\":\"approved\"}");

    ASSERT_APPLIED (ok);
  }
  rep = kh_treplica_sync (r);
  g_assert_cmpuint (rep.rejected, ==, 1);
  g_assert_cmpint (kh_replica_count_rejected (r->store), ==, 1);

  /* Now the replica knows the list is approved: its store refuses the next change itself. */
  values = json_tokener_parse ("{\"amount\":700000}");
  g_assert_false (kh_store_update (r->store, "award_entry", entry, values, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "locked"));
  json_object_put (values);
  g_clear_error (&error);
  values = json_tokener_parse ("{\"title\":\"Khác\"}");
  g_assert_false (kh_store_update (r->store, "award_list", list, values, &error));
  json_object_put (values);
  kh_treplica_free (r);
}

/* Three replicas edit one record; a fourth made afterwards reads the same history, with the
 * real authors and devices, where before it had only "received from the server". */
static void
test_history_fourth_replica (Fixture       *f,
                             gconstpointer  data)
{
  KhTReplica *r[4];
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  g_autoptr(json_object) first = NULL;
  g_autoptr(json_object) fourth = NULL;
  g_autoptr(json_object) local = NULL;
  g_autoptr(GError) error = NULL;
  const char *users[] = { "officer_a", "officer_a", "admin", "officer_a" };
  const char *expect[] = { "officer_a", "officer_a", "officer_a", "admin" };

  SKIP_WITHOUT_SERVER (f);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%d", i);

      r[i] = kh_treplica_new (f->server, f->dir, name, f->server->base, users[i]);
      kh_treplica_sync (r[i]);
    }
  json = g_strdup_printf ("{\"full_name\":\"Nguyễn Văn Đức\",\"org_unit_id\":\"%s\"}", f->unit_a);
  id = kh_treplica_add (r[0], "person", json);
  kh_treplica_sync (r[0]);
  kh_treplica_sync (r[1]);
  kh_treplica_set (r[1], "person", id, "{\"phone\":\"0905123456\"}");
  kh_treplica_sync (r[1]);
  kh_treplica_sync (r[0]);
  kh_treplica_set (r[0], "person", id, "{\"address\":\"Thôn 2\"}");
  kh_treplica_sync (r[0]);
  kh_treplica_sync (r[2]);
  kh_treplica_set (r[2], "person", id, "{\"gender\":\"male\"}");
  kh_treplica_sync (r[2]);

  r[3] = kh_treplica_new (f->server, f->dir, "r3", f->server->base, users[3]);
  kh_treplica_sync (r[3]);
  /* Before asking, the fourth knows only what it received. */
  local = kh_store_history (r[3]->store, "person", id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (local, 0), "action"), ==, "remote");
  g_clear_pointer (&local, json_object_put);

  first = kh_sync_engine_history (r[0]->engine, "person", id, NULL, &error);
  g_assert_no_error (error);
  fourth = kh_sync_engine_history (r[3]->engine, "person", id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_to_json_string (first), ==, json_object_to_json_string (fourth));
  g_assert_cmpuint (json_object_array_length (fourth), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (kh_tstr (json_object_array_get_idx (fourth, i), "user"), ==, expect[i]);
  /* The first two changes came from two devices of the same account. */
  g_assert_nonnull (kh_tstr (json_object_array_get_idx (fourth, 0), "device"));
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (fourth, 0), "device"), !=,
                   kh_tstr (json_object_array_get_idx (fourth, 1), "device"));
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (fourth, 0), "op"), ==, "create");
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (fourth, 3), "op"), ==, "update");

  /* Kept in the replica: its own history now names the authors, offline too. */
  local = kh_store_history (r[3]->store, "person", id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (local, 0), "action"), ==, "create");
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (local, 0), "actor"), ==, "officer_a");
  {
    json_object *last = json_object_array_get_idx (local, json_object_array_length (local) - 1);

    g_assert_cmpstr (kh_tstr (last, "actor"), ==, "admin");
    g_assert_cmpstr (kh_tstr (last, "field"), ==, "gender");
    g_assert_cmpstr (kh_tstr (last, "new_value"), ==, "male");
  }
  for (int i = 0; i < 4; i++)
    kh_treplica_free (r[i]);
}

/* A supervisor's activity: the changes in their area, by whom, to which lists. */
static void
test_activity (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *today = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *admin = NULL;
  g_autofree char *officer_b = NULL;
  gint64 lv, ev;

  SKIP_WITHOUT_SERVER (f);
  make_list (f, &list, &entry, &lv, &ev);
  today = g_date_time_format (now, "%Y-%m-%d");
  admin = kh_test_login (f->server, "admin", NULL);
  officer_b = kh_test_login (f->server, "officer_b", NULL);
  path = g_strdup_printf ("/v1/activity?from=%s&to=%s&user=officer_a", today, today);
  {
    g_autoptr(KhReply) a = kh_http_json (f->server, "GET", path, admin, NULL);
    g_autoptr(KhReply) b = kh_http_json (f->server, "GET", path, officer_b, NULL);
    json_object *rows;
    gboolean saw_entry = FALSE;

    g_assert_cmpint (a->status, ==, 200);
    rows = json_object_object_get (a->json, "activity");
    g_assert_cmpuint (json_object_array_length (rows), >=, 2);
    for (size_t i = 0; i < json_object_array_length (rows); i++)
      {
        json_object *row = json_object_array_get_idx (rows, i);

        g_assert_cmpstr (kh_tstr (row, "user"), ==, "officer_a");
        if (g_strcmp0 (kh_tstr (row, "id"), entry) == 0)
          {
            g_assert_cmpstr (kh_tstr (row, "list_id"), ==, list);
            g_assert_cmpstr (kh_tstr (row, "title"), ==, "Lê Văn Tám");
            saw_entry = TRUE;
          }
      }
    g_assert_true (saw_entry);
    g_assert_cmpint (b->status, ==, 200);
    g_assert_cmpuint (json_object_array_length (json_object_object_get (b->json, "activity")), ==, 0);
  }
  {
    g_autofree char *past = g_strdup_printf ("/v1/activity?to=2020-01-01");
    g_autoptr(KhReply) c = kh_http_json (f->server, "GET", past, admin, NULL);

    g_assert_cmpuint (json_object_array_length (json_object_object_get (c->json, "activity")), ==, 0);
  }
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
        g_autofree char *path = g_strdup_printf ("/sync/approval/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("roles-and-lock", test_roles_and_lock);
      ADD ("reopen", test_reopen);
      ADD ("recognition-dossier", test_recognition_dossier);
      ADD ("replica-lock", test_replica_lock);
      ADD ("history-fourth-replica", test_history_fourth_replica);
      ADD ("activity", test_activity);
#undef ADD
    }
  return g_test_run ();
}
