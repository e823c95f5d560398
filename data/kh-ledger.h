/* kh-ledger.h: a fund's money: balances by date, earmarks, the lists it paid, its statement
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The kinds of donor a statement counts receipts by: the donor record's kinds, then
 * "unspecified" for a donation that names no donor record. */
#define KH_LEDGER_N_DONOR_KINDS 6
/* The categories of payment (the disbursement's field), "other" last. */
#define KH_LEDGER_N_CATEGORIES  5

typedef struct
{
  char   *fund_ids;          /* the funds it covers, comma-separated */
  char   *title;             /* the fund's name, or the unit's name for all its funds */
  char   *unit_name;
  int     year;
  gint64  opening;           /* cash on 31/12 of the year before */
  gint64  brought_in;        /* opening balances of funds first recorded during the year */
  gint64  cash_by_kind[KH_LEDGER_N_DONOR_KINDS];     /* cash and transfers received */
  gint64  in_kind_by_kind[KH_LEDGER_N_DONOR_KINDS];  /* value of gifts in kind received */
  gint64  paid_by_category[KH_LEDGER_N_CATEGORIES];
  gint64  receipts;          /* cash received in the year, brought_in included */
  gint64  in_kind;           /* gifts in kind received in the year, at their value */
  gint64  payments;
  gint64  closing;           /* cash on 31/12 of the year */
  GPtrArray *earmarks;       /* KhLedgerEarmark: earmarked cash left on 31/12 */
} KhFundStatement;

typedef struct
{
  char   *earmark;
  gint64  balance;
} KhLedgerEarmark;

const char *const *kh_ledger_donor_kinds        (void);
const char        *kh_ledger_donor_kind_label   (guint            i);
const char        *kh_ledger_category_label     (guint            i);

char     *kh_ledger_earmark_key    (const char   *earmark);
gboolean  kh_ledger_balance        (KhStore      *store,
                                    const char   *fund_id,
                                    const char   *earmark,
                                    const char   *on_date,
                                    gint64       *cash,
                                    gint64       *in_kind,
                                    GError      **error);
gboolean  kh_ledger_list_payments  (KhStore      *store,
                                    const char   *list_id,
                                    gint64       *list_total,
                                    gint64       *paid,
                                    GError      **error);
gboolean  kh_ledger_pay_list       (KhStore      *store,
                                    const char   *list_id,
                                    const char   *earmark,
                                    const char   *paid_on,
                                    const char   *voucher_number,
                                    char        **disbursement_id,
                                    GError      **error);

KhFundStatement *kh_fund_statement_new   (KhStore      *store,
                                          const char   *fund_id,
                                          const char   *unit_id,
                                          int           year,
                                          GError      **error);
void             kh_fund_statement_free  (KhFundStatement *statement);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhFundStatement, kh_fund_statement_free)

/* For the store's writes: a payment must not overdraw its fund or its earmark, nor pay a list
 * more than its total, and a list is marked paid only when its payments make its total. */
gboolean  _kh_ledger_check_write   (KhStore         *store,
                                    const KhEntity  *entity,
                                    const char      *id,
                                    json_object     *record,
                                    json_object     *changed,
                                    GError         **error);

G_END_DECLS
