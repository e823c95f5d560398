/* kh-ledger-print.h: a fund's yearly statement (PDF, XLSX) and a donation's receipt (PDF)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-ledger.h"
#include "kh-store.h"

G_BEGIN_DECLS

gboolean kh_fund_statement_write_pdf   (const KhFundStatement  *statement,
                                        KhStore                *store,
                                        const char             *unit_id,
                                        const char             *path,
                                        GError                **error);
gboolean kh_fund_statement_write_xlsx  (const KhFundStatement  *statement,
                                        const char             *path,
                                        GError                **error);
gboolean kh_donation_receipt_write_pdf (KhStore                *store,
                                        const char             *donation_id,
                                        const char             *path,
                                        GError                **error);

G_END_DECLS
