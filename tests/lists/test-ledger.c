/* test-ledger.c: a fund's money adds up: overdrafts refused, earmarks apart, a paid list and
 * its payments agree, and a year's statement whose totals are written here by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "lists-util.h"

#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-format.h"
#include "kh-ledger.h"
#include "kh-ledger-print.h"
#include "kh-print.h"
#include "kh-xlsx-reader.h"

typedef struct
{
  TestStore t;
  char     *unit;
  char     *fund;
} Fixture;

#define ID(var, ...) g_autofree char *var = test_make (f->t.store, __VA_ARGS__, NULL)
#define MAKE(...) g_free (test_make (f->t.store, __VA_ARGS__, NULL))

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  f->unit = test_make (f->t.store, "org_unit", "code", "C1", "name", "Xã Diên Lạc", "kind", "commune", NULL);
  f->fund = test_make (f->t.store, "fund", "name", "Quỹ khuyến học xã Diên Lạc", "level", "commune",
                       "org_unit_id", f->unit, "opening_balance", "#1000000", "opening_date", "2025-01-01", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->unit);
  g_free (f->fund);
  test_store_clear (&f->t);
}

/* Tries a payment; returns its id, or NULL with @error set. */
static char *
pay (Fixture     *f,
     const char  *amount,
     const char  *paid_on,
     const char  *earmark,
     GError     **error)
{
  json_object *KH_AUTO_JSON o = test_obj ("fund_id", f->fund, "org_unit_id", f->unit, "amount", amount,
                                          "paid_on", paid_on, "purpose", "Học bổng", NULL);

  if (earmark != NULL)
    json_object_object_add (o, "earmark", json_object_new_string (earmark));
  return kh_store_create (f->t.store, "disbursement", o, error);
}

static gint64
cash_on (Fixture    *f,
         const char *earmark,
         const char *date)
{
  g_autoptr(GError) error = NULL;
  gint64 cash = -1;

  g_assert_true (kh_ledger_balance (f->t.store, f->fund, earmark, date, &cash, NULL, &error));
  g_assert_no_error (error);
  return cash;
}

/* A payment that would overdraw the fund is refused, saying what the fund holds; the balance
 * is the opening balance plus cash received less payments, on each day; gifts in kind count
 * apart and are not money to pay with. */
static void
test_overdraft (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *second = NULL;
  gint64 in_kind = 0;

  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Công ty Hòa Phát",
        "donated_on", "2025-02-01", "form", "transfer", "amount", "#2000000");
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Nhà sách Phương Nam",
        "donated_on", "2025-02-01", "form", "in_kind", "in_kind", "Sách giáo khoa", "in_kind_value", "#5000000");

  g_assert_cmpint (cash_on (f, NULL, "2024-12-31"), ==, 0);
  g_assert_cmpint (cash_on (f, NULL, "2025-01-15"), ==, 1000000);
  g_assert_cmpint (cash_on (f, NULL, "2025-02-01"), ==, 3000000);

  /* The example: far beyond what the fund raised. */
  refused = pay (f, "#999000000000", "2025-03-01", NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "3.000.000"));
  g_clear_error (&error);

  first = pay (f, "#2500000", "2025-02-15", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cash_on (f, NULL, "2025-02-15"), ==, 500000);

  /* Early in the year the fund held only its opening balance, and the later payment counts. */
  g_assert_null (pay (f, "#600000", "2025-01-15", NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_null (pay (f, "#500001", "2025-03-01", NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "500.000"));
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "amount");
  g_clear_error (&error);

  second = pay (f, "#500000", "2025-03-01", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cash_on (f, NULL, NULL), ==, 0);

  /* The gift in kind is counted at its value, apart from cash. */
  g_assert_true (kh_ledger_balance (f->t.store, f->fund, NULL, NULL, NULL, &in_kind, &error));
  g_assert_cmpint (in_kind, ==, 5000000);

  /* Raising a payment is judged as making one; a payment given up and taken back while another
   * spent its money is refused too. */
  {
    json_object *KH_AUTO_JSON more = test_obj ("amount", "#600000", NULL);

    g_assert_false (kh_store_update (f->t.store, "disbursement", second, more, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_true (kh_store_delete (f->t.store, "disbursement", second, &error));
  g_assert_no_error (error);
  {
    g_autofree char *other = pay (f, "#400000", "2025-03-02", NULL, &error);

    g_assert_no_error (error);
  }
  g_assert_false (kh_store_restore (f->t.store, "disbursement", second, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpint (cash_on (f, NULL, NULL), ==, 100000);
}

/* Money given for a purpose is spent only on it: the unrestricted money cannot use it, a
 * payment naming the earmark (as typed, in any case or without tone marks) can, and another
 * earmark's payment cannot. */
static void
test_earmarks (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *school = NULL;

  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Ông Trần Văn Bình",
        "donated_on", "2025-02-01", "form", "cash", "amount", "#3000000",
        "earmark", "Học bổng trường THCS Diên Lạc");
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Bà Lê Thị Hoa",
        "donated_on", "2025-02-01", "form", "cash", "amount", "#500000", "earmark", "Người học lớn tuổi");

  g_assert_cmpint (cash_on (f, "", NULL), ==, 1000000);
  g_assert_cmpint (cash_on (f, "Học bổng trường THCS Diên Lạc", NULL), ==, 3000000);
  g_assert_cmpint (cash_on (f, NULL, NULL), ==, 4500000);

  g_assert_null (pay (f, "#2000000", "2025-03-01", NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "1.000.000"));
  g_clear_error (&error);

  g_assert_null (pay (f, "#600000", "2025-03-01", "Người học lớn tuổi", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "500.000"));
  g_clear_error (&error);

  school = pay (f, "#2000000", "2025-03-01", "  hoc bong truong thcs dien lac ", &error);
  g_assert_no_error (error);
  g_assert_cmpint (cash_on (f, "Học bổng trường THCS Diên Lạc", NULL), ==, 1000000);
  g_assert_cmpint (cash_on (f, "", NULL), ==, 1000000);
  g_assert_cmpint (cash_on (f, "Người học lớn tuổi", NULL), ==, 500000);
}

/* A list is marked paid only when payments linked to it make its total, is never paid more
 * than its total, and paying it (kh_ledger_pay_list()) leaves the fund's figures and the list
 * in agreement. */
static void
test_paid_list (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *payment = NULL;
  g_autoptr(KhFundStatement) s = NULL;
  json_object *KH_AUTO_JSON paid = test_obj ("status", "paid", NULL);
  json_object *KH_AUTO_JSON list = NULL;
  json_object *KH_AUTO_JSON d = NULL;
  gint64 total = -1, linked = -1, before = 0;

  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Công ty Hòa Phát",
        "donated_on", "2025-01-05", "form", "transfer", "amount", "#9000000");
  {
    ID (l, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet", "school_year", "2024-2025",
        "org_unit_id", f->unit, "fund_id", f->fund, "status", "approved");

    MAKE ("award_entry", "list_id", l, "org_unit_id", f->unit, "recipient_name", "Nguyễn Thị Lan",
          "category", "hardship", "amount", "#1500000", "status", "approved");
    MAKE ("award_entry", "list_id", l, "org_unit_id", f->unit, "recipient_name", "Phạm Văn Hùng",
          "category", "merit", "amount", "#3000000", "status", "approved");
    MAKE ("award_entry", "list_id", l, "org_unit_id", f->unit, "recipient_name", "Võ Minh Tâm",
          "category", "special", "amount", "#2000000", "status", "cancelled");

    g_assert_true (kh_ledger_list_payments (f->t.store, l, &total, &linked, &error));
    g_assert_cmpint (total, ==, 4500000);
    g_assert_cmpint (linked, ==, 0);

    /* "Paid" with nothing paid: refused, saying both sums. */
    g_assert_false (kh_store_update (f->t.store, "award_list", l, paid, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "4.500.000"));
    g_clear_error (&error);

    before = cash_on (f, NULL, NULL);
    g_assert_true (kh_ledger_pay_list (f->t.store, l, NULL, "2025-01-20", "PC-07", &payment, &error));
    g_assert_no_error (error);
    g_assert_nonnull (payment);

    list = kh_store_get (f->t.store, "award_list", l, &error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (list, "status")), ==, "paid");
    d = kh_store_get (f->t.store, "disbursement", payment, &error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (d, "list_id")), ==, l);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (d, "voucher_number")), ==, "PC-07");
    g_assert_cmpint (json_object_get_int64 (json_object_object_get (d, "amount")), ==, 4500000);

    /* The fund's figures and the list agree. */
    g_assert_true (kh_ledger_list_payments (f->t.store, l, &total, &linked, &error));
    g_assert_cmpint (linked, ==, total);
    g_assert_cmpint (before - cash_on (f, NULL, NULL), ==, total);
    s = kh_fund_statement_new (f->t.store, f->fund, NULL, 2025, &error);
    g_assert_no_error (error);
    g_assert_cmpint (s->paid_by_category[0], ==, total);
    g_assert_cmpint (s->payments, ==, total);

    /* Nothing more can be paid against it. */
    {
      json_object *KH_AUTO_JSON o = test_obj ("fund_id", f->fund, "org_unit_id", f->unit, "list_id", l,
                                              "amount", "#1", "paid_on", "2025-01-21", NULL);

      g_assert_null (kh_store_create (f->t.store, "disbursement", o, &error));
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    }
  }
}

/* The year's statement of a fixture whose every figure is worked out here by hand. */
static void
test_statement (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhFundStatement) s = NULL;
  g_autoptr(KhFundStatement) by_unit = NULL;
  gint64 cash;

  ID (company, "donor", "name", "Công ty Hòa Phát", "kind", "enterprise", "org_unit_id", f->unit);
  ID (person, "donor", "name", "Ông Trần Văn Bình", "kind", "person", "org_unit_id", f->unit);
  ID (clan, "donor", "name", "Họ Nguyễn Diên Lạc", "kind", "clan", "org_unit_id", f->unit);

  /* 2025: the opening balance of 1,000,000 brought in on 01/01; cash from an enterprise and a
   * person (earmarked), bicycles from a clan; three payments, one from the earmark. */
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_id", company, "donor_name", "Công ty Hòa Phát",
        "donated_on", "2025-02-01", "form", "transfer", "amount", "#2000000");
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_id", person, "donor_name", "Ông Trần Văn Bình",
        "donated_on", "2025-03-01", "form", "cash", "amount", "#3000000", "earmark", "Học bổng THCS");
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_id", clan, "donor_name", "Họ Nguyễn",
        "donated_on", "2025-04-01", "form", "in_kind", "in_kind", "10 xe đạp", "in_kind_value", "#15000000");
  MAKE ("disbursement", "fund_id", f->fund, "org_unit_id", f->unit, "amount", "#1200000",
        "paid_on", "2025-05-01", "category", "scholarships");
  MAKE ("disbursement", "fund_id", f->fund, "org_unit_id", f->unit, "amount", "#2500000",
        "paid_on", "2025-06-01", "category", "scholarships", "earmark", "học bổng thcs");
  MAKE ("disbursement", "fund_id", f->fund, "org_unit_id", f->unit, "amount", "#300000",
        "paid_on", "2025-07-01", "category", "operations");
  /* 2026: one anonymous cash gift and one payment without a category. */
  MAKE ("donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Người giấu tên",
        "donated_on", "2026-01-10", "form", "cash", "amount", "#700000");
  MAKE ("disbursement", "fund_id", f->fund, "org_unit_id", f->unit, "amount", "#1000000", "paid_on", "2026-02-01");

  s = kh_fund_statement_new (f->t.store, f->fund, NULL, 2025, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->title, ==, "Quỹ khuyến học xã Diên Lạc");
  g_assert_cmpint (s->opening, ==, 0);                   /* the fund opened on 01/01/2025 */
  g_assert_cmpint (s->brought_in, ==, 1000000);
  g_assert_cmpint (s->cash_by_kind[0], ==, 3000000);     /* person */
  g_assert_cmpint (s->cash_by_kind[1], ==, 2000000);     /* enterprise */
  g_assert_cmpint (s->cash_by_kind[3], ==, 0);           /* clan: in kind only */
  g_assert_cmpint (s->in_kind_by_kind[3], ==, 15000000);
  g_assert_cmpint (s->in_kind, ==, 15000000);
  g_assert_cmpint (s->receipts, ==, 6000000);            /* 1,000,000 + 2,000,000 + 3,000,000 */
  g_assert_cmpint (s->paid_by_category[0], ==, 3700000); /* 1,200,000 + 2,500,000 */
  g_assert_cmpint (s->paid_by_category[3], ==, 300000);
  g_assert_cmpint (s->payments, ==, 4000000);
  g_assert_cmpint (s->closing, ==, 2000000);             /* 6,000,000 − 4,000,000 */
  g_assert_cmpuint (s->earmarks->len, ==, 1);
  g_assert_cmpint (((KhLedgerEarmark *) s->earmarks->pdata[0])->balance, ==, 500000);
  g_clear_pointer (&s, kh_fund_statement_free);

  s = kh_fund_statement_new (f->t.store, f->fund, NULL, 2026, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->opening, ==, 2000000);
  g_assert_cmpint (s->brought_in, ==, 0);
  g_assert_cmpint (s->cash_by_kind[5], ==, 700000);      /* no donor record */
  g_assert_cmpint (s->paid_by_category[4], ==, 1000000); /* other */
  g_assert_cmpint (s->closing, ==, 1700000);

  /* It reconciles with the ledger: the closing balance is the fund's cash on 31/12. */
  g_assert_true (kh_ledger_balance (f->t.store, f->fund, NULL, "2026-12-31", &cash, NULL, &error));
  g_assert_cmpint (cash, ==, s->closing);
  g_assert_cmpint (s->opening + s->receipts - s->payments, ==, s->closing);

  /* The unit's statement covers its funds, here one more with its own money. */
  MAKE ("fund", "name", "Quỹ dòng họ Nguyễn", "level", "clan", "org_unit_id", f->unit,
        "opening_balance", "#250000");
  by_unit = kh_fund_statement_new (f->t.store, NULL, f->unit, 2026, &error);
  g_assert_no_error (error);
  g_assert_cmpint (by_unit->opening, ==, 2250000);
  g_assert_cmpint (by_unit->closing, ==, 1950000);
}

/* The text of a PDF (pdftotext, in reading order), and its pages saved as images beside the
 * screenshots (pdftoppm), for a person to look at. */
static char *
pdf_text_and_images (const char *pdf,
                     const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  int status = -1;

  if (dir != NULL)
    {
      g_autofree char *prefix = g_build_filename (dir, name, NULL);
      const char *argv[] = { "pdftoppm", "-png", "-r", "80", pdf, prefix, NULL };

      g_mkdir_with_parents (dir, 0755);
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   NULL, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_test_message ("pages of %s saved as %s-N.png", pdf, prefix);
    }
  {
    const char *argv[] = { "pdftotext", "-enc", "UTF-8", pdf, "-", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                 &out, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  return g_steal_pointer (&out);
}

/* Newlines as spaces: a wrapped cell reads as one phrase. */
static char *
flat (const char *text)
{
  char *copy = g_strdup (text);

  g_strdelimit (copy, "\n", ' ');
  return copy;
}

static gboolean
has_row_cb (guint          row,
            const KhCell  *cells,
            guint          n_cells,
            gpointer       user_data,
            GError       **error)
{
  GPtrArray *rows = user_data;

  if (n_cells >= 2)
    g_ptr_array_add (rows, g_strdup_printf ("%s=%s", cells[0].text, cells[1].text));
  return TRUE;
}

/* Every document people sign, opened as images and as text: a school's list headed by its
 * commune's association, its long cells wrapped, the treasurer's block and a guardian's
 * column for a pupil under 16; a donation's receipt with the amount in words; the statement
 * in PDF and XLSX. */
static void
test_documents (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *list_pdf = g_build_filename (f->t.dir, "list.pdf", NULL);
  g_autofree char *receipt_pdf = g_build_filename (f->t.dir, "receipt.pdf", NULL);
  g_autofree char *statement_pdf = g_build_filename (f->t.dir, "statement.pdf", NULL);
  g_autofree char *statement_xlsx = g_build_filename (f->t.dir, "statement.xlsx", NULL);
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  g_autofree char *words = NULL;
  g_autoptr(KhAwardListDoc) doc = NULL;
  g_autoptr(KhFundStatement) s = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  KhSheetLimits limits;

  ID (school, "org_unit", "code", "S1", "name", "Trường THCS Diên Lạc", "kind", "school", "parent_id", f->unit);
  ID (l, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet", "school_year", "2024-2025",
      "org_unit_id", school, "fund_id", f->fund, "status", "approved", "decision_number", "12/QĐ-KH",
      "decision_date", "2025-01-20", "prepared_by", "Trần Thị Lan", "accountant", "Lê Văn Tài",
      "treasurer", "Phạm Thị Thu", "approved_by", "Nguyễn Văn Hùng");
  MAKE ("award_entry", "list_id", l, "org_unit_id", school, "recipient_name", "Nguyễn Thị Ngọc Yến",
        "birth_date", "2014-06-03", "school", "Trường Trung học cơ sở Nguyễn Thị Minh Khai, phân hiệu Diên Lạc",
        "grade", "6A", "category", "hardship", "amount", "#1500000", "status", "approved",
        "received_by", "Nguyễn Văn Cường");
  MAKE ("award_entry", "list_id", l, "org_unit_id", school, "recipient_name", "Lê Văn Minh",
        "birth_date", "2007-02-01", "school", "THPT Diên Lạc", "grade", "12B", "category", "merit",
        "amount", "#3000000", "status", "approved");

  doc = kh_award_list_doc_new (f->t.store, l, &error);
  g_assert_no_error (error);
  g_assert_true (kh_award_list_doc_write_pdf (doc, list_pdf, &error));
  g_assert_no_error (error);
  text = pdf_text_and_images (list_pdf, "award-list-sheet");
  line = flat (text);
  g_test_message ("%s", line);
  /* Issued by the commune's association, not the school's. */
  g_assert_nonnull (strstr (line, "XÃ DIÊN LẠC"));
  g_assert_null (strstr (line, "TRƯỜNG THCS DIÊN LẠC"));
  /* The long school name is there whole, wrapped, not cut. */
  g_assert_nonnull (strstr (line, "phân hiệu Diên Lạc"));
  g_assert_null (strstr (line, "…\n"));
  /* The treasurer signs; the guardian who received for the pupil of 10 is named in their column. */
  g_assert_nonnull (strstr (line, "Phạm Thị Thu"));
  g_assert_nonnull (strstr (line, "Nguyễn Văn Cường"));
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&line, g_free);

  {
    ID (donation, "donation", "fund_id", f->fund, "org_unit_id", f->unit, "donor_name", "Công ty TNHH Hòa Phát",
        "donated_on", "2025-02-01", "form", "cash", "amount", "#1250000", "purpose", "Học bổng cho học sinh nghèo",
        "earmark", "Học bổng trường THCS Diên Lạc", "receipt_number", "PT-0012", "received_by", "Phạm Thị Thu");

    g_assert_true (kh_donation_receipt_write_pdf (f->t.store, donation, receipt_pdf, &error));
    g_assert_no_error (error);
  }
  text = pdf_text_and_images (receipt_pdf, "donation-receipt");
  line = flat (text);
  g_test_message ("%s", line);
  words = kh_format_money_words (1250000);
  g_assert_cmpstr (words, ==, "Một triệu hai trăm năm mươi nghìn đồng");
  g_assert_nonnull (strstr (line, words));
  g_assert_nonnull (strstr (line, "Công ty TNHH Hòa Phát"));
  g_assert_nonnull (strstr (line, "Quỹ khuyến học xã Diên Lạc"));
  g_assert_nonnull (strstr (line, "Học bổng trường THCS Diên Lạc"));
  g_assert_nonnull (strstr (line, "PT-0012"));
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&line, g_free);

  s = kh_fund_statement_new (f->t.store, f->fund, NULL, 2025, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->closing, ==, 2250000);
  g_assert_true (kh_fund_statement_write_pdf (s, f->t.store, f->unit, statement_pdf, &error));
  g_assert_no_error (error);
  text = pdf_text_and_images (statement_pdf, "fund-statement");
  line = flat (text);
  g_test_message ("%s", line);
  g_assert_nonnull (strstr (line, "2.250.000"));
  g_assert_nonnull (strstr (line, "1.250.000"));

  g_assert_true (kh_fund_statement_write_xlsx (s, statement_xlsx, &error));
  g_assert_no_error (error);
  kh_sheet_limits_init (&limits);
  g_assert_true (kh_xlsx_read_file (statement_xlsx, &limits, has_row_cb, rows, NULL, &error));
  g_assert_no_error (error);
  /* Opening 0 (opened on 01/01/2025), 1,000,000 brought in, 1,250,000 received: 2,250,000. */
  {
    gboolean closing = FALSE;

    for (guint i = 0; i < rows->len; i++)
      if (g_str_has_suffix (rows->pdata[i], "=2250000") && !g_str_has_prefix (rows->pdata[i], " "))
        closing = TRUE;
    g_assert_true (closing);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/ledger/overdraft", Fixture, NULL, fixture_setup, test_overdraft, fixture_teardown);
  g_test_add ("/lists/ledger/earmarks", Fixture, NULL, fixture_setup, test_earmarks, fixture_teardown);
  g_test_add ("/lists/ledger/paid-list", Fixture, NULL, fixture_setup, test_paid_list, fixture_teardown);
  g_test_add ("/lists/ledger/statement", Fixture, NULL, fixture_setup, test_statement, fixture_teardown);
  g_test_add ("/lists/ledger/documents", Fixture, NULL, fixture_setup, test_documents, fixture_teardown);
  return g_test_run ();
}
